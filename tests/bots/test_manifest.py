"""The Slack app manifest matches what the app serves and needs."""

from __future__ import annotations

from pathlib import Path

import yaml

from writers_room.bots.serve import EVENTS_PATH
from writers_room.bots.slack.actions import ROOM_COMMAND

MANIFEST = Path(__file__).resolve().parents[2] / "slack" / "manifest.yaml"


def test_manifest_points_everything_at_the_events_path() -> None:
    manifest = yaml.safe_load(MANIFEST.read_text())
    (command,) = manifest["features"]["slash_commands"]
    assert command["command"] == ROOM_COMMAND
    urls = [
        command["url"],
        manifest["settings"]["event_subscriptions"]["request_url"],
        manifest["settings"]["interactivity"]["request_url"],
    ]
    assert all(url == f"https://YOUR-HOST{EVENTS_PATH}" for url in urls)
    assert manifest["settings"]["interactivity"]["is_enabled"] is True
    events = set(manifest["settings"]["event_subscriptions"]["bot_events"])
    assert {"app_mention", "message.im", "message.channels"} <= events
    scopes = set(manifest["oauth_config"]["scopes"]["bot"])
    assert {
        "chat:write",
        "commands",
        "files:write",
        "app_mentions:read",
        "im:history",
        "im:read",
        "channels:history",
    } <= scopes
