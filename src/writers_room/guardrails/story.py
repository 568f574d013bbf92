"""The story stays whole: the brand guard's checks on what a proposal does to the script.

Five rules, each a function from the documents in force and after the change to the
reasons a writer can read (without the check's name: :mod:`brand_guard` adds it):

:func:`story_cut`
    A proposal may not cut a line, shot or beat that carries the brief's twist or payoff
    (nor the hook, unless it is a hook rewrite).
:func:`spoilers`
    Packaging (headlines, thumbnail text, the title, the first shot's caption) may not give
    the twist or payoff away.
:func:`copied_comments`
    New copy may not lift five words in a row from a viewer comment.
:func:`speaker_moves`
    A line stays with its speaker, and a caption quoting a line sits on a shot where the
    speaker appears.
:func:`note_conflicts`
    A proposal may not contradict a standing writer's note (see :mod:`.directives`).

Which shots and sentences carry the hook, twist and payoff is read by
:mod:`writers_room.brief.script`, the same reading the writer uses.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from writers_room.brief.script import (
    content_words,
    parse_dialogue,
    protected_sentences,
    script_lines,
    sentences,
    shared_run,
    stem,
    story_shots,
    word_runs,
)
from writers_room.guardrails.directives import Directive, directives, resolve
from writers_room.guardrails.text import shorten

__all__ = [
    "COPY_WORDS",
    "SPOILER_RUN",
    "CommentIndex",
    "copied_comments",
    "note_conflicts",
    "packaging_texts",
    "speaker_moves",
    "spoilers",
    "story_cut",
]

COPY_WORDS = 5
"""Words in a row shared with a viewer comment that count as lifting it."""
SPOILER_RUN = 4
"""Words in a row shared with a twist or payoff line that give it away."""
_TURNS = ("twist", "payoff")
_PACKAGING_ASSET = re.compile(r"^\s*(headline|thumbnail)(?:\s+text)?\s*:\s*(.*)$", re.I | re.S)
_PACKAGING_SLOTS = frozenset({"headline", "title", "thumbnail"})
# A voice off screen may be quoted on any shot.
_OFF_SCREEN = re.compile(r"V\.?O\.?|O\.?S\.?|O\.?C\.?|comms|phone|radio|off", re.I)
_TOKEN = re.compile(r"[^\W_]+(?:['’][^\W_]+)*", re.UNICODE)


def _norm(text: str) -> str:
    """Lower case, words only: how lines are compared "modulo whitespace and case"."""
    return " ".join(t.lower().replace("’", "'") for t in _TOKEN.findall(text))


def _spaces(text: str) -> str:
    return " ".join(text.split())


def _contains(haystack: str, needle: str) -> bool:
    """``needle`` inside ``haystack`` at word boundaries (both already normalised)."""
    if not needle:
        return False
    return re.search(rf"(?:^|\s){re.escape(needle)}(?=\s|$)", haystack) is not None


def _shots(manifest: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    return list(manifest.get("shots", []) or [])


def _shot_id(shots: Sequence[Mapping[str, Any]], index: int) -> str:
    return str(shots[index].get("shot_id", index)) if 0 <= index < len(shots) else str(index)


def _who(speaker: str) -> str:
    """The speaker key lines are matched by: the label's first word (``THEO (V.O.)`` → THEO)."""
    return speaker.split()[0].upper() if speaker.split() else ""


def _and(items: Sequence[str]) -> str:
    return " and ".join(f"the {item}" for item in items)


# --- story_cut -----------------------------------------------------------------------------


def _still_spoken(speaker: str, sentence: str, manifest: Mapping[str, Any]) -> bool:
    needle = _spaces(sentence)
    key = _who(speaker)
    for line in script_lines(manifest):
        if _who(line.speaker) != key:
            continue
        text = _spaces(line.text)
        if needle == text or re.search(rf"(?:^|\s){re.escape(needle)}(?=\s|$)", text):
            return True
    return False


