"""The room's Slack app: chat, ``/room``, decision buttons and the edit modal."""

from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    EDIT_MODAL_CALLBACK,
    EDIT_PROPOSAL,
    REJECT_PROPOSAL,
)
from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.bots.slack.poster import ReviewPoster

__all__ = [
    "APPROVE_PROPOSAL",
    "EDIT_MODAL_CALLBACK",
    "EDIT_PROPOSAL",
    "REJECT_PROPOSAL",
    "ReviewPoster",
    "RoomApp",
    "build_app",
]
