"""Answers to the analytical questions: characters, variant tests, comparisons, next steps.

Each reads the newest saved ``report.json`` (see ``answers.latest_report``) plus a few
rows of SQL, states the window it covers, and gives the numbers the verdict rests on.
Comments are quoted only through ``quotes.py`` (never a flagged one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from writers_room.analyst import comments as cm
from writers_room.brief.report import BAND_WORDS
from writers_room.graphs.chat.answers import flood_themes, pct, quote_text
from writers_room.graphs.chat.quotes import Flagged, Quoted

__all__ = [
    "COMPONENT_MAX",
    "Step",
    "format_character",
    "format_characters",
    "format_compare",
    "format_next_steps",
    "format_variants",
    "format_variants_overview",
    "leading_variant",
    "rank_next_steps",
    "themes_naming",
    "window_line",
]

# Scorecard points per component (docs/METHOD.md).
COMPONENT_MAX = {
    "retention_10s": 30.0,
    "ctr": 20.0,
    "completion": 20.0,
    "engagement": 15.0,
    "commercial": 15.0,
}
COMPONENT_WORDS = {
    "retention_10s": "10-s retention",
    "ctr": "CTR",
    "completion": "completion",
    "engagement": "engagement",
    "commercial": "commercial",
}
# The scorecard component a finding, or a kind of proposal, works on.
FINDING_COMPONENT = {
    "hook_failure": "retention_10s",
    "hook_packaging": "ctr",
    "pacing": "completion",
    "low_participation": "engagement",
}
PROPOSAL_COMPONENT = {
    "hook_rewrite": "retention_10s",
    "packaging": "ctr",
    "pacing_cut": "completion",
    "participation": "engagement",
}
DOUBLE_DOWN = 70.0
STEPS_SHOWN = 5
THEMES_SHOWN = 3


def window_line(report: Mapping[str, Any]) -> str:
    """The window an answer covers, as every answer states it."""
    return f"window {report['window_start']} → {report['window_end']}"


def _head(report: Mapping[str, Any], what: str) -> str:
    return f"*{quote_text(report.get('title') or report['series_id'], 100)} · {what}*"


def _sentiment(value: float) -> str:
    word = "positive" if value > 0.2 else "negative" if value < -0.2 else "mixed"
    return f"{value:+.2f} ({word})"


def _quote_line(q: Quoted) -> str:
    return f"> “{quote_text(q.text)}” (`{q.comment_id}`, {q.episode_id}, {q.likes} likes)"


# --------------------------------------------------------------------------------------
# Characters
# --------------------------------------------------------------------------------------


def themes_naming(report: Mapping[str, Any], name: str) -> list[dict[str, Any]]:
    """The report's themes whose key terms or label name the character, most viewers first
    (not a flood's own theme)."""
    first = cm.tokens(name)[:1]
    if not first:
        return []
    forms = {first[0], f"{first[0]}'s", f"{first[0]}s'"}
    flood = flood_themes(report)
    named = [
        t
        for t in report.get("themes", [])
        if t["theme_id"] not in flood
        and (
            not forms.isdisjoint(t.get("terms", [])) or not forms.isdisjoint(cm.tokens(t["label"]))
        )
    ]
    return sorted(named, key=lambda t: (-t["distinct_authors"], -t["comments"], t["theme_id"]))


def theme_label(theme: Mapping[str, Any], flagged: Flagged) -> str:
    """A theme's label, or its first example that is not flagged, or its key terms."""
    texts = [theme.get("label", ""), *theme.get("example_texts", [])]
    ids = ["", *theme.get("examples", [])]
    for cid, text in zip(ids, texts, strict=False):
        if text and cid not in flagged.ids and not flagged.hides_text(text):
            return f"“{quote_text(text, 100)}”"
    return "key terms: " + ", ".join(theme.get("terms", [])[:4])


def format_character(
    report: Mapping[str, Any],
    name: str,
    quotes: Sequence[Quoted],
    flagged: Flagged,
    episode_id: str | None = None,
) -> str:
    """What viewers say about one character: counts, sentiment, themes, quotes."""
    first = name.split()[0]
    row = next((c for c in report.get("characters", []) if c["name"] == name), None)
    scope = report.get("comment_scope") or {}
    lines = [f"{_head(report, name)} — what viewers say, {window_line(report)}"]
    if row is None or not row.get("comments"):
        lines.append(f"No comment in the window names {first}.")
        return "\n".join(lines)
    by_episode = sorted(row.get("episodes", {}).items(), key=lambda ec: (-ec[1], ec[0]))
    lines.append(
        f"*{row['comments']} comments from {row['distinct_authors']} viewers* name {first} "
        f"· sentiment {_sentiment(row['sentiment'])} · by episode: "
        + ", ".join(f"{e} {n}" for e, n in by_episode[:4])
    )
    if scope:
        lines.append(
            f"(of the window's {scope.get('comments', 0)} comments; spam and prompt "
            "injections are not counted, and no flagged comment is quoted)"
        )
    if episode_id:
        lines.append(f"On {episode_id}: {row.get('episodes', {}).get(episode_id, 0)} of them.")
    themes = themes_naming(report, name)
    if themes:
        lines.append(f"*Top themes naming {first}:*")
        for t in themes[:THEMES_SHOWN]:
            lines.append(
                f"• {theme_label(t, flagged)} — {t['comments']} comments from "
                f"{t['distinct_authors']} viewers, sentiment {t['sentiment']:+.2f}"
            )
    else:
        lines.append(f"No theme of the window centres on {first}.")
    if quotes:
        lines.append("*In their words* (most liked of the comments nearest the name):")
        lines.extend(_quote_line(q) for q in quotes)
    return "\n".join(lines)


def format_characters(report: Mapping[str, Any]) -> str:
    """Every character's mentions in the window, most viewers first."""
    rows = sorted(
        report.get("characters", []), key=lambda c: (-c["distinct_authors"], -c["comments"])
    )
    lines = [f"{_head(report, 'characters')} — mentions in comments, {window_line(report)}"]
    for c in rows:
        lines.append(
            f"• {quote_text(c['name'], 80)}: {c['comments']} comments from "
            f"{c['distinct_authors']} viewers, sentiment {_sentiment(c['sentiment'])}"
        )
    if not rows:
        lines.append("The series bible lists no characters.")
    lines.append("Ask about one by name, e.g. “what are viewers saying about <name>?”")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Variant tests
# --------------------------------------------------------------------------------------


def leading_variant(episode: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, Any] | None]:
    """The leading variant (the winner, else the best P(best CTR)) and the runner-up."""
    ranked = sorted(
        episode.get("variants", []),
        key=lambda v: (-v["p_best_ctr"], -v["ctr"], v["variant_id"]),
    )
    if episode.get("winner"):
        ranked.sort(key=lambda v: v["variant_id"] != episode["winner"])
    return ranked[0], (ranked[1] if len(ranked) > 1 else None)


