"""``writers-room serve``: the Slack app over HTTP or Socket Mode, plus the 24h scheduler.

HTTP mode is bolt's WSGI adapter behind the standard library's threading WSGI server
(no extra dependency): ``POST /slack/events`` takes events, interactivity and slash
commands; ``GET /healthz`` answers ``{"ok": true}``. Put it behind a TLS-terminating
proxy; Slack only calls ``https://`` URLs.

A sweeper thread delivers decisions a crash left undelivered, at start-up and every
15 seconds (``graphs.window_review.sweep``).

The read-only review pages (the window report, a review's proposals, a render's preview;
``writers_room.web``) are served on their own port (``WRITERS_ROOM_PAGES_PORT``, 3001) in
both modes, by uvicorn on a thread; people open them through signed links.
"""

from __future__ import annotations

import logging
import signal
import socketserver
import threading
from collections.abc import Callable, Iterable
from types import FrameType
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer

from slack_bolt import App
from slack_bolt.adapter.wsgi import SlackRequestHandler

from writers_room.bots.scheduler import WindowScheduler
from writers_room.bots.slack.app import RoomApp, build_app
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.graphs.window_review.sweep import Sweeper
from writers_room.web.server import PagesServer

__all__ = ["EVENTS_PATH", "HEALTH_PATH", "make_server", "make_wsgi_app", "serve"]

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
HEALTH_PATH = "/healthz"
# Slack payloads are a few kilobytes; refuse anything absurd before reading it.
MAX_BODY_BYTES = 1 << 20

WSGIApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]


def make_wsgi_app(app: App) -> WSGIApp:
    """The WSGI application: Slack on :data:`EVENTS_PATH`, health on :data:`HEALTH_PATH`."""
    slack = SlackRequestHandler(app, path=EVENTS_PATH)

    def wsgi(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        method = environ.get("REQUEST_METHOD", "GET")
        if path == HEALTH_PATH and method in ("GET", "HEAD"):
            start_response("200 OK", [("Content-Type", "application/json")])
            return [b'{"ok": true}']
        if path == EVENTS_PATH and method == "POST":
            try:
                length = int(environ.get("CONTENT_LENGTH") or 0)
            except ValueError:
                length = -1
            if length < 0 or length > MAX_BODY_BYTES:
                start_response("413 Payload Too Large", [("Content-Type", "text/plain")])
                return [b"payload too large"]
            return slack(environ, start_response)  # type: ignore[arg-type]
        start_response("404 Not Found", [("Content-Type", "text/plain")])
        return [b"not found"]

    return wsgi


class _ThreadingWSGIServer(socketserver.ThreadingMixIn, WSGIServer):
    daemon_threads = True
    # Room for a burst of concurrent clicks before the kernel refuses connections.
    request_queue_size = 256


class _QuietHandler(WSGIRequestHandler):
    """Access log at debug level: method, path and status only (#18: no bodies)."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        log.debug("%s %s → %s", self.command, self.path.split("?", 1)[0], code)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("http server: %s", format % args if args else format)


def make_server(app: App, *, host: str = "0.0.0.0", port: int = 3000) -> WSGIServer:
    """A threading HTTP server for ``app`` (``port=0`` picks a free port).

    Call ``serve_forever()`` on it (in a thread, in tests) and ``shutdown()`` to stop.
    """
    server = _ThreadingWSGIServer((host, port), _QuietHandler)
    server.set_app(make_wsgi_app(app))
    return server


def serve(
    settings: Settings,
    *,
    http: bool = True,
    port: int = 3000,
    socket_mode: bool = False,
    host: str = "0.0.0.0",
    scheduler: bool = True,
    renders: bool = True,
    pages_port: int | None = None,
) -> None:
    """Run the Slack bot, the window scheduler and the review pages until interrupted.

    Args:
        settings: the room (Slack credentials, channel, window hour).
        http: serve HTTP on ``host:port`` (ignored with ``socket_mode``).
        port: HTTP port.
        socket_mode: connect over Socket Mode with ``SLACK_APP_TOKEN`` instead.
        host: HTTP interface to bind.
        scheduler: run the 24h window scheduler in this process.
        renders: with the scheduler, also run queued render jobs (approvals queue them).
        pages_port: port of the review pages (0 picks a free one); None =
            ``settings.pages_port``, where 0 means no pages.

    Raises:
        InputError: a credential the chosen mode needs is missing, or the pages' port is
            taken (exit status 2).
    """
    if socket_mode and not settings.slack_app_token:
        raise InputError("SLACK_APP_TOKEN is not set: Socket Mode needs the app-level token")
    if not socket_mode and not http:
        raise InputError("choose --http (with --port) or --socket-mode")
    app: RoomApp = build_app(settings, socket_mode=socket_mode)
    try:
        pages = _start_pages(settings, host=host, port=pages_port)
    except BaseException:
        app.close()
        raise
    sweeper, windows = _start_background(app, settings, scheduler=scheduler, renders=renders)

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt

    # Signals can only be handled on the main thread (tests call serve() elsewhere).
    on_main = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, stop) if on_main else None
    try:
        _listen(app, settings, socket_mode=socket_mode, host=host, port=port)
    except KeyboardInterrupt:
        log.info("stopping")
    finally:
        if on_main:
            signal.signal(signal.SIGTERM, previous)
        sweeper.stop(wait=False)
        if windows is not None:
            windows.shutdown(wait=False)
        if pages is not None:
            pages.stop()
        app.close()


def _start_pages(settings: Settings, *, host: str, port: int | None) -> PagesServer | None:
    """Start the review pages (``port`` None: the setting, where 0 means none)."""
    if port is None:
        if not settings.pages_port:
            return None
        port = settings.pages_port
    pages = PagesServer(settings, host=host, port=port).start()
    log.info("review pages at %s (links point at %s)", pages.url, settings.pages_url)
    return pages


def _start_background(
    app: RoomApp, settings: Settings, *, scheduler: bool, renders: bool
) -> tuple[Sweeper, WindowScheduler | None]:
    """Open the checkpointer, start the sweeper, the scheduler and the chat warm-up."""
    # Open the checkpointer before the scheduler's first review does: LangGraph's
    # PostgresSaver.setup() is not safe when two threads run it at once on a new database.
    app.chat.open()
    # Decisions a crash cut off are delivered now and every few seconds from here on.
    sweeper = Sweeper(settings)
    sweeper.start()
    windows = None
    if scheduler:
        windows = WindowScheduler(
            settings,
            poster=app.poster.post_review,
            reposter=app.poster.repost_pending,
            renders=renders,
            on_render=app.poster.post_render,
        )
        windows.start()
    # Load the chat model before the first message asks for it.
    threading.Thread(target=_warm, args=(app,), name="chat-warm", daemon=True).start()
    return sweeper, windows


def _listen(app: RoomApp, settings: Settings, *, socket_mode: bool, host: str, port: int) -> None:
    """Take Slack's requests until interrupted: over Socket Mode, or on an HTTP server."""
    if socket_mode:
        from slack_bolt.adapter.socket_mode import SocketModeHandler

        log.info("connecting to Slack over Socket Mode")
        SocketModeHandler(app, settings.slack_app_token).start()
    else:
        server = make_server(app, host=host, port=port)
        log.info("listening on http://%s:%d%s", host, server.server_port, EVENTS_PATH)
        try:
            server.serve_forever()
        finally:
            server.server_close()


def _warm(app: RoomApp) -> None:
    try:
        app.chat.warm()
    except Exception:  # noqa: BLE001 - the first message will load it instead
        log.warning("could not warm up the chat router", exc_info=True)
