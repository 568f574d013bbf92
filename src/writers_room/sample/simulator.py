"""A seeded, realistic sample room: two series, three days of player events, comments.

:func:`generate` writes everything the room ingests, into one folder:

* ``<series_id>.yaml`` — two complete series bundles (a romance and a thriller), eight
  episodes each, with briefs, distribution variants and shot manifests;
* ``events.csv.gz`` — raw player/distribution events (impression → click → play →
  progress → complete, plus shares, saves, comments, follows and purchases);
* ``metrics.csv`` — a per-day platform export for the second series, aggregated from the
  very same events so the two sources never disagree;
* ``comments.jsonl.gz`` — viewer comments with real per-episode themes, plus the nasty
  parts of a real comment feed: personal data, prompt injections, a bot burst and a vocal
  minority.

Some episodes carry planted problems (a failing hook, a pacing cliff, a packaging problem)
and one is unusually resonant; :class:`SampleBundle` says which, so tests and demos can
check that the analyst finds them.

Everything is a pure function of ``(seed, scale)``: numbers come from one
:class:`numpy.random.Generator`, the window starts at a fixed instant, and gzip headers
carry ``mtime=0``, so the same arguments always give byte-identical files.
"""

from __future__ import annotations

import csv
import itertools
import json
import math
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

from writers_room.ingest.events import EVENT_TYPES
from writers_room.ingest.events import OPTIONAL as EVENT_OPTIONAL
from writers_room.ingest.events import REQUIRED as EVENT_REQUIRED
from writers_room.ingest.metrics import REQUIRED as METRIC_REQUIRED
from writers_room.sample.bibles import SERIES, Episode, Series
from writers_room.sample.comments import write_comments
from writers_room.sample.series_file import write_series
from writers_room.sample.world import (
    DAYS,
    MS_PER_DAY,
    MS_PER_HOUR,
    PLATFORM_W,
    PLATFORMS,
    START_MS,
    WINDOW_START,
    Arr,
    Progress,
    gzip_writer,
    sample_times,
)

__all__ = ["EVENT_COLUMNS", "EVENT_TYPES", "METRIC_COLUMNS", "SampleBundle", "generate"]

# The generator writes exactly what ingest reads: one definition of the formats.
EVENT_COLUMNS = EVENT_REQUIRED + EVENT_OPTIONAL
METRIC_COLUMNS = METRIC_REQUIRED


# Impressions per unit of episode weight at scale 1.0. Calibrated so that scale 1.0 gives
# ~330k events (most rows are impressions: only ~5 % of them turn into a play).
_BASE_IMPRESSIONS = 21_000
_CHECKPOINT_S = 5  # progress events fire every 5 s of playback, plus at the drop-off point
_BATCH_ROWS = 1_000_000  # rows per CSV batch: bounds memory of the string columns

_COUNTRIES = ("US", "GB", "CA", "AU", "PH", "IN", "NG", "BR", "MX", "DE", "ZA", "IE", "NZ")
_COUNTRY_W = (0.38, 0.08, 0.07, 0.05, 0.08, 0.07, 0.05, 0.06, 0.05, 0.04, 0.03, 0.02, 0.02)
_PURCHASE_VALUES = np.array([0.99, 1.99, 4.99])
_PURCHASE_W = (0.55, 0.30, 0.15)
# Per-view engagement rates of an ordinary episode, in EVENT_TYPES order from "share".
_ENGAGEMENT = (("share", 0.014), ("save", 0.024), ("comment", 0.012), ("follow", 0.009))
_PURCHASE_RATE = 0.006
_TYPE_CODE = {name: code for code, name in enumerate(EVENT_TYPES)}
# Share of an episode's starters who started the episode before: a serial's audience binges.
CARRY = 0.65