def _kind(kinds: Mapping[str, tuple[str, str]], variant_id: str) -> str:
    kind, description = kinds.get(variant_id, ("", ""))
    text = kind or "variant"
    return f"{text}: {quote_text(description, 80)}" if description else text


def format_variants(
    report: Mapping[str, Any],
    episode: Mapping[str, Any],
    kinds: Mapping[str, tuple[str, str]],
) -> str:
    """The episode's variant test: the leader, by how much, P(best), conclusive or not."""
    title = f"{episode['episode_id']} “{quote_text(episode.get('title', ''), 100)}”"
    lines = [f"{_head(report, title)} — variant test, {window_line(report)}"]
    variants = episode.get("variants", [])
    if len(variants) < 2:
        lines.append("No variant test: the episode ran one version in the window.")
        return "\n".join(lines)
    lead, second = leading_variant(episode)
    conclusive = bool(episode.get("winner"))
    verdict = "*conclusive*" if conclusive else "*not conclusive*"
    lines.append(
        f"*Leading: `{lead['variant_id']}`* ({_kind(kinds, lead['variant_id'])}) — "
        f"P(best CTR) {pct(lead['p_best_ctr'])} · {verdict}: {episode.get('variant_verdict', '')}"
    )
    if second is not None:
        lines.append(
            f"Ahead of `{second['variant_id']}` by: CTR {pct(lead['ctr'], 2)} vs "
            f"{pct(second['ctr'], 2)} ({(lead['ctr'] - second['ctr']) * 100:+.2f} pp) · "
            f"10-s retention {pct(lead['retention_10s'])} vs {pct(second['retention_10s'])} "
            f"({(lead['retention_10s'] - second['retention_10s']) * 100:+.1f} pp) · "
            f"watch-time share {pct(lead['watch_time_share'])} vs "
            f"{pct(second['watch_time_share'])}"
        )
    for v in sorted(variants, key=lambda v: (-v["p_best_ctr"], v["variant_id"])):
        lines.append(
            f"• `{v['variant_id']}` ({_kind(kinds, v['variant_id'])}): CTR {pct(v['ctr'], 2)} "
            f"({v['clicks']}/{v['impressions']}) · 10-s retention {pct(v['retention_10s'])} · "
            f"watch-time share {pct(v['watch_time_share'])} · P(best CTR) "
            f"{pct(v['p_best_ctr'])} · P(best retention) {pct(v['p_best_retention'])}"
        )
    if episode.get("winner_retention"):
        lines.append(f"Best on 10-s retention (≥ 95%): `{episode['winner_retention']}`.")
    thumbs = [v for v in variants if kinds.get(v["variant_id"], ("", ""))[0] == "thumbnail"]
    best_thumb = max(thumbs, key=lambda v: (v["p_best_ctr"], v["ctr"]), default=None)
    if best_thumb is not None and best_thumb["variant_id"] != lead["variant_id"]:
        lines.append(
            f"Best thumbnail: `{best_thumb['variant_id']}` (CTR {pct(best_thumb['ctr'], 2)}, "
            f"P(best CTR) {pct(best_thumb['p_best_ctr'])}); the leader is a "
            f"{kinds.get(lead['variant_id'], ('variant', ''))[0] or 'variant'}."
        )
    return "\n".join(lines)


