"""Benchmark the analyst's window review on a big series.

One series of 20 episodes × 3 variants, 7 days of player events (``--events`` is the
target; the simulated funnel lands at ~9.6M for the default 10M) and 200k comments, 44 %
of them in the reviewed (last) window, built once through the room's real ingest paths
(events → Parquet and metric windows; comments → redaction, embeddings, Chroma) and
cached in ``--home``. Building takes ~25 minutes on 2 cores, nearly all of it embedding
and indexing the comments.
Then :func:`analyse` is timed: metrics, scorecard, diagnosis and comment intelligence
(themes from the embeddings made at ingest), without and with writing the report files.

The data is a pure function of the arguments: events come from DuckDB ``hash()`` of
their coordinates, comments from a seeded numpy generator.

    .venv/bin/python benchmarks/bench_review.py --home /tmp/bench-review
"""

from __future__ import annotations

import argparse
import gzip
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from writers_room.config import Settings

SERIES_ID = "bench-series"
EPISODES = 20
VARIANTS = ("v1-thumb-a", "v2-hook-b", "v3-title-c")
RUNTIME_S = 60
START = datetime(2026, 11, 1, tzinfo=UTC)
POOL = 400_000  # viewers
# Planted cases, so the diagnosis has work to do: episode number -> case.
PLANTED = {5: "hook_failure", 8: "pacing", 12: "resonance", 15: "hook_packaging"}
CHARACTERS = ("Nadia Reyes", "Owen Hart", "Lena Park", "Victor Crane", "Iris Moon")
# Comments per day, as shares of the total: the last (reviewed) window is the busy one.
COMMENT_DAY_WEIGHTS = (1, 1, 1, 1, 2, 3, 7)


def _series_yaml(path: Path) -> None:
    episodes = []
    for n in range(1, EPISODES + 1):
        shots, start = [], 0
        for k, length in enumerate((4, 4, 4, 6, 8, 8, 8, 6, 6, 6)):
            shots.append(
                {
                    "shot_id": f"s{k + 1:02d}",
                    "start_s": start,
                    "duration_s": length,
                    "action": f"beat {k + 1} of episode {n}",
                    "caption": "Years ago" if (n == 8 and k == 3) else "",
                    "seed": k,
                }
            )
            start += length
        episodes.append(
            {
                "episode_id": f"ep{n:02d}",
                "title": f"Episode {n}",
                "variants": list(VARIANTS),
                "brief": {"premise": f"Part {n}.", "hook": "Something happens at once."},
                "shots": shots,
            }
        )
    doc = {
        "series_id": SERIES_ID,
        "title": "Bench Series",
        "premise": "A benchmark series with twenty episodes.",
        "audience": "everyone",
        "tone_refs": ["none"],
        "characters": [{"name": n, "description": "a character"} for n in CHARACTERS],
        "constraints": {"runtime_s": [45, 90]},
        "episodes": episodes,
    }
    path.write_text(yaml.safe_dump(doc, sort_keys=False))


def _cells(events: int, days: int) -> list[tuple[Any, ...]]:
    """(episode, variant, day, impressions, ctr, early, hazard, cliff_at, cliff_p, share_p)."""
    # ~1.47 events per impression at a 5 % CTR (a started session is ~9.5 events).
    impressions = events / 1.47
    weights = [1 / (1 + 0.05 * i) for i in range(EPISODES)]
    per_weight = impressions / (sum(weights) * len(VARIANTS) * days)
    rows = []
    for i in range(EPISODES):
        case = PLANTED.get(i + 1)
        ctr, early, hazard, cliff_at, cliff_p, share_p = 0.05, 0.30, 0.012, -1, 0.0, 0.015
        if case == "hook_failure":
            ctr, early = 0.02, 0.72
        elif case == "hook_packaging":
            ctr = 0.022
        elif case == "pacing":
            cliff_at, cliff_p = 14, 0.35
        elif case == "resonance":
            early, hazard, share_p = 0.22, 0.008, 0.05
        for v in range(len(VARIANTS)):
            for day in range(days):
                n = int(per_weight * weights[i] * (0.9 + 0.1 * v))
                rows.append((i + 1, v, day, n, ctr * (1 + 0.04 * (v - 1)), early, hazard,
                             cliff_at, cliff_p, share_p))  # fmt: skip
    return rows