@dataclass(frozen=True)
class SampleBundle:
    """What :func:`generate` wrote, and what it planted for the analyst to find.

    Attributes:
        series_files: One ``series.yaml`` per series, loadable with ``load_bundle``.
        events: ``events.csv.gz``, raw player events (columns :data:`EVENT_COLUMNS`).
        metrics: ``metrics.csv``, the per-day platform export of the second series.
        comments: ``comments.jsonl.gz``, one comment object per line.
        window_start: Start (UTC) of the first day of data.
        days: Number of whole days of data from ``window_start``.
        planted: ``series_id -> {episode_id: case}`` for the planted episodes, where case
            is ``hook_failure``, ``pacing``, ``resonance`` or ``hook_packaging``.
        markers: Comment ids of the planted comment problems, under the keys ``pii``
            (personal data in the text), ``injection`` (prompt-injection attempts),
            ``bot_burst`` (identical spam from fresh accounts within one minute; their
            texts also carry a tokened URL) and ``vocal_minority`` (a handful of authors
            repeating one complaint).
    """

    series_files: list[Path]
    events: Path
    metrics: Path
    comments: Path
    window_start: datetime
    days: int
    planted: dict[str, dict[str, str]]
    markers: dict[str, list[str]]


# --------------------------------------------------------------------------------------
# Public entry point.
# --------------------------------------------------------------------------------------


def generate(
    out: Path,
    *,
    seed: int = 7,
    scale: float = 1.0,
    progress: Progress | None = None,
) -> SampleBundle:
    """Write a complete, seeded sample room into ``out``.

    Args:
        out: Folder to write into (created if missing); existing sample files are replaced.
        seed: Seed of the random generator; the same ``seed`` and ``scale`` always give
            byte-identical files.
        scale: Audience size multiplier: the number of viewers (and therefore events and
            comments) grows linearly with it. 1.0 gives ~330k events and ~22k comments;
            0.02 is enough for fast tests, 30 gives ~10M events for benchmarks.
        progress: Optional ``progress(stage, done, total)`` callback for progress bars;
            stages are ``series``, ``simulate``, ``events``, ``metrics`` and ``comments``.

    Returns:
        The paths written, the time window, the planted episodes and the comment markers.

    Raises:
        ValueError: If ``scale`` is not a positive, finite number.
    """
    if not (isinstance(scale, int | float) and math.isfinite(scale) and scale > 0):
        raise ValueError(f"scale must be a positive number, got {scale!r}")
    report: Progress = progress or (lambda stage, done, total: None)
    out.mkdir(parents=True, exist_ok=True)
    # Independent streams, so that changing how comments are drawn never shifts events.
    plan_seq, event_seq, comment_seq = np.random.SeedSequence(seed).spawn(3)

    series_files = []
    for index, series in enumerate(SERIES):
        path = out / f"{series.series_id}.yaml"
        write_series(series, path)
        series_files.append(path)
        report("series", index + 1, len(SERIES))

    cells = _plan_cells(np.random.default_rng(plan_seq), scale)
    sim = _simulate(np.random.default_rng(event_seq), cells, report)
    events_path = out / "events.csv.gz"
    _write_events(sim, cells, events_path, report)
    metrics_path = out / "metrics.csv"
    _write_metrics(sim, cells, SERIES[1].series_id, metrics_path)  # the second series
    report("metrics", 1, 1)
    del sim  # the event arrays are the big allocation; comments need none of them

    comments_path = out / "comments.jsonl.gz"
    markers = write_comments(
        np.random.default_rng(comment_seq), scale, cells.pool, comments_path, report
    )

    return SampleBundle(
        series_files=series_files,
        events=events_path,
        metrics=metrics_path,
        comments=comments_path,
        window_start=WINDOW_START,
        days=DAYS,
        planted={s.series_id: dict(s.planted) for s in SERIES},
        markers=markers,
    )


# --------------------------------------------------------------------------------------
# series.yaml
# --------------------------------------------------------------------------------------


def _runtime(episode: Episode) -> int:
    return int(round(sum(shot.duration_s for shot in episode.shots)))


def _exposition_start(episode: Episode) -> int:
    """Whole second at which the episode's first expository shot starts."""
    start = 0.0
    for shot in episode.shots:
        if shot.mood == "expository":
            return int(math.ceil(start))
        start += shot.duration_s
    raise ValueError(f"{episode.episode_id} has no expository shot to plant a cliff at")


# --------------------------------------------------------------------------------------
# The audience model.
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Cells:
    """One row per (series, episode, variant): who sees it and how they behave."""

    series_id: list[str]
    episode_id: list[str]
    variant_id: list[str]
    impressions: Arr  # int64, viewers shown this variant
    ctr: Arr  # float64
    survival: list[Arr]  # S[k] = P(still watching at second k), k = 0..runtime
    runtime: Arr  # int64 seconds
    engagement_mult: Arr  # float64 (n_cells, 5): share, save, comment, follow, purchase
    episode_index: Arr  # int64, 0-based position of the episode in its series
    episode_key: Arr  # int64, one id per (series, episode): cells of one episode share it
    pool: int  # viewers in the shared audience pool (ids vw-000000 .. pool-1)


