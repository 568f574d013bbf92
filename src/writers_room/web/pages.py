"""The HTML of the review pages: a review's proposals, a render's preview, a refusal.

Pure functions of what the server looked up; every value is escaped here. Links inside a
page are relative (``root`` climbs back to the pages' root), so the pages work behind a
proxy that serves them under a path prefix.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from html import escape
from typing import Any

from writers_room.brief.proposals import KIND_WORDS
from writers_room.web.diffs import changes_html

__all__ = ["Rendition", "error_page", "preview_page", "proposals_page"]


def _head(title: str, root: str, *, body_class: str = "") -> str:
    cls = f' class="{body_class}"' if body_class else ""
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        '<meta name="referrer" content="no-referrer"><link rel="icon" href="data:,">'
        f"<title>{escape(title)}</title>"
        f'<link rel="stylesheet" href="{escape(root)}static/room.css"></head><body{cls}><main>'
    )


_FOOT = "</main></body></html>"


def error_page(title: str, message: str, root: str = "/") -> str:
    """A short page that says what went wrong and what to do."""
    return (
        f"{_head(title, root)}<header class='top'><h1>{escape(title)}</h1></header>"
        f"<p>{escape(message)}</p>{_FOOT}"
    )


def _when(iso: str | None) -> str:
    """``2026-12-06T21:10:02.46+00:00`` → ``2026-12-06 21:10 UTC``."""
    if not iso:
        return ""
    try:
        moment = datetime.fromisoformat(iso)
    except ValueError:
        return iso
    if moment.tzinfo is not None:
        moment = moment.astimezone(UTC)
    return moment.strftime("%Y-%m-%d %H:%M UTC")


def _facts(pairs: Sequence[tuple[str, str]]) -> str:
    items = "".join(f"<dt>{escape(k)}</dt><dd>{v}</dd>" for k, v in pairs if v)
    return f'<dl class="facts">{items}</dl>' if items else ""


def _choices(choices: list[dict[str, Any]]) -> str:
    if not choices:
        return ""
    blocks = []
    for choice in choices:
        where = (
            f" → <span class='kind'>{escape(choice['path'])}</span>" if choice.get("path") else ""
        )
        options = "".join(f"<li>{escape(str(o))}</li>" for o in choice.get("options", []))
        blocks.append(
            f"<div><strong>{escape(str(choice.get('slot', '')))}</strong>{where}"
            f" <span class='muted'>(the first is written above)</span><ol>{options}</ol></div>"
        )
    return f'<div class="choices"><h3>Choices</h3>{"".join(blocks)}</div>'


def _evidence(evidence: dict[str, Any]) -> str:
    metrics = ", ".join(
        f"{escape(str(k))} {v:.4g}" if isinstance(v, int | float) else f"{escape(str(k))} {v}"
        for k, v in sorted(evidence.get("metrics", {}).items())
    )
    quotes = "".join(
        f"<blockquote>“{escape(str(q))}”</blockquote>" for q in evidence.get("quotes", [])
    )
    parts = [
        quotes,
        f"<details class='muted'><summary>The report's numbers behind it</summary>"
        f"<p>{metrics}</p></details>"
        if metrics
        else "",
    ]
    body = "".join(parts)
    return f"<div class='evidence'><h3>Evidence</h3>{body}</div>" if body else ""


def _pictures(pictures: list[tuple[str, str, str]]) -> str:
    """The packaging options on thumbnails: ``(heading, alt text, link)`` each."""
    return "".join(
        f'<figure class="options" title="{escape(heading)}"><img src="{escape(href)}" '
        f'alt="{escape(alt)}" loading="lazy"></figure>'
        for heading, alt, href in pictures
    )


def _proposal(
    view: dict[str, Any],
    render_href: str | None,
    diff_html: str | None,
    pictures: list[tuple[str, str, str]] | None = None,
) -> str:
    """One proposal: what it says, its changes, its options on thumbnails, the evidence.

    ``diff_html`` is the readable script diff (``brief.diff.render_html``: shots and brief
    fields, cut and new words, the alternatives); every stored field change — what the
    content hash covers — follows it, folded. Without a readable diff the field changes
    are the changes, shown open, with the alternatives after them.
    """
    evidence = view.get("evidence", {})
    status = str(view.get("status", ""))
    decided = ""
    if view.get("decided_by"):
        decided = f"{escape(str(view['decided_by']))}, {escape(_when(view.get('decided_at')))}"
    render = f'<a href="{escape(render_href)}">preview the render</a>' if render_href else ""
    facts = _facts(
        [
            ("why", escape(str(evidence.get("rationale", "")))),
            ("targets", escape(str(evidence.get("target", "")))),
            ("expected", escape(str(evidence.get("expected_effect", "")))),
            ("on brief", f"version {int(view.get('base_version', 1))}"),
            ("decided", decided),
            ("render", render),
        ]
    )
    changes = view.get("changes", [])
    table = changes_html(changes)
    if diff_html is not None:
        body = (
            f"<h3>Changes</h3>{diff_html}"
            f'<details class="exact"><summary>Every field change as stored ({len(changes)}) '
            "— what the hash covers</summary>"
            f"{table}</details>"
        )
    else:
        body = f"<h3>Changes ({len(changes)})</h3>{table}{_choices(view.get('choices', []))}"
    pid = escape(str(view["proposal_id"]))
    return (
        f'<section class="proposal" id="{pid}" data-changes="{len(changes)}">'
        "<header><h2>"
        f"{escape(str(view.get('episode_id', '')))} · "
        f"<span class='kind' title='{escape(str(view.get('kind', '')))}'>"
        f"{escape(KIND_WORDS.get(str(view.get('kind', '')), str(view.get('kind', ''))))}</span> "
        f'<span class="badge {escape(status)}">{escape(status)}</span></h2>'
        f"<span class='muted'>{pid} · hash "
        f"<span class='hash'>{escape(str(view.get('content_hash', ''))[:12])}</span></span>"
        "</header>"
        f"<p class='summary'>{escape(str(view.get('summary', '')))}</p>{facts}"
        f"{body}{_pictures(pictures or [])}{_evidence(evidence)}</section>"
    )


def proposals_page(
    *,
    series_id: str,
    window_end: str,
    proposals: list[dict[str, Any]],
    root: str,
    report_href: str | None,
    render_hrefs: dict[str, str],
    diffs: dict[str, str] | None = None,
    pictures: dict[str, list[tuple[str, str, str]]] | None = None,
) -> str:
    """Every proposal of one review (series and window), each change before and after.

    ``diffs`` holds each proposal's readable diff (HTML) by id, where there is one;
    ``pictures`` its packaging options on thumbnails (heading, alt text, link).
    """
    diffs = diffs or {}
    title = f"Proposals · {series_id} · window ending {window_end}"
    crumbs = f'<a href="{escape(report_href)}">the window report</a>' if report_href else ""
    counts: dict[str, int] = {}
    for view in proposals:
        counts[view["status"]] = counts.get(view["status"], 0) + 1
    tally = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    if proposals:
        body = "".join(
            _proposal(
                v,
                render_hrefs.get(v["proposal_id"]),
                diffs.get(v["proposal_id"]),
                (pictures or {}).get(v["proposal_id"]),
            )
            for v in proposals
        )
    else:
        body = '<p class="empty">This review has no proposals.</p>'
    return (
        f"{_head(title, root)}<header class='top'><div class='crumbs'>{crumbs}</div>"
        f"<h1>Proposals for {escape(series_id)}</h1>"
        f"<p class='muted'>Review of the 24-hour window ending {escape(window_end)} · "
        f"{len(proposals)} proposal{'s' if len(proposals) != 1 else ''}"
        f"{' (' + escape(tally) + ')' if tally else ''}. The hash is what an approval is bound "
        "to: approve with it (<span class='kind'>writers-room approve ID --hash …</span>) "
        "or with the buttons in Slack.</p></header>"
        f"{body}{_FOOT}"
    )


@dataclass(frozen=True)
class Rendition:
    """One rung of the ladder, as the preview page lists it."""

    name: str
    width: int
    height: int
    bandwidth: int
    path: str  # the rung's media playlist in the master playlist, e.g. 720p/index.m3u8
    href: str  # that playlist's link from the page, with the token


def preview_page(
    *,
    series_id: str,
    episode_id: str,
    render_id: str,
    root: str,
    master_href: str,
    renditions: list[Rendition],
    poster_href: str | None,
    downloads: list[tuple[str, str]],
    facts: list[tuple[str, str]],
    proposal_href: str | None,
) -> str:
    """A player for the render's HLS ladder with one button per rung (and "auto")."""
    title = f"Render {render_id} · {series_id} {episode_id}"
    buttons = [
        '<button type="button" data-level="-1" data-name="auto">'
        "auto<small>best fit</small></button>"
    ]
    for index, rung in enumerate(renditions):
        rate = f"{rung.bandwidth / 1e6:.1f} Mb/s" if rung.bandwidth else ""
        buttons.append(
            f'<button type="button" data-level="{index}" data-name="{escape(rung.name)}" '
            f'data-height="{rung.height}" data-path="{escape(rung.path)}" '
            f'data-uri="{escape(rung.href)}">{escape(rung.name)}'
            f"<small>{rung.width}×{rung.height} {rate}</small></button>"
        )
    poster = f' poster="{escape(poster_href)}"' if poster_href else ""
    links = "".join(f'<a href="{escape(href)}">{escape(label)}</a>' for label, href in downloads)
    crumbs = f'<a href="{escape(proposal_href)}">the proposal</a>' if proposal_href else ""
    fact_html = _facts([(k, escape(v)) for k, v in facts])
    return (
        f"{_head(title, root, body_class='preview')}<header class='top'>"
        f"<div class='crumbs'>{crumbs}</div>"
        f"<h1>{escape(series_id)} · {escape(episode_id)}</h1>"
        f"<p class='muted'>Render {escape(render_id)}: the HLS ladder as viewers get it. "
        "Pick a rendition to play that rung.</p></header>"
        '<div class="stage"><div class="player">'
        f'<video id="video" controls playsinline preload="metadata"{poster} '
        f'data-master="{escape(master_href)}"></video></div>'
        '<div class="side"><h2>Renditions</h2>'
        f'<div class="rungs" role="group" aria-label="renditions">{"".join(buttons)}</div>'
        '<p id="status" class="status" aria-live="polite"></p>'
        f"{fact_html}<p class='downloads'>{links}</p></div></div>"
        f'<script src="{escape(root)}static/hls.min.js"></script>'
        f'<script src="{escape(root)}static/preview.js"></script>{_FOOT}'
    )