def _write_events(path: Path, events: int, days: int) -> None:
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone='UTC'")
    con.execute(
        "CREATE TABLE cells (ep INT, var INT, day INT, n BIGINT, ctr DOUBLE, early DOUBLE, "
        "hazard DOUBLE, cliff_at INT, cliff_p DOUBLE, share_p DOUBLE)"
    )
    con.executemany("INSERT INTO cells VALUES (?,?,?,?,?,?,?,?,?,?)", _cells(events, days))
    start_ms = int(START.timestamp() * 1000)

    def u(k: int) -> str:
        return f"((hash(ep, var, day, i, {k}) % 1000003) / 1000003.0)"

    con.execute(
        f"""
        CREATE TABLE s AS SELECT ep, var, day, i,
            {start_ms} + day * 86400000 + CAST({u(1)} * 86000000 AS BIGINT) AS t0,
            {u(2)} < ctr AS clicked,
            {u(3)} AS u_early, {u(4)} AS u_time, {u(5)} AS u_cliff,
            {u(6)} AS u_share, {u(7)} AS u_save, {u(8)} AS u_comment, {u(9)} AS u_follow,
            {u(10)} AS u_buy, early, hazard, cliff_at, cliff_p, share_p,
            hash(ep, var, day, i, 11) % {POOL} AS viewer
        FROM (SELECT *, unnest(range(n)) AS i FROM cells)
        """
    )
    con.execute(
        f"""
        CREATE TABLE p AS SELECT *, least(drop0, {RUNTIME_S}.0) AS drop_s,
            drop0 >= {RUNTIME_S} AS completed
        FROM (SELECT *,
            CASE WHEN u_early < early THEN u_time * 3.0
                 WHEN cliff_at >= 0 AND u_cliff < cliff_p
                      AND 3.0 - ln(1 - u_time) / hazard > cliff_at
                 THEN cliff_at + u_time * 1.5
                 ELSE 3.0 - ln(1 - u_time) / hazard END AS drop0
            FROM s WHERE clicked)
        """
    )
    viewer = "'vw-' || lpad(viewer::VARCHAR, 7, '0')"
    base = (
        f"'{SERIES_ID}' AS series_id, 'ep' || lpad(ep::VARCHAR, 2, '0') AS episode_id, "
        f"['{VARIANTS[0]}', '{VARIANTS[1]}', '{VARIANTS[2]}'][var + 1] AS variant_id, "
        f"{viewer} AS viewer_id"
    )
    attrs = (
        "['tiktok', 'reels', 'shorts', 'app'][1 + (hash(viewer, 1) % 4)::BIGINT] AS platform, "
        "['US', 'GB', 'CA', 'PH', 'IN', 'BR'][1 + (hash(viewer, 2) % 6)::BIGINT] AS country, "
        "(hash(viewer, day) % 3 = 0) AS returning"
    )
    engagement = " UNION ALL ".join(
        f"SELECT t0 + 2000 + CAST(drop_s * 1000 AS BIGINT) AS ts, {base}, '{kind}' AS type, "
        f"NULL AS position_s, {value} AS value, {attrs} FROM p WHERE {cond}"
        for kind, cond, value in (
            ("share", "u_share < share_p", "NULL"),
            ("save", "u_save < share_p * 1.6", "NULL"),
            ("comment", "u_comment < 0.012", "NULL"),
            ("follow", "u_follow < 0.009", "NULL"),
            ("purchase", "u_buy < 0.006", "[0.99, 1.99, 4.99][1 + (hash(i, 3) % 3)::BIGINT]"),
        )
    )
    con.execute(
        f"""
        COPY (
            SELECT t0 AS ts, {base}, 'impression' AS type, NULL AS position_s, NULL AS value,
                {attrs} FROM s
            UNION ALL SELECT t0 + 1000, {base}, 'click', NULL, NULL, {attrs} FROM p
            UNION ALL SELECT t0 + 2000, {base}, 'play', NULL, NULL, {attrs} FROM p
            UNION ALL SELECT t0 + 2000 + pos * 1000, {base}, 'progress', pos, NULL, {attrs}
                FROM (SELECT *, unnest(range(5, CAST(ceil(drop_s) AS BIGINT), 5)) AS pos FROM p)
            UNION ALL SELECT t0 + 2000 + CAST(drop_s * 1000 AS BIGINT), {base}, 'progress',
                round(drop_s, 3), NULL, {attrs} FROM p WHERE NOT completed
            UNION ALL SELECT t0 + 2000 + {RUNTIME_S * 1000}, {base}, 'complete', NULL, NULL,
                {attrs} FROM p WHERE completed
            UNION ALL {engagement}
        ) TO '{path}' (HEADER, DELIMITER ',')
        """
    )
    con.close()


