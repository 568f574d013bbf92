"""Did the change work: a difference in differences per published change (docs/METHOD.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import numpy as np
from rich.console import Console
from sqlmodel import select

from writers_room.analyst.metrics import WindowRow
from writers_room.analyst.outcomes import Change, outcomes_of
from writers_room.analyst.output import render_report_text, report_dir
from writers_room.analyst.window import analyse
from writers_room.config import Settings
from writers_room.guardrails.iteration_limit import blocked_reason, record_human_input
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.models import Outcome, Proposal, Publication
from writers_room.writer.context import build_contexts

HEADER = (
    "series_id,episode_id,variant_id,window_start,window_hours,impressions,clicks,views,"
    "completions,shares,saves,comments,follows,conversions,revenue,avg_view_s,retention"
)
DAY0 = datetime(2026, 11, 10, tzinfo=UTC)
PUBLISHED = DAY0 + timedelta(days=3)  # three whole windows before, three after
END = DAY0 + timedelta(days=6)
EPISODES = ("e1", "e2", "e3", "e4")


def synthetic(
    *,
    lift: float,
    feed_shift: float = 0.05,
    views: int = 3000,
    views_after: int | None = None,
    seed: int = 7,
) -> list[tuple[str, str, datetime, int, int]]:
    """(episode, variant, window_start, starters, completions) drawn per day: every
    episode completes at 35 %, the whole feed moves by ``feed_shift`` after publication
    (a good week), and e1's published variant by ``lift`` more."""
    rng = np.random.default_rng(seed)
    out = []
    for day in range(6):
        start = DAY0 + timedelta(days=day)
        for episode in EPISODES:
            p = 0.35 + (feed_shift if start >= PUBLISHED else 0.0)
            if episode == "e1" and start >= PUBLISHED:
                p += lift
            n = views_after if views_after is not None and start >= PUBLISHED else views
            out.append((episode, "v1-thumb", start, n, int(rng.binomial(n, p))))
    return out


def curve(completion: float) -> list[float]:
    """A 21-point retention curve (percent): 50 % at 10 s, ``completion`` at the end."""
    return [
        round(100 - 5 * s if s <= 10 else 50 - (50 - completion) * (s - 10) / 10, 3)
        for s in range(21)
    ]


def as_rows(cells: list[tuple[str, str, datetime, int, int]]) -> list[WindowRow]:
    return [
        WindowRow(
            episode_id=e, variant_id=v, window_start=ws, impressions=10 * n, clicks=n,
            views=n, completions=c, retention=tuple(curve(100 * c / n)),
        )
        for e, v, ws, n, c in cells
    ]  # fmt: skip


def change(kind: str = "pacing_cut") -> Change:
    return Change("p-cut", "e1", "v1-thumb", "r-1", kind, "pacing", PUBLISHED)


def test_an_improvement_is_detected_as_improved() -> None:
    (result,) = outcomes_of([change()], as_rows(synthetic(lift=0.08)), END)
    assert result.verdict == "improved" and result.label == "improved"
    assert result.metric == "completion"
    assert result.ci_low is not None and result.ci_low > 0
    assert abs((result.effect or 0) - 0.08) < 0.03
    assert result.windows_before == 3 and result.windows_after == 3
    assert result.cohort == ["e2", "e3", "e4"]
    assert "completion +" in result.summary


def test_a_null_change_in_a_good_week_is_no_change() -> None:
    """The whole feed rose 5 pp: a plain before/after would credit the change; the
    cohort takes the week out."""
    (result,) = outcomes_of([change()], as_rows(synthetic(lift=0.0)), END)
    assert (result.after or 0) - (result.before or 0) > 0.03  # naive before/after
    assert result.verdict == "no_change" and result.label == "no change"
    assert result.ci_low is not None and result.ci_high is not None
    assert result.ci_low < 0 < result.ci_high


def test_a_harmful_change_is_worse() -> None:
    (result,) = outcomes_of([change()], as_rows(synthetic(lift=-0.08)), END)
    assert result.verdict == "worse"


def test_too_little_traffic_is_too_early_with_the_shortfall() -> None:
    cells = synthetic(lift=0.08, views_after=100)
    (result,) = outcomes_of([change()], as_rows(cells), END)
    assert result.verdict == "too_early"
    # 3 windows × 100 starters after publication: 100 short of 400 for e1's variant
    assert result.more_needed == 100
    assert result.label == "too early: 100 more starters needed"
    early = outcomes_of([change()], as_rows(synthetic(lift=0.08, views=40)), END)
    assert early[0].label == "too early: only 120 starters before publication"


