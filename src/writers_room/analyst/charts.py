"""Report charts (matplotlib, headless): retention curves, scorecard bars, themes.

Each function returns PNG bytes that are identical for identical input: the Agg backend,
a fixed size and dpi, and no ``Software``/date metadata in the file.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

from writers_room.brief.report import BAND_WORDS, AnalystReport, EpisodeReport

__all__ = ["retention_chart", "scorecard_chart", "theme_chart"]

_DPI = 100
_COLORS = ("#2563eb", "#dc2626", "#16a34a", "#9333ea", "#ea580c", "#0891b2")
_COMPONENT_COLORS = {
    "retention_10s": "#2563eb",
    "ctr": "#0891b2",
    "completion": "#16a34a",
    "engagement": "#ea580c",
    "commercial": "#9333ea",
}
_COMPONENT_WORDS = {
    "retention_10s": "10-s retention",
    "ctr": "click-through",
    "completion": "completion",
    "engagement": "engagement",
    "commercial": "purchases",
}


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _plain(text: str, limit: int = 48) -> str:
    # The bundled DejaVu font has no emoji; drop them rather than draw empty boxes.
    text = "".join(ch for ch in text if ord(ch) < 0x2000).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _png(fig: Any) -> bytes:
    plt = _pyplot()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=_DPI, metadata={"Software": None})
    plt.close(fig)
    return buf.getvalue()


def retention_chart(
    episode: EpisodeReport,
    variant_curves: Sequence[tuple[str, Sequence[float]]],
    band: tuple[Sequence[float], Sequence[float]],
    shots: Sequence[tuple[str, float]],
    band_label: str = "cohort",
) -> bytes:
    """Retention per variant against the comparison band, with the cliff and shot cuts.

    Args:
        episode: The episode's report (title, cliff).
        variant_curves: (variant_id, percent per second) per variant.
        band: Per-second (low, high) of the comparison curves; empty when there are none.
        shots: (shot_id, start second) of each shot of the current manifest.
        band_label: Whose curves the band is: ``cohort`` or ``series`` (the series' other
            episodes in the window).
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(8, 4.2))
    low, high = band
    if low:
        ax.fill_between(
            range(len(low)),
            low,
            high,
            color="#94a3b8",
            alpha=0.3,
            label="cohort min-max" if band_label == "cohort" else "other episodes min-max",
        )
    for index, (variant_id, curve) in enumerate(variant_curves):
        ax.plot(
            range(len(curve)),
            curve,
            color=_COLORS[index % len(_COLORS)],
            linewidth=1.6,
            label=variant_id,
        )
    if episode.retention_curve:
        ax.plot(
            range(len(episode.retention_curve)),
            episode.retention_curve,
            color="#111827",
            linewidth=1.0,
            linestyle="--",
            label="episode (all variants)",
        )
    for shot_id, start in shots:
        ax.axvline(start, color="#cbd5e1", linewidth=0.8, zorder=0)
        ax.text(start + 0.3, 101, shot_id, fontsize=7, color="#475569", rotation=90, va="bottom")
    if episode.cliff is not None:
        cliff = episode.cliff
        ax.axvspan(cliff.second - 1, cliff.second + 2, color="#fca5a5", alpha=0.35, zorder=0)
        ax.annotate(
            f"cliff {cliff.second}s: -{cliff.drop_pct:.1f} pp ({_plain(cliff.shot_id or '')})",
            xy=(cliff.second, cliff.retention_before),
            xytext=(cliff.second + 4, min(95.0, cliff.retention_before + 12)),
            fontsize=8,
            arrowprops={"arrowstyle": "->", "color": "#991b1b"},
            color="#991b1b",
        )
    ax.set_ylim(0, 112)
    ax.set_xlim(0, max([len(c) for _, c in variant_curves] + [len(low), 1]) - 1)
    ax.set_xlabel("second")
    ax.set_ylabel("% of starters still watching")
    ax.set_title(f"{episode.episode_id} · {_plain(episode.title, 60)}: retention", fontsize=10)
    # Under the plot, not on it: inside it covers the last shots' labels and curves.
    fig.legend(fontsize=7, loc="lower center", ncols=4, frameon=False)
    ax.grid(alpha=0.2)
    fig.tight_layout(rect=(0, 0.07, 1, 1))
    return _png(fig)


def scorecard_chart(report: AnalystReport) -> bytes:
    """Stacked scorecard points per episode, with the 50 and 70 band lines."""
    plt = _pyplot()
    episodes = report.episodes
    fig, ax = plt.subplots(figsize=(8, max(2.4, 0.42 * len(episodes) + 1.6)))
    names = [e.episode_id for e in episodes]
    lefts = [0.0] * len(episodes)
    for component, color in _COMPONENT_COLORS.items():
        values = [getattr(e.components, component) for e in episodes]
        ax.barh(
            names, values, left=lefts, color=color, label=_COMPONENT_WORDS[component], height=0.6
        )
        lefts = [a + b for a, b in zip(lefts, values, strict=True)]
    for e, total in zip(episodes, lefts, strict=True):
        words = BAND_WORDS.get(e.band, e.band)
        ax.text(total + 0.8, e.episode_id, f"{e.score:.1f} {words}", va="center", fontsize=7)
    ax.axvline(50, color="#991b1b", linewidth=0.8, linestyle="--")
    ax.axvline(70, color="#166534", linewidth=0.8, linestyle="--")
    for x, text, color in ((50, "50", "#991b1b"), (70, "70", "#166534")):
        bottom = len(episodes) - 0.55
        ax.text(x + 0.6, bottom, text, ha="left", va="bottom", fontsize=7, color=color)
    ax.set_xlim(0, 118)
    ax.invert_yaxis()
    ax.set_xlabel("points (of 100)")
    window = report.window_label or f"window ending {report.window_end}"
    ax.set_title(f"{report.series_id}: scorecard, {window}", fontsize=10)
    ax.legend(fontsize=7, loc="lower center", bbox_to_anchor=(0.5, 1.06), ncols=5, frameon=False)
    fig.tight_layout()
    return _png(fig)


def theme_chart(report: AnalystReport, top: int = 10) -> bytes:
    """Top themes: distinct authors next to comment count (volume)."""
    plt = _pyplot()
    themes = report.themes[:top]
    fig, ax = plt.subplots(figsize=(8, max(2.0, 0.45 * len(themes) + 1.2)))
    labels = [_plain(t.label) for t in themes]
    ys = list(range(len(themes)))
    ax.barh(
        [y - 0.2 for y in ys],
        [t.distinct_authors for t in themes],
        height=0.4,
        color="#2563eb",
        label="distinct authors",
    )
    ax.barh(
        [y + 0.2 for y in ys],
        [t.comments for t in themes],
        height=0.4,
        color="#cbd5e1",
        label="comments",
    )
    ax.set_yticks(ys, labels, fontsize=7)
    ax.invert_yaxis()
    ax.set_xlabel("count")
    ax.set_title("themes, ranked by distinct authors", fontsize=10)
    ax.legend(fontsize=7, loc="lower right")
    fig.tight_layout()
    return _png(fig)