def _survival_curve(
    runtime: int,
    anchor: tuple[int, float],
    completion: float,
    tau: float,
    extra_hazard: dict[int, float] | None = None,
) -> Arr:
    """Survival per whole second from a hazard that decays from a high opening rate.

    The cumulative hazard is ``H(t) = h*t + A*tau*(1 - exp(-t/tau))``: a constant
    background rate ``h`` plus an opening surge ``A`` that fades with time constant
    ``tau`` (the natural 0–2 s swipe-away). ``h`` and ``A`` are solved so the curve passes
    through ``anchor`` (second, survival) and ends at ``completion``. ``extra_hazard`` adds
    per-second hazard on top, which is how a mid-episode cliff is planted.
    """
    t1, s1 = anchor

    def ramp(t: float) -> float:
        return tau * (1.0 - math.exp(-t / tau))

    matrix = np.array([[t1, ramp(t1)], [runtime, ramp(runtime)]])
    target = np.array([-math.log(s1), -math.log(completion)])
    h, surge = np.linalg.solve(matrix, target)
    if h < 0 or surge < 0:
        raise ValueError(f"unreachable retention targets {anchor} / {completion}")
    seconds = np.arange(runtime + 1, dtype=np.float64)
    cumulative = h * seconds + surge * tau * (1.0 - np.exp(-seconds / tau))
    per_second = np.diff(cumulative)
    for second, hazard in (extra_hazard or {}).items():
        per_second[second] += hazard
    return np.exp(-np.concatenate(([0.0], np.cumsum(per_second))))


def _plan_cells(rng: np.random.Generator, scale: float) -> _Cells:
    series_ids: list[str] = []
    episode_ids: list[str] = []
    variant_ids: list[str] = []
    impressions: list[int] = []
    ctrs: list[float] = []
    curves: list[Arr] = []
    runtimes: list[int] = []
    mults: list[tuple[float, ...]] = []
    ep_index: list[int] = []
    ep_key: list[int] = []
    key = 0
    for series in SERIES:
        for index, episode in enumerate(series.episodes):
            weight, runtime, base_ctr, curve, mult = _episode_plan(rng, series, index, episode)
            n_episode = int(rng.poisson(_BASE_IMPRESSIONS * scale * weight))
            shares = rng.dirichlet(np.full(len(episode.variants), 12.0))
            split = rng.multinomial(n_episode, shares)
            for v_index, variant in enumerate(episode.variants):
                series_ids.append(series.series_id)
                episode_ids.append(episode.episode_id)
                variant_ids.append(variant)
                impressions.append(int(split[v_index]))
                # Variants differ by packaging only: CTR moves, retention doesn't.
                ctrs.append(float(base_ctr * rng.uniform(0.9, 1.1)))
                curves.append(curve)
                runtimes.append(runtime)
                mults.append(mult)
                ep_index.append(index)
                ep_key.append(key)
            key += 1
    per_episode = np.bincount(np.array(ep_key), weights=np.array(impressions, dtype=np.float64))
    return _Cells(
        series_id=series_ids,
        episode_id=episode_ids,
        variant_id=variant_ids,
        impressions=np.array(impressions, dtype=np.int64),
        ctr=np.array(ctrs),
        survival=curves,
        runtime=np.array(runtimes, dtype=np.int64),
        engagement_mult=np.array(mults),
        episode_index=np.array(ep_index, dtype=np.int64),
        episode_key=np.array(ep_key, dtype=np.int64),
        # Audiences of the two series overlap in one shared pool, as on a platform; it is
        # a bit larger than the biggest episode audience, so episodes share most viewers.
        pool=int(per_episode.max() * 1.25) + 100,
    )


