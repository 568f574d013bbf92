"""``writers-room chat``: talk to the room in the terminal, through the same chat graph.

One terminal session is one conversation (its own checkpointer thread), so follow-ups
("and episode 4?") work as they do in a Slack thread. Decisions are taken as ``user``,
checked against the approver allowlist like any other.
"""

from __future__ import annotations

import getpass
import re
import uuid
from collections.abc import Callable
from typing import Any

from writers_room.config import Settings
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.graphs.chat.state import ChatReply

__all__ = ["plain", "run_chat"]

QUIT = frozenset({"quit", "exit", ":q", "bye"})
PROMPT = "you> "
_BOLD = re.compile(r"(?<![\w*])\*(?!\s)([^*\n]+?)(?<!\s)\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?!\s)([^_\n]+?)(?<!\s)_(?![\w_])")
_CODE = re.compile(r"`([^`\n]+)`")
_SLACK_USER = re.compile(r"<@([A-Z0-9]+)>")


def plain(text: str) -> str:
    """Slack mrkdwn → plain terminal text (bold, italics and code marks dropped)."""
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    text = _CODE.sub(r"\1", text)
    text = _SLACK_USER.sub(r"@\1", text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _render(reply: ChatReply) -> str:
    out = plain(reply.text)
    for path in reply.files:
        out += f"\nchart: {path}"
    if reply.proposals:
        out += "\n(decide with: approve p-<id>  or  reject p-<id> <reason>)"
    return out


def run_chat(
    settings: Settings,
    *,
    input_fn: Callable[[str], str] = input,
    output: Callable[[str], Any] = print,
    user: str | None = None,
    thread_id: str | None = None,
    room: ChatRoom | None = None,
) -> int:
    """Run the chat REPL until ``quit`` or end of input.

    Args:
        settings: the room.
        input_fn: reads one line given a prompt (``input`` by default).
        output: writes one answer (``print`` by default).
        user: who is talking (default: the login name); approvals are theirs.
        thread_id: resume a conversation (default: a new one).
        room: a chat room to use (default: a new one, closed at the end).

    Returns:
        The exit status (0).
    """
    user = user or getpass.getuser()
    thread_id = thread_id or chat_thread_id("terminal", uuid.uuid4().hex[:12])
    own = room is None
    chat = room or ChatRoom(settings)
    output(f"Talking to the room as {user}. Type 'help' for what it understands, 'quit' to leave.")
    try:
        while True:
            try:
                line = input_fn(PROMPT)
            except (EOFError, KeyboardInterrupt):
                output("")
                break
            text = line.strip()
            if not text:
                continue
            if text.lower() in QUIT:
                break
            output(_render(chat.ask(text, thread_id=thread_id, user=user)))
    finally:
        if own:
            chat.close()
    return 0
