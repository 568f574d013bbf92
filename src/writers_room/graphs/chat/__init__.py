"""The chat graph: talk to the room from Slack or the terminal (router → intent → reply)."""

from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.graphs.chat.state import ChatReply

__all__ = ["ChatReply", "ChatRoom", "chat_thread_id"]