def format_variants_overview(report: Mapping[str, Any]) -> str:
    """Each episode's leading variant, and whether its test is conclusive."""
    lines = [f"{_head(report, 'variant tests')} — {window_line(report)}"]
    for e in report.get("episodes", []):
        if len(e.get("variants", [])) < 2:
            continue
        lead, _ = leading_variant(e)
        state = "winner (conclusive)" if e.get("winner") else "not conclusive"
        more = e.get("more_impressions_needed")
        need = f", ~{more} more impressions needed" if more and not e.get("winner") else ""
        lines.append(
            f"• {e['episode_id']} “{quote_text(e.get('title', ''), 60)}”: `{lead['variant_id']}` "
            f"leads, CTR {pct(lead['ctr'], 2)}, P(best CTR) {pct(lead['p_best_ctr'])} — "
            f"{state}{need}"
        )
    if len(lines) == 1:
        lines.append("No episode ran more than one variant in the window.")
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Comparisons
# --------------------------------------------------------------------------------------

_ROWS: tuple[tuple[str, str, int], ...] = (
    # label, metrics key, percent digits
    ("CTR", "ctr", 2),
    ("10-s retention", "retention_10s", 1),
    ("completion", "completion", 1),
    ("shares / view", "shares_per_view", 2),
    ("saves / view", "saves_per_view", 2),
)


def _table(rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows
    )