def _episode_plan(
    rng: np.random.Generator, series: Series, index: int, episode: Episode
) -> tuple[float, int, float, Arr, tuple[float, ...]]:
    """An episode's audience weight, runtime, base CTR, survival curve and engagement
    multipliers (share, save, comment, follow, purchase), shaped by its planted case."""
    case = series.planted.get(episode.episode_id)
    runtime = _runtime(episode)
    # Later episodes reach fewer people (series funnel); a resonant episode gets an
    # extra push from the platform's share-driven distribution.
    weight = series.impression_weight / (1.0 + 0.12 * index)
    if case == "resonance":
        weight *= 1.3
    base_ctr = rng.uniform(0.046, 0.054)
    r10, completion = rng.uniform(0.52, 0.57), rng.uniform(0.34, 0.39)
    anchor, tau, extra = (10, r10), 3.0, None
    mult = (1.0, 1.0, 1.0, 1.0, 1.0)
    if case == "hook_failure":
        # A hook that doesn't land: few click, and those who do leave early.
        base_ctr = rng.uniform(0.019, 0.021)
        anchor, completion, tau = (8, rng.uniform(0.22, 0.25)), 0.13, 4.0
    elif case == "hook_packaging":
        # The episode is fine; its thumbnail/title are not: low CTR only.
        base_ctr = rng.uniform(0.021, 0.023)
    elif case == "resonance":
        base_ctr = rng.uniform(0.055, 0.058)
        anchor, completion = (10, rng.uniform(0.64, 0.66)), rng.uniform(0.49, 0.51)
        mult = (2.8, 2.8, 1.8, 1.8, 1.5)
    elif case == "pacing":
        # Normal until the expository flashback starts (11 s), then ~20 points gone
        # in two seconds and a slow bleed through the rest of the exposition.
        cliff = _exposition_start(episode)
        extra = {cliff: 0.30, cliff + 1: 0.22} | {s: 0.02 for s in range(cliff + 2, cliff + 13)}
    curve = _survival_curve(runtime, anchor, completion, tau, extra)
    return weight, runtime, base_ctr, curve, mult


@dataclass
class _Simulation:
    # One row per event, in generation order (sorted by ts at write time).
    ts: Arr  # int64 epoch ms
    session: Arr  # int64 index into the impression arrays
    kind: Arr  # int8 index into EVENT_TYPES
    position: Arr  # float64, NaN unless progress
    value: Arr  # float64, NaN unless purchase
    # One row per impression.
    imp_cell: Arr  # int32
    imp_viewer: Arr  # int64 index into the viewer pool
    imp_returning: Arr  # bool
    # One row per viewer in the pool.
    viewer_platform: Arr  # int8
    viewer_country: Arr  # int8
    # One row per play, for the metrics export's retention curves.
    play_session: Arr  # int64 index into the impression arrays
    play_ts: Arr
    play_position: Arr


def _episode_audience(rng: np.random.Generator, n: int, pool: int) -> Arr:
    """``n`` distinct viewers out of ``pool``: an arithmetic walk with a step coprime to
    ``pool`` visits every viewer at most once, in O(n) instead of a permutation of the
    whole pool."""
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    step = int(rng.integers(1, pool))
    while math.gcd(step, pool) != 1:
        step = int(rng.integers(1, pool))
    start = int(rng.integers(0, pool))
    return (start + np.arange(n, dtype=np.int64) * step) % pool


# One stretch of events of a single type: (ts, session, kind, position, value).
_Part = tuple[Arr, Arr, int, Arr | None, Arr | None]


