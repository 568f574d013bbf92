"""The sample generator: deterministic files that load, and planted cases that show."""

from __future__ import annotations

import csv
import gzip
import json
import re
from collections import Counter, defaultdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv
import pytest

from writers_room.brief.bundle import SeriesBundle, load_bundle
from writers_room.ingest.redact import redact
from writers_room.sample.simulator import EVENT_COLUMNS, EVENT_TYPES, METRIC_COLUMNS, generate

SMALL = 0.02
# Large enough for stable per-episode rates (~150 plays per episode), still under a second.
STATS = 0.3

_PII = re.compile(
    r"[\w.+-]+@[\w-]+\.[a-z]{2,}"  # e-mail
    r"|\+1 \(\d{3}\) \d{3}-\d{4}"  # phone
    r"|(?<![\w@])@\w+"  # handle
    r"|<@U[0-9A-Z]+>"  # Slack mention
    r"|https?://\S+\?\S*token="  # tokened URL
)


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("small"), seed=7, scale=SMALL)


@pytest.fixture(scope="module")
def stats(tmp_path_factory: pytest.TempPathFactory) -> Any:
    return generate(tmp_path_factory.mktemp("stats"), seed=7, scale=STATS)


@pytest.fixture(scope="module")
def stats_events(stats: Any) -> pa.Table:
    return pa_csv.read_csv(stats.events)


def _bundles(sample: Any) -> dict[str, SeriesBundle]:
    loaded = (load_bundle(path) for path in sample.series_files)
    return {bundle.series_id: bundle for bundle in loaded}


def _raw_events(path: Path) -> pa.Table:
    """Events as the strings in the file (empty cells as nulls)."""
    return pa_csv.read_csv(
        path,
        convert_options=pa_csv.ConvertOptions(
            column_types={name: pa.string() for name in EVENT_COLUMNS},
            strings_can_be_null=True,
        ),
    )


def _comments(path: Path) -> list[dict[str, Any]]:
    with gzip.open(path, "rt", encoding="utf-8") as handle:
        return [json.loads(line) for line in handle]


def test_same_seed_gives_identical_bytes(small: Any, tmp_path: Path) -> None:
    again = generate(tmp_path / "again", seed=7, scale=SMALL)
    files = [*small.series_files, small.events, small.metrics, small.comments]
    names = sorted(p.name for p in files)
    assert names == sorted(p.name for p in (tmp_path / "again").iterdir())
    for path in files:
        assert path.read_bytes() == (tmp_path / "again" / path.name).read_bytes(), path.name
    assert again.markers == small.markers
    assert again.planted == small.planted

    other = generate(tmp_path / "other", seed=8, scale=SMALL)
    assert other.events.read_bytes() != small.events.read_bytes()
    assert other.comments.read_bytes() != small.comments.read_bytes()


def test_series_files_load_and_follow_the_rules(small: Any) -> None:
    bundles = _bundles(small)
    assert sorted(bundles) == ["harbor-hearts", "neon-heist"]
    assert small.window_start.isoformat() == "2026-11-16T00:00:00+00:00"
    assert small.days == 3
    for bundle in bundles.values():
        names = {c.name for c in bundle.characters}
        assert 4 <= len(names) <= 6
        assert all(c.description for c in bundle.characters)
        assert 3 <= len(bundle.brand.banned_terms) <= 5
        assert bundle.approvers == ["U0SHOWRUN1"]
        assert tuple(bundle.constraints.runtime_s) == (45, 90)
        assert len(bundle.episodes) == 8
        for episode in bundle.episodes:
            assert 2 <= len(episode.variants) <= 3
            assert len(set(episode.variants)) == len(episode.variants)
            assert 8 <= len(episode.shots) <= 14
            assert 4 <= len(episode.brief.beats) <= 6
            assert set(episode.brief.locked_beats) <= set(episode.brief.beats)
            assert len(episode.brief.locked_beats) <= 1
            runtime = episode.manifest(bundle.series_id).runtime_s
            assert 45 <= runtime <= 90
            for shot in episode.shots:
                assert set(shot.characters) <= names, shot.shot_id
                assert shot.keyframe_prompt and shot.camera and shot.framing
                spoken = f"{shot.caption} {shot.dialogue}".lower()
                for term in bundle.brand.banned_terms:
                    assert not re.search(rf"\b{re.escape(term.lower())}\b", spoken), term
    # Planted cases are never the first episode: the analyst needs a baseline before them.
    assert small.planted == {
        "harbor-hearts": {"ep03": "hook_failure", "ep05": "pacing", "ep07": "resonance"},
        "neon-heist": {"ep04": "hook_packaging"},
    }
    pacing = next(e for e in bundles["harbor-hearts"].episodes if e.episode_id == "ep05")
    flashback = pacing.manifest("harbor-hearts").shot_at(12.0)
    assert "earlier" in flashback.caption.lower()


