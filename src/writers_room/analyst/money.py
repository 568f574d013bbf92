"""Monetisation: purchases per starter, the paywall, and what viewers say about paying.

Purchases and revenue per starter come from the metric windows. Paywall drop-off needs a
purchase-prompt event, which the events do not have (see :mod:`.funnel`), so it is
reported as not measured. Price complaints are read from the window's comments: a
comment is one when it talks about coins, prices, the paywall or paying per episode
(``comments.PRICE``, read once per distinct text), and the finding counts *distinct
viewers*, so one angry viewer posting twenty times is one complaint. It is a series-wide
finding (``price_complaints``): a question for the producers — coin prices, bundles, where
the paywall falls — more than a change to an episode's brief, and the offline writer
proposes nothing for it.
"""

from __future__ import annotations

from writers_room.analyst import comments as cm
from writers_room.analyst.comments import PRICE
from writers_room.analyst.evidence import count, evidence_sentences, pct, times
from writers_room.analyst.funnel import PAYWALL_NOTE, paywall_measurable
from writers_room.analyst.intel import Intel, quote
from writers_room.brief.report import Finding, Metrics, Monetisation

__all__ = [
    "PRICE",
    "PRICE_MIN_SHARE",
    "PRICE_MIN_VIEWERS",
    "monetisation",
    "price_complaints",
    "price_mask",
]

# A price finding needs this many distinct viewers, and this share of the window's
# distinct commenters.
PRICE_MIN_VIEWERS = 5
PRICE_MIN_SHARE = 0.01
QUOTES = 5
PROBLEM = (
    "price complaints",
    "a question for the producers, not the brief: coin prices, bundles, where the paywall falls",
)


def monetisation(m: Metrics, targets: dict[str, float], cohort: bool, label: str) -> Monetisation:
    """An episode's purchases and revenue per starter in the window ``label`` names."""
    target = targets["conversions"]
    whose = "the cohort's" if cohort else "the benchmark"
    sentence = (
        f"{count(m.conversions)} purchase{'' if m.conversions == 1 else 's'} from "
        f"{count(m.starts)} starters "
        f"({pct(m.conversions_per_view, 2)}, {times(m.conversions_per_view / target)} {whose} "
        f"{pct(target, 2)}), ${m.revenue:,.2f} (${m.revenue_per_view:.3f} per starter) in the "
        f"{label}."
        if m.starts and target > 0
        else f"No starters in the {label}."
    )
    return Monetisation(
        purchases=m.conversions,
        purchases_per_starter=m.conversions_per_view,
        revenue=m.revenue,
        revenue_per_starter=m.revenue_per_view,
        target_purchases_per_starter=target,
        paywall_dropoff=None,
        paywall_note="" if paywall_measurable() else PAYWALL_NOTE,
        sentence=sentence,
    )


def price_mask(table: cm.CommentTable, within: cm.BoolArray) -> cm.BoolArray:
    """Comments in ``within`` that talk about paying (:data:`PRICE`, read per text)."""
    if not table.n:
        return within.copy()
    return table.price_t[table.text] & within


def price_complaints(intel: Intel, label: str) -> Finding | None:
    """The series-wide price finding of the window ``label`` names, if viewers complain."""
    table = intel.table
    pool = intel.themable
    mask = price_mask(table, pool)
    viewers = table.distinct_authors(mask)
    commenters = table.distinct_authors(pool)
    share = viewers / commenters if commenters else 0.0
    if viewers < PRICE_MIN_VIEWERS or share < PRICE_MIN_SHARE:
        return None
    per_episode = {
        e: table.distinct_authors(mask & table.episode_mask(e)) for e in sorted(table.episodes)
    }
    per_episode = {e: n for e, n in per_episode.items() if n}
    most = max(per_episode, key=lambda e: (per_episode[e], e))
    chosen = table.top(mask & intel.quotable, QUOTES)
    evidence = {
        "price_viewers": float(viewers),
        "commenters": float(commenters),
        "price_share": share,
        "price_comments": float(int(mask.sum())),
        "price_min_viewers": float(PRICE_MIN_VIEWERS),
    }
    return Finding(
        kind="price_complaints",
        problem=PROBLEM[0],
        proposal=PROBLEM[1],
        summary=(
            f"{count(viewers)} distinct viewers ({pct(share)} of the {count(commenters)} who "
            f"commented in the {label}) complained about coins, prices or the paywall; most "
            f"on {most} ({per_episode[most]})."
        ),
        evidence=evidence,
        baseline=f"comments in the {label}",
        comment_ids=[table.ids[i] for i in chosen],
        quotes=[quote(table, i) for i in chosen],
        sentences=evidence_sentences(evidence),
        episodes=per_episode,
    )