def _simulate(rng: np.random.Generator, cells: _Cells, report: Progress) -> _Simulation:
    n_cells = len(cells.variant_id)
    pool = cells.pool
    viewer_platform = rng.choice(len(PLATFORMS), size=pool, p=PLATFORM_W).astype(np.int8)
    viewer_country = rng.choice(len(_COUNTRIES), size=pool, p=_COUNTRY_W).astype(np.int8)
    offsets = np.concatenate(([0], np.cumsum(cells.impressions)))
    imp_viewer = _impression_viewers(rng, cells, offsets)
    imp_cell = np.repeat(np.arange(n_cells, dtype=np.int32), cells.impressions)
    imp_ts = sample_times(rng, len(imp_cell))
    p_returning = 0.08 + 0.09 * cells.episode_index[imp_cell]
    imp_returning = rng.random(len(imp_cell)) < p_returning

    parts: list[_Part] = []
    session_all = np.arange(len(imp_cell), dtype=np.int64)
    parts.append((imp_ts, session_all, _TYPE_CODE["impression"], None, None))
    play_sessions, play_times, play_positions = [], [], []
    for cell in range(n_cells):
        lo, hi = int(offsets[cell]), int(offsets[cell + 1])
        session, play_ts, position = _cell_events(rng, cells, cell, imp_ts, lo, hi, parts)
        play_sessions.append(session)
        play_times.append(play_ts)
        play_positions.append(position)
        report("simulate", cell + 1, n_cells)

    ts_all, session_out, kind, position_out, value_out = _joined(parts)
    _carry_viewers(
        rng, cells, offsets, imp_viewer, np.concatenate(play_sessions), np.concatenate(play_times)
    )
    return _Simulation(
        ts=ts_all,
        session=session_out,
        kind=kind,
        position=position_out,
        value=value_out,
        imp_cell=imp_cell,
        imp_viewer=imp_viewer,
        imp_returning=imp_returning,
        viewer_platform=viewer_platform,
        viewer_country=viewer_country,
        play_session=np.concatenate(play_sessions),
        play_ts=np.concatenate(play_times),
        play_position=np.concatenate(play_positions),
    )


def _impression_viewers(rng: np.random.Generator, cells: _Cells, offsets: Arr) -> Arr:
    """The viewer of every impression: each episode's audience drawn from the shared pool."""
    n_episodes = int(cells.episode_key.max()) + 1
    imp_viewer = np.empty(int(cells.impressions.sum()), dtype=np.int64)
    for key in range(n_episodes):
        members = np.flatnonzero(cells.episode_key == key)
        lo, hi = int(offsets[members[0]]), int(offsets[members[-1] + 1])
        # Cells of one episode are contiguous: each viewer sees exactly one variant.
        imp_viewer[lo:hi] = _episode_audience(rng, hi - lo, cells.pool)
    return imp_viewer


def _carry_viewers(
    rng: np.random.Generator,
    cells: _Cells,
    offsets: Arr,
    imp_viewer: Arr,
    started: Arr,
    start_ts: Arr,
) -> None:
    """Make a serial's audience binge: about :data:`CARRY` of each episode's starters are
    viewers who started the episode before, earlier (in place; only viewer ids change).

    Starting impressions of episode N+1 are taken in time order; each gets, at random, a
    starter of episode N who started N before it and is not in N+1's audience yet, so every
    viewer still sees an episode once. Episodes go in release order, so the chain carries
    on (a viewer of ep01 may go on to ep04).
    """
    when = np.full(len(imp_viewer), -1, dtype=np.int64)
    when[started] = start_ts
    spans: dict[str, list[tuple[int, int, int]]] = {}
    for key in range(int(cells.episode_key.max()) + 1):
        members = np.flatnonzero(cells.episode_key == key)
        first = int(members[0])
        spans.setdefault(str(cells.series_id[first]), []).append(
            (int(cells.episode_index[first]), int(offsets[first]), int(offsets[members[-1] + 1]))
        )
    for episodes in spans.values():
        episodes.sort()
        for (_, plo, phi), (_, lo, hi) in itertools.pairwise(episodes):
            _carry_pair(rng, imp_viewer, when, (plo, phi), (lo, hi))


def _carry_pair(
    rng: np.random.Generator,
    imp_viewer: Arr,
    when: Arr,
    before: tuple[int, int],
    after: tuple[int, int],
) -> None:
    """:func:`_carry_viewers` for one pair of consecutive episodes."""
    plo, phi = before
    lo, hi = after
    prev = plo + np.flatnonzero(when[plo:phi] >= 0)
    prev = prev[~np.isin(imp_viewer[prev], imp_viewer[lo:hi])]  # not in N+1's audience yet
    prev = prev[np.argsort(when[prev], kind="stable")]
    here = lo + np.flatnonzero(when[lo:hi] >= 0)
    chosen = np.sort(rng.choice(here, size=round(CARRY * len(here)), replace=False))
    chosen = chosen[np.argsort(when[chosen], kind="stable")]
    available: list[int] = []
    ready = 0
    draws = rng.random(len(chosen))
    for target, draw in zip(chosen.tolist(), draws.tolist(), strict=True):
        while ready < len(prev) and when[prev[ready]] < when[target]:
            available.append(int(imp_viewer[prev[ready]]))
            ready += 1
        if not available:
            continue
        slot = int(draw * len(available))
        available[slot], available[-1] = available[-1], available[slot]
        imp_viewer[target] = available.pop()


