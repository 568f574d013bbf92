"""Signed, expiring links to the review pages.

A link is ``<pages_url>/<path>?exp=<unix seconds>&sig=<HMAC-SHA256>``. The signature covers
the page path and the expiry (``"<path>\\n<exp>"``) under a key kept in the room's home
(``<home>/.pages_key``, created on first use with mode 0600), so only someone holding a link
the room made can open the page, and only until it expires. A path that ends in ``/`` is a
folder: its link also opens what lies under it (a render's playlists and segments, a
report's files).

Paths are relative to the pages' root and never leave it: :func:`page_path` refuses
absolute paths, ``.`` and ``..`` parts, hidden names and backslashes before anything is
signed, and the server refuses the same in requests before it checks a signature.

This module only needs the settings: the Slack summary and cards, the CLI and the pages
server all call :func:`signed_url` (or the page helpers below it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from writers_room.config import Settings, home_secret, window_slug

__all__ = [
    "KEY_FILE",
    "Verdict",
    "page_path",
    "pages_key",
    "proposals_url",
    "render_url",
    "report_url",
    "sign",
    "signed_url",
    "verify",
    "window_slug",
]

KEY_FILE = ".pages_key"
# Characters a path part may hold: ids are letters, digits, ``.``, ``_``, ``-`` (the
# ingest's safe ids), window folders add nothing else; ``%`` and friends never appear.
_UNSAFE = frozenset("\\\x00")


def pages_key(settings: Settings) -> bytes:
    """The room's link-signing key: ``<home>/.pages_key``, made on first use (mode 0600)."""
    key = home_secret(settings.home, KEY_FILE)
    if len(key) < 32:
        raise ValueError(
            f"{settings.home / KEY_FILE} holds no usable key; delete it to make a new one"
        )
    return key.encode()


def page_path(path: str | os.PathLike[str]) -> str:
    """``path`` as the canonical page path (``/a/b`` or ``/a/b/``), or ValueError.

    Refused: absolute file-system paths, empty, ``.`` or ``..`` parts, names starting
    with ``.`` (the home's keys and caches), backslashes and NUL characters.
    """
    text = os.fspath(path)
    if isinstance(path, Path) and path.is_absolute():
        raise ValueError(f"not a page path: {text!r} is an absolute file path")
    if text.startswith("//") or any(ch in _UNSAFE for ch in text):
        raise ValueError(f"not a page path: {text!r}")
    folder = text.endswith("/")
    parts = text.strip("/").split("/")
    if not parts or any(not p or p.startswith(".") for p in parts):
        raise ValueError(f"not a page path: {text!r} (empty, '.', '..' or hidden part)")
    return "/" + "/".join(parts) + ("/" if folder else "")


def sign(key: bytes, path: str, exp: int) -> str:
    """The signature of ``path`` until ``exp``: URL-safe base64 of HMAC-SHA256, unpadded."""
    digest = hmac.new(key, f"{path}\n{exp}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def signed_url(
    settings: Settings,
    path: str | os.PathLike[str],
    ttl: int | None = None,
    *,
    now: float | None = None,
    exp: int | None = None,
) -> str:
    """A link to the page at ``path`` that opens for ``ttl`` seconds (default: the setting).

    Args:
        settings: the room (its home holds the key; ``pages_url`` is the base URL).
        path: the page path, e.g. ``reports/<series>/<window>/`` (see the helpers below).
        ttl: seconds the link is valid; default ``settings.link_ttl_s`` (7 days).
        now: the clock, for tests.
        exp: an exact expiry (unix seconds) instead of ``now + ttl``.

    Raises:
        ValueError: the path is not a page path (see :func:`page_path`).
    """
    canonical = page_path(path)
    if exp is None:
        seconds = settings.link_ttl_s if ttl is None else ttl
        exp = int((time.time() if now is None else now) + seconds)
    query = f"exp={exp}&sig={sign(pages_key(settings), canonical, exp)}"
    return f"{settings.pages_url}{quote(canonical, safe='/')}?{query}"


@dataclass(frozen=True)
class Verdict:
    """What a request's token says: ``ok``, or why not (``invalid``, ``expired``)."""

    status: str
    scope: str = ""
    exp: int = 0

    @property
    def ok(self) -> bool:
        return self.status == "ok"


def _scopes(path: str) -> list[str]:
    """The paths whose signature opens ``path``: itself, as a folder, and its folders."""
    scopes = [path]
    if not path.endswith("/"):
        scopes.append(path + "/")
    parts = path.strip("/").split("/")
    for cut in range(len(parts) - 1, 0, -1):
        scopes.append("/" + "/".join(parts[:cut]) + "/")
    return scopes


def verify(
    key: bytes, path: str, exp: str | None, sig: str | None, *, now: float | None = None
) -> Verdict:
    """Check a request for ``path`` (already a :func:`page_path`) against its token.

    The signature must be that of ``path`` itself or of a folder above it; only a valid
    signature's expiry is looked at, so a forged link is always ``invalid``.
    """
    if not exp or not sig or not exp.isdigit() or len(exp) > 12 or len(sig) > 64:
        return Verdict("invalid")
    expiry = int(exp)
    for scope in _scopes(path):
        if hmac.compare_digest(sign(key, scope, expiry), sig):
            current = time.time() if now is None else now
            return Verdict("ok" if current < expiry else "expired", scope, expiry)
    return Verdict("invalid")


def report_url(
    settings: Settings, series_id: str, window_end: str | datetime, ttl: int | None = None
) -> str:
    """Link to the analyst's report of one window (its ``report.html``)."""
    return signed_url(settings, f"reports/{series_id}/{window_slug(window_end)}/", ttl)


def proposals_url(
    settings: Settings,
    series_id: str,
    window_end: str | datetime,
    ttl: int | None = None,
    *,
    proposal_id: str | None = None,
) -> str:
    """Link to the proposals of one review with their changes (``#<id>`` jumps to one)."""
    url = signed_url(settings, f"proposals/{series_id}/{window_slug(window_end)}/", ttl)
    return f"{url}#{proposal_id}" if proposal_id else url


def render_url(
    settings: Settings, series_id: str, episode_id: str, render_id: str, ttl: int | None = None
) -> str:
    """Link to the preview page of one render (the HLS ladder, each rung playable)."""
    return signed_url(settings, f"renders/{series_id}/{episode_id}/{render_id}/", ttl)