_THEMES = {
    "ship": ("Nadia and Owen are endgame", "the way Owen looks at Nadia", "just kiss already",
             "their chemistry is unreal", "slow burn is killing me"),
    "villain": ("Victor is so slimy", "get Victor out of this show", "Victor gives me the ick",
                "every time Victor smiles I want to throw my phone"),
    "mystery": ("who sent the message??", "who is the caller", "how does she know about the ring",
                "what was in the envelope", "why did Lena lie about the night"),
    "theory": ("I bet Owen is her brother", "calling it now, Lena did it", "theory: Iris knows",
               "what if Victor faked everything", "Iris knows everything, watch"),
    "praise": ("this show is so good", "obsessed with this series", "best drama on my feed",
               "the city shots are gorgeous", "finally a romance with a plot"),
    "negative": ("the acting is kind of stiff", "this dialogue is so cheesy",
                 "too many ads between episodes", "the filter is a bit much"),
    "paywall": ("why do I need coins for the next episode", "coin prices went up again??",
                "I'd pay for the whole season at one price"),
    "sequel": ("I need a season 2 NOW", "PART 2 PLEASE", "give me 100 more episodes",
               "when is the next episode??", "rewatched this five times"),
    "boring_hook": ("the opening was so boring I almost scrolled past",
                    "skipped the first seconds lol", "nearly swiped away, slow start"),
    "lost": ("the flashback lost me", "too much explaining in the middle",
             "I was confused after the flashback", "the middle part felt like a lecture"),
    "sister": ("sending this to my sister", "tagging my best friend in this",
               "this is literally me and my sister", "crying at the ending"),
}  # fmt: skip
_PREFIXES = ("", "", "", "ngl ", "omg ", "lowkey ", "okay but ", "honestly ", "wait ", "fr ")
_SUFFIXES = ("", "", "", " 😭", " 🔥", "!!!", " lol", " fr", "...", " 10/10", " 😍")
_DETAILS = (
    "", "", "", "", " tonight", " again", " in ep 3", " at the end", " from the start",
    " this time", " for real", " honestly", " right now", " every episode", " in the rain",
    " at the party", " on the roof", " in the car", " at work", " before bed",
)  # fmt: skip


