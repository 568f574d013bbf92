"""The 24-hour scheduler: review each series once per closed window, and post it once.

``serve`` runs an APScheduler ``BackgroundScheduler`` with one daily job at
``WRITERS_ROOM_WINDOW_HOUR`` UTC plus :data:`DELAY_MINUTES` (late platform exports get a
little time to land), and a catch-up job at start-up. Each run looks at every series'
newest closed window with data:

* ``start_review`` is exactly-once per (series, window) through the unique window-run
  row, however many ``serve`` processes run it;
* the post is exactly-once through an audit marker claimed before posting
  (``ReviewPoster.post_review``);
* a review another process is still driving (its lease is held) is left to that process.

Catch-up reviews only the newest closed window of each series: when the bot was down
for several days, the older windows are covered by the newest report's 72-hour and
7-day spans, and proposals written for stale windows would conflict with each other.
Start-up also re-posts pending proposals (a crash or restart loses no approval).

Approvals queue render jobs; a third job runs queued renders every
:data:`RENDER_EVERY_S` seconds (``tools.render.run_render`` lets exactly one process take
each job) and hands each finished job to ``on_render`` (the Slack post with the result).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.graphs.chat.answers import series_ids
from writers_room.graphs.window_review.run import start_review
from writers_room.jobs.render import requeue_stale_renders, run_render
from writers_room.store.db import session_scope
from writers_room.store.models import RenderJob
from writers_room.store.runs import LeaseBusy, last_closed_window_end

__all__ = ["DELAY_MINUTES", "RENDER_EVERY_S", "WindowScheduler"]

log = logging.getLogger(__name__)

# Minutes after the window boundary before the daily review runs.
DELAY_MINUTES = 10
# Seconds between looks for queued render jobs.
RENDER_EVERY_S = 30

Poster = Callable[[Any], object]


class WindowScheduler:
    """Runs due window reviews and hands each outcome to a poster.

    Args:
        settings: the room.
        poster: called with each ``ReviewOutcome`` (``ReviewPoster.post_review``), or
            ``None`` to only run reviews.
        reposter: called once at start-up to re-post pending approvals
            (``ReviewPoster.repost_pending``).
        agents: agents for ``start_review`` (tests swap scripted ones in).
        delay_minutes: minutes after the window boundary to run.
        renders: also run queued render jobs in this process.
        on_render: called with each render job this process finished (or that failed).
        render_job: runs one queued job by id (default ``tools.render.run_render``).
    """

    def __init__(
        self,
        settings: Settings,
        *,
        poster: Poster | None = None,
        reposter: Callable[[], object] | None = None,
        agents: dict[str, Any] | None = None,
        delay_minutes: int = DELAY_MINUTES,
        renders: bool = True,
        on_render: Callable[[Any], object] | None = None,
        render_job: Callable[[Settings, str], Any] | None = None,
    ) -> None:
        self.settings = settings
        self.poster = poster
        self.reposter = reposter
        self.agents = agents
        self.delay_minutes = delay_minutes
        self.renders = renders
        self.on_render = on_render
        self.render_job = render_job
        self._scheduler: Any = None

    def run_due(self, now: datetime | None = None) -> list[Any]:
        """Review (and post) the newest closed window of every series, where due.

        Returns:
            The ``ReviewOutcome`` of each series that has a closed window with data.
        """

        outcomes = []
        for series_id in series_ids(self.settings):
            window_end = last_closed_window_end(self.settings, series_id, now=now)
            if window_end is None:
                continue
            try:
                outcome = start_review(
                    self.settings, series_id, window_end=window_end, agents=self.agents
                )
            except LeaseBusy:
                log.info("review of %s is being run by another process", series_id)
                continue
            except InputError as exc:
                log.warning("review of %s not run: %s", series_id, exc)
                continue
            except Exception:
                log.exception("review of %s failed", series_id)
                continue
            outcomes.append(outcome)
            if self.poster is not None:
                try:
                    self.poster(outcome)
                except Exception:
                    log.exception("posting the review of %s failed", series_id)
        return outcomes

    def catch_up(self) -> list[Any]:
        """Start-up: run missed reviews, then re-post pending approvals."""
        outcomes = self.run_due()
        reposted: object = None
        if self.reposter is not None:
            try:
                reposted = self.reposter()
            except Exception:
                log.exception("re-posting pending approvals failed")
        log.info(
            "catch-up done: %d review(s) current, %d pending approval(s) re-posted",
            len(outcomes),
            len(reposted) if isinstance(reposted, list) else 0,
        )
        return outcomes

    def run_queued_renders(self) -> list[Any]:
        """Run every queued render job (oldest first); returns the jobs this call finished.

        Jobs left ``running`` by a worker that died are queued again first.
        """
        from sqlmodel import col, select

        render_job: Callable[[Settings, str], Any] = self.render_job or run_render
        requeue_stale_renders(self.settings)
        with session_scope(self.settings) as session:
            queued = list(
                session.exec(
                    select(RenderJob.render_id)
                    .where(RenderJob.status == "queued")
                    .order_by(col(RenderJob.created_at))
                )
            )
        finished = []
        for render_id in queued:
            try:
                job = render_job(self.settings, render_id)
            except Exception:
                log.exception("render %s failed to run", render_id)
                continue
            if job is None or job.status not in ("done", "failed"):
                continue  # another process took it
            finished.append(job)
            if self.on_render is not None:
                try:
                    self.on_render(job)
                except Exception:
                    log.exception("posting render %s failed", render_id)
        return finished

    def start(self, *, catch_up: bool = True) -> None:
        """Start the background scheduler (daily job; catch-up now, in the background)."""
        from apscheduler.schedulers.background import BackgroundScheduler
        from apscheduler.triggers.cron import CronTrigger

        scheduler = BackgroundScheduler(timezone=UTC)
        scheduler.add_job(
            self.run_due,
            CronTrigger(hour=self.settings.window_hour, minute=self.delay_minutes, timezone=UTC),
            id="window-review",
            coalesce=True,
            max_instances=1,
            misfire_grace_time=3600,
        )
        if self.renders:
            scheduler.add_job(
                self.run_queued_renders,
                "interval",
                seconds=RENDER_EVERY_S,
                id="renders",
                coalesce=True,
                max_instances=1,
            )
        if catch_up:
            scheduler.add_job(
                self.catch_up, "date", run_date=datetime.now(UTC), id="catch-up", max_instances=1
            )
        scheduler.start()
        self._scheduler = scheduler
        log.info(
            "window scheduler started: daily at %02d:%02d UTC",
            self.settings.window_hour,
            self.delay_minutes,
        )

    def next_run(self) -> datetime | None:
        """When the daily review runs next (``None`` before :meth:`start`)."""
        if self._scheduler is None:
            return None
        job = self._scheduler.get_job("window-review")
        return job.next_run_time if job else None

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop the scheduler (waiting for a running review by default)."""
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=wait)
            self._scheduler = None