def test_events_have_the_exact_schema(small: Any) -> None:
    with gzip.open(small.events, "rt", encoding="ascii") as handle:
        assert handle.readline().rstrip("\n") == ",".join(EVENT_COLUMNS)
    table = _raw_events(small.events)
    assert table.column_names == list(EVENT_COLUMNS)
    types = table.column("type").to_pylist()
    assert set(types) <= set(EVENT_TYPES)
    assert {"impression", "click", "play", "progress", "complete"} <= set(types)

    ts = table.column("ts").to_pylist()
    assert all(re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", t) for t in ts)
    end = small.window_start + timedelta(days=small.days)
    assert small.window_start.strftime("%Y-%m-%dT%H:%M:%S") <= min(ts)
    assert max(ts) < end.strftime("%Y-%m-%dT%H:%M:%S")
    assert ts == sorted(ts)

    is_progress = np.array(types) == "progress"
    positions = table.column("position_s").to_pylist()
    assert all((p is not None) == flag for p, flag in zip(positions, is_progress, strict=True))
    assert all(float(p) >= 0 for p in positions if p is not None)
    values = table.column("value").to_pylist()
    is_purchase = np.array(types) == "purchase"
    assert all((v is not None) == flag for v, flag in zip(values, is_purchase, strict=True))
    assert {v for v in values if v is not None} <= {"0.99", "1.99", "4.99"}

    assert all(re.fullmatch(r"vw-\d{6,}", v) for v in table.column("viewer_id").to_pylist())
    assert set(table.column("platform").to_pylist()) <= {"tiktok", "reels", "shorts", "app"}
    assert all(re.fullmatch(r"[A-Z]{2}", c) for c in table.column("country").to_pylist())
    assert set(table.column("returning").to_pylist()) == {"true", "false"}

    # Every event names an existing episode and one of its variants.
    known = {
        (b.series_id, e.episode_id, v)
        for b in _bundles(small).values()
        for e in b.episodes
        for v in e.variants
    }
    seen = set(
        zip(
            table.column("series_id").to_pylist(),
            table.column("episode_id").to_pylist(),
            table.column("variant_id").to_pylist(),
            strict=True,
        )
    )
    assert seen <= known
    # One impression per viewer and variant.
    impressions = table.filter(pc.equal(table.column("type"), "impression"))
    pairs = list(
        zip(
            impressions.column("variant_id").to_pylist(),
            impressions.column("episode_id").to_pylist(),
            impressions.column("series_id").to_pylist(),
            impressions.column("viewer_id").to_pylist(),
            strict=True,
        )
    )
    assert len(pairs) == len(set(pairs))


def test_event_count_grows_linearly_with_scale(small: Any, stats_events: pa.Table) -> None:
    with gzip.open(small.events, "rb") as handle:
        small_count = sum(1 for _ in handle) - 1
    ratio = stats_events.num_rows / small_count
    assert STATS / SMALL * 0.9 < ratio < STATS / SMALL * 1.1
    # Scale 1.0 is promised to give at least 300k events.
    assert stats_events.num_rows / STATS >= 300_000


def _episode_stats(events: pa.Table) -> dict[tuple[str, str], dict[str, Any]]:
    """CTR, retention curve and shares+saves per view of every episode, from raw events."""
    out: dict[tuple[str, str], dict[str, Any]] = {}
    counts = events.group_by(["series_id", "episode_id", "type"]).aggregate([("ts", "count")])
    by_type: dict[tuple[str, str], Counter[str]] = defaultdict(Counter)
    for row in counts.to_pylist():
        by_type[(row["series_id"], row["episode_id"])][row["type"]] = row["ts_count"]
    progress = events.filter(pc.equal(events.column("type"), "progress"))
    furthest = progress.group_by(["series_id", "episode_id", "variant_id", "viewer_id"]).aggregate(
        [("position_s", "max")]
    )
    positions: dict[tuple[str, str], list[float]] = defaultdict(list)
    for row in furthest.to_pylist():
        positions[(row["series_id"], row["episode_id"])].append(row["position_s_max"])
    for key, n in by_type.items():
        reached = np.array(positions[key])
        # Percent of starters still watching at each whole second.
        curve = np.array([(reached >= k).sum() for k in range(91)]) / n["play"]
        out[key] = {
            "ctr": n["click"] / n["impression"],
            "curve": curve,
            "shares_saves": (n["share"] + n["save"]) / n["play"],
        }
    return out


def test_planted_cases_show_in_the_raw_events(stats: Any, stats_events: pa.Table) -> None:
    episodes = _episode_stats(stats_events)
    for series_id, planted in stats.planted.items():
        mine = {e: s for (sid, e), s in episodes.items() if sid == series_id}
        median_ctr = float(np.median([s["ctr"] for s in mine.values()]))
        median_ss = float(np.median([s["shares_saves"] for s in mine.values()]))
        for episode_id, s in mine.items():
            case = planted.get(episode_id)
            curve = s["curve"]
            if case is None:
                assert 0.035 < s["ctr"] < 0.07, episode_id
                assert 0.42 < curve[10] < 0.68, episode_id
            elif case == "hook_failure":
                assert s["ctr"] < 0.6 * median_ctr
                assert curve[8] < 0.35
            elif case == "hook_packaging":
                assert s["ctr"] < 0.6 * median_ctr
                assert curve[10] > 0.42  # people who do click stay: it's the packaging
            elif case == "pacing":
                assert 0.035 < s["ctr"] < 0.07
                # Past the natural 0–3 s swipe-away, the steepest one-second drop sits at
                # the flashback, and about 20 points go within two seconds.
                drops = -np.diff(curve[:40])
                steepest = 3 + int(np.argmax(drops[3:]))
                assert 8 <= steepest < 20
                assert max(curve[k] - curve[k + 2] for k in range(8, 19)) > 0.15
            elif case == "resonance":
                assert curve[10] > 0.58
                assert s["shares_saves"] >= 2 * median_ss
            else:
                pytest.fail(f"unknown case {case}")


def test_metrics_export_agrees_with_events(stats: Any, stats_events: pa.Table) -> None:
    with stats.metrics.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0]) == list(METRIC_COLUMNS)
    neon = _bundles(stats)["neon-heist"]
    assert len(rows) == sum(len(e.variants) for e in neon.episodes) * stats.days
    assert {r["series_id"] for r in rows} == {"neon-heist"}
    assert {r["window_hours"] for r in rows} == {"24"}
    runtimes = {e.episode_id: e.manifest(neon.series_id).runtime_s for e in neon.episodes}
    for row in rows:
        retention = json.loads(row["retention"])
        if int(row["views"]):
            assert retention[0] == 100.0
            assert len(retention) == int(runtimes[row["episode_id"]]) + 1
            assert all(a >= b for a, b in zip(retention, retention[1:], strict=False))
            assert abs(retention[-1] - 100 * int(row["completions"]) / int(row["views"])) < 0.1
    neon_events = stats_events.filter(pc.equal(stats_events.column("series_id"), "neon-heist"))
    types = Counter(neon_events.column("type").to_pylist())
    assert sum(int(r["impressions"]) for r in rows) == types["impression"]
    assert sum(int(r["views"]) for r in rows) == types["play"]
    assert sum(int(r["conversions"]) for r in rows) == types["purchase"]


