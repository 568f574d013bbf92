"""Promise 22: notes reset the blind-iteration count, so only identified people write them.

Writers are ``WRITERS_ROOM_WRITERS`` plus the showrunners and the approvers (global and the
series' own); a note needs at least three words. A refused note stores nothing and leaves
the count where it was.
"""

from __future__ import annotations

import pytest
from sqlmodel import select

from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError, NotAWriter
from writers_room.guardrails.approval import add_note
from writers_room.guardrails.iteration_limit import blocked_reason, record_iteration
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog, BlindIteration, Note

TEXT = "Theo should sound colder here."


def _blocked(room: Settings) -> None:
    for score in (30.0, 31.0, 32.0):
        with session_scope(room) as session:
            record_iteration(session, series_id="tiny", episode_id="ep1", score=score)
    with session_scope(room) as session:
        assert blocked_reason(session, "tiny", "ep1") is not None


def _notes(room: Settings) -> list[tuple[str, str]]:
    with session_scope(room) as session:
        return [(n.author, n.text) for n in session.exec(select(Note).order_by(Note.id))]


def test_writers_setting_is_a_comma_list(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WRITERS_ROOM_WRITERS", " U0ANA, U0BO ,, ")
    assert Settings().writers == ["U0ANA", "U0BO"]
    monkeypatch.setenv("WRITERS_ROOM_WRITERS", "")
    assert Settings().writers == []


def test_unlisted_or_anonymous_authors_are_refused(room: Settings) -> None:
    room = room.model_copy(update={"writers": ["U0ANA"], "showrunners": ["U0RUN"]})
    _blocked(room)
    for who in ("", "  ", "U0MALLORY", "u0ana"):
        with pytest.raises(NotAWriter, match="WRITERS_ROOM_WRITERS") as caught:
            add_note(room, series_id="tiny", episode_id="ep1", author=who, text=TEXT)
        assert isinstance(caught.value, GuardrailRefusal) and caught.value.exit_code == 3
    assert _notes(room) == []
    with session_scope(room) as session:
        assert blocked_reason(session, "tiny", "ep1") is not None  # still blocked
        assert session.exec(select(AuditLog).where(AuditLog.action == "human.note")).all() == []


@pytest.mark.parametrize("who", ["U0ANA", "U0RUN", "U0GLOBAL", "U0SHOW"])
def test_writers_showrunners_and_approvers_may_write(room: Settings, who: str) -> None:
    """U0ANA a writer, U0RUN a showrunner, U0GLOBAL a global approver, U0SHOW the series'."""
    room = room.model_copy(
        update={"writers": ["U0ANA"], "showrunners": ["U0RUN"], "approvers": ["U0GLOBAL"]}
    )
    _blocked(room)
    add_note(room, series_id="tiny", episode_id="ep1", author=who, text=f"  {TEXT}\n")
    assert _notes(room) == [(who, TEXT)]
    with session_scope(room) as session:
        assert blocked_reason(session, "tiny", "ep1") is None
        row = session.get(BlindIteration, ("tiny", "ep1"))
        assert row is not None and row.count == 0


def test_empty_writers_list_means_approvers_and_showrunners_only(room: Settings) -> None:
    room = room.model_copy(update={"writers": [], "showrunners": ["U0RUN"]})
    with pytest.raises(NotAWriter):
        add_note(room, series_id="tiny", episode_id="ep1", author="U0ANA", text=TEXT)
    add_note(room, series_id="tiny", episode_id="ep1", author="U0RUN", text=TEXT)
    add_note(room, series_id="tiny", episode_id="ep1", author="U0SHOW", text=TEXT)
    assert [who for who, _ in _notes(room)] == ["U0RUN", "U0SHOW"]


@pytest.mark.parametrize("text", ["", "   \n\t", "ok", "more fire", "!!! ... ???", "fire —"])
def test_empty_and_short_notes_are_refused(room: Settings, text: str) -> None:
    room = room.model_copy(update={"writers": ["U0ANA"]})
    _blocked(room)
    with pytest.raises(InputError) as caught:
        add_note(room, series_id="tiny", episode_id="ep1", author="U0ANA", text=text)
    assert caught.value.exit_code == 2 and caught.value.field == "text"
    assert _notes(room) == []
    with session_scope(room) as session:
        assert blocked_reason(session, "tiny", "ep1") is not None
