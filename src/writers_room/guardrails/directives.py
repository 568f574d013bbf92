# TEMPORARY STUB (not committed): replaced by the story-guard branch.
from __future__ import annotations
import re
from dataclasses import dataclass
from typing import Any
from writers_room.brief.script import parse_dialogue, sentences

@dataclass(frozen=True)
class Directive:
    verb: str
    target: str
    note: str

def directives(note: str) -> list[Directive]:
    out = []
    for part in re.split(r",|;| but | and ", note):
        part = part.strip()
        m = re.match(r"(keep|cut|lose|open on|don't open on|more|less)\s+(.*)", part, re.I)
        if m:
            verb = {"lose": "cut", "open on": "open_on", "don't open on": "avoid"}.get(m.group(1).lower(), m.group(1).lower())
            out.append(Directive(verb, m.group(2), note))
    return out

def resolve(directive: Directive, manifest: dict[str, Any]) -> list[tuple[int, str | None]]:
    words = [w for w in re.findall(r"\w+", directive.target.lower()) if w not in {"the","line","about","numbers","shot"}]
    out = []
    for i, shot in enumerate(manifest.get("shots", [])):
        for sp, _, text in parse_dialogue(str(shot.get("dialogue", ""))):
            for s in sentences(text):
                if words and all(w in s.lower() for w in words):
                    out.append((i, s))
    return out
