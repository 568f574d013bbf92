"""The analyst's report on disk and on the terminal.

:func:`write_report` writes ``report.json`` (:func:`report_json`: sorted keys, rounded
floats), ``report.html`` and the charts into :func:`report_dir`, each file atomically;
:func:`render_report_text` lays the report out for the terminal.
"""

from __future__ import annotations

import json
import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from writers_room.brief.report import BAND_WORDS, FINDING_WORDS, AnalystReport
from writers_room.config import Settings

__all__ = [
    "Charts",
    "file_names",
    "iso_utc",
    "render_report_text",
    "report_dir",
    "report_json",
    "write_report",
]

# Floats in report.json are rounded to this many decimals: enough for any rate, and it
# keeps the last-bit noise of float sums out of the file.
JSON_DECIMALS = 6


@dataclass
class Charts:
    """What the charts draw beyond the report itself, gathered while analysing."""

    variant_curves: dict[str, list[tuple[str, list[float]]]] = field(default_factory=dict)
    bands: dict[str, tuple[list[float], list[float]]] = field(default_factory=dict)
    band_labels: dict[str, str] = field(default_factory=dict)  # cohort, series, benchmark
    shots: dict[str, list[tuple[str, float]]] = field(default_factory=dict)


# --------------------------------------------------------------------------------------
# Output
# --------------------------------------------------------------------------------------


def iso_utc(moment: datetime) -> str:
    """``moment`` in UTC as ``YYYY-MM-DDTHH:MM:SSZ``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _round(value: Any) -> Any:
    if isinstance(value, float):
        rounded = round(value, JSON_DECIMALS)
        return 0.0 if rounded == 0 else rounded
    if isinstance(value, dict):
        return {k: _round(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_round(v) for v in value]
    return value


def report_json(report: AnalystReport) -> str:
    """The canonical ``report.json`` text: sorted keys, rounded floats, newline-ended."""
    data = _round(report.model_dump(mode="json"))
    return json.dumps(data, sort_keys=True, indent=2, ensure_ascii=False) + "\n"


def _slug(value: str) -> str:
    keep = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in value)
    return keep.strip("-") or "x"


def report_dir(settings: Settings, report: AnalystReport) -> Path:
    """``<home>/reports/<series_id>/<window_end>/`` (plus ``segment-…/`` for a segment)."""
    folder = settings.reports_path / _slug(report.series_id) / report.window_end.replace(":", "-")
    if report.segment:
        parts = "-".join(f"{k}-{str(v).lower()}" for k, v in sorted(report.segment.items()))
        folder = folder / f"segment-{_slug(parts)}"
    return folder


def _retention_png(episode_id: str) -> str:
    return f"retention-{_slug(episode_id)}.png"


def file_names(report: AnalystReport) -> list[str]:
    """The files :func:`write_report` writes for ``report``, sorted."""
    names = ["report.json", "report.html", "scorecard.png"]
    if report.themes:
        names.append("themes.png")
    names += [_retention_png(e.episode_id) for e in report.episodes]
    return sorted(names)


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_report(settings: Settings, report: AnalystReport, charts: Charts) -> Path:
    """Write the report's files into :func:`report_dir`; returns that folder."""
    from writers_room.analyst import charts as ch
    from writers_room.analyst import html as _html

    folder = report_dir(settings, report)
    folder.mkdir(parents=True, exist_ok=True)
    retention = {
        e.episode_id: ch.retention_chart(
            e,
            charts.variant_curves.get(e.episode_id, []),
            charts.bands.get(e.episode_id, ([], [])),
            charts.shots.get(e.episode_id, []),
            charts.band_labels.get(e.episode_id, "cohort"),
        )
        for e in report.episodes
    }
    scorecard = ch.scorecard_chart(report)
    themes = ch.theme_chart(report) if report.themes else None
    for episode_id, png in retention.items():
        _atomic_write(folder / _retention_png(episode_id), png)
    _atomic_write(folder / "scorecard.png", scorecard)
    if themes is not None:
        _atomic_write(folder / "themes.png", themes)
    html = _html.render_html(report, retention, scorecard, themes)
    _atomic_write(folder / "report.html", html.encode("utf-8"))
    _atomic_write(folder / "report.json", report_json(report).encode("utf-8"))
    return folder


# --------------------------------------------------------------------------------------
# Terminal
# --------------------------------------------------------------------------------------


_BAND_STYLE = {"iterate_hook": "red", "adjust_pacing": "yellow", "double_down": "green"}


