"""What every events module agrees on: the columns, the window counters, SQL quoting.

An events file has the columns REQUIRED + OPTIONAL; the Parquet partitions hold
PARQUET_COLUMNS (the hive path carries ``series_id`` and ``day``). Windows are 24 hours
long, aligned to ``settings.window_hour``; COUNTS is the SQL that counts a window's
events, in validation's scan of the file, in the aggregation and in the analyst's
segments (``analyst.segments``).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from writers_room.config import Settings

EVENT_TYPES = (
    "impression",
    "click",
    "play",
    "progress",
    "complete",
    "share",
    "save",
    "comment",
    "follow",
    "purchase",
)
REQUIRED = ("ts", "series_id", "episode_id", "variant_id", "viewer_id", "type")
OPTIONAL = ("position_s", "value", "platform", "country", "returning")
COLUMNS = (
    "ts",
    "series_id",
    "episode_id",
    "variant_id",
    "viewer_id",
    "type",
    "position_s",
    "value",
    "platform",
    "country",
    "returning",
    "day",
)
# What one partition's Parquet file holds: the hive path carries series_id and day.
PARQUET_COLUMNS = tuple(name for name in COLUMNS if name not in ("series_id", "day"))
DATA_COLUMNS = COLUMNS[:-1]
TRUE_WORDS = ("true", "1", "yes", "t", "y")
FALSE_WORDS = ("false", "0", "no", "f", "n")
DAY_US = 86_400_000_000
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def sql_str(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def ws_us(origin_us: int, ts: str = "ts") -> str:
    """Start (epoch µs) of the 24-hour window holding ``ts``: integer floor arithmetic,
    the same as ``time_bucket(INTERVAL 24 HOUR, ts, origin)`` at a fraction of its cost."""
    us = f"epoch_us({ts})"
    return f"({us} - ((({us} - {origin_us}) % {DAY_US}) + {DAY_US}) % {DAY_US})"


def window_origin_us(settings: Settings) -> int:
    origin = datetime(2000, 1, 1, settings.window_hour, tzinfo=UTC)
    return (origin - EPOCH) // timedelta(microseconds=1)


COUNTS = """
    count(*) FILTER (type = 'impression') AS impressions,
    count(*) FILTER (type = 'click') AS clicks,
    count(*) FILTER (type = 'share') AS shares,
    count(*) FILTER (type = 'save') AS saves,
    count(*) FILTER (type = 'comment') AS comments,
    count(*) FILTER (type = 'follow') AS follows,
    count(*) FILTER (type = 'purchase') AS conversions,
    coalesce(sum(value) FILTER (type = 'purchase'), 0) AS revenue
"""
# The columns of COUNTS, in its order: the metric counters (store.models.METRIC_COUNTERS)
# that count one event type each, then revenue. Views and completions are not among them:
# they count starters, from each viewer's furthest point (windows.aggregate_windows).
COUNT_NAMES = (
    "impressions",
    "clicks",
    "shares",
    "saves",
    "comments",
    "follows",
    "conversions",
    "revenue",
)


def equals(column: pa.ChunkedArray, value: str) -> pa.ChunkedArray:
    """``column == value``; on dictionary chunks compares the indices, not the strings."""
    if not pa.types.is_dictionary(column.type):
        return pc.equal(column, value)
    out = []
    for chunk in column.chunks:
        code = pc.index(chunk.dictionary, value).as_py()
        out.append(pc.equal(chunk.indices, code) if code >= 0 else pa.repeat(False, len(chunk)))
    return pa.chunked_array(out, type=pa.bool_())
