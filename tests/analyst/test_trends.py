"""Trends over 24 h, 72 h and 7 d, the series funnel, and price complaints."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from writers_room.analyst import comments as cm
from writers_room.analyst.funnel import PAYWALL_NOTE, series_funnels
from writers_room.analyst.metrics import WindowRow
from writers_room.analyst.money import PRICE, price_mask
from writers_room.analyst.trends import span_label, trends
from writers_room.config import Settings

END = datetime(2026, 11, 20, tzinfo=UTC)
DAY = timedelta(days=1)


def row(day: int, views: int, r10: float, clicks: int = 50) -> WindowRow:
    """A window ``day`` days before END: 1000 impressions, ``views`` starters."""
    curve = tuple([100.0] + [100 - (100 - r10) * s / 10 for s in range(1, 11)] + [r10 / 2])
    return WindowRow(
        episode_id="e1",
        variant_id="v1",
        window_start=END - day * DAY,
        impressions=1000,
        clicks=clicks,
        views=views,
        completions=views // 3,
        conversions=views // 100,
        retention=curve,
    )


def test_spans_say_which_window_they_cover() -> None:
    assert span_label(1, END) == "24 h to 2026-11-20 00:00 UTC"
    assert span_label(3, END, 3) == "3 days to 2026-11-20 00:00 UTC"
    assert (
        span_label(7, END, 3) == "7 days to 2026-11-20 00:00 UTC (3 of 7 daily windows with data)"
    )


def test_each_span_is_compared_with_the_span_before_it() -> None:
    # Four days: the last has 40 % at 10 s, the three before 50 %.
    by_window = {r.window_start: [r] for r in (row(1, 200, 40), row(2, 100, 50), row(3, 100, 50),
                                               row(4, 100, 50))}  # fmt: skip
    t = trends(by_window, END)
    day = t["24h"]
    assert day.current.label == "24 h to 2026-11-20 00:00 UTC"
    assert day.previous.label == "24 h to 2026-11-19 00:00 UTC"
    assert day.current.metrics is not None and day.current.metrics.retention_10s == pytest.approx(
        0.4
    )
    assert day.deltas["retention_10s"] == pytest.approx(-0.1)
    assert day.deltas["starts"] == 100
    assert "200 starters (+100%)" in day.sentences[0]
    assert "10-s retention 40% (-10.0 pts)" in day.sentences[0]
    # 72 h: days 1-3 against day 4 alone (1 of 3 windows).
    three = t["72h"]
    assert (three.current.windows, three.previous.windows) == (3, 1)
    assert three.current.metrics.starts == 400  # type: ignore[union-attr]
    assert "(1 of 3 daily windows with data)" in three.previous.label
    # 7 d: nothing before it, so no deltas and a sentence that says so.
    week = t["7d"]
    assert week.previous.metrics is None and week.deltas == {}
    assert "no earlier 7d to compare with" in week.sentences[0]


@pytest.mark.parametrize(
    ("text", "price"),
    [
        ("the coin prices went up again??", True),
        ("why do I need coins for the next episode", True),
        ("paying per episode is a scam", True),
        ("I'd pay for the whole season if it was one price", True),
        ("the paywall after ep3 is brutal", True),
        ("so Theo was paying all along", False),
        ("why is Theo paying the debts, what is he hiding", False),
        ("Mara and Theo are endgame", False),
    ],
)
def test_price_talk_is_recognised(text: str, price: bool) -> None:
    assert bool(PRICE.search(text)) is price


def test_price_mask_reads_each_distinct_text_once() -> None:
    table = cm.CommentTable(
        ["c1", "c2", "c3", "c4"],
        ["e1", "e1", "e2", "e2"],
        ["a", "b", "a", "c"],
        ["coins again??", "love it", "coins again??", "too expensive"],
        [1.0, 2.0, 3.0, 4.0],
        [0, 0, 0, 0],
    )
    mask = price_mask(table, cm.np.ones(4, dtype=bool))
    assert mask.tolist() == [True, False, True, True]
    assert table.distinct_authors(mask) == 2


EVENTS_HEADER = "ts,series_id,episode_id,variant_id,viewer_id,type"


def test_the_funnel_counts_viewers_who_start_the_next_episode(
    gold_room: Settings, tmp_path: Path
) -> None:
    from writers_room.ingest.events import ingest_events

    plays = [
        # v1 watches e1 then e2 then e3; v2 stops after e1; v3 saw e2 *before* e1 (no
        # continuation); v4 watched e1 on day 1 and e2 on day 2 (only the 72 h span sees
        # both).
        ("2026-11-17T10:00:00Z", "e1", "v1"), ("2026-11-17T11:00:00Z", "e2", "v1"),
        ("2026-11-17T12:00:00Z", "e3", "v1"), ("2026-11-17T10:00:00Z", "e1", "v2"),
        ("2026-11-17T09:00:00Z", "e2", "v3"), ("2026-11-17T10:00:00Z", "e1", "v3"),
        ("2026-11-16T10:00:00Z", "e1", "v4"), ("2026-11-17T10:00:00Z", "e2", "v4"),
    ]  # fmt: skip
    path = tmp_path / "events.csv"
    path.write_text(
        EVENTS_HEADER
        + "\n"
        + "".join(f"{ts},gold,{ep},v1-thumb,{viewer},play\n" for ts, ep, viewer in plays)
    )
    ingest_events(gold_room, path)
    end = datetime(2026, 11, 18, tzinfo=UTC)
    funnels, note = series_funnels(gold_room, "gold", ["e1", "e2", "e3", "e4"], end)
    assert note == "" and [f.span for f in funnels] == ["24h", "72h", "7d"]
    day, three = funnels[0], funnels[1]
    assert day.label == "24 h to 2026-11-18 00:00 UTC"
    first = day.steps[0]
    assert (first.from_episode, first.to_episode) == ("e1", "e2")
    # Day 2: e1 started by v1, v2, v3 (v4 started it the day before); only v1 went on.
    assert (first.viewers, first.continued) == (3, 1)
    # 72 h: v4's e1 counts too, and v4 went on to e2.
    assert (three.steps[0].viewers, three.steps[0].continued) == (4, 2)
    assert (day.steps[1].viewers, day.steps[1].continued) == (3, 1)  # v1, v3, v4; v1 on
    # Too few viewers to name the step where the series loses most.
    assert day.weakest is None and "fewer than 50 viewers" in day.sentence
    # Without raw events there is nothing to follow viewers by.
    assert series_funnels(gold_room, "nope", ["a", "b"], end)[0] == []
    assert "paywall drop-off not measured" in PAYWALL_NOTE and "purchase" in PAYWALL_NOTE
    json.dumps([f.model_dump() for f in funnels])  # serialisable


def test_ingest_totals_say_which_window_they_cover(gold_room: Settings) -> None:
    from writers_room.store.status import episode_summaries, room_status, window_span

    assert window_span([]) == ("", "", "")
    assert window_span([END - DAY])[2] == "24 h to 2026-11-20 00:00 UTC"
    assert window_span([END - 3 * DAY, END - DAY])[2] == (
        "3 days to 2026-11-20 00:00 UTC (2 daily windows with data)"
    )
    rows = {e.episode_id: e for e in episode_summaries(gold_room, "gold")}
    # e1 and e4 have two days of data, e2 and e3 one: the ingest table's figures cover
    # those spans, the review's the last 24 hours, and each table says so.
    assert rows["e1"].window_label == "2 days to 2026-11-18 00:00 UTC"
    assert rows["e2"].window_label == "24 h to 2026-11-17 00:00 UTC"
    assert rows["e1"].window_end == "2026-11-18T00:00:00+00:00"
    (status,) = room_status(gold_room, "gold")
    assert status.window_label == "2 days to 2026-11-18 00:00 UTC"
