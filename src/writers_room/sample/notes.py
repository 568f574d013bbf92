"""Writers' notes of the sample room: the direction a showrunner gave before the review.

The demo adds them (as the sample series' approver) so the offline writer's proposals show
notes being obeyed; the ``writing`` benchmark measures that each one is.
"""

from __future__ import annotations

from sqlmodel import select

from writers_room.config import Settings
from writers_room.guardrails.approval import add_note
from writers_room.store.db import session_scope
from writers_room.store.models import Note

__all__ = ["SAMPLE_AUTHOR", "SAMPLE_NOTES", "add_sample_notes"]

SAMPLE_AUTHOR = "U0SHOWRUN1"
SAMPLE_NOTES: tuple[tuple[str, str, str], ...] = (
    ("harbor-hearts", "ep03", "Don't open on the fog; open on the lockbox."),
    ("harbor-hearts", "ep05", "Keep the line about Callum, cut the parcel numbers."),
    ("harbor-hearts", "ep07", "Keep June's line about the two winters."),
    ("neon-heist", "ep04", "Don't open on the chip; keep Lena's line about the palm print."),
)


def add_sample_notes(settings: Settings, series_ids: list[str]) -> int:
    """Add the sample notes of these series once (a second call adds nothing); how many."""
    added = 0
    for series_id, episode_id, text in SAMPLE_NOTES:
        if series_id not in series_ids:
            continue
        with session_scope(settings) as session:
            exists = session.exec(
                select(Note).where(
                    Note.series_id == series_id, Note.episode_id == episode_id, Note.text == text
                )
            ).first()
        if exists is None:
            add_note(
                settings,
                series_id=series_id,
                episode_id=episode_id,
                author=SAMPLE_AUTHOR,
                text=text,
            )
            added += 1
    return added
