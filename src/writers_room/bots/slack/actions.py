"""Action ids, callback ids and block ids the Slack app and its messages share.

Buttons carry ``value`` = the proposal id (the contract). The content hash the person
was shown travels in the ``block_id`` of the buttons' actions block
(``decide|<proposal_id>|<content_hash>``) and in the edit modal's ``private_metadata``,
so a click is bound to exactly the content on screen: if the proposal changed since it
was posted, the decision is refused.
"""

from __future__ import annotations

__all__ = [
    "APPROVE_PROPOSAL",
    "CHOICE_BLOCK_PREFIX",
    "CHOOSE_OPTION",
    "REJECT_MODAL_CALLBACK",
    "REJECT_REASON_BLOCK",
    "choice_block_id",
    "parse_choice_block_id",
    "DECIDE_BLOCK_PREFIX",
    "EDIT_MODAL_CALLBACK",
    "EDIT_NOTE_BLOCK",
    "EDIT_PROPOSAL",
    "EDIT_VALUE_ACTION",
    "REJECT_PROPOSAL",
    "ROOM_COMMAND",
    "change_block_id",
    "decide_block_id",
    "parse_decide_block_id",
]

APPROVE_PROPOSAL = "approve_proposal"
REJECT_PROPOSAL = "reject_proposal"
EDIT_PROPOSAL = "edit_proposal"
EDIT_MODAL_CALLBACK = "edit_proposal_modal"
EDIT_VALUE_ACTION = "after"
EDIT_NOTE_BLOCK = "edit_note"
ROOM_COMMAND = "/room"
DECIDE_BLOCK_PREFIX = "decide"
# A proposal's alternatives: one radio group per choice (block ``choice|<n>``); the pick
# travels with the Approve / Edit… click in the message's state.
CHOOSE_OPTION = "choose_option"
PUBLISH_RENDER = "publish_render"  # "Published as…" on a finished render's message
CHOICE_BLOCK_PREFIX = "choice"
REJECT_MODAL_CALLBACK = "reject_proposal_modal"
REJECT_REASON_BLOCK = "reject_reason"


def decide_block_id(proposal_id: str, content_hash: str) -> str:
    """The actions block id that binds a proposal's buttons to the shown content."""
    return f"{DECIDE_BLOCK_PREFIX}|{proposal_id}|{content_hash}"


def parse_decide_block_id(block_id: str) -> tuple[str, str] | None:
    """``(proposal_id, content_hash)`` from :func:`decide_block_id`, or ``None``."""
    parts = block_id.split("|")
    if len(parts) != 3 or parts[0] != DECIDE_BLOCK_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1], parts[2]


def choice_block_id(index: int) -> str:
    """The block holding the radio buttons of choice number ``index``."""
    return f"{CHOICE_BLOCK_PREFIX}|{index}"


def parse_choice_block_id(block_id: str) -> int | None:
    """The choice number of :func:`choice_block_id`, or ``None``."""
    prefix, _, number = block_id.partition("|")
    return int(number) if prefix == CHOICE_BLOCK_PREFIX and number.isdigit() else None


def change_block_id(index: int) -> str:
    """The input block of the edit modal that holds change number ``index``."""
    return f"change-{index}"
