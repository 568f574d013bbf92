"""The review pages as a Starlette application (read-only: GET and HEAD).

- ``/reports/<series>/<window>/``: the analyst's ``report.html`` of that window;
- ``/proposals/<series>/<window>/``: the review's proposals, read like a script diff,
  with every stored field change;
- ``/renders/<series>/<episode>/<render_id>/``: the render's preview, its HLS ladder
  with one button a rung;
- ``/reports/…/<file>``, ``/renders/…/<file>``: the files under those folders
  (playlists, segments, ``episode.mp4``, thumbnails, JSON);
- ``/static/<name>``: hls.js, the player script, the style sheet (no token);
- ``/healthz``: ``{"ok": true}`` (no token).

Every other request needs the link's ``?exp=…&sig=…`` (see :mod:`writers_room.web.links`):
without a valid one it gets 403, and 403 with "expired" once the link's time is up. A path
with ``..``, ``.``, hidden or empty parts is refused before the token is looked at, and a
file is served only when its real path (symbolic links followed) stays inside the
home's ``reports/`` or ``renders/`` folder and inside the folder the link was signed for.
Playlists are served with the token added to every URI in them, so the player's requests
for rungs and segments carry it too. No request is logged with its query string.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.routing import Route

from writers_room.config import Settings
from writers_room.web.links import Verdict, page_path, pages_key, sign, verify, window_slug
from writers_room.web.pages import Rendition, error_page, preview_page, proposals_page

__all__ = ["STATIC", "create_app", "sign_playlist"]

log = logging.getLogger(__name__)

STATIC = Path(__file__).with_name("static")
_STATIC_FILES = {
    "hls.min.js": "text/javascript; charset=utf-8",
    "hls.js.LICENSE": "text/plain; charset=utf-8",
    "preview.js": "text/javascript; charset=utf-8",
    "room.css": "text/css; charset=utf-8",
}
_MEDIA_TYPES = {
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m4s": "video/iso.segment",
    ".mp4": "video/mp4",
    ".vtt": "text/vtt; charset=utf-8",
    ".json": "application/json",
    ".html": "text/html; charset=utf-8",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}
_FILE_AREAS = ("reports", "renders")
_WINDOW = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}-\d{2}-\d{2}Z$")

_BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
# The generated pages: their own scripts and style sheet, media from the same server.
_PAGE_CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "media-src 'self' blob:; connect-src 'self'; worker-src blob:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
# The analyst's report.html: inline CSS and data: charts, nothing else.
_REPORT_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'"
)
_FILE_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def _headers(csp: str, cache: str = "no-store") -> dict[str, str]:
    return {**_BASE_HEADERS, "Content-Security-Policy": csp, "Cache-Control": cache}


def _root(path: str) -> str:
    """The relative way from ``path``'s folder back to the pages' root (``../../``)."""
    depth = path.count("/") - 1
    return "../" * depth if depth > 0 else "./"


def _with_query(uri: str, query: str) -> str:
    if "://" in uri or uri.startswith(("/", "data:")):
        return uri  # not relative: not ours to sign
    return f"{uri}{'&' if '?' in uri else '?'}{query}"


_URI_ATTR = re.compile(r'URI="([^"]*)"')


def sign_playlist(text: str, query: str) -> str:
    """An HLS playlist with ``query`` (the token) added to each relative URI in it."""
    lines = []
    for line in text.splitlines():
        if line and not line.startswith("#"):
            line = _with_query(line.strip(), query)
        elif "URI=" in line:
            line = _URI_ATTR.sub(lambda m: f'URI="{_with_query(m.group(1), query)}"', line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _parse_master(text: str) -> list[tuple[dict[str, str], str]]:
    """``(attributes, uri)`` of each ``#EXT-X-STREAM-INF`` in a master playlist."""
    out: list[tuple[dict[str, str], str]] = []
    attrs: dict[str, str] | None = None
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = {
                k: v.strip('"')
                for k, v in re.findall(r'([A-Z0-9-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1])
            }
        elif line and not line.startswith("#") and attrs is not None:
            out.append((attrs, line))
            attrs = None
    return out


class _Refused(Exception):
    """A request the pages answer with an error page."""

    def __init__(self, status: int, title: str, message: str) -> None:
        super().__init__(title)
        self.status, self.title, self.message = status, title, message


class _Pages:
    """The request handlers, bound to one room and its link key."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.key = pages_key(settings)
        self.home = settings.home

    # -- access ---------------------------------------------------------------------

    def check(self, request: Request) -> tuple[str, Verdict]:
        """The request's canonical path and its token's verdict; :class:`_Refused` if not."""
        try:
            path = page_path(request.scope["path"])
        except ValueError:
            raise _Refused(
                403,
                "Not allowed",
                "That address is not a page of this room (no '..', hidden or absolute paths).",
            ) from None
        area = path.split("/", 2)[1]
        if area not in (*_FILE_AREAS, "proposals"):
            raise _Refused(404, "Not found", "There is no such page.")
        verdict = verify(
            self.key, path, request.query_params.get("exp"), request.query_params.get("sig")
        )
        if verdict.status == "expired":
            when = datetime.fromtimestamp(verdict.exp, UTC).strftime("%Y-%m-%d %H:%M UTC")
            raise _Refused(
                403,
                "This link has expired",
                f"This link expired on {when}. Links to the room's pages last "
                f"{self.settings.link_ttl_s // 3600} hours; ask the room for a fresh one "
                "(the Slack message, or `writers-room link`).",
            )
        if not verdict.ok:
            raise _Refused(
                403,
                "Not a valid link",
                "This page needs a link signed by the room, and this one is missing its "
                "signature or does not match it. Open the link exactly as the room sent it.",
            )
        return path, verdict

    def resolve(self, path: str, verdict: Verdict) -> Path | None:
        """The file or folder behind ``path``, if it stays inside its area and the scope."""
        area_root = (self.home / path.split("/", 2)[1]).resolve()
        target = (self.home / path.strip("/")).resolve()
        scope = (self.home / verdict.scope.strip("/")).resolve()
        inside_scope = (
            target.is_relative_to(scope) if verdict.scope.endswith("/") else (target == scope)
        )
        if not (target.is_relative_to(area_root) and inside_scope):
            log.warning("refused a path that leaves its folder: %s", path)
            return None
        return target

    def link(self, path: str, verdict: Verdict, root: str) -> str:
        """A relative link to another page, valid as long as the current one."""
        return f"{root}{path.lstrip('/')}?exp={verdict.exp}&sig={sign(self.key, path, verdict.exp)}"

    # -- endpoints ------------------------------------------------------------------

    def page(self, request: Request) -> Response:
        try:
            return self._page(request)
        except _Refused as refused:
            return HTMLResponse(
                error_page(refused.title, refused.message, _root(request.scope["path"])),
                status_code=refused.status,
                headers=_headers(_PAGE_CSP),
            )

    def _page(self, request: Request) -> Response:
        path, verdict = self.check(request)
        if path.startswith("/proposals/"):
            return self.proposals(path, verdict)
        target = self.resolve(path, verdict)
        if target is None:
            raise _Refused(403, "Not allowed", "That file lies outside this link's folder.")
        if not target.exists():
            raise _Refused(404, "Not found", "Nothing is there (yet).")
        query = f"exp={verdict.exp}&sig={request.query_params['sig']}"
        if target.is_dir():
            if not path.endswith("/"):
                name = path.rsplit("/", 1)[1]
                return RedirectResponse(f"{name}/?{request.url.query}", status_code=308)
            if path.startswith("/reports/"):
                return self.report(target)
            return self.preview(path, target, verdict, query)
        return self.file(target, query)

    def file(self, target: Path, query: str) -> Response:
        suffix = target.suffix.lower()
        media_type = _MEDIA_TYPES.get(suffix, "application/octet-stream")
        if suffix == ".m3u8":
            text = sign_playlist(target.read_text(encoding="utf-8"), query)
            return Response(text, media_type=media_type, headers=_headers(_FILE_CSP))
        csp = _REPORT_CSP if suffix == ".html" else _FILE_CSP
        return FileResponse(
            target, media_type=media_type, headers=_headers(csp, "private, max-age=3600")
        )

    def report(self, folder: Path) -> Response:
        html = folder / "report.html"
        if not html.is_file():
            raise _Refused(404, "No report", "This window has no report (yet).")
        return FileResponse(html, media_type=_MEDIA_TYPES[".html"], headers=_headers(_REPORT_CSP))

    def proposals(self, path: str, verdict: Verdict) -> Response:
        from writers_room.store.proposals import list_proposals

        parts = path.strip("/").split("/")
        if len(parts) != 3 or not path.endswith("/") or not _WINDOW.match(parts[2]):
            raise _Refused(404, "Not found", "There is no such review.")
        series_id, slug = parts[1], parts[2]
        try:
            window_end = datetime.strptime(slug, "%Y-%m-%dT%H-%M-%SZ").replace(tzinfo=UTC)
        except ValueError:  # the shape of a time, not a time (month 13)
            raise _Refused(404, "Not found", "There is no such review.") from None
        views = list_proposals(self.settings, series_id=series_id, window_end=window_end)
        views.sort(key=lambda v: (v["episode_id"], v["created_at"], v["proposal_id"]))
        root = _root(path)
        report = self.settings.reports_path / series_id / slug / "report.html"
        report_href = (
            self.link(f"/reports/{series_id}/{slug}/", verdict, root) if report.is_file() else None
        )
        renders = {
            pid: self.link(f"/renders/{series_id}/{episode}/{render_id}/", verdict, root)
            for pid, (episode, render_id) in self._renders_of(
                series_id, [v["proposal_id"] for v in views]
            ).items()
        }
        html = proposals_page(
            series_id=series_id,
            window_end=window_end.strftime("%Y-%m-%d %H:%M UTC"),
            proposals=views,
            root=root,
            report_href=report_href,
            render_hrefs=renders,
            diffs=self._diffs_html(views),
            pictures=self._pictures(views, verdict, root),
        )
        return HTMLResponse(html, headers=_headers(_PAGE_CSP))

    def _pictures(
        self, views: list[dict[str, Any]], verdict: Verdict, root: str
    ) -> dict[str, list[tuple[str, str, str]]]:
        """Each proposal's packaging options on thumbnails (drawn once a version)."""
        from writers_room.jobs.previews import option_sheets

        out: dict[str, list[tuple[str, str, str]]] = {}
        for view in views:
            try:
                sheets = option_sheets(self.settings, view)
            except Exception:  # noqa: BLE001 - the options are still listed as text
                log.warning("no option pictures for %s", view["proposal_id"], exc_info=True)
                continue
            out[view["proposal_id"]] = [
                (
                    sheet.heading,
                    sheet.alt_text,
                    self.link("/" + sheet.path.relative_to(self.home).as_posix(), verdict, root),
                )
                for sheet in sheets
            ]
        return out

    def _diffs_html(self, views: list[dict[str, Any]]) -> dict[str, str]:
        """Each proposal read like a script diff (``brief.diff``), where it can be."""
        from writers_room.brief.diff import render_html
        from writers_room.store.proposals import proposal_diffs

        try:
            diffs = proposal_diffs(self.settings, views)
        except Exception:  # noqa: BLE001 - the page still shows every field change
            log.warning("no readable diffs for this review", exc_info=True)
            return {}
        out: dict[str, str] = {}
        for pid, diff in diffs.items():
            try:
                out[pid] = render_html(diff)
            except Exception:  # noqa: BLE001 - this one shows its field changes only
                log.warning("no readable diff for %s", pid, exc_info=True)
        return out

    def _renders_of(self, series_id: str, proposal_ids: list[str]) -> dict[str, tuple[str, str]]:
        """The newest finished render of each proposal that has one: (episode, render id)."""
        if not proposal_ids:
            return {}
        from sqlmodel import col, select

        from writers_room.store.db import session_scope
        from writers_room.store.models import RenderJob

        found: dict[str, tuple[str, str]] = {}
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(RenderJob)
                .where(col(RenderJob.proposal_id).in_(proposal_ids))
                .where(RenderJob.status == "done")
                .order_by(col(RenderJob.created_at))
            )
            for job in rows:
                folder = self.settings.renders_path / series_id / job.episode_id / job.render_id
                if job.proposal_id and folder.is_dir():
                    found[job.proposal_id] = (job.episode_id, job.render_id)
        return found

    def preview(self, path: str, folder: Path, verdict: Verdict, query: str) -> Response:
        parts = path.strip("/").split("/")
        master = folder / "hls" / "master.m3u8"
        if len(parts) != 4 or not master.is_file():
            raise _Refused(404, "No preview", "This render has no HLS ladder (yet).")
        _, series_id, episode_id, render_id = parts
        renditions = [
            Rendition(
                name=uri.split("/", 1)[0] if "/" in uri else uri,
                width=int(attrs.get("RESOLUTION", "0x0").split("x")[0]),
                height=int(attrs.get("RESOLUTION", "0x0").split("x")[-1]),
                bandwidth=int(attrs.get("BANDWIDTH", "0") or 0),
                path=uri,
                href=_with_query(f"hls/{uri}", query),
            )
            for attrs, uri in _parse_master(master.read_text(encoding="utf-8"))
        ]
        provenance = _read_json(folder / "provenance.json")
        thumbs = sorted((folder / "thumbnails").glob("thumb_01_*.jpg"))
        poster = next((t for t in thumbs if "720x1280" in t.name), thumbs[0] if thumbs else None)
        downloads = [
            (label, f"{name}?{query}")
            for label, name in (
                ("episode.mp4", "episode.mp4"),
                ("captions", "captions.vtt"),
                ("provenance", "provenance.json"),
                ("shot manifest", "manifest.json"),
            )
            if (folder / name).is_file()
        ]
        root = _root(path)
        html = preview_page(
            series_id=series_id,
            episode_id=episode_id,
            render_id=render_id,
            root=root,
            master_href=f"hls/master.m3u8?{query}",
            renditions=renditions,
            poster_href=f"thumbnails/{poster.name}?{query}" if poster else None,
            downloads=downloads,
            facts=_render_facts(provenance),
            proposal_href=self._proposal_link(render_id, verdict, root),
        )
        return HTMLResponse(html, headers=_headers(_PAGE_CSP))

    def _proposal_link(self, render_id: str, verdict: Verdict, root: str) -> str | None:
        """A link to the review page of the proposal this render came from, if any."""
        from writers_room.errors import InputError
        from writers_room.jobs.render import get_render_job
        from writers_room.store.proposals import get_proposal

        job = get_render_job(self.settings, render_id)
        if job is None or not job.proposal_id:
            return None
        try:
            view = get_proposal(self.settings, job.proposal_id)
        except InputError:
            return None
        if not view.get("window_end"):
            return None
        page = f"/proposals/{view['series_id']}/{window_slug(view['window_end'])}/"
        return f"{self.link(page, verdict, root)}#{view['proposal_id']}"


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _render_facts(provenance: dict[str, Any]) -> list[tuple[str, str]]:
    """What the preview page says about a render, from its ``provenance.json``."""
    facts: list[tuple[str, str]] = []

    def add(label: str, value: Any) -> None:
        if value not in ("", None):
            facts.append((label, str(value)))

    add("brief version", provenance.get("brief_version"))
    add("proposal", provenance.get("proposal_id"))
    approval = provenance.get("approval")
    if isinstance(approval, dict) and approval.get("decided_by"):
        add(
            "decision",
            f"{approval.get('decision', 'approved')} by {approval['decided_by']}, "
            f"{str(approval.get('decided_at', ''))[:16].replace('T', ' ')} UTC, "
            f"hash {str(approval.get('content_hash', ''))[:12]}",
        )
    add("rendered", str(provenance.get("created_at", ""))[:19].replace("T", " "))
    encode = provenance.get("encode")
    if isinstance(encode, dict) and encode.get("fps") and encode.get("total_frames"):
        add("length", f"{encode['total_frames'] / encode['fps']:.1f} s at {encode['fps']} fps")
    renderer = provenance.get("renderer")
    if isinstance(renderer, dict):
        renderer = " ".join(str(renderer[k]) for k in ("name", "model_id") if renderer.get(k))
    add("keyframes", renderer)
    shots = provenance.get("shots")
    add("shots", len(shots) if isinstance(shots, list) else None)
    add("label", provenance.get("synthetic_label"))
    credentials = provenance.get("content_credentials")
    if isinstance(credentials, dict):
        signed = credentials.get("signed")
        add("C2PA", f"signed by {credentials.get('signer', '?')}" if signed else "not signed")
    return facts


def _static(request: Request) -> Response:
    name = request.path_params["name"]
    media_type = _STATIC_FILES.get(name)
    if media_type is None:
        return Response("not found", status_code=404, media_type="text/plain")
    return FileResponse(
        STATIC / name,
        media_type=media_type,
        headers=_headers(_FILE_CSP, "public, max-age=86400"),
    )


def _health(_request: Request) -> Response:
    return JSONResponse({"ok": True}, headers={"Cache-Control": "no-store"})


def create_app(settings: Settings) -> Starlette:
    """The pages of the room in ``settings.home`` (the link key is made if missing)."""
    pages = _Pages(settings)
    return Starlette(
        routes=[
            Route("/healthz", _health, methods=["GET", "HEAD"]),
            Route("/static/{name}", _static, methods=["GET", "HEAD"]),
            Route("/{path:path}", pages.page, methods=["GET", "HEAD"]),
        ]
    )