def _cell_events(
    rng: np.random.Generator,
    cells: _Cells,
    cell: int,
    imp_ts: Arr,
    lo: int,
    hi: int,
    parts: list[_Part],
) -> tuple[Arr, Arr, Arr]:
    """One cell's events after the impression (impressions ``lo:hi``), added to ``parts``;
    its plays' sessions, times and furthest positions."""
    clicked = lo + np.flatnonzero(rng.random(hi - lo) < cells.ctr[cell])
    click_ts = imp_ts[clicked] + rng.integers(300, 4_000, size=len(clicked))
    parts.append((click_ts, clicked, _TYPE_CODE["click"], None, None))
    # A few clicks never start playing (slow load, accidental tap).
    started = rng.random(len(clicked)) < 0.96
    session = clicked[started]
    play_ts = click_ts[started] + rng.integers(200, 1_500, size=len(session))
    parts.append((play_ts, session, _TYPE_CODE["play"], None, None))

    runtime = int(cells.runtime[cell])
    survival = cells.survival[cell]
    # Seconds fully watched: the largest k with u < S[k] (S decreasing, S[0] = 1).
    u = rng.random(len(session))
    watched = np.searchsorted(-survival, -u, side="left") - 1
    completed = watched >= runtime
    position = np.where(
        completed, float(runtime), watched + rng.uniform(0.05, 0.99, size=len(session))
    )
    position = np.round(position, 2)
    parts.extend(_watch_events(session, play_ts, position, completed, runtime))
    parts.extend(
        _engagement_events(rng, session, play_ts, position, completed, cells.engagement_mult[cell])
    )
    return session, play_ts, position


def _watch_events(
    session: Arr, play_ts: Arr, position: Arr, completed: Arr, runtime: int
) -> list[_Part]:
    """Progress: every checkpoint strictly before the furthest point, then that point;
    then the completes."""
    checkpoints = np.ceil(position / _CHECKPOINT_S).astype(np.int64) - 1
    count = checkpoints + 1
    owner = np.repeat(np.arange(len(session)), count)
    rank = np.arange(int(count.sum())) - np.repeat(np.cumsum(count) - count, count)
    prog_pos = np.where(
        rank < checkpoints[owner], (rank + 1) * float(_CHECKPOINT_S), position[owner]
    )
    prog_ts = play_ts[owner] + np.round(prog_pos * 1000).astype(np.int64)
    return [
        (prog_ts, session[owner], _TYPE_CODE["progress"], prog_pos, None),
        (
            play_ts[completed] + runtime * 1000 + 40,
            session[completed],
            _TYPE_CODE["complete"],
            None,
            None,
        ),
    ]


def _engagement_events(
    rng: np.random.Generator,
    session: Arr,
    play_ts: Arr,
    position: Arr,
    completed: Arr,
    mult: Arr,
) -> list[_Part]:
    """Shares, saves, comments, follows and purchases: likelier from those who finished."""
    lift = 0.3 + 1.9 * completed
    end_ts = play_ts + np.round(position * 1000).astype(np.int64)
    rates = [(_TYPE_CODE[name], rate * mult[i]) for i, (name, rate) in enumerate(_ENGAGEMENT)]
    rates.append((_TYPE_CODE["purchase"], _PURCHASE_RATE * mult[4]))
    parts: list[_Part] = []
    for code, rate in rates:
        hit = np.flatnonzero(rng.random(len(session)) < rate * lift)
        ts = end_ts[hit] + rng.integers(500, 15_000, size=len(hit))
        value = None
        if code == _TYPE_CODE["purchase"]:
            value = _PURCHASE_VALUES[rng.choice(3, size=len(hit), p=_PURCHASE_W)]
        parts.append((ts, session[hit], code, None, value))
    return parts


