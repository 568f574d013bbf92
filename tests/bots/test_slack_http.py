"""The HTTP server over a real socket: verification (#9), retries once (#10), quiet logs (#18)."""

from __future__ import annotations

import json
import logging
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest
from slack_mock_server import MockSlack
from slack_payloads import (
    SECRET,
    TOKEN,
    event_body,
    headers_for,
    mention_event,
)
from sqlmodel import select

from writers_room.bots.serve import make_server
from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.config import Settings
from writers_room.store.db import session_scope
from writers_room.store.models import AuditLog


@pytest.fixture
def server(app: RoomApp) -> Iterator[str]:
    httpd = make_server(app, host="127.0.0.1", port=0)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_port}"
    httpd.shutdown()
    httpd.server_close()


def request(
    url: str, body: str | None = None, headers: dict[str, str] | None = None
) -> tuple[int, bytes]:
    data = body.encode() if body is not None else None
    req = urllib.request.Request(
        url, data=data, headers=headers or {}, method="POST" if data is not None else "GET"
    )
    try:
        with urllib.request.urlopen(req, timeout=10) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read()


def slack_event_rows(settings: Settings) -> list[AuditLog]:
    with session_scope(settings) as session:
        return list(session.exec(select(AuditLog).where(AuditLog.action == "slack.event")))


def test_health_and_unknown_paths(server: str) -> None:
    status, body = request(f"{server}/healthz")
    assert (status, json.loads(body)) == (200, {"ok": True})
    assert request(f"{server}/slack/events")[0] == 404  # GET
    assert request(f"{server}/nope", "{}")[0] == 404


def test_bad_requests_get_401_and_nothing_else_happens(
    server: str,
    room: Settings,
    slack: MockSlack,
    app: RoomApp,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    marker = "tampered-marker-text-7f3a"
    body = event_body(mention_event(f"help {marker}"), event_id="EvBad")
    url = f"{server}/slack/events"
    cases = {
        "wrong secret": headers_for(body, form=False, secret="not-the-secret"),
        "five minutes old": headers_for(body, form=False, timestamp=int(time.time()) - 301),
        "from the future": headers_for(body, form=False, timestamp=int(time.time()) + 400),
        "no signature": {"Content-Type": "application/json"},
    }
    for name, headers in cases.items():
        status, _ = request(url, body, headers)
        assert status == 401, name
    signed = headers_for(body, form=False)
    status, _ = request(url, body.replace("help", "status"), signed)
    assert status == 401, "tampered body"

    assert app.drain(timeout=20)  # no listener ran, and none left work behind
    assert [c.method for c in slack.calls] == ["auth.test"]
    assert slack_event_rows(room) == []
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (SECRET, TOKEN, marker, signed["X-Slack-Signature"], body[:40]):
        assert secret not in logged


def test_signed_request_is_accepted_and_logs_no_secrets(
    server: str, room: Settings, slack: MockSlack, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    body = event_body(mention_event("help private-words-9c1e"), event_id="EvOk")
    status, _ = request(f"{server}/slack/events", body, headers_for(body, form=False))
    assert status == 200
    (answer,) = slack.wait_for("chat.postMessage")
    assert "Talk to the room" in answer.params["text"]
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for secret in (SECRET, TOKEN, "private-words-9c1e"):
        assert secret not in logged


def test_retried_event_is_processed_once(
    server: str, room: Settings, slack: MockSlack, app: RoomApp
) -> None:
    body = event_body(mention_event("help"), event_id="EvRetry")
    url = f"{server}/slack/events"
    assert request(url, body, headers_for(body, form=False))[0] == 200
    statuses: list[int] = []

    def retry(n: int) -> None:
        headers = {
            **headers_for(body, form=False),
            "X-Slack-Retry-Num": str(n),
            "X-Slack-Retry-Reason": "http_timeout",
        }
        statuses.append(request(url, body, headers)[0])

    threads = [threading.Thread(target=retry, args=(n,)) for n in (1, 2, 3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200, 200, 200]
    slack.wait_for("chat.postMessage")
    assert app.drain(timeout=20)
    assert len(slack.calls_to("chat.postMessage")) == 1
    assert [r.subject for r in slack_event_rows(room)] == ["EvRetry"]

    # A retry that reaches another serve process (its own, empty cache) is dropped too.
    other = build_app(room)
    try:
        from slack_payloads import bolt_request

        assert other.dispatch(bolt_request(body, form=False)).status == 200
        assert other.drain(timeout=20)
        assert len(slack.calls_to("chat.postMessage")) == 1
    finally:
        other.close()


def test_oversized_body_is_refused_before_it_is_read(server: str) -> None:
    import http.client
    from urllib.parse import urlparse

    url = urlparse(server)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=10)
    conn.putrequest("POST", "/slack/events")
    conn.putheader("Content-Type", "application/json")
    conn.putheader("Content-Length", str(2 << 20))
    conn.endheaders()  # the 2 MB body is never sent: the answer comes first
    response = conn.getresponse()
    assert response.status == 413
    conn.close()