def _score_table(report: AnalystReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    window = report.window_label or f"{report.window_start} → {report.window_end}"
    title = f"{report.title} ({report.series_id}) · {window}"
    if report.segment:
        title += " · " + ", ".join(f"{k}={v}" for k, v in report.segment.items())
    # Comment text goes in as Text, never markup: "[url]" would otherwise vanish as a tag.
    score = Table(title=Text(title), title_justify="left")
    for name in ("episode", "score", "band", "ret10", "ctr", "compl", "eng", "comm", "cliff"):
        score.add_column(name, justify="left" if name in ("episode", "band", "cliff") else "right")
    for e in report.episodes:
        c, m = e.components, e.metrics
        cliff = (
            f"{e.cliff.second}s −{e.cliff.drop_pct:.1f}pp {e.cliff.shot_id or ''}"
            if e.cliff
            else "none"
        )
        band = Text(BAND_WORDS.get(e.band, e.band), style=_BAND_STYLE[e.band])
        if e.band_capped_by:
            capped = ", ".join(FINDING_WORDS.get(k, k) for k in e.band_capped_by)
            band.append(f" (capped: {capped})", style="dim")
        score.add_row(
            e.episode_id,
            f"{e.score:.1f}",
            band,
            f"{c.retention_10s:.1f} ({m.retention_10s:.0%})",
            f"{c.ctr:.1f} ({m.ctr:.1%})",
            f"{c.completion:.1f} ({m.completion:.0%})",
            f"{c.engagement:.1f}",
            f"{c.commercial:.1f}",
            cliff,
        )
    return score


def _findings_table(report: AnalystReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    findings = Table(title="Findings", title_justify="left", show_lines=False)
    for name in ("episode", "kind", "evidence", "change"):
        findings.add_column(name)
    for e in report.episodes:
        for f in e.findings:
            kind = FINDING_WORDS.get(f.kind, f.kind)
            findings.add_row(e.episode_id, kind, Text(f.summary), Text(f.proposal))
        for shortfall in e.shortfalls:
            findings.add_row(e.episode_id, "below target", Text(shortfall.sentence), Text(""))
    for f in report.findings:
        kind = FINDING_WORDS.get(f.kind, f.kind)
        findings.add_row("series", kind, Text(f.summary), Text(f.proposal))
    return findings


def _trends_table(report: AnalystReport) -> Any:
    from rich.table import Table
    from rich.text import Text

    trend = Table(title="Trends (each span against the one before)", title_justify="left")
    trend.add_column("series")
    for t in report.trends.values():
        trend.add_row(Text(t.sentences[0] if t.sentences else t.current.label))
    for funnel in report.funnels:
        trend.add_row(Text(funnel.sentence))
    return trend


def _other_tables(report: AnalystReport, themes: int) -> list[Any]:
    from rich.table import Table
    from rich.text import Text

    variants = Table(title="Variant tests", title_justify="left")
    variants.add_column("episode")
    variants.add_column("verdict")
    for e in report.episodes:
        variants.add_row(e.episode_id, Text(e.variant_verdict))
    parts: list[Any] = [variants]
    if report.themes:
        theme_table = Table(title="Top themes (by distinct authors)", title_justify="left")
        for name in ("#", "vol#", "theme", "comments", "authors", "sentiment"):
            theme_table.add_column(name, justify="left" if name == "theme" else "right")
        for theme in report.themes[:themes]:
            theme_table.add_row(
                str(theme.rank_by_authors),
                str(theme.rank_by_volume),
                Text(theme.label),
                str(theme.comments),
                str(theme.distinct_authors),
                f"{theme.sentiment:+.2f}",
            )
        parts.append(theme_table)
    if report.flags:
        flags = Table(title="Flags", title_justify="left")
        for name in ("kind", "episode", "detail"):
            flags.add_column(name)
        for flag in report.flags:
            flags.add_row(flag.kind, flag.episode_id or "", Text(flag.detail))
        parts.append(flags)
    return parts


def render_report_text(report: AnalystReport, *, themes: int = 8) -> Any:
    """Rich renderables for the terminal: scorecard, findings, trends, variants, themes,
    flags.

    Returns a ``rich.console.Group``; print it with ``Console().print(...)``.
    """
    from rich.console import Group

    parts: list[Any] = [_score_table(report)]
    for table in (_findings_table(report), _trends_table(report)):
        if table.row_count:
            parts.append(table)
    parts.extend(_other_tables(report, themes))
    parts.extend(_outcome_tables(report))
    return Group(*parts)


def _outcome_tables(report: AnalystReport) -> list[Any]:
    """The published changes' outcomes as one table (none when nothing was published)."""
    from rich.table import Table
    from rich.text import Text

    if not report.outcomes:
        return []
    changes = Table(title="Did the published changes work", title_justify="left")
    for name in ("episode", "change", "verdict", "what happened"):
        changes.add_column(name)
    for o in report.outcomes:
        changes.add_row(o.episode_id, o.proposal_id, o.label, Text(o.summary))
    return [changes]
