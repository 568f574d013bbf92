"""The offline writer's proposals on the seeded sample, recorded, for tests of how they read.

``proposal_samples.json`` holds, for each planted episode, the brief and shot manifest the
writer saw and the proposals it wrote (`python tests/proposal_samples.py` records them again
from the current writer, in about ten seconds). Tests of the diff and of the Slack cards read
them without ingesting the sample; tests that need the live writer build it themselves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FILE = Path(__file__).with_name("proposal_samples.json")


def sample_cases() -> list[dict[str, Any]]:
    """``{series_id, episode_id, brief, manifest, proposal}`` per recorded proposal."""
    return json.loads(FILE.read_text(encoding="utf-8"))


def sample_case(episode_id: str, kind: str) -> tuple[dict[str, Any], dict[str, Any], dict]:
    """``(brief, manifest, proposal)`` of the recorded proposal of that kind for the episode."""
    for case in sample_cases():
        if case["episode_id"] == episode_id and case["proposal"]["kind"] == kind:
            return case["brief"], case["manifest"], case["proposal"]
    raise KeyError((episode_id, kind))


def record() -> None:  # pragma: no cover - a maintenance script
    import tempfile

    from sample_helpers import ingested_sample
    from writers_room.analyst.window import analyse
    from writers_room.sample.notes import add_sample_notes
    from writers_room.store.db import session_scope
    from writers_room.writer.ideator import OfflineWriter, build_contexts

    class _Tmp:
        def mktemp(self, name: str) -> Path:
            return Path(tempfile.mkdtemp(prefix=name))

    room = next(ingested_sample(_Tmp()))  # type: ignore[arg-type]
    add_sample_notes(room.settings, list(room.bundle.planted))
    out = []
    for series_id, planted in room.bundle.planted.items():
        report = analyse(room.settings, series_id, write=False).model_dump(mode="json")
        for episode_id in planted:
            with session_scope(room.settings) as session:
                ictx, _ = build_contexts(room.settings, session, series_id, episode_id, report)
            for proposal in OfflineWriter().propose(ictx):
                out.append(
                    {
                        "series_id": series_id,
                        "episode_id": episode_id,
                        "brief": ictx.brief,
                        "manifest": ictx.manifest,
                        "proposal": proposal.model_dump(mode="json"),
                    }
                )
    FILE.write_text(json.dumps(out, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":  # pragma: no cover
    record()
