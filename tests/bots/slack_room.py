"""A small room for the Slack tests: the tiny series, two days of metrics, scripted agents.

The analyst is the real one; the scripted agents only make sure the review has one
proposal to post (ep1's hook), whatever the few rows of metrics make the analyst say.
"""

from __future__ import annotations

import csv
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from slack_payloads import CHANNEL, SECRET, TOKEN

from writers_room.brief.proposals import BriefChangeProposal, Evidence, FieldChange
from writers_room.brief.report import Finding
from writers_room.config import Settings
from writers_room.guardrails.approval import store_pending
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.store.db import session_scope
from writers_room.store.proposals import get_proposal

APPROVER = "U0SHOW"  # in the tiny series' own approver list
SHOWRUNNER = "U0RUNNER"
STRANGER = "U0MALLORY"
WRITER = "U0WRITER"  # in WRITERS_ROOM_WRITERS: may add notes, not decide


def hook_proposal(
    hook: str = "Mara is already underwater when the episode starts.",
) -> BriefChangeProposal:
    return BriefChangeProposal(
        episode_id="ep1",
        kind="hook_rewrite",
        summary="Open on the strongest conflict beat: Mara underwater, the letter in her fist.",
        target="retention_10s 19% vs cohort 53%",
        expected_effect="10-s retention back to the cohort band",
        changes=[
            FieldChange(
                path="brief.hook", before="A wave smashes the lighthouse door open.", after=hook
            ),
            FieldChange(path="manifest.shots[1].duration_s", before=10, after=6),
        ],
        evidence=Evidence(metrics={"retention_10s": 0.19}, comment_ids=["c1"]),
    )


def store_hook_proposal(settings: Settings, hook: str | None = None) -> dict[str, Any]:
    """A pending ad-hoc proposal for ep1, as ``proposals --json`` shows it."""
    with session_scope(settings) as session:
        (row,) = store_pending(
            session,
            series_id="tiny",
            window_end=None,
            proposals=[hook_proposal(hook) if hook else hook_proposal()],
        )
        proposal_id = row.proposal_id
    return get_proposal(settings, proposal_id)


def _curve(runtime: int, keep_10s: float) -> list[float]:
    out = []
    for s in range(runtime + 1):
        if s <= 10:
            out.append(round(100 - (100 - keep_10s) * s / 10, 2))
        else:
            out.append(round(keep_10s * (1 - 0.5 * (s - 10) / (runtime - 10)), 2))
    return out


def window_start(now: datetime | None = None) -> datetime:
    """Start of the newest window that has closed by ``now`` (windows close at 00:00 UTC)."""
    now = now or datetime.now(UTC)
    return now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=1)


def write_metrics(path: Path, *, now: datetime | None = None) -> Path:
    """Two days of a platform export for ep1 (weak hook) and ep2 (fine)."""
    start = window_start(now)
    rows = []
    for day in (start - timedelta(days=1), start):
        for episode, variant, keep in (
            ("ep1", "v1-thumb", 20.0),
            ("ep1", "v2-hook", 25.0),
            ("ep2", "main", 60.0),
        ):
            views = 400
            rows.append(
                {
                    "series_id": "tiny",
                    "episode_id": episode,
                    "variant_id": variant,
                    "window_start": day.isoformat(),
                    "window_hours": 24,
                    "impressions": 8000,
                    "clicks": 420,
                    "views": views,
                    "completions": int(views * keep / 200),
                    "shares": 6,
                    "saves": 4,
                    "comments": 9,
                    "follows": 3,
                    "conversions": 1,
                    "revenue": 0.99,
                    "avg_view_s": 7.5,
                    "retention": json.dumps(_curve(20, keep)),
                }
            )
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def build_room(settings: Settings, series_yaml: Path, workdir: Path) -> Settings:
    """Register the tiny series and ingest its metrics."""
    add_series_file(settings, series_yaml)
    ingest_metrics(settings, write_metrics(workdir / "tiny-metrics.csv"))
    return settings


def analyst_with_finding(settings: Settings, series_id: str, *, window_end: datetime) -> Any:
    """The real analyst, plus a hook finding on ep1 so the review always ideates for it."""
    from writers_room.analyst.window import analyse

    report = analyse(settings, series_id, window_end=window_end)
    for episode in report.episodes:
        if episode.episode_id == "ep1" and not episode.findings:
            episode.findings.append(
                Finding(
                    kind="hook_failure",
                    problem="viewers leave before the hook lands",
                    proposal="open on the conflict",
                    summary="10-s retention far below the cohort",
                    evidence={"retention_10s": 0.2},
                    baseline="test",
                )
            )
    return report


class ScriptedIdeator:
    """Proposes ep1's new hook, every time (the way a test swaps an LLM)."""

    def propose(self, ctx: Any) -> list[BriefChangeProposal]:
        return [hook_proposal()] if getattr(ctx, "episode_id", "ep1") == "ep1" else []


def passing_guard(proposal: Any, ctx: Any) -> Any:
    return SimpleNamespace(passed=True, reasons=[])


def scripted_agents() -> dict[str, Any]:
    return {"analyst": analyst_with_finding, "ideator": ScriptedIdeator(), "guard": passing_guard}


def slack_settings(settings: Settings, slack: Any, **overrides: object) -> Settings:
    """``settings`` plus the Slack side of the room, pointed at the mock."""
    values: dict[str, object] = {
        "home": settings.home,
        "database_url": settings.database_url,
        "pii_key": "test-key",
        "slack_bot_token": TOKEN,
        "slack_signing_secret": SECRET,
        "slack_api_url": slack.base_url,
        "showrunners": [SHOWRUNNER],
        "writers": [WRITER],
        "channel": CHANNEL,
    }
    values.update(overrides)
    return Settings(**values)  # type: ignore[arg-type]