def story_cut(
    kind: str,
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    new_brief: Mapping[str, Any],
    new_manifest: Mapping[str, Any],
) -> list[str]:
    """What a proposal cuts of the lines, shots and beats that carry the story's turns.

    On the brief and manifest in force: every sentence :func:`protected_sentences` gives
    the twist or payoff must still be spoken, verbatim (modulo whitespace), by the same
    speaker somewhere in the new manifest; the hook's sentences too unless ``kind`` is
    ``hook_rewrite`` (a hook rewrite may replace the opening). A shot that carries the twist
    or payoff may not be removed (shots are matched by ``shot_id``), ``brief.twist`` and
    ``brief.payoff`` may not be emptied, and a beat sharing content words with the twist or
    payoff may not be removed. A ``new_episode`` proposal is a new script: nothing to cut.

    Returns:
        One reason per cut, e.g. ``cuts "He signed it all over to me." (THEO, s06), the
        line that carries the twist``.
    """
    if kind == "new_episode":
        return []
    return [
        *_cut_lines(kind, brief, manifest, new_manifest),
        *_removed_shots(brief, manifest, new_manifest),
        *(
            f'empties brief.{field} ("{shorten(str(brief[field]), 70)}"), the episode\'s {field}'
            for field in _TURNS
            if str(brief.get(field) or "").strip() and not str(new_brief.get(field) or "").strip()
        ),
        *_removed_beats(brief, new_brief),
    ]


def _cut_lines(
    kind: str,
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    new_manifest: Mapping[str, Any],
) -> list[str]:
    shots = _shots(manifest)
    carried: dict[tuple[int, str, str], list[str]] = {}
    for field, index, speaker, sentence in protected_sentences(brief, manifest):
        if field == "hook" and kind == "hook_rewrite":
            continue  # a hook rewrite may replace the opening
        fields = carried.setdefault((index, speaker, sentence), [])
        if field not in fields:
            fields.append(field)
    return [
        f'cuts "{sentence}" ({speaker or "unattributed"}, {_shot_id(shots, index)}), '
        f"the line that carries {_and(fields)}"
        for (index, speaker, sentence), fields in carried.items()
        if not _still_spoken(speaker, sentence, new_manifest)
    ]


def _removed_shots(
    brief: Mapping[str, Any], manifest: Mapping[str, Any], new_manifest: Mapping[str, Any]
) -> list[str]:
    shots = _shots(manifest)
    new_ids = {str(shot.get("shot_id")) for shot in _shots(new_manifest)}
    by_shot: dict[int, list[str]] = {}
    for field, indexes in story_shots(brief, manifest).items():
        if field in _TURNS:
            for index in indexes:
                by_shot.setdefault(index, []).append(field)
    return [
        f"removes shot {_shot_id(shots, index)} "
        f'("{shorten(str(shots[index].get("action", "")), 60)}"), '
        f"the shot that carries {_and(by_shot[index])}"
        for index in sorted(by_shot)
        if _shot_id(shots, index) not in new_ids
    ]


def _removed_beats(brief: Mapping[str, Any], new_brief: Mapping[str, Any]) -> list[str]:
    """Beats carrying the twist or payoff (sharing content words with it) that are gone.

    Each such beat must find its own beat in the new brief: the same text first, else a
    rewording that still shares its twist/payoff words (an edited beat still carries the
    turn; one replaced by something else does not).
    """
    turn_words = {field: content_words(str(brief.get(field) or "")) for field in _TURNS}
    new_beats = [str(b) for b in new_brief.get("beats", []) or []]
    free = list(range(len(new_beats)))
    carrying = []
    for position, beat in enumerate(brief.get("beats", []) or []):
        words = content_words(str(beat))
        fields = [field for field in _TURNS if words & turn_words[field]]
        if not fields:
            continue
        same = [i for i in free if _norm(new_beats[i]) == _norm(str(beat))]
        if same:
            free.remove(same[0])
        else:
            turn = words & (turn_words["twist"] | turn_words["payoff"])
            carrying.append((position, str(beat), fields, turn))
    out = []
    for position, beat, fields, turn in carrying:
        match = [i for i in free if content_words(new_beats[i]) & turn]
        if match:
            free.remove(match[0])
            continue
        out.append(f'removes beat "{beat}" (brief.beats[{position}]), which carries {_and(fields)}')
    return out


