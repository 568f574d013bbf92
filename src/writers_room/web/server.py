"""The review pages' HTTP server: uvicorn on a thread of ``writers-room serve``.

The socket is bound when the server is made, so a port in use stops ``serve`` at start-up
with a clear message instead of failing later on a thread. ``stop()`` lets requests in
flight finish (at most two seconds) and closes the socket.
"""

from __future__ import annotations

import logging
import socket
import threading
from typing import Any

from writers_room.config import Settings
from writers_room.errors import InputError

__all__ = ["PagesServer"]

log = logging.getLogger(__name__)


class PagesServer:
    """The pages of ``settings``' room on ``host:port`` (``port=0`` picks a free port)."""

    def __init__(self, settings: Settings, *, host: str = "0.0.0.0", port: int = 3001) -> None:
        import uvicorn

        from writers_room.web.app import create_app

        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((host, port))
        except OSError as exc:
            self._socket.close()
            raise InputError(
                f"cannot serve the review pages on {host}:{port} ({exc.strerror}); set "
                "WRITERS_ROOM_PAGES_PORT to a free port, or 0 for no pages"
            ) from exc
        self.host = host
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(
            create_app(settings),
            log_config=None,
            log_level="warning",
            access_log=False,  # a request's query string is its token: never logged
            lifespan="off",
            server_header=False,
            timeout_graceful_shutdown=2,
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = "127.0.0.1" if self.host in ("0.0.0.0", "") else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> PagesServer:
        """Serve on a daemon thread; returns when the server accepts connections."""
        self._thread = threading.Thread(target=self._run, name="review-pages", daemon=True)
        self._thread.start()
        for _ in range(200):
            if self._server.started or not self._thread.is_alive():
                break
            threading.Event().wait(0.025)
        if not self._server.started:
            raise RuntimeError("the review pages did not start (see the log)")
        return self

    def _run(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException:  # noqa: BLE001 - a dying thread says why, then ends
            log.exception("the review pages stopped")

    def stop(self) -> None:
        """Stop serving and close the socket (idempotent)."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._socket.close()

    def __enter__(self) -> PagesServer:
        return self.start()

    def __exit__(self, *_exc: Any) -> None:
        self.stop()
