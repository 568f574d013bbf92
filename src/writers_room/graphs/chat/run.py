"""Driving the chat graph: one :class:`ChatRoom` per process, one thread per conversation.

The Slack app and the terminal REPL both talk to the room through :meth:`ChatRoom.ask`.
The room keeps the checkpointer open for its lifetime (opening one per message would
cost more than the answer) and shares one router, so the example utterances are
embedded once per process.
"""

from __future__ import annotations

import logging
import sqlite3
import threading
from contextlib import ExitStack
from types import TracebackType
from typing import Any

from langchain_core.runnables import RunnableConfig

from writers_room.config import Settings
from writers_room.graphs._checkpoint import checkpointer
from writers_room.graphs.chat.graph import builder
from writers_room.graphs.chat.router import Router
from writers_room.graphs.chat.state import ChatContext, ChatReply

__all__ = ["ChatRoom", "chat_thread_id"]

log = logging.getLogger(__name__)


def _connection_errors() -> tuple[type[BaseException], ...]:
    import psycopg

    return (sqlite3.OperationalError, psycopg.OperationalError)


def chat_thread_id(*parts: str) -> str:
    """A checkpointer thread id for a conversation (``chat:`` keeps it apart from reviews)."""
    return "chat:" + ":".join(parts)


class ChatRoom:
    """The chat graph compiled on the room's checkpointer.

    Use as a context manager (or call :meth:`close`)::

        with ChatRoom(settings) as room:
            reply = room.ask("why did episode 3 drop?", thread_id="chat:t:1", user="ana")

    Args:
        settings: the room.
        router: a router to share (default: a new offline :class:`Router`).
        review_agents: agents for ``start_review`` / ``decide_and_resume`` (tests).
        search_comments: also quote the comments nearest to a question from the index.
    """

    def __init__(
        self,
        settings: Settings,
        *,
        router: Router | None = None,
        review_agents: dict[str, Any] | None = None,
        search_comments: bool = True,
    ) -> None:
        self.settings = settings
        self.router = router or Router(settings)
        self.context = ChatContext(
            settings=settings,
            router=self.router,
            review_agents=review_agents,
            search_comments=search_comments,
        )
        self._stack = ExitStack()
        self._graph: Any = None
        self._open_lock = threading.Lock()

    def _compiled(self) -> Any:
        with self._open_lock:
            if self._graph is None:
                saver = self._stack.enter_context(checkpointer(self.settings))
                self._graph = builder.compile(checkpointer=saver)
            return self._graph

    def open(self) -> None:
        """Open the checkpointer now (it is otherwise opened by the first message)."""
        self._compiled()

    def warm(self) -> None:
        """Open the checkpointer and load the router's model before the first message."""
        self.open()
        self.router.warm()

    def ask(self, text: str, *, thread_id: str, user: str) -> ChatReply:
        """Answer one message in a conversation.

        Args:
            text: what the person wrote.
            thread_id: the conversation (see :func:`chat_thread_id`); context carries over.
            user: who wrote it (Slack user id or terminal name); decisions are theirs.
        """
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        for attempt in (1, 2):
            try:
                values = self._compiled().invoke(
                    {"text": text, "user": user},
                    config,
                    context=self.context,
                    # A chat turn is cheap to redo; one checkpoint write at the end is enough.
                    durability="exit",
                )
                break
            except _connection_errors() as exc:
                # The long-lived checkpointer connection broke (a database restart): open
                # a new one and try the turn once more.
                if attempt == 2:
                    raise
                log.warning("chat checkpointer connection lost (%s); reopening", type(exc).__name__)
                self.close()
        return ChatReply.model_validate(values["reply"])

    def knows(self, thread_id: str) -> bool:
        """True when the room has talked in this conversation before."""
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        return bool(self._compiled().get_state(config).values)

    def remember(
        self,
        thread_id: str,
        *,
        series_id: str,
        episode_id: str | None = None,
        shown: dict[str, str] | None = None,
    ) -> None:
        """Start a conversation about a series (e.g. the thread under a review post).

        Args:
            shown: proposal id → content hash of proposals the post showed, so that
                ``approve p-…`` typed in its thread is bound to that version.
        """
        config: RunnableConfig = {"configurable": {"thread_id": thread_id}}
        values: dict[str, Any] = {"series_id": series_id}
        if episode_id is not None:  # a review thread is about the series; keep any episode
            values["episode_id"] = episode_id
        if shown:
            values["shown"] = dict(shown)
        # Written as if a terminal node ran, so the thread has nothing pending; the next
        # message starts a fresh turn that finds the series and episode in the state.
        self._compiled().update_state(config, values, as_node="clarify")

    def close(self) -> None:
        """Close the checkpointer (the next message opens it again)."""
        with self._open_lock:
            self._graph = None
            self._stack.close()
            self._stack = ExitStack()

    def __enter__(self) -> ChatRoom:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