def _joined(parts: list[_Part]) -> tuple[Arr, Arr, Arr, Arr, Arr]:
    """The parts laid end to end: ts, session, kind, position and value of every event."""
    total = sum(len(p[0]) for p in parts)
    ts_all = np.empty(total, dtype=np.int64)
    session_out = np.empty(total, dtype=np.int64)
    kind = np.empty(total, dtype=np.int8)
    position_out = np.full(total, np.nan)
    value_out = np.full(total, np.nan)
    at = 0
    for part_ts, part_session, part_kind, part_position, part_value in parts:
        end = at + len(part_ts)
        ts_all[at:end] = part_ts
        session_out[at:end] = part_session
        kind[at:end] = part_kind
        if part_position is not None:
            position_out[at:end] = part_position
        if part_value is not None:
            value_out[at:end] = part_value
        at = end
    return ts_all, session_out, kind, position_out, value_out


# --------------------------------------------------------------------------------------
# events.csv.gz
# --------------------------------------------------------------------------------------


def _fixed_width_strings(rows: Arr) -> pa.Array:
    """An Arrow string array over a ``(n, width)`` uint8 matrix, without Python strings."""
    n, width = rows.shape
    offsets = np.arange(0, width * (n + 1), width, dtype=np.int64)
    data = np.ascontiguousarray(rows).reshape(-1)
    return pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(data))


