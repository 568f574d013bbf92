"""Realistic Slack request bodies, signed the way Slack signs them (v0, HMAC-SHA256)."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_bolt import BoltRequest

SECRET = "test-signing-secret-0123456789abcdef"
TOKEN = "xoxb-test-token-0123456789"
TEAM = "T0ROOM"
CHANNEL = "C0ROOM"


def sign(body: str, *, secret: str = SECRET, timestamp: int | None = None) -> dict[str, str]:
    """The two headers Slack sends: timestamp and v0 signature of ``v0:ts:body``."""
    ts = str(int(time.time()) if timestamp is None else timestamp)
    digest = hmac.new(secret.encode(), f"v0:{ts}:{body}".encode(), hashlib.sha256).hexdigest()
    return {"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": f"v0={digest}"}


def headers_for(body: str, *, form: bool, **kw: Any) -> dict[str, str]:
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    return {"Content-Type": content_type, **sign(body, **kw)}


def bolt_request(body: str, *, form: bool, extra: dict[str, str] | None = None) -> BoltRequest:
    """A signed request to dispatch in-process with ``app.dispatch``."""
    headers = {k.lower(): v for k, v in headers_for(body, form=form).items()}
    headers.update({k.lower(): v for k, v in (extra or {}).items()})
    return BoltRequest(body=body, headers=headers)


def event_body(event: dict[str, Any], *, event_id: str = "Ev0001") -> str:
    """An Events API ``event_callback`` envelope."""
    return json.dumps(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "api_app_id": "A0ROOM",
            "event": event,
            "type": "event_callback",
            "event_id": event_id,
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": TEAM, "user_id": "UBOT", "is_bot": True, "is_enterprise_install": False}
            ],
            "is_ext_shared_channel": False,
            "event_context": "4-eyJldCI6ImFwcF9tZW50aW9uIn0",
        }
    )


def mention_event(text: str, *, user: str = "U0WRITER", ts: str = "1700000100.000100") -> dict:
    return {
        "type": "app_mention",
        "user": user,
        "text": f"<@UBOT> {text}",
        "ts": ts,
        "channel": CHANNEL,
        "event_ts": ts,
        "team": TEAM,
    }


def dm_event(text: str, *, user: str = "U0WRITER", ts: str = "1700000200.000100") -> dict:
    return {
        "type": "message",
        "channel_type": "im",
        "user": user,
        "text": text,
        "ts": ts,
        "channel": "D0WRITER",
        "event_ts": ts,
        "team": TEAM,
    }


def command_body(text: str, *, user: str = "U0WRITER", response_url: str) -> str:
    """A ``/room`` slash command (form-encoded)."""
    return urlencode(
        {
            "token": "legacy-verification-token",
            "team_id": TEAM,
            "team_domain": "room",
            "channel_id": CHANNEL,
            "channel_name": "writers-room",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/room",
            "text": text,
            "api_app_id": "A0ROOM",
            "response_url": response_url,
            "trigger_id": "1337.42.abcdef",
        }
    )


def block_actions_body(
    *,
    action_id: str,
    proposal_id: str,
    block_id: str,
    user: str,
    message_ts: str = "1700000000.000001",
    trigger_id: str = "1337.42.trigger",
    state: dict[str, Any] | None = None,
    selected: str | None = None,
) -> str:
    """A click on a proposal message's button (interactivity, form ``payload=``); ``state``
    is the message's inputs as the user left them (``{"values": …}``)."""
    payload = {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0ROOM",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": CHANNEL,
            "is_ephemeral": False,
        },
        "trigger_id": trigger_id,
        "team": {"id": TEAM, "domain": "room"},
        "channel": {"id": CHANNEL, "name": "writers-room"},
        "message": {"type": "message", "user": "UBOT", "ts": message_ts, "text": "Proposal"},
        "response_url": "https://hooks.slack.com/actions/T0ROOM/1/abc",
        **({"state": state} if state is not None else {}),
        "actions": [
            {
                "action_id": action_id,
                "block_id": block_id,
                "text": {"type": "plain_text", "text": "Approve"},
                "value": proposal_id,
                "type": "button",
                "action_ts": "1700000300.000100",
            }
        ],
    }
    if selected is not None:  # a pick from a select menu instead of a button
        action = payload["actions"][0]
        action.update(type="static_select", selected_option={"value": selected})
        action.pop("value")
    return urlencode({"payload": json.dumps(payload)})


def view_submission_body(*, user: str, view: dict[str, Any], values: dict[str, Any]) -> str:
    """Submitting a modal opened with ``view`` after the user filled in ``values``."""
    payload = {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "room"},
        "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
        "api_app_id": "A0ROOM",
        "token": "legacy-verification-token",
        "trigger_id": "1337.43.submit",
        "view": {
            "id": "V0EDIT",
            "team_id": TEAM,
            "type": "modal",
            "callback_id": view["callback_id"],
            "private_metadata": view["private_metadata"],
            "blocks": view["blocks"],
            "state": {"values": values},
            "hash": "1700000400.abcdef",
        },
        "response_urls": [],
    }
    return urlencode({"payload": json.dumps(payload)})


def modal_values(view: dict[str, Any], **overrides: str) -> dict[str, Any]:
    """The state a user leaves in the edit modal: initial values, with some overridden."""
    values: dict[str, Any] = {}
    for block in view["blocks"]:
        if block.get("type") != "input":
            continue
        element = block["element"]
        if element["type"] == "radio_buttons":  # overridden by the option's value ("1")
            picked = overrides.get(block["block_id"], element["initial_option"]["value"])
            option = next(o for o in element["options"] if o["value"] == picked)
            values[block["block_id"]] = {
                element["action_id"]: {"type": "radio_buttons", "selected_option": option}
            }
            continue
        value = overrides.get(block["block_id"], element.get("initial_value"))
        values[block["block_id"]] = {
            element["action_id"]: {"type": "plain_text_input", "value": value}
        }
    return values