def test_kind_picks_the_metric_and_untargeted_kinds_are_skipped() -> None:
    rows = as_rows(synthetic(lift=0.0))
    got = outcomes_of([change("packaging"), change("note_followup")], rows, END)
    assert [o.metric for o in got] == ["ctr"]
    assert outcomes_of([change()], rows, PUBLISHED) == []  # not published yet at that window


def _metrics_file(path: Path, lift: float) -> Path:
    lines = [HEADER]
    for e, v, ws, n, c in synthetic(lift=lift):
        retention = json.dumps(curve(100 * c / n)).replace('"', '""')
        day = ws.strftime("%Y-%m-%dT%H:%M:%SZ")
        lines.append(f'gold,{e},{v},{day},24,{10 * n},{n},{n},{c},0,0,0,0,0,0.0,9.0,"{retention}"')
    path.write_text("\n".join(lines) + "\n")
    return path


def _published_room(settings: Settings, tmp_path: Path, gold_series: Path, lift: float) -> None:
    add_series_file(settings, gold_series)
    ingest_metrics(settings, _metrics_file(tmp_path / "m.csv", lift))
    with session_scope(settings) as session:
        session.add(
            Proposal(
                proposal_id="p-cut", series_id="gold", episode_id="e1", status="applied",
                kind="pacing_cut", summary="Trim the recap.", content_hash="h",
                evidence={"findings": ["pacing"]},
            )
        )  # fmt: skip
        session.add(
            Publication(
                render_id="r-1", series_id="gold", episode_id="e1", variant_id="v1-thumb",
                brief_version=2, proposal_id="p-cut", published_at=PUBLISHED,
                published_by="U0SHOW",
            )
        )  # fmt: skip


def test_the_window_review_reports_and_stores_the_outcome(
    settings: Settings, tmp_path: Path, gold_series: Path
) -> None:
    _published_room(settings, tmp_path, gold_series, lift=0.08)
    report = analyse(settings, "gold", window_end=END, write=True)
    (outcome,) = report.outcomes
    assert outcome.verdict == "improved" and outcome.proposal_id == "p-cut"
    data = json.loads((report_dir(settings, report) / "report.json").read_text())
    assert data["outcomes"][0]["verdict"] == "improved"
    assert data["outcomes"][0]["finding"] == "pacing"
    html = (report_dir(settings, report) / "report.html").read_text()
    assert "Did the published changes work" in html and "p-cut (pacing_cut)" in html
    console = Console(width=200, record=True)
    console.print(render_report_text(report))
    assert "Did the published changes work" in console.export_text()
    analyse(settings, "gold", window_end=END, write=True)  # again: still one row
    with session_scope(settings) as session:
        (row,) = session.exec(select(Outcome)).all()
        assert (row.proposal_id, row.verdict, row.metric) == ("p-cut", "improved", "completion")
        assert row.window_end == END
        assert blocked_reason(session, "gold", "e1") is None
        # The writer's context for any episode of the series carries the verdict.
        ctx, _guard = build_contexts(settings, session, "gold", "e2", report)
    (past,) = ctx.past_outcomes
    assert (past.kind, past.verdict, past.finding) == ("pacing_cut", "improved", "pacing")
    assert "completion +" in past.summary


def test_a_change_that_did_not_work_stops_the_blind_iterations(
    settings: Settings, tmp_path: Path, gold_series: Path
) -> None:
    _published_room(settings, tmp_path, gold_series, lift=0.0)
    analyse(settings, "gold", window_end=END, write=True)
    with session_scope(settings) as session:
        reason = blocked_reason(session, "gold", "e1")
    assert reason is not None
    assert "p-cut" in reason and "no change" in reason and "completion" in reason
    with session_scope(settings) as session:
        record_human_input(
            session, series_id="gold", episode_id="e1", author="ana", text="Try a cold open."
        )
    with session_scope(settings) as session:
        assert blocked_reason(session, "gold", "e1") is None  # a human answered


def test_a_change_live_as_several_variants_is_measured_over_all_of_them() -> None:
    cells = synthetic(lift=0.08)
    cells += [(e, "v2-title", ws, n, c) for e, _v, ws, n, c in synthetic(lift=0.08, seed=8)]
    both = Change("p-cut", "e1", "v1-thumb", "r-1", "pacing_cut", "pacing", PUBLISHED,
                  variant_ids=("v1-thumb", "v2-title"))  # fmt: skip
    (result,) = outcomes_of([both], as_rows(cells), END)
    assert result.variant_id == "v1-thumb,v2-title"
    assert result.counts["treated_after"] == 2 * 3 * 3000
    assert result.verdict == "improved"