# --- spoilers ------------------------------------------------------------------------------


def packaging_texts(
    proposal: Any,
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    new_brief: Mapping[str, Any] | None,
    new_manifest: Mapping[str, Any] | None,
) -> list[tuple[str, str]]:
    """``(where, text)`` of the packaging a proposal writes: headline and thumbnail assets,
    headline/title/thumbnail choices, a new ``brief.title`` and a new first-shot caption.

    ``proposal`` is a :class:`~writers_room.brief.proposals.BriefChangeProposal`;
    ``new_brief``/``new_manifest`` are the documents after its changes (None when they do
    not apply: the changes' own values are read then).
    """
    out: list[tuple[str, str]] = []
    for position, asset in enumerate(proposal.assets):
        found = _PACKAGING_ASSET.match(asset)
        if found:
            text = found.group(2).strip().strip("\"'“”‘’").strip()
            out.append((f"assets[{position}] ({found.group(1).lower()})", text))
    for position, choice in enumerate(proposal.choices):
        if choice.slot in _PACKAGING_SLOTS:
            for number, option in enumerate(choice.options, start=1):
                out.append((f"choices[{position}] ({choice.slot}, option {number})", option))
    changed = {c.path: c.after for c in proposal.changes}
    title = new_brief.get("title") if new_brief is not None else changed.get("brief.title")
    if isinstance(title, str) and title.strip() and title != brief.get("title"):
        out.append(("brief.title", title))
    old_shots = _shots(manifest)
    old_caption = str(old_shots[0].get("caption", "") or "") if old_shots else ""
    if new_manifest is not None:
        new_shots = _shots(new_manifest)
        caption: Any = new_shots[0].get("caption", "") if new_shots else ""
    else:
        caption = changed.get("manifest.shots[0].caption", old_caption)
    if isinstance(caption, str) and caption.strip() and caption != old_caption:
        out.append(("manifest.shots[0].caption", caption))
    seen: set[str] = set()
    unique = []
    for where, text in out:
        if text.strip() and text not in seen:
            seen.add(text)
            unique.append((where, text))
    return unique


def _spoken_in(shot: Mapping[str, Any]) -> list[tuple[str, str]]:
    return [
        (speaker, sentence)
        for speaker, _, text in parse_dialogue(str(shot.get("dialogue", "") or ""))
        for sentence in sentences(text)
    ]


def spoilers(
    packaging: Sequence[tuple[str, str]],
    brief: Mapping[str, Any],
    manifest: Mapping[str, Any],
    *,
    episode_title: str = "",
    names: Iterable[str] = (),
) -> list[str]:
    """Packaging that gives the twist or payoff away.

    A text spoils when it shares a run of :data:`SPOILER_RUN` words with a sentence that
    carries the twist or payoff, or when it shares two or more content words with the
    twist/payoff (the brief's text and the lines of the shots that carry it) that the
    premise, the hook, the episode title and the character names don't already say (a
    name alone never spoils).

    Args:
        packaging: ``(where, text)`` from :func:`packaging_texts`.
        brief: The brief in force.
        manifest: The shot manifest in force.
        episode_title: The episode's title.
        names: Character names (bible and cast).
    """
    shots = _shots(manifest)
    protected = [
        (field, index, speaker, sentence)
        for field, index, speaker, sentence in protected_sentences(brief, manifest)
        if field in _TURNS
    ]
    known = content_words(
        " ".join(
            [
                str(brief.get("premise") or ""),
                str(brief.get("hook") or ""),
                episode_title,
                *names,
                *(speaker for shot in shots for speaker, _ in _spoken_in(shot)),
            ]
        )
    )
    secret: dict[str, set[str]] = {}
    carrying = story_shots(brief, manifest)
    for field in _TURNS:
        lines = [s for i in carrying.get(field, []) for _, s in _spoken_in(shots[i])]
        secret[field] = content_words(" ".join([str(brief.get(field) or ""), *lines])) - known
    out: list[str] = []
    for where, text in packaging:
        hit = None
        for field, index, speaker, sentence in protected:
            run = shared_run(text, [sentence], SPOILER_RUN)
            if run:
                hit = (
                    f'{where} "{shorten(text, 70)}" gives away the {field}: it repeats '
                    f'"{run}" from "{sentence}" ({speaker or "unattributed"}, '
                    f"{_shot_id(shots, index)})"
                )
                break
        if hit is None:
            mine = content_words(text)
            counts = {field: mine & secret[field] for field in _TURNS}
            shared = counts["twist"] | counts["payoff"]
            if len(shared) >= 2:
                field = max(_TURNS, key=lambda f: len(counts[f]))
                shown = sorted(
                    {w for w in _TOKEN.findall(text) if stem(w) in shared}, key=str.lower
                )
                hit = (
                    f'{where} "{shorten(text, 70)}" gives away the {field}: '
                    f"{', '.join(repr(w) for w in shown)} come from it "
                    f'("{shorten(str(brief.get(field) or ""), 70)}")'
                )
        if hit:
            out.append(hit)
    return out


