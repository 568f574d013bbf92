"""``writers-room chat``: the terminal REPL over the same chat graph."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from writers_room.bots.terminal import plain, run_chat
from writers_room.config import Settings
from writers_room.graphs.chat.router import Router
from writers_room.graphs.chat.run import ChatRoom


def scripted(lines: list[str]) -> Callable[[str], str]:
    feed: Iterator[str] = iter(lines)

    def read(prompt: str) -> str:
        try:
            return next(feed)
        except StopIteration:
            raise EOFError from None

    return read


def test_repl_answers_with_context_until_quit(sample_room: Settings, router: Router) -> None:
    out: list[str] = []
    with ChatRoom(sample_room, router=router) as room:
        status = run_chat(
            sample_room,
            input_fn=scripted(
                ["series:neon-heist why did episode 2 drop?", "", "and episode 3?", "quit", "help"]
            ),
            output=out.append,
            user="ana",
            room=room,
        )
    assert status == 0
    assert out[0].startswith("Talking to the room as ana")
    assert len(out) == 3  # greeting + two answers; nothing after quit
    assert "ep02" in out[1] and "Score" in out[1] and "chart: " in out[1]
    assert "ep03" in out[2]
    assert "*" not in out[1].splitlines()[1]  # mrkdwn bold marks are dropped


def test_repl_ends_on_end_of_input(sample_room: Settings, router: Router) -> None:
    out: list[str] = []
    with ChatRoom(sample_room, router=router) as room:
        assert (
            run_chat(
                sample_room, input_fn=scripted(["status"]), output=out.append, user="ana", room=room
            )
            == 0
        )
    assert "harbor-hearts" in out[1]


def test_plain_text() -> None:
    assert plain("*Score* `s01` _fog_ <@U0ANA> a*b") == "Score s01 fog @U0ANA a*b"
