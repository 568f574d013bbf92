"""Posting window reviews and proposals to Slack — each exactly once across processes.

A review post is claimed with the audit marker ``slack.review_post`` (subject: the review
thread id) before anything is sent, so two ``serve`` processes (or a scheduler and a chat
"propose") never both post it. Every message that carries decision buttons is recorded as
``slack.proposal_message`` (channel, ts), so a decision updates all of them, whichever
process took it. Proposal posts are claimed as ``slack.proposal_post`` with subject
``<proposal_id>@<key>``: ``first`` for the review's own post, a ten-minute time bucket for
re-posts at start-up.

At start-up every pending proposal is re-posted (#7: a crash or restart loses no
approval), unless this process or one started beside it posted it since this process
started — so a fresh review is not posted twice and two processes starting together
re-post once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError
from sqlalchemy import ColumnElement
from sqlmodel import col, or_, select

from writers_room.bots.slack import blocks as bk
from writers_room.bots.slack._markers import claim
from writers_room.bots.slack.cards import (
    CardPicture,
    proposal_messages,
    proposal_text,
    stale_part_block,
    verdict_line,
)
from writers_room.config import Settings
from writers_room.graphs.chat.answers import window_folder
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.jobs.previews import OptionSheet, option_sheets
from writers_room.store.db import audit, session_scope
from writers_room.store.models import (
    AuditLog,
    BriefVersion,
    Decision,
    Proposal,
    RenderJob,
    Variant,
)
from writers_room.store.proposals import get_proposal, list_proposals, proposal_diff
from writers_room.web.links import proposals_url, report_url, signed_url

__all__ = ["ReviewPoster", "slack_error"]

log = logging.getLogger(__name__)

# Files per upload (files.completeUploadExternal takes at most 10).
MAX_CHARTS = 10


class ReviewPoster:
    """Posts reviews and proposals to Slack and keeps proposal messages up to date.

    Args:
        settings: the room.
        client: the Slack Web API client (the bolt app's).
        chat: the chat room, to seed threads under posts with their series and episode.
    """

    def __init__(self, settings: Settings, client: WebClient, *, chat: ChatRoom | None = None):
        self.settings = settings
        self.client = client
        self.chat = chat
        # Posts made from this moment on are this incarnation's (see repost_pending).
        self.started_at = datetime.now(UTC)

    @property
    def channel(self) -> str | None:
        """The channel scheduled reviews go to (``WRITERS_ROOM_CHANNEL``)."""
        return self.settings.channel

    def post_review(self, outcome: Any, *, channel: str | None = None) -> bool:
        """Post a window review: summary, retention charts, proposals, escalations.

        Args:
            outcome: a ``ReviewOutcome`` from ``start_review``.
            channel: where to post (default ``WRITERS_ROOM_CHANNEL``).

        Returns:
            True if this call posted it; False if it was posted before (by any process)
            or there is no channel to post to.
        """
        channel = channel or self.channel
        if channel is None:
            log.warning("review %s not posted: WRITERS_ROOM_CHANNEL is not set", outcome.thread_id)
            return False
        if not claim(
            self.settings,
            action="slack.review_post",
            subject=outcome.thread_id,
            detail={"channel": channel},
        ):
            return False
        report = outcome.report or {}
        series_id = outcome.series_id
        resp = self.client.chat_postMessage(
            channel=channel,
            text=f"Window review of {series_id}: {len(outcome.pending)} proposal(s) to decide",
            blocks=bk.review_summary_blocks(
                report,
                pending=len(outcome.pending),
                blocked=outcome.blocked,
                waiting=getattr(outcome, "waiting", None),
                dropped=len(outcome.dropped),
                report_url=(
                    report_url(self.settings, series_id, window_end)
                    if (window_end := getattr(outcome, "window_end", None))
                    else None
                ),
            ),
        )
        # One thread per review: the summary on top, charts, cards and escalations in it.
        ts = str(resp["ts"])
        channel = str(resp.get("channel") or channel)
        with session_scope(self.settings) as session:
            audit(
                session,
                actor="slack",
                action="slack.review_message",
                subject=outcome.thread_id,
                detail={"channel": channel, "ts": ts},
            )
        self._remember(channel, ts, series_id)
        self._upload_charts(outcome, channel, thread_ts=ts)
        for proposal_id in outcome.pending:
            self.guarded(
                self.post_proposal, proposal_id, channel=channel, thread_ts=ts, claim_key="first"
            )
        for result in report.get("outcomes") or []:
            self.guarded(self.post_outcome, result, window_end=str(report.get("window_end", "")))
        if outcome.blocked:
            self.guarded(
                self.client.chat_postMessage,
                channel=channel,
                thread_ts=ts,
                reply_broadcast=True,
                text=bk.escalation_text(series_id, outcome.blocked, self.settings.showrunners),
            )
        log.info("posted review %s to %s", outcome.thread_id, channel)
        return True

    def post_outcome(self, result: dict[str, Any], *, window_end: str) -> bool:
        """Say in a proposal's thread what its published change did (once per window).

        The reply goes under the proposal's first card; a proposal never posted to Slack
        gets none.
        """
        cards = self._cards(str(result.get("proposal_id", "")))
        if not cards or not claim(
            self.settings,
            action="slack.outcome_post",
            subject=f"{result['proposal_id']}@{window_end}",
            detail={"verdict": result.get("verdict")},
        ):
            return False
        channel, ts, thread_ts = cards[0]
        self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts or ts, text=bk.outcome_text(result, window_end)
        )
        return True

    def guarded(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        # One failed Slack call must not stop the rest of a post; pending proposals are
        # re-posted at start-up, so nothing is lost for good.
        try:
            return fn(*args, **kwargs)
        except (SlackApiError, OSError) as exc:
            log.warning("Slack call failed: %s", slack_error(exc))
            return None

    def _charts(self, outcome: Any) -> list[tuple[str, Path]]:
        report = outcome.report or {}
        if not report.get("window_end"):
            return []
        folder = window_folder(self.settings, outcome.series_id, report["window_end"])
        wanted: list[str] = []
        pending_eps = {get_proposal(self.settings, pid)["episode_id"] for pid in outcome.pending}
        for e in report.get("episodes", []):
            eid = e["episode_id"]
            if eid in pending_eps or eid in outcome.blocked or e.get("findings"):
                wanted.append(eid)
        charts = [(f"Retention · {eid}", folder / f"retention-{eid}.png") for eid in wanted]
        charts = [(title, path) for title, path in charts if path.is_file()]
        if not charts and (folder / "scorecard.png").is_file():
            charts = [("Scorecard", folder / "scorecard.png")]
        return charts[:MAX_CHARTS]

    def _upload_charts(self, outcome: Any, channel: str, *, thread_ts: str | None = None) -> None:
        charts = self._charts(outcome)
        if not charts:
            return
        self.guarded(
            self.client.files_upload_v2,
            channel=channel,
            thread_ts=thread_ts,
            initial_comment=f"Retention charts for {outcome.series_id}",
            file_uploads=[
                {"file": str(path), "filename": path.name, "title": title} for title, path in charts
            ],
        )

    def _remember(
        self,
        channel: str,
        ts: str,
        series_id: str,
        episode_id: str | None = None,
        shown: dict[str, str] | None = None,
    ) -> None:
        if self.chat is None:
            return
        try:
            self.chat.remember(
                chat_thread_id("slack", channel, ts),
                series_id=series_id,
                episode_id=episode_id,
                shown=shown,
            )
        except Exception:  # noqa: BLE001 - context for later replies is a nicety
            log.warning("could not seed the chat thread of a post", exc_info=True)

    def post_proposal(
        self,
        proposal_id: str,
        *,
        channel: str,
        thread_ts: str | None = None,
        claim_key: str | None = None,
        note: str | None = None,
    ) -> str | None:
        """Post one proposal with its decision buttons (or its decision, if decided).

        Args:
            proposal_id: the proposal.
            channel: where to post.
            thread_ts: reply in this thread.
            claim_key: post only if the marker ``<proposal_id>@<claim_key>`` was not
                claimed before (exactly-once across processes); ``None`` always posts.
            note: a line above the proposal ("re-posted after a restart").

        Returns:
            The message ts, or ``None`` when another process claimed the post.
        """
        if claim_key is not None and not claim(
            self.settings,
            action="slack.proposal_post",
            subject=f"{proposal_id}@{claim_key}",
            detail={"channel": channel},
        ):
            return None
        p = get_proposal(self.settings, proposal_id)
        sheets = self._sheets(p)
        messages = self._messages_of(p, note=note, sheets=sheets)
        resp = self.client.chat_postMessage(
            channel=channel, thread_ts=thread_ts, text=proposal_text(p), blocks=messages[0]
        )
        ts = str(resp["ts"])
        channel = str(resp.get("channel") or channel)
        with session_scope(self.settings) as session:
            audit(
                session,
                actor="slack",
                action="slack.proposal_message",
                subject=proposal_id,
                content_hash=p["content_hash"],
                detail={"channel": channel, "ts": ts, "thread_ts": thread_ts},
            )
        for part, blocks in enumerate(messages[1:], 1):
            self._post_part(
                p, channel, card_ts=ts, thread_ts=thread_ts or ts, part=part, blocks=blocks
            )
        if sheets and not self.settings.public_url:
            self._upload_sheets(p, sheets, channel, thread_ts=thread_ts or ts)
        # Its thread showed this version: `approve p-…` typed there is bound to it.
        shown = {proposal_id: p["content_hash"]} if p["status"] == "pending" else None
        if thread_ts:
            self._remember(channel, thread_ts, p["series_id"], None, shown)
        else:
            self._remember(channel, ts, p["series_id"], p["episode_id"], shown)
        return ts

    def _sheets(self, p: dict[str, Any]) -> list[OptionSheet]:
        """The proposal's packaging options pictured on thumbnails (drawn once per version)."""
        try:
            return option_sheets(self.settings, p)
        except Exception:  # noqa: BLE001 - the card still lists the options as text
            log.warning("could not picture the options of %s", p["proposal_id"], exc_info=True)
            return []

    def _pictures(self, sheets: list[OptionSheet]) -> list[CardPicture]:
        """The sheets for the card: with a signed link when the pages are public (Slack
        fetches ``image_url`` itself), else without (they are uploaded to the thread)."""
        public = bool(self.settings.public_url)
        return [
            CardPicture(
                choice=sheet.choice,
                title=sheet.heading,
                alt=sheet.alt_text,
                url=(
                    signed_url(self.settings, sheet.path.relative_to(self.settings.home))
                    if public
                    else None
                ),
            )
            for sheet in sheets
        ]

    def _upload_sheets(
        self, p: dict[str, Any], sheets: list[OptionSheet], channel: str, *, thread_ts: str
    ) -> None:
        """The option pictures as files in the card's thread (pages not public)."""
        self.guarded(
            self.client.files_upload_v2,
            channel=channel,
            thread_ts=thread_ts,
            initial_comment=(
                f"{p['episode_id']} `{p['proposal_id']}` — the options on thumbnails, as the "
                "render will lay them out (storyboard frames). Choose on the card above."
            ),
            file_uploads=[
                {
                    "file": str(sheet.path),
                    "filename": sheet.path.name,
                    "title": sheet.heading,
                    "alt_txt": sheet.alt_text[:1000],
                }
                for sheet in sheets
            ],
        )

    def _messages_of(
        self,
        p: dict[str, Any],
        *,
        note: str | None = None,
        sheets: list[OptionSheet] | None = None,
    ) -> list[list[dict]]:
        """The card and continuation messages of a proposal as it stands."""
        diff = proposal_diff(self.settings, p)
        pictures = self._pictures(self._sheets(p) if sheets is None else sheets)
        if p["status"] == "pending":
            messages = proposal_messages(p, diff, note=note, pictures=pictures)
        else:
            facts = self._decision_facts(p["proposal_id"])
            picks = facts.pop("picks")
            messages = proposal_messages(
                p, diff, verdict=verdict_line(p, **facts), picks=picks, pictures=pictures
            )
        if p.get("window_end") and len(messages[0]) < bk.MAX_BLOCKS:
            url = proposals_url(
                self.settings, p["series_id"], p["window_end"], proposal_id=p["proposal_id"]
            )
            messages[0].append(
                {
                    "type": "context",
                    "elements": [{"type": "mrkdwn", "text": f"<{url}|Read it on the review page>"}],
                }
            )
        return messages

    def _post_part(
        self,
        p: dict[str, Any],
        channel: str,
        *,
        card_ts: str,
        thread_ts: str,
        part: int,
        blocks: list[dict[str, Any]],
    ) -> None:
        """A continuation of a card's diff, in the thread, recorded to be kept up to date."""
        resp = self.client.chat_postMessage(
            channel=channel,
            thread_ts=thread_ts,
            text=f"{proposal_text(p)[:200]} (continued, part {part + 1})",
            blocks=blocks,
        )
        with session_scope(self.settings) as session:
            audit(
                session,
                actor="slack",
                action="slack.proposal_part",
                subject=p["proposal_id"],
                content_hash=p["content_hash"],
                detail={
                    "channel": channel,
                    "ts": str(resp["ts"]),
                    "card_ts": card_ts,
                    "thread_ts": thread_ts,
                    "part": part,
                },
            )

    def _decision_facts(self, proposal_id: str) -> dict[str, Any]:
        with session_scope(self.settings) as session:
            decision = session.exec(
                select(Decision).where(Decision.proposal_id == proposal_id)
            ).first()
            version = session.exec(
                select(BriefVersion.version).where(BriefVersion.proposal_id == proposal_id)
            ).first()
            renders = list(
                session.exec(
                    select(RenderJob.render_id)
                    .where(RenderJob.proposal_id == proposal_id)
                    .order_by(col(RenderJob.created_at))
                )
            )
        return {
            "edited": bool(decision and decision.edited),
            "note": decision.note if decision else "",
            "applied_version": version,
            "render_ids": renders,
            "picks": list(decision.choices) if decision and decision.choices else None,
        }

    def messages(self, proposal_id: str) -> list[tuple[str, str]]:
        """(channel, ts) of every card that shows this proposal, oldest first."""
        return [(channel, ts) for channel, ts, _ in self._cards(proposal_id)]

    def _cards(self, proposal_id: str) -> list[tuple[str, str, str | None]]:
        """(channel, ts, thread_ts) of every card of this proposal, oldest first."""
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(AuditLog)
                .where(
                    AuditLog.action == "slack.proposal_message",
                    AuditLog.subject == proposal_id,
                )
                .order_by(col(AuditLog.id))
            )
            return [
                (
                    str(r.detail["channel"]),
                    str(r.detail["ts"]),
                    str(r.detail["thread_ts"]) if r.detail.get("thread_ts") else None,
                )
                for r in rows
            ]

    def _parts(self, proposal_id: str) -> dict[tuple[str, str], dict[int, str]]:
        """(channel, card ts) → part number → ts of the card's continuation messages."""
        out: dict[tuple[str, str], dict[int, str]] = {}
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(AuditLog)
                .where(AuditLog.action == "slack.proposal_part", AuditLog.subject == proposal_id)
                .order_by(col(AuditLog.id))
            )
            for r in rows:
                key = (str(r.detail["channel"]), str(r.detail["card_ts"]))
                out.setdefault(key, {})[int(r.detail["part"])] = str(r.detail["ts"])
        return out

    def refresh_proposal(self, proposal_id: str) -> int:
        """Update every card of a proposal (and its continuations) to its current state;
        returns how many cards were updated."""
        p = get_proposal(self.settings, proposal_id)
        messages = self._messages_of(p)
        parts = self._parts(proposal_id)
        updated = 0
        for channel, ts, thread_ts in self._cards(proposal_id):
            if self.guarded(
                self.client.chat_update,
                channel=channel,
                ts=ts,
                text=proposal_text(p),
                blocks=messages[0],
            ):
                updated += 1
            posted = parts.get((channel, ts), {})
            for part, part_ts in sorted(posted.items()):
                blocks = (
                    messages[part] if part < len(messages) else [stale_part_block(p["proposal_id"])]
                )
                self.guarded(
                    self.client.chat_update,
                    channel=channel,
                    ts=part_ts,
                    text=f"{proposal_text(p)[:200]} (continued, part {part + 1})",
                    blocks=blocks,
                )
            for part in range(1, len(messages)):
                if part not in posted:
                    self.guarded(
                        self._post_part,
                        p,
                        channel,
                        card_ts=ts,
                        thread_ts=thread_ts or ts,
                        part=part,
                        blocks=messages[part],
                    )
        return updated

    def post_render(self, job: Any) -> bool:
        """Tell the proposal's thread that its render finished (once across processes).

        Args:
            job: a finished ``RenderJob`` (``done`` or ``failed``).

        Returns:
            True if this call posted.
        """
        if job.status not in ("done", "failed"):
            return False
        cards = self._cards(job.proposal_id) if job.proposal_id else []
        channel, thread_ts = (
            (cards[0][0], cards[0][2] or cards[0][1]) if cards else (self.channel, None)
        )
        if channel is None:
            return False
        if not claim(self.settings, action="slack.render_post", subject=job.render_id):
            return False
        scope = f"{job.series_id}/{job.episode_id} v{job.brief_version}"
        if job.status == "failed":
            text = f"⚠️ Render `{job.render_id}` of {scope} failed: {bk.escape(job.error or '?')}"
        else:
            art = job.artifacts or {}
            text = (
                f"🎬 Render `{job.render_id}` of {scope} is ready: HLS "
                f"`{art.get('hls_master', '?')}`, master `{art.get('episode', '?')}` "
                f"(under the room's home)."
            )
        blocks = None
        if job.status == "done" and not job.preview:
            blocks = bk.render_ready_blocks(text, job.render_id, self._variants(job))
        self.guarded(
            self.client.chat_postMessage,
            channel=channel,
            thread_ts=thread_ts,
            text=text,
            **({"blocks": blocks} if blocks else {}),
        )
        thumbs = (job.artifacts or {}).get("thumbnails") or []
        if job.status == "done" and thumbs:
            path = self.settings.home / str(thumbs[0])
            if path.is_file():
                self.guarded(
                    self.client.files_upload_v2,
                    channel=channel,
                    thread_ts=thread_ts,
                    file=str(path),
                    title=f"Thumbnail · {scope}",
                )
        return True

    def _variants(self, job: Any) -> list[str]:
        """The distribution variants of a render's episode (what it can be published as)."""
        with session_scope(self.settings) as session:
            rows = session.exec(
                select(Variant).where(
                    Variant.series_id == job.series_id, Variant.episode_id == job.episode_id
                )
            ).all()
            return sorted(v.variant_id for v in rows)

    def repost_pending(
        self, *, channel: str | None = None, now: datetime | None = None
    ) -> list[str]:
        """Re-post pending proposals after a (re)start, once across processes.

        Proposals posted since this poster was created (by the start-up review, or by a
        process started at the same time) are left alone; every other pending proposal
        is posted again with a note, claimed per ten-minute bucket so that processes
        starting together post it once. Old messages keep working: any process answers
        their buttons.

        Returns:
            The proposal ids this call posted.
        """
        channel = channel or self.channel
        if channel is None:
            return []
        now = now or datetime.now(UTC)
        bucket = now.strftime("%Y-%m-%dT%H:") + f"{now.minute // 10}0"
        posted = []
        for p in list_proposals(self.settings, status="pending"):
            if self._posted_since(p["proposal_id"], self.started_at):
                continue
            ts = self.guarded(
                self.post_proposal,
                p["proposal_id"],
                channel=channel,
                thread_ts=self._review_thread(p["proposal_id"], channel),
                claim_key=f"restart-{bucket}",
                note="Still waiting for a decision (re-posted after a restart).",
            )
            if ts:
                posted.append(p["proposal_id"])
        return posted

    def _review_thread(self, proposal_id: str, channel: str) -> str | None:
        """The ts of the review summary that a proposal belongs under, in ``channel``."""
        with session_scope(self.settings) as session:
            proposal = session.get(Proposal, proposal_id)
            if proposal is None or not proposal.thread_id:
                return None
            row = session.exec(
                select(AuditLog)
                .where(
                    AuditLog.action == "slack.review_message",
                    AuditLog.subject == proposal.thread_id,
                )
                .order_by(col(AuditLog.id).desc())
            ).first()
        if row is None or str(row.detail.get("channel")) != channel:
            return None
        return str(row.detail["ts"])

    def _posted_since(self, proposal_id: str, since: datetime) -> bool:
        """Whether the proposal, or the review that carries it, was posted since ``since``.

        A review post is claimed before its proposals are sent, so a process starting
        beside the poster sees the claim even while the proposals are still on their way.
        """
        with session_scope(self.settings) as session:
            proposal = session.get(Proposal, proposal_id)
            subjects: list[ColumnElement[bool]] = [
                col(AuditLog.subject) == proposal_id,
                col(AuditLog.subject).startswith(f"{proposal_id}@"),
            ]
            actions = ["slack.proposal_message", "slack.proposal_post"]
            if proposal is not None and proposal.thread_id:
                subjects.append(col(AuditLog.subject) == proposal.thread_id)
                actions.append("slack.review_post")
            found = session.exec(
                select(AuditLog.id)
                .where(
                    col(AuditLog.action).in_(actions),
                    or_(*subjects),
                    col(AuditLog.ts) >= since,
                )
                .limit(1)
            ).first()
        return found is not None


def slack_error(exc: Exception) -> str:
    """The error code of a Slack failure, never the request (which may hold user text)."""
    if isinstance(exc, SlackApiError):
        return str(exc.response.get("error", "unknown_error"))
    return type(exc).__name__