# --- copied_comments -----------------------------------------------------------------------


class CommentIndex:
    """The series' viewer comments as runs of :data:`COPY_WORDS` words, indexed once, so
    checking a text costs its own length, not the number of comments."""

    def __init__(self, texts: Iterable[str], length: int = COPY_WORDS) -> None:
        self.length = length
        self.texts: list[str] = []
        self._runs: dict[tuple[str, ...], int] = {}
        for text in texts:
            runs = word_runs(text, length)
            if not runs:
                continue
            self.texts.append(text)
            for run in runs:
                self._runs.setdefault(run, len(self.texts) - 1)

    def __len__(self) -> int:
        return len(self.texts)

    def lifted(
        self,
        text: str,
        allowed: set[tuple[str, ...]] = frozenset(),  # type: ignore[assignment]
    ) -> tuple[str, str] | None:
        """``(run, comment)`` for the first run of ``text`` found in a comment (runs in
        ``allowed`` — already in the script — don't count), or None."""
        for run in sorted(word_runs(text, self.length) - allowed):
            found = self._runs.get(run)
            if found is not None:
                return " ".join(run), self.texts[found]
        return None


def copied_comments(
    texts: Sequence[tuple[str, str]], comments: CommentIndex, allowed: Iterable[str] = ()
) -> list[str]:
    """New copy that lifts a viewer comment (a run of :data:`COPY_WORDS` words).

    Args:
        texts: ``(where, text)`` of what the proposal writes that is new.
        comments: The series' comments, indexed.
        allowed: Texts whose runs don't count (the brief and manifest in force, the
            premise): a comment quoting the script is not copied by keeping the script.
    """
    if not len(comments):
        return []
    known: set[tuple[str, ...]] = set()
    for text in allowed:
        known |= word_runs(text, comments.length)
    out = []
    for where, text in texts:
        found = comments.lifted(text, known)
        if found:
            run, comment = found
            out.append(
                f'{where} lifts "{run}" from a viewer comment ("{shorten(comment, 80)}"); '
                "write it in the room's own words"
            )
    return out


# --- speaker_moves -------------------------------------------------------------------------


def _cast_words(shot: Mapping[str, Any]) -> set[str]:
    cast = shot.get("characters") or []
    names = cast if isinstance(cast, list) else re.split(r"[,\s]+", str(cast))
    return {w for name in names for w in _norm(str(name)).split()}


def speaker_moves(
    manifest: Mapping[str, Any],
    new_manifest: Mapping[str, Any],
    *,
    names: Iterable[str] = (),
) -> list[str]:
    """Lines that change mouths, and captions quoting a line away from its speaker.

    * A sentence (three words or more, with a content word) that the manifest in force
      gives to X may not be spoken by Y in the new manifest, unless Y already said it.
    * A new or changed caption that quotes a sentence a character speaks (three words or
      more) must sit on a shot whose ``characters`` include that character. Voices off
      screen (V.O., O.S., comms, phone, radio) may be quoted anywhere, and labels that are
      no character's name (a GUARD) are not checked.

    Args:
        manifest: The shot manifest in force.
        new_manifest: The manifest after the changes.
        names: Character names (bible and cast), to tell characters from other labels.
    """
    return [
        *_moved_lines(manifest, new_manifest),
        *_misplaced_quotes(manifest, new_manifest, names),
    ]


