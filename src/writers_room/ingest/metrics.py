"""Pre-aggregated metric rows (platform exports): one row per episode × variant × window."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from sqlmodel import select

from writers_room.config import Settings
from writers_room.ingest.readers import (
    UTCTime,
    file_sha256,
    refuse_duplicate,
    registered_rows,
)
from writers_room.ingest.series import variant_kind
from writers_room.store.db import record_ingest, session_scope
from writers_room.store.models import METRIC_COUNTERS, Episode, MetricWindow, Variant

__all__ = ["MetricRow", "MetricsIngestResult", "ingest_metrics"]

REQUIRED = (
    "series_id",
    "episode_id",
    "variant_id",
    "window_start",
    "window_hours",
    *METRIC_COUNTERS,
    "revenue",
    "avg_view_s",
    "retention",
)

# Counts that count a subset of another count in the same row.
PARENTS = {"clicks": "impressions", "completions": "views"}


class MetricRow(BaseModel):
    """One validated row of a metrics export."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    series_id: str = Field(min_length=1)
    episode_id: str = Field(min_length=1)
    variant_id: str = Field(min_length=1)
    window_start: UTCTime
    window_hours: int = Field(gt=0, le=24 * 31)
    impressions: int = Field(ge=0)
    clicks: int = Field(ge=0)
    views: int = Field(ge=0)
    completions: int = Field(ge=0)
    shares: int = Field(ge=0)
    saves: int = Field(ge=0)
    comments: int = Field(ge=0)
    follows: int = Field(ge=0)
    conversions: int = Field(ge=0)
    revenue: float = Field(ge=0)
    avg_view_s: float = Field(ge=0)
    retention: list[float]

    @field_validator("clicks", "completions")
    @classmethod
    def _within_parent(cls, value: int, info: ValidationInfo) -> int:
        # A count of a subset of another can never exceed it (a click needs an impression,
        # a completion a view); such a row is a broken export, not data.
        parent = PARENTS[str(info.field_name)]
        total = info.data.get(parent)
        if total is not None and value > total:
            raise ValueError(f"{info.field_name} ({value}) exceeds {parent} ({total})")
        return value

    @field_validator("retention", mode="before")
    @classmethod
    def _parse_retention(cls, value: Any) -> Any:
        if isinstance(value, str):
            try:
                return json.loads(value)
            except json.JSONDecodeError:
                raise ValueError("must be a JSON array of percentages") from None
        return value

    @field_validator("retention")
    @classmethod
    def _check_retention(cls, value: list[float], info: ValidationInfo) -> list[float]:
        if not value:
            views = info.data.get("views", 0)
            if views:
                raise ValueError(
                    f"is empty but views is {views}; give the percent of starters still "
                    "watching at each second (index 0 = 100)"
                )
            return value  # no starters, no curve
        if abs(value[0] - 100.0) > 0.5:
            raise ValueError(f"index 0 must be 100 (percent of starters), got {value[0]}")
        for second, pct in enumerate(value):
            if not 0 <= pct <= 100:
                raise ValueError(f"second {second}: {pct} is outside 0..100")
        return value


@dataclass(frozen=True)
class MetricsIngestResult:
    rows: int
    inserted: int
    updated: int


def ingest_metrics(
    settings: Settings, path: Path, *, progress: Callable[[int], None] | None = None
) -> MetricsIngestResult:
    """Validate a whole metrics file, then upsert its rows in one transaction."""
    path = Path(path)
    started = time.perf_counter()
    with session_scope(settings) as session:
        known = {(e.series_id, e.episode_id) for e in session.exec(select(Episode))}
    rows: list[MetricRow] = []
    lines: dict[tuple[Any, ...], int] = {}
    for line, row in registered_rows(MetricRow, path, required=REQUIRED, known=known):
        refuse_duplicate(
            lines,
            (row.series_id, row.episode_id, row.variant_id, row.window_start, row.window_hours),
            path,
            line,
            field="window_start",
            what=(
                f"the row of {row.series_id}/{row.episode_id}/{row.variant_id} for the "
                f"{row.window_hours} h window at {row.window_start.isoformat()}"
            ),
        )
        rows.append(row)
        if progress:
            progress(1)
    inserted = updated = 0
    with session_scope(settings) as session:
        for row in rows:
            existing = session.exec(
                select(MetricWindow).where(
                    MetricWindow.series_id == row.series_id,
                    MetricWindow.episode_id == row.episode_id,
                    MetricWindow.variant_id == row.variant_id,
                    MetricWindow.window_start == row.window_start,
                    MetricWindow.window_hours == row.window_hours,
                    MetricWindow.source == "metrics",
                )
            ).first()
            values = row.model_dump(exclude={"series_id", "episode_id", "variant_id"})
            if existing is None:
                existing = MetricWindow(
                    series_id=row.series_id,
                    episode_id=row.episode_id,
                    variant_id=row.variant_id,
                    source="metrics",
                    **values,
                )
                inserted += 1
            else:
                changed = any(getattr(existing, k) != v for k, v in values.items())
                if not changed:
                    continue
                for key, value in values.items():
                    setattr(existing, key, value)
                existing.updated_at = datetime.now(UTC)
                updated += 1
            session.add(existing)
            if session.get(Variant, (row.series_id, row.episode_id, row.variant_id)) is None:
                session.add(
                    Variant(
                        series_id=row.series_id,
                        episode_id=row.episode_id,
                        variant_id=row.variant_id,
                        kind=variant_kind(row.variant_id),
                    )
                )
                session.flush()
        record_ingest(
            session,
            kind="metrics",
            path=path,
            sha256=file_sha256(path),
            rows=len(rows),
            inserted=inserted,
            duration_s=time.perf_counter() - started,
            detail={"updated": updated},
        )
    return MetricsIngestResult(rows=len(rows), inserted=inserted, updated=updated)
