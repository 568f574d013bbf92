"""Comment ingest: validate, redact, embed, index, store — streamed, all-or-nothing.

A comments file can hold millions of rows, so it is read three times as a stream and
never held in memory:

1. validate every row (errors name file, line and field; nothing is stored on failure);
2. redact PII and pseudonymise authors, skip ids already stored, embed the new texts
   in batches and write them to the Chroma index, spooling the redacted rows to a
   temporary file. A text repeated anywhere in the file is embedded once (a bounded
   cache), and each batch is written to the index while the next one is embedded in
   the embedder's worker processes (Chroma holds the GIL while it writes, so threads
   would wait for it);
3. insert the spooled rows into SQL in one transaction.

If step 3 fails, the vectors written in step 2 are deleted again, so SQL (the source of
truth) and the index stay reconciled. Raw text and raw author ids never leave step 2.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, NamedTuple

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import Engine, insert
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlmodel import Session, col, select

from writers_room.config import Settings
from writers_room.index.chroma import CommentIndex, PipelinedWriter
from writers_room.index.embedding import VectorCache, get_embedder
from writers_room.ingest.readers import (
    UTCTime,
    file_sha256,
    refuse_duplicate,
    registered_rows,
)
from writers_room.ingest.redact import pseudonymise, redact
from writers_room.store.db import get_engine, record_ingest, session_scope
from writers_room.store.models import Comment, Episode

__all__ = ["CommentRow", "CommentsIngestResult", "ingest_comments"]

REQUIRED = ("comment_id", "series_id", "episode_id", "author_id", "text", "ts", "likes")
PRIVATE = ("text", "author_id")
# Rows per redact/embed/index step. 4096 rather than 1024: more texts of each token
# length per embedding pass (less padding) and a quarter of the Chroma calls; memory
# stays bounded by the batch (two in flight: one embedding, one being indexed).
BATCH = 4096
ID_QUERY = 1000  # ids per "already stored?" query, well under SQL parameter limits
# Distinct texts whose vectors are kept for reuse within one file (~1.6 KB each).
CACHED_TEXTS = 65_536

Progress = Callable[[str, int, int], None]


class CommentRow(BaseModel):
    """One validated comment, before redaction."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    comment_id: str = Field(min_length=1, max_length=200)
    series_id: str = Field(min_length=1)
    episode_id: str = Field(min_length=1)
    author_id: str = Field(min_length=1)
    text: str = Field(min_length=1, max_length=10_000)
    ts: UTCTime
    likes: int = Field(ge=0)
    parent_id: str | None = None
    platform: str | None = None

    @field_validator("comment_id", "series_id", "episode_id", "author_id", mode="before")
    @classmethod
    def _ids_as_text(cls, value: Any) -> Any:
        return str(value) if isinstance(value, int) else value

    @field_validator("parent_id", "platform", mode="before")
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return str(value)


@dataclass(frozen=True)
class CommentsIngestResult:
    rows: int
    inserted: int
    redactions: int
    duration_s: float

    @property
    def rate(self) -> float:
        return self.rows / self.duration_s if self.duration_s else 0.0


def _validated(path: Path, known: set[tuple[str, str]]) -> Iterator[tuple[int, CommentRow]]:
    """Validated rows whose episode is registered (the readers' one check)."""
    return registered_rows(CommentRow, path, required=REQUIRED, known=known, private=PRIVATE)


class _Fresh(NamedTuple):
    """A redacted comment on its way to the index and SQL (the columns of :class:`Comment`).

    A tuple, not a ``Comment``: building a SQLModel instance per row cost more than the
    redaction, and the rows only need to be read.
    """

    comment_id: str
    series_id: str
    episode_id: str
    author_hash: str
    text: str
    ts: datetime
    likes: int
    parent_id: str | None
    platform: str | None
    redactions: int


def _existing_ids(session: Session, ids: list[str]) -> set[str]:
    found: set[str] = set()
    for start in range(0, len(ids), ID_QUERY):
        part = ids[start : start + ID_QUERY]
        found.update(
            session.exec(select(Comment.comment_id).where(col(Comment.comment_id).in_(part)))
        )
    return found


def ingest_comments(
    settings: Settings, path: Path, *, progress: Progress | None = None
) -> CommentsIngestResult:
    """Ingest a comments file (CSV/JSONL, optionally gzipped).

    Raises:
        InputError: a row is invalid; the message names file, line and field, and nothing
            from the file is stored.
    """
    path = Path(path)
    started = time.perf_counter()
    report = progress or (lambda _stage, _done, _total: None)
    with session_scope(settings) as session:
        known = {(e.series_id, e.episode_id) for e in session.exec(select(Episode))}

    total = _count_valid(path, known, report)

    key = settings.author_key
    index = CommentIndex(settings)
    embedder = get_embedder(settings)
    writer = PipelinedWriter(
        index,
        embedder,
        batch_size=settings.embed_batch_size,
        cache=VectorCache(CACHED_TEXTS),
    )
    engine = get_engine(settings)
    settings.home.mkdir(parents=True, exist_ok=True)
    with (
        tempfile.NamedTemporaryFile("w+", suffix=".jsonl", dir=settings.home) as spool,
        index.writing(),
    ):
        batches = _Batches(engine, key, writer, spool, report, total)
        batch: list[CommentRow] = []
        try:
            for _line, row in _validated(path, known):
                batch.append(row)
                if len(batch) >= BATCH:
                    batches.add(batch)
            if batch:
                batches.add(batch)
            writer.finish()
            index.flush()  # every vector is in before SQL commits
            _store(
                settings,
                spool,
                path,
                report,
                rows=total,
                new=len(batches.new_ids),
                redactions=batches.redactions,
                started=started,
            )
        except BaseException as failure:
            try:
                index.delete(batches.new_ids)
            except Exception as cleanup:  # noqa: BLE001 - the first failure is the one to report
                failure.add_note(
                    f"the comment index could not be cleaned up ({cleanup}); "
                    "run `writers-room index rebuild`"
                )
            raise
    return CommentsIngestResult(
        rows=total,
        inserted=len(batches.new_ids),
        redactions=batches.redactions,
        duration_s=time.perf_counter() - started,
    )