def format_compare(report: Mapping[str, Any], episodes: Sequence[Mapping[str, Any]]) -> str:
    """Episodes side by side: score, CTR, 10-s retention, completion, shares and saves per
    view, and each one's top finding (with a Δ column for two)."""
    ids = [e["episode_id"] for e in episodes]
    lines = [f"{_head(report, ' vs '.join(ids))} — {window_line(report)}"]
    two = len(episodes) == 2
    header = ["", *ids] + ([f"Δ {ids[1]} − {ids[0]}"] if two else [])
    rows: list[list[str]] = [header]
    score = ["score", *(f"{e['score']:.1f}" for e in episodes)]
    if two:
        score.append(f"{episodes[1]['score'] - episodes[0]['score']:+.1f}")
    rows.append(score)
    rows.append(["band", *(e["band"] for e in episodes)] + ([""] if two else []))
    for label, key, digits in _ROWS:
        values = [e["metrics"].get(key) for e in episodes]
        row = [label, *(pct(v, digits) for v in values)]
        if two:
            a, b = values
            row.append("—" if a is None or b is None else f"{(b - a) * 100:+.{digits}f} pp")
        rows.append(row)
    rows.append(
        ["starts", *(str(e["metrics"].get("starts", 0)) for e in episodes)] + ([""] if two else [])
    )
    lines.append("```\n" + _table(rows) + "\n```")
    for e in episodes:
        findings = e.get("findings", [])
        if findings:
            f = findings[0]
            top = f"`{f['kind']}` {quote_text(f.get('summary') or f.get('problem', ''), 300)}"
        else:
            top = "none — no diagnosis rule fired"
        lines.append(
            f"*{e['episode_id']}* “{quote_text(e.get('title', ''), 80)}” "
            f"({BAND_WORDS.get(e['band'], e['band'])}) — top finding: {top}"
        )
    return "\n".join(lines)


# --------------------------------------------------------------------------------------
# Next steps
# --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """A pending proposal or an open finding, with the score points it works on."""

    kind: str  # "proposal" or "finding"
    ref: str  # proposal id, or "<episode>:<finding kind>"
    series_id: str
    episode_id: str
    what: str  # proposal kind or finding kind
    summary: str
    impact: float | None  # score points at stake
    basis: str  # how the impact was read
    score: float | None


def _at_stake(
    episode: Mapping[str, Any] | None, components: Sequence[str], thresholds: Mapping[str, Any]
) -> tuple[float | None, str]:
    """The score points a change could win: the components' gap to full marks, else the
    episode's gap to the double-down band."""
    if episode is None:
        return None, "no data for the episode in the window"
    have = episode.get("components", {})
    gaps = [
        (COMPONENT_MAX[c] - float(have.get(c, 0.0)), c)
        for c in components
        if c in COMPONENT_MAX and c in have
    ]
    if gaps:
        gap, c = max(gaps)
        return gap, f"{COMPONENT_WORDS[c]} {float(have[c]):.1f}/{COMPONENT_MAX[c]:g}"
    line = float(thresholds.get("band_double_down_above", DOUBLE_DOWN))
    return max(0.0, line - episode["score"]), f"score {episode['score']:.1f} vs {line:g}"


def rank_next_steps(
    reports: Mapping[str, Mapping[str, Any]], proposals: Sequence[Mapping[str, Any]]
) -> list[Step]:
    """Pending proposals and open findings, most score points at stake first.

    Args:
        reports: the newest report per series.
        proposals: pending proposals as ``{proposal_id, series_id, episode_id, kind,
            summary, findings}`` (``findings``: the diagnosis kinds it addresses).

    A finding is open when no pending proposal of its episode addresses it (names its
    kind, or works on its component).
    """
    steps: list[Step] = []
    covered: set[tuple[str, str, str]] = set()
    for p in proposals:
        report = reports.get(p["series_id"], {})
        episode = _episode(report, p["episode_id"])
        kinds = list(p.get("findings") or [])
        components = [FINDING_COMPONENT[k] for k in kinds if k in FINDING_COMPONENT]
        if p["kind"] in PROPOSAL_COMPONENT:
            components.append(PROPOSAL_COMPONENT[p["kind"]])
        impact, basis = _at_stake(episode, components, report.get("thresholds", {}))
        covered.update((p["series_id"], p["episode_id"], c) for c in [*components, *kinds])
        steps.append(
            Step(
                kind="proposal",
                ref=p["proposal_id"],
                series_id=p["series_id"],
                episode_id=p["episode_id"],
                what=p["kind"],
                summary=p["summary"],
                impact=impact,
                basis=basis,
                score=episode["score"] if episode else None,
            )
        )
    for series_id, report in reports.items():
        for e in report.get("episodes", []):
            for f in e.get("findings", []):
                component = FINDING_COMPONENT.get(f["kind"])
                keys = {(series_id, e["episode_id"], f["kind"])}
                if component:
                    keys.add((series_id, e["episode_id"], component))
                if keys & covered:
                    continue
                impact, basis = _at_stake(
                    e, [component] if component else [], report.get("thresholds", {})
                )
                steps.append(
                    Step(
                        kind="finding",
                        ref=f"{e['episode_id']}:{f['kind']}",
                        series_id=series_id,
                        episode_id=e["episode_id"],
                        what=f["kind"],
                        summary=f.get("summary") or f.get("problem", ""),
                        impact=impact,
                        basis=basis,
                        score=e["score"],
                    )
                )
    return sorted(
        steps,
        key=lambda s: (
            s.impact is None,
            -(s.impact or 0.0),
            s.score if s.score is not None else 101.0,
            s.series_id,
            s.ref,
        ),
    )


