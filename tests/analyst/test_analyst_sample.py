"""The seeded sample room: the analyst finds what the generator planted, and only that."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sample_helpers import SampleRoom
from writers_room.analyst.window import analyse, report_dir
from writers_room.brief.report import AnalystReport

SERIES = ("harbor-hearts", "neon-heist")


@pytest.fixture(scope="module")
def reports(sample_room: SampleRoom) -> dict[tuple[str, str], AnalystReport]:
    """Every series × every window of the sample (no files written)."""
    out = {}
    start = sample_room.bundle.window_start
    for series_id in SERIES:
        for day in range(1, sample_room.bundle.days + 1):
            end = start + timedelta(days=day)
            report = analyse(sample_room.settings, series_id, window_end=end, write=False)
            out[(series_id, end.date().isoformat())] = report
    return out


def test_planted_cases_are_diagnosed_in_every_window(
    sample_room: SampleRoom, reports: dict[tuple[str, str], AnalystReport]
) -> None:
    for (series_id, window), report in reports.items():
        found = {(e.episode_id, f.kind) for e in report.episodes for f in e.findings}
        planted = {(ep, case) for ep, case in sample_room.bundle.planted[series_id].items()}
        assert found == planted, f"{series_id} window ending {window}"


def test_default_window_is_the_last_day(sample_room: SampleRoom) -> None:
    report = analyse(sample_room.settings, "harbor-hearts", write=False)
    last = sample_room.bundle.window_start + timedelta(days=sample_room.bundle.days)
    assert report.window_end == last.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_pacing_cliff_is_mapped_to_the_flashback_shot(
    reports: dict[tuple[str, str], AnalystReport],
) -> None:
    for day in ("2026-11-17", "2026-11-18", "2026-11-19"):
        ep05 = next(e for e in reports[("harbor-hearts", day)].episodes if e.episode_id == "ep05")
        pacing = next(f for f in ep05.findings if f.kind == "pacing")
        # The planted hazard sits on seconds 11-12: the sepia flashback shot s05 (11-17 s).
        assert 11 <= pacing.evidence["cliff_second"] <= 12 and pacing.shot_id == "s05"
        assert pacing.evidence["cliff_drop_pct"] > 15
        assert ep05.cliff is not None and ep05.cliff.shot_id == "s05"
        assert "Three years earlier" in ep05.cliff.caption


def test_findings_carry_numbers_and_comments(
    reports: dict[tuple[str, str], AnalystReport],
) -> None:
    report = reports[("harbor-hearts", "2026-11-19")]
    by_id = {e.episode_id: e for e in report.episodes}
    hook = next(f for f in by_id["ep03"].findings if f.kind == "hook_failure")
    assert hook.evidence["ctr_ratio"] < 0.7 and hook.evidence["retention_8s"] < 0.35
    assert hook.baseline.startswith("cohort: median of ep01, ep02")
    assert hook.quotes and all(q.episode_id == "ep03" for q in hook.quotes)
    assert [q.comment_id for q in hook.quotes] == hook.comment_ids
    resonance = next(f for f in by_id["ep07"].findings if f.kind == "resonance")
    assert resonance.evidence["shares_saves_ratio"] >= 2
    assert resonance.evidence["p_value"] < 0.01


def test_scores_follow_the_planted_problems(
    reports: dict[tuple[str, str], AnalystReport],
) -> None:
    harbor = {e.episode_id: e for e in reports[("harbor-hearts", "2026-11-19")].episodes}
    assert harbor["ep03"].band == "iterate_hook"
    assert harbor["ep03"].score < min(e.score for k, e in harbor.items() if k != "ep03")
    assert harbor["ep07"].band == "double_down"
    neon = {e.episode_id: e for e in reports[("neon-heist", "2026-11-19")].episodes}
    assert neon["ep04"].components.ctr < 10


def test_flags_find_the_bot_burst_the_flood_and_injections(
    sample_room: SampleRoom, reports: dict[tuple[str, str], AnalystReport]
) -> None:
    markers = sample_room.bundle.markers
    neon = reports[("neon-heist", "2026-11-18")]  # the burst is on day 2
    bursts = [f for f in neon.flags if f.kind == "duplicate_burst"]
    assert len(bursts) == 1 and bursts[0].episode_id == "ep01"
    assert set(bursts[0].comment_ids) <= set(markers["bot_burst"])
    assert bursts[0].evidence["seconds"] <= 60
    # Burst comments are no theme.
    themed = {cid for t in neon.themes for cid in t.examples}
    assert not themed & set(markers["bot_burst"])

    harbor = reports[("harbor-hearts", "2026-11-19")]
    floods = [f for f in harbor.flags if f.kind == "author_flood"]
    assert {f.episode_id for f in floods} == {"ep06"}
    assert {cid for f in floods for cid in f.comment_ids} <= set(markers["vocal_minority"])
    injections = {
        cid for r in reports.values() for f in r.flags if f.kind == "prompt_injection"
        for cid in f.comment_ids
    }  # fmt: skip
    assert injections and injections <= set(markers["injection"])
    quoted = {
        q.comment_id
        for r in reports.values()
        for e in r.episodes
        for f in e.findings
        for q in f.quotes
    }
    assert not quoted & (set(markers["injection"]) | set(markers["bot_burst"]))


def test_vocal_minority_is_loud_but_not_first_by_authors(
    reports: dict[tuple[str, str], AnalystReport],
) -> None:
    report = reports[("harbor-hearts", "2026-11-19")]
    declan = next(t for t in report.themes if "declan" in t.label.lower() and t.flagged_comments)
    assert declan.rank_by_volume < declan.rank_by_authors
    assert declan.comments > 3 * declan.distinct_authors
    assert report.themes_by_authors[0] != declan.theme_id
    assert report.themes == sorted(report.themes, key=lambda t: t.rank_by_authors)


def test_comment_intelligence_reads_questions_and_characters(
    reports: dict[tuple[str, str], AnalystReport],
) -> None:
    report = reports[("harbor-hearts", "2026-11-19")]
    names = {c.name: c for c in report.characters}
    assert names["Theo Vance"].comments > names["Bea Hollis"].comments > 0
    voices = [e.audience for e in report.episodes if e.audience is not None]
    assert sum(v.questions for v in voices) > 0 and sum(v.predictions for v in voices) > 0
    assert all(0 <= v.engaged_author_share <= 1 for v in voices)
    scope = report.comment_scope
    assert scope.comments > scope.themed > 0 and scope.missing_vectors == 0
    assert not scope.sampled


def test_segments_partition_the_audience(sample_room: SampleRoom) -> None:
    end = datetime(2026, 11, 19, tzinfo=UTC)
    whole = analyse(sample_room.settings, "harbor-hearts", window_end=end, write=False)
    new = analyse(
        sample_room.settings, "harbor-hearts", window_end=end, write=False,
        segment={"returning": False},
    )  # fmt: skip
    back = analyse(
        sample_room.settings, "harbor-hearts", window_end=end, write=False,
        segment={"returning": True},
    )  # fmt: skip
    assert new.segment == {"returning": False} and back.segment == {"returning": True}
    for e_all, e_new, e_back in zip(whole.episodes, new.episodes, back.episodes, strict=True):
        for key in ("impressions", "clicks", "starts", "completions", "shares", "comments"):
            parts = getattr(e_new.metrics, key) + getattr(e_back.metrics, key)
            assert parts == getattr(e_all.metrics, key), (e_all.episode_id, key)


def test_platform_segment_filters_comments_too(sample_room: SampleRoom) -> None:
    end = datetime(2026, 11, 19, tzinfo=UTC)
    tiktok = analyse(
        sample_room.settings, "harbor-hearts", window_end=end, segment={"platform": "tiktok"}
    )
    whole = analyse(sample_room.settings, "harbor-hearts", window_end=end, write=False)
    assert 0 < tiktok.comment_scope.comments < whole.comment_scope.comments
    assert report_dir(sample_room.settings, tiktok).name == "segment-platform-tiktok"
    assert (report_dir(sample_room.settings, tiktok) / "report.json").is_file()


def test_sample_report_files_are_byte_identical(sample_room: SampleRoom) -> None:
    first = analyse(sample_room.settings, "neon-heist")
    folder = report_dir(sample_room.settings, first)
    files = {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()}
    assert {"report.json", "report.html", "scorecard.png", "themes.png"} <= set(files)
    analyse(sample_room.settings, "neon-heist")
    assert {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file()} == files