def _put_digits(rows: Arr, column: int, values: Arr, width: int) -> None:
    for k in range(width):
        rows[:, column + k] = 48 + (values // 10 ** (width - 1 - k)) % 10


def _iso_timestamps(ts_ms: Arr) -> pa.Array:
    """``YYYY-MM-DDTHH:MM:SS.mmmZ`` for epoch milliseconds, built digit by digit.

    Formatting through Python or ``strftime`` costs seconds per million rows; this is a
    handful of vector operations.
    """
    n = len(ts_ms)
    rows = np.empty((n, 24), dtype=np.uint8)
    if n == 0:
        return _fixed_width_strings(rows)
    days, ms = np.divmod(ts_ms, MS_PER_DAY)
    first = int(days.min())
    span = int(days.max()) - first + 1
    dates = "".join(str(np.datetime64(first + d, "D")) for d in range(span)).encode("ascii")
    rows[:, :10] = np.frombuffer(dates, dtype=np.uint8).reshape(span, 10)[days - first]
    hours, rest = np.divmod(ms, MS_PER_HOUR)
    minutes, rest = np.divmod(rest, 60_000)
    seconds, millis = np.divmod(rest, 1000)
    rows[:, 10] = ord("T")
    _put_digits(rows, 11, hours, 2)
    rows[:, 13] = ord(":")
    _put_digits(rows, 14, minutes, 2)
    rows[:, 16] = ord(":")
    _put_digits(rows, 17, seconds, 2)
    rows[:, 19] = ord(".")
    _put_digits(rows, 20, millis, 3)
    rows[:, 23] = ord("Z")
    return _fixed_width_strings(rows)


def _viewer_ids(pool: int) -> pa.Array:
    """``vw-000123`` for every viewer of the pool (wider numbers once the pool needs them)."""
    width = max(6, len(str(max(pool - 1, 0))))
    rows = np.empty((pool, 3 + width), dtype=np.uint8)
    rows[:, :3] = np.frombuffer(b"vw-", dtype=np.uint8)
    _put_digits(rows, 3, np.arange(pool, dtype=np.int64), width)
    return _fixed_width_strings(rows)


def _write_events(sim: _Simulation, cells: _Cells, path: Path, report: Progress) -> None:
    order = np.argsort(sim.ts, kind="stable")
    series_names = pa.array(cells.series_id)
    episode_names = pa.array(cells.episode_id)
    variant_names = pa.array(cells.variant_id)
    type_names = pa.array(EVENT_TYPES)
    platform_names = pa.array(PLATFORMS)
    country_names = pa.array(_COUNTRIES)
    viewer_names = _viewer_ids(len(sim.viewer_platform))
    options = pa_csv.WriteOptions(include_header=False, quoting_style="none")
    batches = max(1, -(-len(order) // _BATCH_ROWS))

    def csv_batch(b: int) -> pa.Buffer:
        rows = order[b * _BATCH_ROWS : (b + 1) * _BATCH_ROWS]
        session = sim.session[rows]
        cell = sim.imp_cell[session]
        viewer = sim.imp_viewer[session]
        table = pa.table(
            {
                "ts": _iso_timestamps(sim.ts[rows]),
                "series_id": series_names.take(cell),
                "episode_id": episode_names.take(cell),
                "variant_id": variant_names.take(cell),
                "viewer_id": viewer_names.take(viewer),
                "type": type_names.take(sim.kind[rows]),
                "position_s": pa.array(sim.position[rows], from_pandas=True),
                "value": pa.array(sim.value[rows], from_pandas=True),
                "platform": platform_names.take(sim.viewer_platform[viewer]),
                "country": country_names.take(sim.viewer_country[viewer]),
                "returning": pa.array(sim.imp_returning[session]),
            }
        )
        buffer = pa.BufferOutputStream()
        pa_csv.write_csv(table, buffer, options)
        return buffer.getvalue()

    # Compression dominates; it runs on a worker thread (zlib releases the GIL) while the
    # main thread formats the next batch (so does Arrow). Order is kept: one writer.
    with gzip_writer(path) as sink, ThreadPoolExecutor(max_workers=1) as compressor:
        sink.write((",".join(EVENT_COLUMNS) + "\n").encode("ascii"))
        pending: Future[int] | None = None
        for b in range(batches):
            data = csv_batch(b)
            if pending is not None:
                pending.result()
            pending = compressor.submit(sink.write, data)
            report("events", b + 1, batches)
        if pending is not None:
            pending.result()


# --------------------------------------------------------------------------------------
# metrics.csv
# --------------------------------------------------------------------------------------


def _write_metrics(sim: _Simulation, cells: _Cells, series_id: str, path: Path) -> None:
    """Per-day platform export of one series, aggregated from the simulated events.

    Impressions and clicks count on the day they happened; everything from the play on
    counts on the day the play started (a session crossing midnight stays in one row), so
    each row's completions, retention and engagement describe the same starters.
    """
    n_cells = len(cells.variant_id)
    event_cell = sim.imp_cell[sim.session].astype(np.int64)
    play_day = (sim.play_ts - START_MS) // MS_PER_DAY
    session_day = np.zeros(len(sim.imp_cell), dtype=np.int64)
    session_day[sim.play_session] = play_day
    event_day = np.where(
        sim.kind >= _TYPE_CODE["play"],
        session_day[sim.session],
        (sim.ts - START_MS) // MS_PER_DAY,
    )
    key = event_cell * DAYS + event_day
    size = n_cells * DAYS

    def count(kind: str) -> Arr:
        mask = sim.kind == _TYPE_CODE[kind]
        return np.bincount(key[mask], minlength=size)

    counts = {kind: count(kind) for kind in EVENT_TYPES}
    purchases = sim.kind == _TYPE_CODE["purchase"]
    revenue = np.bincount(key[purchases], weights=sim.value[purchases], minlength=size)
    play_key = sim.imp_cell[sim.play_session].astype(np.int64) * DAYS + play_day
    watch_total = np.bincount(play_key, weights=sim.play_position, minlength=size)
    watched = np.floor(sim.play_position).astype(np.int64)

    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(METRIC_COLUMNS)
        for cell in range(n_cells):
            if cells.series_id[cell] != series_id:
                continue
            runtime = int(cells.runtime[cell])
            for day in range(DAYS):
                k = cell * DAYS + day
                views = int(counts["play"][k])
                retention: list[float] = []
                if views:
                    # Percent of starters still watching at each whole second: reached k.
                    reached = np.bincount(watched[play_key == k], minlength=runtime + 1)
                    still = reached[::-1].cumsum()[::-1][: runtime + 1]
                    retention = [round(100.0 * float(v) / views, 1) for v in still]
                window = datetime.fromtimestamp((START_MS + day * MS_PER_DAY) / 1000, UTC)
                writer.writerow(
                    [
                        cells.series_id[cell],
                        cells.episode_id[cell],
                        cells.variant_id[cell],
                        window.strftime("%Y-%m-%dT%H:%M:%SZ"),
                        24,
                        int(counts["impression"][k]),
                        int(counts["click"][k]),
                        views,
                        int(counts["complete"][k]),
                        int(counts["share"][k]),
                        int(counts["save"][k]),
                        int(counts["comment"][k]),
                        int(counts["follow"][k]),
                        int(counts["purchase"][k]),
                        f"{revenue[k]:.2f}",
                        f"{watch_total[k] / views:.2f}" if views else "0.00",
                        json.dumps(retention),
                    ]
                )