def _episode(report: Mapping[str, Any], episode_id: str) -> dict[str, Any] | None:
    return next((e for e in report.get("episodes", []) if e["episode_id"] == episode_id), None)


def score_gaps(report: Mapping[str, Any]) -> list[tuple[float, Mapping[str, Any]]]:
    """Episodes below the double-down band, the biggest gap first."""
    line = float(report.get("thresholds", {}).get("band_double_down_above", DOUBLE_DOWN))
    gaps = [(line - e["score"], e) for e in report.get("episodes", []) if e["score"] < line]
    return sorted(gaps, key=lambda ge: (-ge[0], ge[1]["episode_id"]))


def format_next_steps(
    reports: Mapping[str, Mapping[str, Any]], steps: Sequence[Step], *, room_wide: bool
) -> str:
    """The ranked steps, then the biggest score gaps nothing pending works on."""
    if room_wide:
        scope = "the room"
        windows = "; ".join(
            f"{quote_text(r.get('title') or sid, 100)} {window_line(r)}"
            for sid, r in reports.items()
        )
    else:
        series_id, report = next(iter(reports.items()))
        scope = quote_text(report.get("title") or series_id, 100)
        windows = window_line(report)
    lines = [
        f"*What to change next in {scope}* — {windows}",
        "Ranked by the score points at stake: the gap to full marks of the scorecard "
        "component the change works on (else the episode's gap to the double-down band).",
    ]
    for n, s in enumerate(steps[:STEPS_SHOWN], 1):
        where = f"{s.series_id}/{s.episode_id}" if room_wide else s.episode_id
        stake = f"up to +{s.impact:.1f} pts ({s.basis})" if s.impact is not None else s.basis
        command = f"{f'series:{s.series_id} ' if room_wide else ''}propose {s.episode_id}"
        if s.kind == "proposal":
            head = f"`{s.ref}` — {where}, {s.what}, pending"
            tail = f"`{command}` shows its changes"
        else:
            head = f"finding `{s.ref}` — {where}, open (no proposal yet)"
            tail = f"`{command}` drafts changes"
        lines.append(f"{n}. {head}: {quote_text(s.summary, 200)} · {stake} · {tail}")
    if len(steps) > STEPS_SHOWN:
        lines.append(f"… and {len(steps) - STEPS_SHOWN} more.")
    if not steps:
        lines.append("No pending proposal and no open finding in the window.")
    busy = {(s.series_id, s.episode_id) for s in steps}
    gaps = [
        (sid, gap, e)
        for sid, r in reports.items()
        for gap, e in score_gaps(r)
        if (sid, e["episode_id"]) not in busy
    ]
    gaps.sort(key=lambda g: (-g[1], g[0], g[2]["episode_id"]))
    if gaps:
        listed = ", ".join(
            f"{f'{sid}/' if room_wide else ''}{e['episode_id']} {e['score']:.1f} "
            f"({gap:.1f} below double-down)"
            for sid, gap, e in gaps[:3]
        )
        sid, _, e = gaps[0]
        command = f"{f'series:{sid} ' if room_wide else ''}propose {e['episode_id']}"
        lines.append(
            f"*Biggest score gaps with nothing pending:* {listed} — `{command}` runs the "
            "review for one."
        )
    return "\n".join(lines)
