"""The room's bolt-python app: chat, ``/room``, decision buttons, the edit modal.

Every listener calls ``ack()`` first; the slow part (the chat graph, a decision that
resumes the review graph, uploads) then goes to the room's own worker pool
(:class:`Workers`). That is what bolt's lazy listeners are for, but measured here they
cost more than they give: bolt deep-copies the whole request for each lazy listener
(about half the CPU of a click's ack), and runs them on the same executor as the ack
functions, so slow work would hold threads that later acks need. With the hand-off,
50 simultaneous clicks are all acknowledged within 200 ms on two cores.

Slack retries an event when it is not acknowledged within 3 s; a global middleware
processes each ``event_id`` once (see ``_markers.EventDeduper``). Requests are verified
by bolt (v0 signature, 5-minute window); failures get 401 before any listener or
middleware of ours runs. Logs never carry request bodies, tokens or user text.
"""

from __future__ import annotations

import json
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from slack_bolt import Ack, App, BoltResponse, Respond
from slack_sdk import WebClient
from slack_sdk.errors import SlackApiError

from writers_room.bots.slack import blocks as bk
from writers_room.bots.slack._markers import EventDeduper
from writers_room.bots.slack.actions import (
    APPROVE_PROPOSAL,
    CHOOSE_OPTION,
    EDIT_MODAL_CALLBACK,
    EDIT_PROPOSAL,
    PUBLISH_RENDER,
    REJECT_MODAL_CALLBACK,
    REJECT_PROPOSAL,
    ROOM_COMMAND,
    parse_decide_block_id,
)
from writers_room.bots.slack.cards import picks_from_state
from writers_room.bots.slack.modals import (
    edit_modal,
    parse_edit_submission,
    parse_reject_submission,
    reject_modal,
)
from writers_room.bots.slack.poster import ReviewPoster, slack_error
from writers_room.brief.diff import edited_changes
from writers_room.config import Settings
from writers_room.errors import GuardrailRefusal, InputError
from writers_room.graphs.chat.run import ChatRoom, chat_thread_id
from writers_room.graphs.chat.state import ChatReply
from writers_room.graphs.window_review.run import decide_and_resume, start_review
from writers_room.guardrails.approval import AlreadyDecided, NotAnApprover, is_approver
from writers_room.jobs.publish import publish_render
from writers_room.store.db import session_scope
from writers_room.store.models import RenderJob
from writers_room.store.proposals import base_documents, get_proposal, proposal_diff
from writers_room.store.runs import LeaseBusy, get_run

__all__ = ["RoomApp", "Workers", "build_app", "quiet_logger"]

log = logging.getLogger(__name__)

# Threads bolt runs listeners on (each acks, hands off and returns; never blocked long).
BOLT_THREADS = 32
# Threads doing the room's work (graphs, decisions, uploads); SQLite has one writer.
WORK_THREADS = 4
_MENTION = re.compile(r"<@([A-Z0-9]+)(?:\|[^>]*)?>")
# Words that mark a bolt log line as carrying request data; such lines are reduced to
# their first clause (#18: no request bodies, tokens or signatures in logs).
_PAYLOAD_MARKERS = ("body", "payload", "signature", "token", "Unhandled request", "{")