def _moved_lines(manifest: Mapping[str, Any], new_manifest: Mapping[str, Any]) -> list[str]:
    before: dict[str, set[str]] = {}
    for line in script_lines(manifest):
        for sentence in sentences(line.text):
            if _who(line.speaker) and len(_norm(sentence).split()) >= 3 and content_words(sentence):
                before.setdefault(_norm(sentence), set()).add(_who(line.speaker))
    out = []
    for line in script_lines(new_manifest):
        who = _who(line.speaker)
        for sentence in sentences(line.text):
            owners = before.get(_norm(sentence))
            if who and owners and who not in owners:
                out.append(
                    f'gives "{sentence}" to {who} in {line.shot_id}; in the brief in force it '
                    f"is {'/'.join(sorted(owners))}'s line"
                )
    return out


def _misplaced_quotes(
    manifest: Mapping[str, Any], new_manifest: Mapping[str, Any], names: Iterable[str]
) -> list[str]:
    new_shots = _shots(new_manifest)
    known = {w for name in names for w in _norm(name).split()}
    for shot in [*_shots(manifest), *new_shots]:
        known |= _cast_words(shot)
    spoken: dict[str, set[str]] = {}
    for line in [*script_lines(manifest), *script_lines(new_manifest)]:
        who = _who(line.speaker)
        if who and who.lower() in known and not _OFF_SCREEN.search(line.direction):
            for sentence in sentences(line.text):
                if len(_norm(sentence).split()) >= 3:
                    spoken.setdefault(sentence, set()).add(who)
    old_captions = {
        str(s.get("shot_id")): str(s.get("caption", "") or "") for s in _shots(manifest)
    }
    out = []
    for shot in new_shots:
        caption, shot_id = str(shot.get("caption", "") or ""), str(shot.get("shot_id"))
        if not caption.strip() or old_captions.get(shot_id) == caption:
            continue
        cast = _cast_words(shot)
        for sentence, speakers in spoken.items():
            if not _contains(_norm(caption), _norm(sentence)):
                continue
            if not {who.lower() for who in speakers} & cast:
                present = ", ".join(shot.get("characters") or []) or "nobody"
                who = "/".join(sorted(speakers))
                out.append(
                    f'the caption of {shot_id} quotes {who}\'s line "{sentence}" but {who} '
                    f"is not in the shot ({present})"
                )
    return out


# --- note_conflicts ------------------------------------------------------------------------


def _present(text: str, shots: Sequence[Mapping[str, Any]]) -> bool:
    """Whether a line (or caption text) is still said or captioned anywhere in ``shots``."""
    needle = _norm(text)
    for shot in shots:
        for _, _, line in parse_dialogue(str(shot.get("dialogue", "") or "")):
            if _contains(_norm(line), needle):
                return True
        if _contains(_norm(str(shot.get("caption", "") or "")), needle):
            return True
    return False