def test_comments_carry_themes_and_planted_problems(stats: Any) -> None:
    comments = _comments(stats.comments)
    assert len(comments) >= 20_000 * STATS
    ids = [c["comment_id"] for c in comments]
    assert len(ids) == len(set(ids))
    episodes = {(b.series_id, e.episode_id) for b in _bundles(stats).values() for e in b.episodes}
    position = {c["comment_id"]: i for i, c in enumerate(comments)}
    for c in comments:
        assert (c["series_id"], c["episode_id"]) in episodes
        assert c["text"] and isinstance(c["likes"], int) and c["author_id"]
        assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", c["ts"])
        if "parent_id" in c:
            parent = comments[position[c["parent_id"]]]
            assert (parent["series_id"], parent["episode_id"]) == (c["series_id"], c["episode_id"])
            assert parent["ts"] <= c["ts"]

    by_id = {c["comment_id"]: c for c in comments}
    markers = stats.markers
    assert set(markers) == {"pii", "injection", "bot_burst", "vocal_minority"}
    assert all(markers.values())
    for comment_id in markers["pii"]:
        text = by_id[comment_id]["text"]
        assert _PII.search(text), text
        assert redact(text).count > 0, text
    # Nothing else leaks personal data: the planted PII is the only PII.
    planted = set(markers["pii"]) | set(markers["bot_burst"])
    leaks = [
        c["text"] for c in comments if c["comment_id"] not in planted and redact(c["text"]).count
    ]
    assert not leaks, leaks[:5]

    injections = [by_id[i]["text"].lower() for i in markers["injection"]]
    assert any("ignore all previous instructions" in t for t in injections)
    assert all(
        re.search(r"ignore|system|assistant|instructions|approve|tool|model", t) for t in injections
    )

    bots = [by_id[i] for i in markers["bot_burst"]]
    assert len(bots) >= 12
    assert len({b["text"] for b in bots}) == 1 and "?token=" in bots[0]["text"]
    assert len({b["author_id"] for b in bots}) == len(bots)
    times = sorted(datetime.fromisoformat(b["ts"]) for b in bots)
    assert times[-1] - times[0] <= timedelta(minutes=1)

    vocal = [by_id[i] for i in markers["vocal_minority"]]
    assert len({v["author_id"] for v in vocal}) <= 3
    assert len(vocal) >= 100
    assert len({(v["series_id"], v["episode_id"]) for v in vocal}) == 1

    # Themes are specific to their episode.
    def share(series_id: str, pattern: str) -> dict[str, float]:
        hits: Counter[str] = Counter()
        totals: Counter[str] = Counter()
        for c in comments:
            if c["series_id"] == series_id and c["comment_id"] not in planted:
                totals[c["episode_id"]] += 1
                hits[c["episode_id"]] += bool(re.search(pattern, c["text"], re.IGNORECASE))
        return {e: hits[e] / totals[e] for e in totals}

    for series_id, episode_id, pattern in [
        ("harbor-hearts", "ep03", r"boring|slow|fog|intro|scroll|swip"),
        ("harbor-hearts", "ep05", r"flashback|earlier|confus|explain|lecture|back in time"),
        ("harbor-hearts", "ep07", r"sister"),
        ("neon-heist", "ep04", r"thumbnail|cover|title|preview|click"),
    ]:
        rates = share(series_id, pattern)
        others = [r for e, r in rates.items() if e != episode_id]
        assert rates[episode_id] > 3 * max(others), (episode_id, rates)