class _NoPayloads(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a bad format string: keep only the template
            message = str(record.msg)
        if any(marker in message for marker in _PAYLOAD_MARKERS):
            head = re.split(r"[({:]", message, maxsplit=1)[0].strip()
            record.msg = f"{head} (request details withheld)"
            record.args = ()
        return True


def quiet_logger() -> logging.Logger:
    """The logger bolt is given: its filter (copied to every bolt logger) drops payloads."""
    logger = logging.getLogger("writers_room.bots.slack.bolt")
    if not any(isinstance(f, _NoPayloads) for f in logger.filters):
        logger.addFilter(_NoPayloads())
    return logger


class _InFlight:
    """A count of jobs queued or running, shared by the listener and worker pools."""

    def __init__(self) -> None:
        self.count = 0
        self.idle = threading.Condition()

    def start(self) -> None:
        with self.idle:
            self.count += 1

    def done(self) -> None:
        with self.idle:
            self.count -= 1
            self.idle.notify_all()

    def wait(self, timeout: float) -> bool:
        with self.idle:
            return self.idle.wait_for(lambda: self.count == 0, timeout=timeout)


class _ListenerPool(ThreadPoolExecutor):
    """bolt's listener executor, counted: a listener still running may yet hand off work."""

    def __init__(self, in_flight: _InFlight, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._in_flight = in_flight

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        in_flight = self._in_flight

        def counted() -> Any:
            try:
                return fn(*args, **kwargs)
            finally:
                in_flight.done()

        in_flight.start()
        try:
            return super().submit(counted)
        except BaseException:
            in_flight.done()
            raise


class Workers:
    """The room's worker pool for slow work after an ack, with a drain for shutdown/tests."""

    def __init__(self, threads: int = WORK_THREADS, in_flight: _InFlight | None = None) -> None:
        self._pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="room-work")
        self._in_flight = in_flight or _InFlight()

    def submit(self, fn: Callable[..., Any], /, *args: Any, **kwargs: Any) -> None:
        """Run ``fn(*args, **kwargs)`` on the pool; exceptions are logged, not raised."""

        def job() -> None:
            try:
                fn(*args, **kwargs)
            except Exception:
                log.exception("room work %s failed", getattr(fn, "__name__", "job"))
            finally:
                self._in_flight.done()

        self._in_flight.start()
        try:
            self._pool.submit(job)
        except BaseException:
            self._in_flight.done()
            raise

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until no work is queued or running (nor any listener that may add some);
        False on timeout."""
        return self._in_flight.wait(timeout)

    def shutdown(self) -> None:
        """Finish queued work and stop the threads."""
        self._pool.shutdown(wait=True)


class RoomApp(App):
    """A bolt :class:`~slack_bolt.App` that also holds the room's parts.

    Attributes:
        settings: the room.
        chat: the chat graph driver shared by mentions, DMs and ``/room``.
        poster: posts reviews and proposals, updates proposal messages.
        workers: the pool that does the work after each ack.
        review_agents: agents passed to review runs (tests swap scripted ones in).
    """

    settings: Settings
    chat: ChatRoom
    poster: ReviewPoster
    workers: Workers
    listener_pool: ThreadPoolExecutor
    review_agents: dict[str, Any] | None
    _closed: bool = False

    def drain(self, timeout: float = 30.0) -> bool:
        """Wait until every listener bolt started has returned and the work it handed to
        the room's workers is done. Returns False if that took longer than ``timeout``.

        A listener acks before it hands off its work, so an answered request does not
        mean the work was queued; this waits for both (tests assert "nothing happened"
        after it, and shutdown uses it).
        """
        return self.workers.drain(timeout)

    def close(self, timeout: float = 30.0) -> None:
        """Drain, stop the pools and close the chat room's checkpointer; safe to call twice."""
        if self._closed:
            return
        self._closed = True
        if not self.drain(timeout):
            log.warning("closing the Slack app with work still running after %.0f s", timeout)
        self.workers.shutdown()
        self.listener_pool.shutdown(wait=True)
        self.chat.close()


def build_app(
    settings: Settings,
    *,
    client: WebClient | None = None,
    socket_mode: bool = False,
    chat: ChatRoom | None = None,
    review_agents: dict[str, Any] | None = None,
) -> RoomApp:
    """Build the room's Slack app from settings.

    Args:
        settings: the room; ``slack_bot_token``, ``slack_signing_secret`` (HTTP mode) and
            ``slack_api_url`` are read from it.
        client: a Web API client to use (default: one for the bot token and API URL).
        socket_mode: build for Socket Mode (no HTTP signatures to verify).
        chat: the chat room to answer with (default: a new one on these settings).
        review_agents: agents for review runs and decisions (tests).

    Raises:
        InputError: a credential the chosen mode needs is missing.
    """
    if client is None:
        if not settings.slack_bot_token:
            raise InputError("SLACK_BOT_TOKEN is not set: the Slack app needs the bot token")
        client = WebClient(token=settings.slack_bot_token, base_url=settings.slack_api_url)
    if not socket_mode and not settings.slack_signing_secret:
        raise InputError(
            "SLACK_SIGNING_SECRET is not set: HTTP mode verifies every request with it"
        )
    in_flight = _InFlight()
    listener_pool = _ListenerPool(
        in_flight, max_workers=BOLT_THREADS, thread_name_prefix="slack-ack"
    )
    app = RoomApp(
        client=client,
        signing_secret=None if socket_mode else settings.slack_signing_secret,
        request_verification_enabled=not socket_mode,
        process_before_response=False,
        logger=quiet_logger(),
        listener_executor=listener_pool,
    )
    app.listener_pool = listener_pool
    app.settings = settings
    app.chat = chat or ChatRoom(settings, review_agents=review_agents)
    app.poster = ReviewPoster(settings, app.client, chat=app.chat)
    app.workers = Workers(in_flight=in_flight)
    app.review_agents = review_agents
    _Listeners(app).register()
    return app


class _Listeners:
    """The app's listeners: each acks first, then hands the work to the room's workers."""

    def __init__(self, app: RoomApp) -> None:
        self.app = app
        self.settings = app.settings
        self.dedupe = EventDeduper(app.settings)

    def register(self) -> None:
        app = self.app
        app.middleware(self.dedupe_events)
        app.command(ROOM_COMMAND)(self.on_command)
        app.event("app_mention")(self.on_mention)
        app.event("message")(self.on_message)
        app.action(APPROVE_PROPOSAL)(self.on_decide_click)
        app.action(REJECT_PROPOSAL)(self.on_reject_click)
        app.action(EDIT_PROPOSAL)(self.on_edit_click)
        app.action(CHOOSE_OPTION)(self.on_choose)
        app.action(PUBLISH_RENDER)(self.on_publish)
        app.view(EDIT_MODAL_CALLBACK)(self.on_edit_submit)
        app.view(REJECT_MODAL_CALLBACK)(self.on_reject_submit)

    # -- middleware --------------------------------------------------------------------

    def dedupe_events(
        self, body: dict[str, Any], next: Callable[[], BoltResponse]
    ) -> BoltResponse | None:
        """Answer a retried event 200 without running any listener (#10)."""
        event_id = body.get("event_id") if body.get("type") == "event_callback" else None
        if event_id:
            event_type = str((body.get("event") or {}).get("type", ""))
            if not self.dedupe.first_delivery(str(event_id), event_type=event_type):
                log.info("slack event %s already processed; retry ignored", event_id)
                return BoltResponse(status=200, body="")
        return next()

    # -- chat ------------------------------------------------------------------------

    def on_command(self, ack: Ack, body: dict[str, Any], respond: Respond) -> None:
        """``/room …``: one turn of the chat graph in the user's channel conversation."""
        ack()
        channel, user = str(body.get("channel_id", "")), str(body.get("user_id", ""))
        log.info("slack /room from %s in %s", user, channel)
        self.app.workers.submit(
            self._answer,
            text=str(body.get("text", "")),
            user=user,
            channel=channel,
            thread_ts=None,
            thread_id=chat_thread_id("slack", channel, user),
            respond=respond,
        )

    def on_mention(self, ack: Ack, body: dict[str, Any]) -> None:
        """A mention: answer in the thread (which keeps the conversation's context)."""
        ack()
        event = body.get("event") or {}
        channel = str(event.get("channel", ""))
        thread_ts = str(event.get("thread_ts") or event.get("ts", ""))
        log.info("slack mention from %s in %s", event.get("user"), channel)
        self.app.workers.submit(
            self._answer,
            text=str(event.get("text", "")),
            user=str(event.get("user", "")),
            channel=channel,
            thread_ts=thread_ts,
            thread_id=chat_thread_id("slack", channel, thread_ts),
        )

    def on_message(self, ack: Ack, body: dict[str, Any], context: dict[str, Any]) -> None:
        """DMs are chat; in channels, replies in a thread the room is part of are too."""
        ack()
        event = body.get("event") or {}
        if event.get("subtype") or event.get("bot_id"):
            return
        channel = str(event.get("channel", ""))
        text = str(event.get("text", ""))
        if event.get("channel_type") == "im":
            thread_ts = event.get("thread_ts")
            thread_id = chat_thread_id("slack", channel, str(thread_ts or "dm"))
        else:
            thread_ts = event.get("thread_ts")
            bot = context.get("bot_user_id")
            if not thread_ts or (bot and f"<@{bot}" in text):
                return  # not a thread, or a mention (answered through app_mention)
            thread_id = chat_thread_id("slack", channel, str(thread_ts))
            if not self.app.chat.knows(thread_id):
                return
        self.app.workers.submit(
            self._answer,
            text=text,
            user=str(event.get("user", "")),
            channel=channel,
            thread_ts=str(thread_ts) if thread_ts else None,
            thread_id=thread_id,
        )

    def _answer(
        self,
        *,
        text: str,
        user: str,
        channel: str,
        thread_ts: str | None,
        thread_id: str,
        respond: Respond | None = None,
    ) -> None:
        try:
            reply = self.app.chat.ask(text, thread_id=thread_id, user=user)
        except Exception:
            log.exception("chat turn failed in %s", thread_id)
            reply = ChatReply(
                text="Sorry — something went wrong on my side, and nothing was changed.",
                intent="error",
            )
        self._deliver(reply, channel=channel, thread_ts=thread_ts, respond=respond, user=user)

    def _deliver(
        self,
        reply: ChatReply,
        *,
        channel: str,
        thread_ts: str | None,
        respond: Respond | None,
        user: str = "",
    ) -> None:
        client = self.app.client
        private = reply.refused or reply.intent in (
            "help",
            "clarify",
            "error",
            "how_to_decide",
            "confirm",
        )
        try:
            if respond is not None:
                respond(text=reply.text, response_type="ephemeral" if private else "in_channel")
            elif reply.refused and user:
                # A guardrail's "no" is for the asker only, in threads as with /room.
                client.chat_postEphemeral(
                    channel=channel, user=user, thread_ts=thread_ts, text=reply.text
                )
            else:
                client.chat_postMessage(channel=channel, thread_ts=thread_ts, text=reply.text)
            for path in reply.files[:1]:
                client.files_upload_v2(
                    channel=channel,
                    thread_ts=thread_ts,
                    file=path,
                    title=f"Retention · {reply.episode_id or ''}".strip(" ·"),
                )
        except (SlackApiError, OSError) as exc:
            log.warning("could not deliver a chat reply in %s: %s", channel, slack_error(exc))
        poster = self.app.poster
        if reply.review_thread:
            self._post_review(reply.review_thread, channel)
        for proposal_id in reply.proposals:
            poster.guarded(poster.post_proposal, proposal_id, channel=channel, thread_ts=thread_ts)
        for proposal_id in reply.decided:
            poster.refresh_proposal(proposal_id)

    def _post_review(self, thread_id: str, channel: str) -> None:

        run = get_run(self.settings, thread_id)
        if run is None:
            return
        # Starting a review that exists returns where it stands (exactly once).
        outcome = start_review(
            self.settings,
            run.series_id,
            window_end=run.window_end,
            agents=self.app.review_agents,
        )
        self.app.poster.post_review(outcome, channel=self.settings.channel or channel)

    # -- decisions -------------------------------------------------------------------

    def on_publish(self, ack: Ack, body: dict[str, Any]) -> None:
        """ "Published as…" on a render's message: an approver ties the render to a variant."""
        ack()
        action = (body.get("actions") or [{}])[0]
        value = str((action.get("selected_option") or {}).get("value", ""))
        render_id, _, variant_id = value.partition("|")
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        thread = (body.get("message") or {}).get("thread_ts") or (body.get("message") or {}).get(
            "ts"
        )
        self.app.workers.submit(self._publish, render_id, variant_id, user, channel, thread)

    def _publish(
        self, render_id: str, variant_id: str, user: str, channel: str, thread: str | None
    ) -> None:
        with session_scope(self.settings) as session:
            job = session.get(RenderJob, render_id)
            series_id = job.series_id if job is not None else ""
            allowed = is_approver(self.settings, session, series_id, user)
        if not allowed:
            self._ephemeral(
                channel,
                user,
                "Only an approver of the series records a publication; nothing changed.",
            )
            return
        try:
            publication, new = publish_render(
                self.settings, render_id, variant_id=variant_id, published_by=user
            )
        except InputError as exc:
            self._ephemeral(channel, user, f"Not recorded: {exc}")
            return
        if new:
            self.app.poster.guarded(
                self.app.client.chat_postMessage,
                channel=channel,
                thread_ts=thread,
                text=(
                    f"📣 <@{user}> published render `{render_id}` as `{variant_id}` from "
                    f"{publication.published_at:%Y-%m-%d %H:%M} UTC: the next window reviews "
                    "measure whether the change worked."
                ),
            )

    def on_choose(self, ack: Ack) -> None:
        """Picking an alternative on a card: nothing to do until Approve (it reads the pick)."""
        ack()

    def on_decide_click(self, ack: Ack, body: dict[str, Any]) -> None:
        """Approve: decide as the clicking user, bound to the shown content hash and to the
        alternatives selected on the card."""
        ack()
        action = (body.get("actions") or [{}])[0]
        proposal_id = str(action.get("value", ""))
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        bound = parse_decide_block_id(str(action.get("block_id", "")))
        log.info("slack approve on %s by %s", proposal_id, user)
        if bound is None or bound[0] != proposal_id:
            self.app.workers.submit(
                self._ephemeral,
                channel,
                user,
                "This button is not bound to a proposal version; use the newest post of it. "
                "Nothing changed.",
            )
            return
        self.app.workers.submit(
            self._approve_with_picks,
            proposal_id=proposal_id,
            user=user,
            channel=channel,
            shown_hash=bound[1],
            state=body.get("state"),
        )

    def _approve_with_picks(
        self,
        *,
        proposal_id: str,
        user: str,
        channel: str,
        shown_hash: str,
        state: dict[str, Any] | None,
    ) -> None:
        picks = None
        try:
            p = get_proposal(self.settings, proposal_id)
            if p.get("choices"):
                picks = picks_from_state(proposal_diff(self.settings, p), state)
        except InputError as exc:
            self._ephemeral(channel, user, str(exc))
            return
        self._decide(
            proposal_id=proposal_id,
            user=user,
            channel=channel,
            approve=True,
            shown_hash=shown_hash,
            chosen=picks,
        )

    def _decide(
        self,
        *,
        proposal_id: str,
        user: str,
        channel: str,
        approve: bool,
        shown_hash: str,
        note: str = "",
        edited_changes: list[dict[str, Any]] | None = None,
        chosen: list[int | None] | None = None,
    ) -> None:

        try:
            result = decide_and_resume(
                self.settings,
                proposal_id,
                actor=user,
                approve=approve,
                note=note,
                shown_hash=shown_hash,
                edited_changes=edited_changes,
                agents=self.app.review_agents,
                chosen=chosen,
            )
            if result.render_refused:
                self._ephemeral(
                    channel,
                    user,
                    f"Approved and applied as brief version {result.applied_version}, but no "
                    f"render was queued: {result.render_refused}",
                )
        except NotAnApprover:
            self._ephemeral(
                channel,
                user,
                "Only approvers can decide proposals of this series, and you are not on the "
                "list. Nothing changed. (Approvers: WRITERS_ROOM_APPROVERS and the series' "
                "own list.)",
            )
            return
        except AlreadyDecided as exc:
            when = exc.decided_at.strftime("%Y-%m-%d %H:%M UTC") if exc.decided_at else "earlier"
            self._ephemeral(
                channel,
                user,
                f"Already decided by {bk.mention(exc.decided_by)} at {when}; nothing changed.",
            )
        except LeaseBusy:
            # The decision row is written; the process driving the review resumes it.
            self._ephemeral(channel, user, "Decision recorded; the review continues elsewhere.")
        except (GuardrailRefusal, InputError) as exc:
            self._ephemeral(channel, user, f"Nothing changed: {exc}")
        self.app.poster.refresh_proposal(proposal_id)

    def _ephemeral(self, channel: str, user: str, text: str) -> None:
        try:
            self.app.client.chat_postEphemeral(channel=channel, user=user, text=text)
        except SlackApiError as exc:
            log.warning("ephemeral reply failed: %s", slack_error(exc))

    # -- modals ----------------------------------------------------------------------

    def _modal_target(
        self, body: dict[str, Any], verb: str
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The proposal a modal button is for, and the modal's metadata — or ``None`` after
        telling the user why not (not an approver, decided, changed since posted)."""
        action = (body.get("actions") or [{}])[0]
        proposal_id = str(action.get("value", ""))
        user = str((body.get("user") or {}).get("id", ""))
        channel = str((body.get("channel") or {}).get("id", ""))
        bound = parse_decide_block_id(str(action.get("block_id", "")))
        try:
            p = get_proposal(self.settings, proposal_id)
        except InputError as exc:
            self.app.workers.submit(self._ephemeral, channel, user, str(exc))
            return None
        with session_scope(self.settings) as session:
            allowed = is_approver(self.settings, session, p["series_id"], user)
        problem = None
        if not allowed:
            problem = f"Only approvers can {verb} proposals of this series. Nothing changed."
        elif p["status"] != "pending":
            problem = f"Already {p['status']} by {bk.mention(p['decided_by'])}; nothing changed."
        elif bound is None or bound != (proposal_id, p["content_hash"]):
            problem = "This proposal changed since it was posted; nothing changed."
            self.app.workers.submit(self.app.poster.refresh_proposal, proposal_id)
        if problem:
            self.app.workers.submit(self._ephemeral, channel, user, problem)
            return None
        meta = {
            "proposal_id": proposal_id,
            "content_hash": p["content_hash"],
            "channel": channel,
            "ts": str((body.get("container") or {}).get("message_ts", "")),
        }
        return p, meta

    def _open(self, client: WebClient, body: dict[str, Any], view: dict[str, Any]) -> None:
        try:
            client.views_open(trigger_id=str(body.get("trigger_id", "")), view=view)
        except SlackApiError as exc:
            log.warning("could not open a modal: %s", slack_error(exc))

    def on_edit_click(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Edit…: open the form at once (trigger ids expire in 3 s) — approvers only."""
        ack()
        target = self._modal_target(body, "edit")
        if target is None:
            return
        p, meta = target
        diff = proposal_diff(self.settings, p)
        picks = picks_from_state(diff, body.get("state"))
        meta["picks"] = picks
        self._open(
            client, body, edit_modal(p, diff, private_metadata=json.dumps(meta), picks=picks)
        )

    def on_edit_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The form's submit: validate, close it, then record the edit and the approval."""

        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            p = get_proposal(self.settings, str(meta["proposal_id"]))
        except (ValueError, KeyError, InputError):
            ack()  # a modal we did not build, or a proposal that is gone: just close it
            return
        values = ((view.get("state") or {}).get("values")) or {}
        diff = proposal_diff(self.settings, p)
        shown_picks = meta.get("picks") if isinstance(meta.get("picks"), list) else None
        edits, picks, note, errors = parse_edit_submission(p, diff, values, picks=shown_picks)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        changes = None
        if edits:
            brief, manifest = base_documents(self.settings, p)
            changes = edited_changes(brief, manifest, p["changes"], edits)
        user = str((body.get("user") or {}).get("id", ""))
        log.info("slack edit of %s by %s", p["proposal_id"], user)
        self.app.workers.submit(
            self._decide,
            proposal_id=p["proposal_id"],
            user=user,
            channel=str(meta.get("channel", "")),
            approve=True,
            shown_hash=str(meta.get("content_hash", "")),
            note=note,
            edited_changes=changes,
            chosen=picks if p.get("choices") else None,
        )

    def on_reject_click(self, ack: Ack, body: dict[str, Any], client: WebClient) -> None:
        """Reject…: a form asks why (a rejection needs a reason) — approvers only."""
        ack()
        target = self._modal_target(body, "reject")
        if target is None:
            return
        p, meta = target
        self._open(client, body, reject_modal(p, private_metadata=json.dumps(meta)))

    def on_reject_submit(self, ack: Ack, body: dict[str, Any], view: dict[str, Any]) -> None:
        """The reject form's submit: a reason is required; then the rejection is recorded."""
        try:
            meta = json.loads(view.get("private_metadata") or "{}")
            proposal_id = str(meta["proposal_id"])
        except (ValueError, KeyError):
            ack()
            return
        values = ((view.get("state") or {}).get("values")) or {}
        reason, errors = parse_reject_submission(values)
        if errors:
            ack(response_action="errors", errors=errors)
            return
        ack()
        user = str((body.get("user") or {}).get("id", ""))
        log.info("slack reject of %s by %s", proposal_id, user)
        self.app.workers.submit(
            self._decide,
            proposal_id=proposal_id,
            user=user,
            channel=str(meta.get("channel", "")),
            approve=False,
            shown_hash=str(meta.get("content_hash", "")),
            note=reason,
        )
