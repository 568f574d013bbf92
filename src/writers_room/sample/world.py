"""The sample's world: the three-day window, the platforms, when things happen, gzip files.

What the simulator (events, metrics) and the comment feed share, so both draw times and
platforms the same way and write byte-identical files for the same seed.
"""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

Progress = Callable[[str, int, int], None]
Arr = npt.NDArray[Any]

WINDOW_START = datetime(2026, 11, 16, tzinfo=UTC)
DAYS = 3
MS_PER_DAY = 86_400_000
MS_PER_HOUR = 3_600_000
START_MS = int(WINDOW_START.timestamp() * 1000)

PLATFORMS = ("tiktok", "reels", "shorts", "app")
PLATFORM_W = (0.46, 0.26, 0.18, 0.10)

# UTC hour-of-day traffic: an English-speaking, mostly American audience watches in its
# evening (00–05 UTC) with a smaller European/Asian bump in the afternoon UTC.
_HOUR_W = np.array(
    [9, 8, 7, 6, 4, 3, 2, 1.5, 1.5, 2, 2.5, 3, 3.5, 4, 4, 4.5, 5, 5.5, 6, 6.5, 7, 8, 9, 9.5],
    dtype=np.float64,
)
_DAY_W = np.array([0.36, 0.33, 0.31])


def sample_times(rng: np.random.Generator, n: int, tail_ms: int = 300_000) -> Arr:
    """Epoch milliseconds with a daily rhythm, inside the window.

    The last ``tail_ms`` of the window stay empty so that whatever follows (a session, a
    reply) still lands inside it.
    """
    day = rng.choice(DAYS, size=n, p=_DAY_W / _DAY_W.sum())
    hour = rng.choice(24, size=n, p=_HOUR_W / _HOUR_W.sum())
    slot = day * 24 + hour
    span = np.where(slot == DAYS * 24 - 1, MS_PER_HOUR - tail_ms, MS_PER_HOUR)
    offset = (rng.random(n) * span).astype(np.int64)
    return START_MS + slot.astype(np.int64) * MS_PER_HOUR + offset


@contextmanager
def gzip_writer(path: Path) -> Iterator[gzip.GzipFile]:
    # filename="" and mtime=0 keep the header free of names and clocks: same bytes always.
    # Level 3 is the fast end of deflate: compression is most of the cost of writing ten
    # million events; level 6 takes ~2x as long for an ~18 % smaller file (level 9: ~8x).
    with (
        path.open("wb") as raw,
        gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=3) as sink,
    ):
        yield sink
