"""A local Slack Web API double: a real HTTP server on 127.0.0.1 that records every call.

It answers the methods the room uses the way Slack does (``{"ok": true, ...}``),
including the three-step file upload (``files.getUploadURLExternal`` → POST to the
upload URL → ``files.completeUploadExternal``) and ``response_url`` posts of slash
commands. Tests read :attr:`MockSlack.calls` or wait for a call with :meth:`wait_for`.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

BOT_USER = "UBOT"


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    authorization: str = ""
    response: dict[str, Any] = field(default_factory=dict)
    at: float = field(default_factory=time.monotonic)


class MockSlack:
    """Slack's Web API on a free port of 127.0.0.1 (``with MockSlack() as slack: ...``)."""

    def __init__(self, *, delay_s: float = 0.0) -> None:
        self.calls: list[Call] = []
        self.delay_s = delay_s
        self._lock = threading.Condition()
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        mock = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def do_POST(self) -> None:  # noqa: N802 - http.server API
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                status, payload = mock._handle(self.path, raw, self.headers)
                body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/api/"
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def response_url(self, name: str = "cmd") -> str:
        """A slash command's ``response_url`` that points here."""
        return f"http://127.0.0.1:{self.port}/response/{name}"

    def __enter__(self) -> MockSlack:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()

    # -- recording -------------------------------------------------------------------

    def _record(
        self,
        method: str,
        params: dict[str, Any],
        auth: str = "",
        response: dict[str, Any] | None = None,
    ) -> None:
        with self._lock:
            self.calls.append(Call(method, params, auth, response or {}))
            self._lock.notify_all()

    def calls_to(self, method: str) -> list[Call]:
        with self._lock:
            return [c for c in self.calls if c.method == method]

    def wait_for(self, method: str, count: int = 1, timeout: float = 20.0) -> list[Call]:
        """Wait until ``method`` was called at least ``count`` times; returns those calls."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                found = [c for c in self.calls if c.method == method]
                if len(found) >= count:
                    return found
                left = deadline - time.monotonic()
                if left <= 0:
                    seen = sorted({c.method for c in self.calls})
                    raise AssertionError(
                        f"{method} called {len(found)} times, wanted {count}; calls: {seen}"
                    )
                self._lock.wait(left)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()

    # -- answering -------------------------------------------------------------------

    @staticmethod
    def _params(raw: bytes, headers: Any) -> dict[str, Any]:
        if not raw:
            return {}
        if "json" in (headers.get("Content-Type") or ""):
            return dict(json.loads(raw))
        try:
            return dict(json.loads(raw))
        except ValueError:
            pass
        parsed = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
        for key in ("blocks", "view", "files", "attachments"):
            if isinstance(parsed.get(key), str):
                try:
                    parsed[key] = json.loads(parsed[key])
                except ValueError:
                    pass
        return parsed

    def _handle(self, path: str, raw: bytes, headers: Any) -> tuple[int, Any]:
        if self.delay_s:
            time.sleep(self.delay_s)
        auth = headers.get("Authorization") or ""
        if path.startswith("/upload/"):
            self._record("upload", {"file_id": path.rsplit("/", 1)[-1], "bytes": len(raw)})
            return 200, f"OK - {len(raw)}".encode()
        if path.startswith("/response/"):
            self._record("response_url", self._params(raw, headers))
            return 200, b"ok"
        method = path.removeprefix("/api/").split("?", 1)[0]
        params = self._params(raw, headers)
        answer = self._answer(method, params)
        self._record(method, params, auth, answer)
        return 200, answer

    def _answer(self, method: str, params: dict[str, Any]) -> dict[str, Any]:
        if method == "auth.test":
            return {
                "ok": True,
                "url": "https://room.slack.com/",
                "team": "Room",
                "user": "room",
                "team_id": "T0ROOM",
                "user_id": BOT_USER,
                "bot_id": "B0ROOM",
            }
        if method in ("chat.postMessage", "chat.update"):
            ts = params.get("ts") or f"1700000000.{next(self._ts):06d}"
            return {
                "ok": True,
                "channel": params.get("channel"),
                "ts": ts,
                "message": {"text": params.get("text", ""), "ts": ts},
            }
        if method == "chat.postEphemeral":
            return {"ok": True, "message_ts": f"1700000001.{next(self._ts):06d}"}
        if method == "views.open":
            return {"ok": True, "view": {"id": "V0EDIT", **(params.get("view") or {})}}
        if method == "files.getUploadURLExternal":
            file_id = f"F{next(self._files):06d}"
            return {
                "ok": True,
                "upload_url": f"http://127.0.0.1:{self.port}/upload/{file_id}",
                "file_id": file_id,
            }
        if method == "files.completeUploadExternal":
            files = params.get("files") or []
            if isinstance(files, str):
                files = json.loads(files)
            return {"ok": True, "files": [{"id": f["id"], "title": f.get("title")} for f in files]}
        return {"ok": False, "error": "unknown_method"}