def _opening(shot: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(str(shot.get(k, "") or "") for k in ("shot_id", "action", "dialogue", "caption"))


def _said(directive: Directive) -> str:
    return f'a writer\'s note says "{shorten(directive.note, 90)}"'


def _kept(
    directive: Directive,
    before: Sequence[tuple[int, str | None]],
    shots: Sequence[Mapping[str, Any]],
    new_shots: Sequence[Mapping[str, Any]],
) -> list[str]:
    new_ids = {str(s.get("shot_id")) for s in new_shots}
    out = []
    for index, text in before:
        sid = _shot_id(shots, index)
        if text is None and sid not in new_ids:
            out.append(f"removes shot {sid}, which {_said(directive)}")
        elif text is not None and not _present(text, new_shots):
            out.append(f'cuts "{text}" ({sid}), which {_said(directive)}')
    return out


def _uncut(
    directive: Directive,
    before: Sequence[tuple[int, str | None]],
    shots: Sequence[Mapping[str, Any]],
    new_manifest: Mapping[str, Any],
) -> list[str]:
    new_shots = _shots(new_manifest)
    old_ids = {str(s.get("shot_id")): s for s in shots}
    old_lines = {_norm(t) for _, t in before if t is not None}
    out = []
    for index, text in resolve(directive, new_manifest):
        sid = _shot_id(new_shots, index)
        if text is not None:
            if _norm(text) not in old_lines:
                out.append(f'brings back "{text}" ({sid}), where {_said(directive)}')
        elif sid not in old_ids:
            out.append(f"brings back shot {sid}, where {_said(directive)}")
        else:
            was = float(old_ids[sid].get("duration_s", 0) or 0)
            now = float(new_shots[index].get("duration_s", 0) or 0)
            if now > was + 1e-6:
                out.append(f"lengthens {sid} ({was:g} s → {now:g} s), where {_said(directive)}")
    return out


def _opens(
    directive: Directive,
    before: Sequence[tuple[int, str | None]],
    new_manifest: Mapping[str, Any],
    new_picture: bool,
) -> list[str]:
    """An avoid the new opening shows, or an open_on it no longer shows (the opening
    changed: the caller checks)."""
    new_shots = _shots(new_manifest)
    opens_now = any(index == 0 for index, _ in resolve(directive, new_manifest))
    opened = any(index == 0 for index, _ in before)
    if directive.verb == "avoid" and opens_now and (not opened or new_picture):
        # A new opening on it, or the opening's picture rewritten and still on it; a line
        # or caption edited over an opening that already showed it is not this proposal's.
        action = shorten(str(new_shots[0].get("action", "")), 60)
        return [
            f'opens on {directive.target} ({_shot_id(new_shots, 0)}: "{action}"), '
            f"where {_said(directive)}"
        ]
    if directive.verb == "open_on" and not opens_now and opened:
        return [f"no longer opens on {directive.target}, where {_said(directive)}"]
    return []


def note_conflicts(
    notes: Sequence[str], manifest: Mapping[str, Any], new_manifest: Mapping[str, Any]
) -> list[str]:
    """Where a proposal's result contradicts a standing writer's note.

    Each note is read into directives (:func:`.directives.directives`) and each directive
    resolved on the manifests (:func:`.directives.resolve`). A contradiction is:

    * ``keep``: a line or shot it names (in force) is gone;
    * ``cut``: a line or shot it names is brought back or added, or a shot it names runs
      longer;
    * ``avoid``: the episode now opens (a new first shot) on what it names;
    * ``open_on``: the episode opened on what it names and, with a new first shot, no
      longer does.

    ``more``/``less`` are matters of degree, not something to refuse. Notes come newest
    first; where an older directive names the same lines as a newer one with another verb,
    the newer wins.

    Returns:
        One reason per contradiction, quoting the note.
    """
    out: list[str] = []
    shots, new_shots = _shots(manifest), _shots(new_manifest)
    opening_changed = bool(shots and new_shots) and _opening(shots[0]) != _opening(new_shots[0])
    new_picture = opening_changed and _opening(shots[0])[:2] != _opening(new_shots[0])[:2]
    claimed: dict[tuple[str, str], str] = {}
    for note in notes:
        for directive in directives(note):
            before = resolve(directive, manifest)
            mine = {
                ("line", _norm(text)) if text is not None else ("shot", _shot_id(shots, index))
                for index, text in before
            }
            if any(claimed.get(key, directive.verb) != directive.verb for key in mine):
                continue  # a newer note says otherwise about the same lines
            for key in mine:
                claimed.setdefault(key, directive.verb)
            if directive.verb == "keep":
                out += _kept(directive, before, shots, new_shots)
            elif directive.verb == "cut":
                out += _uncut(directive, before, shots, new_manifest)
            elif directive.verb in ("avoid", "open_on") and opening_changed:
                out += _opens(directive, before, new_manifest, new_picture)
    return list(dict.fromkeys(out))