def _write_comments(path: Path, comments: int, days: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    themes = list(_THEMES)
    day_w = np.array(COMMENT_DAY_WEIGHTS[-days:], dtype=np.float64)
    day = rng.choice(days, size=comments, p=day_w / day_w.sum())
    ts_ms = (
        int(START.timestamp() * 1000)
        + day * 86_400_000
        + (rng.random(comments) * 86_000_000).astype(np.int64)
    )
    episode = rng.integers(1, EPISODES + 1, size=comments)
    theme = rng.integers(0, len(themes), size=comments)
    pick = rng.integers(0, 1000, size=comments)
    pre = rng.integers(0, len(_PREFIXES), size=comments)
    post = rng.integers(0, len(_SUFFIXES), size=comments)
    detail = rng.integers(0, len(_DETAILS), size=comments)
    case = rng.random(comments)
    # A heavy-tailed author distribution: most viewers comment once, a few often.
    author = (rng.zipf(1.6, size=comments) + rng.integers(0, POOL, size=comments)) % POOL
    likes = np.minimum(np.floor(rng.pareto(1.2, size=comments) * 4), 100_000).astype(np.int64)
    with gzip.open(path, "wt", encoding="utf-8") as out:
        for i in range(comments):
            options = _THEMES[themes[theme[i]]]
            text = (
                _PREFIXES[pre[i]] + options[pick[i] % len(options)] + _DETAILS[detail[i]]
                + _SUFFIXES[post[i]]
            )  # fmt: skip
            text = text.lower() if case[i] < 0.12 else text.upper() if case[i] > 0.96 else text
            out.write(
                json.dumps(
                    {
                        "comment_id": f"bc-{i:07d}",
                        "series_id": SERIES_ID,
                        "episode_id": f"ep{episode[i]:02d}",
                        "author_id": f"vw-{author[i]:07d}",
                        "text": text,
                        "ts": int(ts_ms[i]),
                        "likes": int(likes[i]),
                    },
                    ensure_ascii=False,
                )
                + "\n"
            )
        # A bot burst on the last day: 300 fresh accounts, one text, one minute.
        burst_at = int((START + timedelta(days=days - 1, hours=15)).timestamp() * 1000)
        for k in range(300):
            record = {
                "comment_id": f"bb-{k:05d}",
                "series_id": SERIES_ID,
                "episode_id": "ep01",
                "author_id": f"bot-{k:05d}",
                "text": "FREE COINS unlock every episode here https://spam.example/x?t=1 now!!",
                "ts": burst_at + k * 180,
                "likes": 0,
            }
            out.write(json.dumps(record) + "\n")


def build(home: Path, *, events: int, comments: int, days: int, seed: int = 11) -> Settings:
    """Build (or reuse) the benchmark room in ``home``; returns its settings."""
    from writers_room.ingest.comments import ingest_comments
    from writers_room.ingest.events import ingest_events
    from writers_room.ingest.series import add_series_file

    settings = Settings(home=home / "room", database_url=None, chroma_url=None, pii_key="bench")
    params = {"events": events, "comments": comments, "days": days, "seed": seed, "v": 1}
    marker = home / "built.json"
    if marker.exists() and json.loads(marker.read_text()).get("params") == params:
        return settings
    home.mkdir(parents=True, exist_ok=True)
    timings: dict[str, float] = {}
    series_path = home / "series.yaml"
    _series_yaml(series_path)
    add_series_file(settings, series_path)
    t = time.perf_counter()
    events_path = home / "events.csv"
    _write_events(events_path, events, days)
    timings["generate_events_s"] = time.perf_counter() - t
    t = time.perf_counter()
    result = ingest_events(settings, events_path)
    timings["ingest_events_s"] = time.perf_counter() - t
    events_path.unlink()
    print(f"events: {result.rows:,} rows, {result.windows} windows", flush=True)
    t = time.perf_counter()
    comments_path = home / "comments.jsonl.gz"
    _write_comments(comments_path, comments, days, seed)
    ingested = ingest_comments(settings, comments_path)
    timings["ingest_comments_s"] = time.perf_counter() - t
    print(f"comments: {ingested.rows:,} rows in {timings['ingest_comments_s']:.0f} s", flush=True)
    marker.write_text(json.dumps({"params": params, "rows": result.rows, "timings": timings}))
    return settings


def run(
    home: Path,
    *,
    events: int = 10_000_000,
    comments: int = 200_000,
    days: int = 7,
    repeat: int = 3,
) -> dict[str, Any]:
    """Build the room if needed, then time ``analyse`` on its last window.

    Returns:
        Seconds per phase: ``cold_s`` (first review in a fresh process: imports, index
        client, caches empty), ``warm_s`` (median of ``repeat`` more), ``write_s`` (with
        report.json, report.html and charts), ``segment_s`` (returning viewers, from the
        Parquet events), plus what the review saw.
    """
    settings = build(home, events=events, comments=comments, days=days)
    from writers_room.analyst.window import analyse

    t = time.perf_counter()
    report = analyse(settings, SERIES_ID, write=False)
    cold = time.perf_counter() - t
    warm = []
    for _ in range(repeat):
        t = time.perf_counter()
        analyse(settings, SERIES_ID, write=False)
        warm.append(time.perf_counter() - t)
    t = time.perf_counter()
    analyse(settings, SERIES_ID, write=True)
    write_s = time.perf_counter() - t
    t = time.perf_counter()
    analyse(settings, SERIES_ID, write=False, segment={"returning": True})
    segment_s = time.perf_counter() - t
    built = json.loads((home / "built.json").read_text())
    return {
        "cold_s": round(cold, 3),
        "warm_s": round(statistics.median(warm), 3),
        "write_s": round(write_s, 3),
        "segment_s": round(segment_s, 3),
        "events": built["rows"],
        "episodes": len(report.episodes),
        "variants": sum(len(e.variants) for e in report.episodes),
        "window_end": report.window_end,
        "window_comments": report.comment_scope.comments,
        "themed_comments": report.comment_scope.themed,
        "themes_sampled": report.comment_scope.sampled,
        "findings": sorted((e.episode_id, f.kind) for e in report.episodes for f in e.findings),
        "build": built["timings"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--home", type=Path, default=Path("bench-review-data"))
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--comments", type=int, default=200_000)
    parser.add_argument("--days", type=int, default=7)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    result = run(
        args.home,
        events=args.events,
        comments=args.comments,
        days=args.days,
        repeat=args.repeat,
    )
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
