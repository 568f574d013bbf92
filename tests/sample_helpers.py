"""The seeded sample room shared by the analyst's and the writer's tests."""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from writers_room.config import Settings
from writers_room.ingest.comments import ingest_comments
from writers_room.ingest.events import ingest_events
from writers_room.ingest.metrics import ingest_metrics
from writers_room.ingest.series import add_series_file
from writers_room.sample.simulator import SampleBundle, generate
from writers_room.store.db import dispose_engines


@dataclass(frozen=True)
class SampleRoom:
    """The ingested sample: its room settings and what the generator wrote and planted."""

    settings: Settings
    bundle: SampleBundle


# Events are cheap to ingest, so the sample runs at full scale: ~100-300 starters per
# episode and day, enough for the planted effects to stand out of the noise of a single
# 24-hour window. Comments are the slow part (embedding, then the Chroma upsert), so a
# fixed subset goes in: every COMMENT_STRIDE-th ordinary comment, every bot-burst and
# injection comment, and every third comment of the vocal minority.
SAMPLE_SCALE = 1.0
COMMENT_STRIDE = 20


def ingested_sample(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SampleRoom]:
    """The seeded sample, ingested once per test module on SQLite with embedded Chroma."""
    root = tmp_path_factory.mktemp("sample")
    bundle = generate(root / "bundle", seed=7, scale=SAMPLE_SCALE)
    settings = Settings(home=root / "home", database_url=None, chroma_url=None, pii_key="test-key")
    for path in bundle.series_files:
        add_series_file(settings, path)
    ingest_events(settings, bundle.events)
    ingest_metrics(settings, bundle.metrics)
    keep_all = set(bundle.markers["bot_burst"]) | set(bundle.markers["injection"])
    vocal = set(bundle.markers["vocal_minority"])
    subset = root / "comments-subset.jsonl"
    with gzip.open(bundle.comments, "rt", encoding="utf-8") as src, subset.open("w") as out:
        for index, line in enumerate(src):
            cid = json.loads(line)["comment_id"]
            if (
                cid in keep_all
                or (cid in vocal and index % 3 == 0)
                or (cid not in vocal and index % COMMENT_STRIDE == 0)
            ):
                out.write(line)
    ingest_comments(settings, subset)
    yield SampleRoom(settings=settings, bundle=bundle)
    dispose_engines()
