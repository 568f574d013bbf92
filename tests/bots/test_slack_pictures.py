"""A packaging card shows its headline options on thumbnails: on the card itself when the
review pages are public (Slack fetches a signed link), else uploaded into its thread."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from slack_mock_server import MockSlack
from slack_payloads import CHANNEL
from slack_room import slack_settings
from starlette.testclient import TestClient

from packaging_helpers import HEADLINES, packaging_proposal, store_packaging
from writers_room.bots.slack.app import build_app
from writers_room.brief.proposals import Evidence, FieldChange
from writers_room.config import Settings
from writers_room.web.app import create_app


def section_texts(blocks: list[dict[str, Any]]) -> str:
    return "\n".join(b["text"]["text"] for b in blocks if b.get("type") == "section")


def test_without_public_pages_the_pictures_go_into_the_cards_thread(
    room: Settings, slack: MockSlack
) -> None:
    p = store_packaging(room, packaging_proposal())
    app = build_app(room)
    try:
        ts = app.poster.post_proposal(p["proposal_id"], channel=CHANNEL, claim_key="first")
    finally:
        app.close()
    (card,) = slack.wait_for("chat.postMessage")
    assert not [b for b in card.params["blocks"] if b["type"] == "image"]
    assert "pictured on thumbnails below, in this thread" in section_texts(card.params["blocks"])
    (done,) = slack.wait_for("files.completeUploadExternal")
    assert done.params["channel_id"] == CHANNEL and done.params["thread_ts"] == ts
    (upload,) = slack.wait_for("upload")
    assert upload.params["bytes"] > 10_000  # a PNG of three thumbnails
    (file,) = done.params["files"]
    assert file["title"].startswith("Headline options on the thumbnail")
    assert p["proposal_id"] in done.params["initial_comment"]


def test_with_public_pages_the_card_shows_each_option_under_its_choice(
    room: Settings, slack: MockSlack
) -> None:
    public = slack_settings(room, slack, public_url="https://room.example.com")
    p = store_packaging(public, packaging_proposal())
    app = build_app(public)
    try:
        app.poster.post_proposal(p["proposal_id"], channel=CHANNEL, claim_key="first")
    finally:
        app.close()
    (card,) = slack.wait_for("chat.postMessage")
    blocks = card.params["blocks"]
    kinds = [b["type"] for b in blocks]
    (image,) = [b for b in blocks if b["type"] == "image"]
    choice_at = next(
        i for i, b in enumerate(blocks) if b.get("accessory", {}).get("type") == "radio_buttons"
    )
    assert kinds[choice_at + 1] == "image"  # right under the radio buttons it pictures
    assert all(f"“{h}”" in image["alt_text"] for h in HEADLINES)
    assert "pictured on thumbnails above" in section_texts(blocks)
    assert not slack.calls_to("files.completeUploadExternal")
    url = urlsplit(image["image_url"])
    assert url.scheme == "https" and url.netloc == "room.example.com"
    assert url.path.startswith("/reports/tiny/options/") and url.path.endswith(".png")
    # The signed link opens the picture on the pages server (which Slack fetches).
    with TestClient(create_app(public)) as client:
        got = client.get(f"{url.path}?{url.query}")
        assert got.status_code == 200 and got.headers["content-type"] == "image/png"
        assert client.get(url.path).status_code == 403


@pytest.mark.parametrize("assets", [[], ["cross-promotion copy: start from the top"]])
def test_a_card_with_nothing_to_picture_uploads_nothing(
    room: Settings, slack: MockSlack, assets: list[str]
) -> None:
    plain = packaging_proposal(
        kind="hook_rewrite",
        summary="Open on the wave.",
        target="10-s retention 19% against 53%",
        expected_effect="more viewers past 10 s",
        changes=[FieldChange(path="brief.hook", before=None, after="The wave hits first.")],
        choices=[],
        assets=assets,
        evidence=Evidence(metrics={}),
    )
    proposal_id = store_packaging(room, plain)["proposal_id"]
    app = build_app(room)
    try:
        app.poster.post_proposal(proposal_id, channel=CHANNEL, claim_key="first")
    finally:
        app.close()
    slack.wait_for("chat.postMessage")
    assert not slack.calls_to("files.getUploadURLExternal")
