"""The series funnel: viewers of episode N who go on to start episode N+1.

A serial lives on its viewers coming back for the next part, and where they stop coming
is where the series loses its audience. This needs viewer ids, so it is computed from the
raw events (Parquet): for each span (24 h, 72 h, 7 d ending at the reviewed window's
end) and each pair of consecutive episodes, the distinct viewers who started N in the
span, and how many of them started N+1 later in the same span. The step that keeps the
smallest share is where the series loses most.

Paywall drop-off (starters of N+1 lost after a purchase prompt) would need a prompt
event; the event types (:data:`~writers_room.ingest.events.schema.EVENT_TYPES`) have
none, so the report says it is not measured rather than guessing it from purchases.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from writers_room.analyst.evidence import count, pct
from writers_room.analyst.metrics import DAY
from writers_room.analyst.trends import SPANS, span_label
from writers_room.brief.report import Funnel, FunnelStep
from writers_room.config import Settings
from writers_room.ingest.events.schema import EVENT_TYPES
from writers_room.store.events import connect, event_files, parquet_source

__all__ = [
    "MIN_FUNNEL_VIEWERS",
    "PAYWALL_NOTE",
    "PROMPT_EVENT",
    "FunnelJob",
    "series_funnels",
]

# A step is a candidate for "where the series loses most" only with this many viewers.
MIN_FUNNEL_VIEWERS = 50
PROMPT_EVENT = "purchase_prompt"
PAYWALL_NOTE = (
    "paywall drop-off not measured: the events carry no purchase prompt "
    f"(event types: {', '.join(EVENT_TYPES)})"
)


def paywall_measurable() -> bool:
    """Whether the event types include a purchase prompt to measure drop-off after."""
    return PROMPT_EVENT in EVENT_TYPES


def _days(start: datetime, end: datetime) -> list[str]:
    day = (start - DAY).date()
    out = []
    while day <= end.date():
        out.append(day.isoformat())
        day += timedelta(days=1)
    return out


def _query(
    settings: Settings,
    files: list[str],
    pairs: Sequence[tuple[str, str]],
    end: datetime,
    segment: Mapping[str, str | bool] | None,
) -> list[tuple[Any, ...]]:
    bounds = [end - days * DAY for _, days in SPANS]
    # Per viewer and episode: the first start inside each span, and the last start of all.
    # Every span ends at `end`, so a next-episode start after the first start of N in a
    # span lies in that span too: one max serves them all.
    per_span = ", ".join(f"min(ts) FILTER (ts >= ${i + 1}) AS f{i}" for i in range(len(SPANS)))
    counts = ", ".join(
        f"count(a.f{i}), count(*) FILTER (b.last > a.f{i})" for i in range(len(SPANS))
    )
    params: list[Any] = [*bounds, min(bounds), end]
    where = f"type = 'play' AND ts >= ${len(bounds) + 1} AND ts < ${len(bounds) + 2}"
    for key, value in sorted((segment or {}).items()):
        params.append(value)
        where += f' AND "{key}" = ${len(params)}'
    con = connect(settings)
    try:
        con.execute("CREATE TABLE nxt (episode_id VARCHAR, next_id VARCHAR)")
        con.executemany("INSERT INTO nxt VALUES (?, ?)", list(pairs))
        return con.execute(
            f"""
            WITH firsts AS (
                SELECT viewer_id, episode_id, {per_span}, max(ts) AS last
                FROM {parquet_source(files)} WHERE {where}
                GROUP BY viewer_id, episode_id
            )
            SELECT a.episode_id, {counts}
            FROM firsts a JOIN nxt n ON n.episode_id = a.episode_id
            LEFT JOIN firsts b ON b.viewer_id = a.viewer_id AND b.episode_id = n.next_id
            GROUP BY a.episode_id
            """,
            params,
        ).fetchall()
    finally:
        con.close()


def _funnel(name: str, days: int, end: datetime, steps: list[FunnelStep]) -> Funnel:
    label = span_label(days, end)
    judged = [s for s in steps if s.viewers >= MIN_FUNNEL_VIEWERS]
    if not judged:
        return Funnel(
            span=name,
            label=label,
            steps=steps,
            sentence=f"{label}: fewer than {MIN_FUNNEL_VIEWERS} viewers on every step.",
        )
    weakest = min(judged, key=lambda s: (s.rate, s.from_episode))
    return Funnel(
        span=name,
        label=label,
        steps=steps,
        weakest=weakest.from_episode,
        sentence=(
            f"{label}: the series loses most after {weakest.from_episode} — "
            f"{pct(weakest.rate, 0)} of its {count(weakest.viewers)} viewers started "
            f"{weakest.to_episode}"
        )
        + (f" (best step: {pct(max(s.rate for s in judged), 0)})." if len(judged) > 1 else "."),
    )


def series_funnels(
    settings: Settings,
    series_id: str,
    order: Sequence[str],
    end: datetime,
    segment: Mapping[str, str | bool] | None = None,
) -> tuple[list[Funnel], str]:
    """The funnel per span of :data:`SPANS`, and a note when there is none.

    Args:
        order: The series' episode ids in viewing order.
        end: End of the reviewed window; each span ends here.
        segment: Only the events of this audience segment.
    """
    pairs = list(zip(order, order[1:], strict=False))
    if not pairs:
        return [], "a single episode: no funnel"
    longest = max(days for _, days in SPANS)
    files = event_files(settings, series_id, _days(end - longest * DAY, end))
    if not files:
        return [], "no raw events: platform exports carry no viewer ids, so no funnel"
    rows = {r[0]: r[1:] for r in _query(settings, files, pairs, end, segment)}
    funnels = []
    for i, (name, days) in enumerate(SPANS):
        steps = []
        for a, b in pairs:
            counts = rows.get(a)
            viewers, continued = (int(counts[2 * i]), int(counts[2 * i + 1])) if counts else (0, 0)
            steps.append(
                FunnelStep(
                    from_episode=a,
                    to_episode=b,
                    viewers=viewers,
                    continued=continued,
                    rate=continued / viewers if viewers else 0.0,
                )
            )
        funnels.append(_funnel(name, days, end, steps))
    return funnels, ""


class FunnelJob:
    """:func:`series_funnels` on a background thread.

    The funnel is a DuckDB query over the raw events, which runs outside the GIL; started
    first, it overlaps the comment intelligence, which is mostly Python.
    """

    def __init__(
        self,
        settings: Settings,
        series_id: str,
        order: Sequence[str],
        end: datetime,
        segment: Mapping[str, str | bool] | None = None,
    ) -> None:
        self._out: list[tuple[list[Funnel], str]] = []
        self._error: list[BaseException] = []
        self._thread = threading.Thread(
            target=self._run,
            args=(settings, series_id, list(order), end, segment),
            name="analyst-funnel",
            daemon=True,
        )
        self._thread.start()

    def _run(self, *args: Any) -> None:
        try:
            self._out.append(series_funnels(*args))
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller's thread
            self._error.append(exc)

    def result(self) -> tuple[list[Funnel], str]:
        """The funnels and the note (waits for the query)."""
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._out[0]