class _Batches:
    """The second pass, one batch at a time: skip stored ids, redact, index, spool."""

    def __init__(
        self,
        engine: Engine,
        key: bytes,
        writer: PipelinedWriter,
        spool: Any,
        report: Progress,
        total: int,
    ) -> None:
        self.engine = engine
        self.key = key
        self.writer = writer
        self.spool = spool
        self.report = report
        self.total = total
        self.new_ids: list[str] = []
        self.seen: set[str] = set()
        self.redactions = 0
        self.done = 0

    def add(self, batch: list[CommentRow]) -> None:
        """Take one batch (and empty it, for the next)."""
        ids = [r.comment_id for r in batch]
        with Session(self.engine) as read:
            stored = _existing_ids(read, ids)
        fresh = _redacted(batch, stored, self.seen, self.key)
        self.redactions += sum(c.redactions for c in fresh)
        if fresh:
            # Recorded before any write, so a failure deletes whatever was written.
            self.new_ids.extend(c.comment_id for c in fresh)
            # Written to the index while the next batch is embedded.
            self.writer.add(fresh)
            for c in fresh:
                self.spool.write(json.dumps({**c._asdict(), "ts": c.ts.isoformat()}) + "\n")
        self.done += len(batch)
        self.report("embed", self.done, self.total)
        batch.clear()


def _count_valid(path: Path, known: set[tuple[str, str]], report: Progress) -> int:
    """The first pass: every row valid and no comment id twice; the number of rows."""
    total = 0
    lines: dict[str, int] = {}
    for line, row in _validated(path, known):
        refuse_duplicate(
            lines, row.comment_id, path, line, field="comment_id", what=repr(row.comment_id)
        )
        total += 1
        if total % 5000 == 0:
            report("validate", total, 0)
    del lines
    report("validate", total, total)
    return total


def _redacted(
    batch: list[CommentRow], stored: set[str], seen: set[str], key: bytes
) -> list[_Fresh]:
    """The batch's comments not stored or seen before, redacted and pseudonymised."""
    fresh: list[_Fresh] = []
    for r in batch:
        if r.comment_id in stored or r.comment_id in seen:
            continue
        seen.add(r.comment_id)
        clean = redact(r.text)
        fresh.append(
            _Fresh(
                comment_id=r.comment_id,
                series_id=r.series_id,
                episode_id=r.episode_id,
                author_hash=pseudonymise(r.author_id, key),
                text=clean.text,
                ts=r.ts,
                likes=r.likes,
                parent_id=r.parent_id,
                platform=r.platform,
                redactions=clean.count,
            )
        )
    return fresh


def _store(
    settings: Settings,
    spool: Any,
    path: Path,
    report: Progress,
    *,
    rows: int,
    new: int,
    redactions: int,
    started: float,
) -> None:
    """The third pass: the spooled rows into SQL, and the ingest recorded, in one transaction."""
    spool.flush()
    spool.seek(0)
    report("store", 0, new)
    with session_scope(settings) as session:
        stored_count = _insert_spooled(session, spool, report, new)
        record_ingest(
            session,
            kind="comments",
            path=path,
            sha256=file_sha256(path),
            rows=rows,
            inserted=stored_count,
            duration_s=time.perf_counter() - started,
            detail={"redactions": redactions},
        )


def _insert_spooled(session: Session, spool: Any, report: Progress, total: int) -> int:
    dialect = session.get_bind().dialect.name
    table = Comment.__table__  # type: ignore[attr-defined]
    stored = 0
    chunk: list[dict[str, Any]] = []

    def write() -> None:
        nonlocal stored
        if dialect == "sqlite":
            stmt: Any = sqlite_insert(table).on_conflict_do_nothing(index_elements=["comment_id"])
        elif dialect == "postgresql":
            stmt = pg_insert(table).on_conflict_do_nothing(index_elements=["comment_id"])
        else:
            stmt = insert(table)
        session.execute(stmt, chunk)
        stored += len(chunk)
        report("store", stored, total)
        chunk.clear()

    for text in spool:
        values = json.loads(text)
        values["ts"] = datetime.fromisoformat(values["ts"])
        chunk.append(values)
        if len(chunk) >= 5000:
            write()
    if chunk:
        write()
    return stored
