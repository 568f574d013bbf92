"""The comment index: Chroma collections rebuilt from SQL whenever needed.

Chroma is an index, not a store. The embedded ``PersistentClient`` is not safe with
several writing processes, so every write takes an exclusive file lock in the home;
with ``WRITERS_ROOM_CHROMA_URL`` set the server serialises writes and the lock is local.

Each entry is a comment id, its vector and the metadata queries filter on (series,
episode, author hash, time, likes). The text itself stays in SQL: callers read it there
by id. Keeping documents out of Chroma (its full-text index) and only the listed keys in
its metadata tables made embedded writes ~35 % faster (654 → 890 vectors/s bare, 2 cores).

**Shards.** One embedded Chroma writes in one process at the speed of one core, and its
cost per vector grows with the collection. With ``WRITERS_ROOM_INDEX_SHARDS=N`` (N > 1) the
embedded index is N independent Chromas under ``chroma/shard-KK/``, each comment in the
shard its id hashes to, each written by its own process (:class:`_ShardWriters`); reads
ask every shard and merge. The layout on disk wins over the setting (``chroma/shards.json``
records it); ``writers-room index rebuild`` re-shards to the setting.

**Fresh reads.** An embedded client loads the vector index once and does not see another
process's later writes. Every write bumps ``chroma/generation``; a reader whose client is
older than that file reopens it (see :func:`_client_for`).
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from functools import partial
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlparse

import numpy as np
from sqlmodel import col, func, select

from writers_room.children import child_connection, start_child, stop_children
from writers_room.config import Settings
from writers_room.errors import InputError, RoomError
from writers_room.index.embedding import VectorCache, get_embedder
from writers_room.store.db import audit, session_scope
from writers_room.store.models import Comment

__all__ = [
    "COLLECTION",
    "CommentIndex",
    "IndexedComment",
    "PipelinedWriter",
    "RebuildResult",
    "comment_metadata",
    "configured_shards",
    "index_shards",
    "rebuild_index",
    "shard_of",
]

COLLECTION = "comments"
SHARDS_FILE = "shards.json"
GENERATION_FILE = "generation"
Progress = Callable[[int, int], None]


class IndexedComment(Protocol):
    """What the index reads from a comment: a stored :class:`Comment` or a row on its way."""

    @property
    def comment_id(self) -> str: ...
    @property
    def series_id(self) -> str: ...
    @property
    def episode_id(self) -> str: ...
    @property
    def author_hash(self) -> str: ...
    @property
    def text(self) -> str: ...
    @property
    def ts(self) -> datetime: ...
    @property
    def likes(self) -> int: ...


def comment_metadata(row: IndexedComment) -> dict[str, Any]:
    """The metadata stored beside each comment vector (what queries filter on)."""
    return {
        "series_id": row.series_id,
        "episode_id": row.episode_id,
        "author_hash": row.author_hash,
        "ts": int(row.ts.timestamp()),
        "likes": int(row.likes),
    }


def shard_of(comment_id: str, shards: int) -> int:
    """The shard holding ``comment_id`` (a stable hash of the id)."""
    if shards <= 1:
        return 0
    digest = hashlib.blake2b(comment_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % shards


def configured_shards(settings: Settings) -> int:
    """The shard count a new index gets: the setting, or for 0 one from the cores.

    Up to 4 cores, one shard (the embedder needs the cores, and each shard is a process);
    above, 3/4 of the cores (at most 16): on a 16-core GPU host 12 shards ingested 2.9×
    as fast as one (``benchmarks/gpu_ingest.py``).
    """
    if settings.chroma_url:
        return 1
    if settings.index_shards:
        return settings.index_shards
    from writers_room.index.embedding import usable_cores

    cores = usable_cores()
    return 1 if cores <= 4 else min(16, cores * 3 // 4)


def index_shards(settings: Settings) -> int:
    """How many shards the index has: as laid out on disk, else as configured."""
    if settings.chroma_url:
        return 1
    marker = settings.chroma_path / SHARDS_FILE
    if marker.is_file():
        try:
            shards = int(json.loads(marker.read_text(encoding="utf-8"))["shards"])
        except (ValueError, KeyError, TypeError) as exc:
            raise InputError(
                f"{marker}: unreadable shard layout ({exc}); "
                "run `writers-room index rebuild` to recreate the index from SQL",
                file=str(marker),
            ) from exc
        if shards < 1:
            raise InputError(
                f"{marker}: field 'shards': {shards} is not a shard count; "
                "run `writers-room index rebuild`",
                file=str(marker),
                field="shards",
            )
        return shards
    if (settings.chroma_path / "chroma.sqlite3").exists():
        return 1  # an index written before shards existed
    return configured_shards(settings)


def _shard_paths(settings: Settings, shards: int) -> list[Path]:
    root = settings.chroma_path
    return [root] if shards == 1 else [root / f"shard-{k:02d}" for k in range(shards)]


def _chroma_settings() -> Any:
    from chromadb.config import Settings as ChromaSettings

    return ChromaSettings(anonymized_telemetry=False, allow_reset=False)


def _persistent_client(path: Path) -> Any:
    import chromadb

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=_chroma_settings())


def _http_client(url_text: str) -> Any:
    import chromadb

    url = urlparse(url_text)
    return chromadb.HttpClient(
        host=url.hostname or "localhost",
        port=url.port or (443 if url.scheme == "https" else 8000),
        ssl=url.scheme == "https",
        settings=_chroma_settings(),
    )


def _open_collection(client: Any) -> Any:
    return client.get_or_create_collection(
        COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}}
    )


def _generation(settings: Settings) -> str:
    """The token of the index's last write ("" before any)."""
    try:
        return (settings.chroma_path / GENERATION_FILE).read_text(encoding="utf-8")
    except FileNotFoundError:
        return ""


def _new_generation(settings: Settings) -> str:
    token = uuid.uuid4().hex
    path = settings.chroma_path / GENERATION_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    spare = path.with_suffix(".tmp")
    spare.write_text(token, encoding="utf-8")
    os.replace(spare, path)
    return token


# Embedded clients by path, with the generation they were opened at.
_clients: dict[str, tuple[Any, str]] = {}
_http_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _client_for(path: Path, generation: str) -> Any:
    """The embedded client of ``path``, reopened if the index was written since it opened.

    Chroma keeps one client per path in a process, and that client's vector index is what
    it loaded: closing it and opening a new one reads the other writers' vectors too.
    """
    key = str(path.resolve())
    with _clients_lock:
        hit = _clients.get(key)
        if hit is not None and hit[1] == generation:
            return hit[0]
        if hit is not None:
            hit[0].close()
        client = _persistent_client(path)
        _clients[key] = (client, generation)
        return client


def _forget_client(path: Path) -> None:
    """Close this process's client of ``path``, if it has one."""
    with _clients_lock:
        hit = _clients.pop(str(path.resolve()), None)
    if hit is not None:
        hit[0].close()


def _adopt_generation(path: Path, generation: str) -> None:
    """Mark the client of ``path`` in this process as up to date with ``generation``."""
    key = str(path.resolve())
    with _clients_lock:
        hit = _clients.get(key)
        if hit is not None:
            _clients[key] = (hit[0], generation)


class CommentIndex:
    """Vector index of redacted comments, keyed by ``comment_id``."""

    def __init__(self, settings: Settings, *, shards: int | None = None) -> None:
        self.settings = settings
        self.shards = index_shards(settings) if shards is None else shards
        self._paths = _shard_paths(settings, self.shards)
        self._lock_path = settings.home / ".chroma.lock"
        self._writers: _ShardWriters | None = None
        self._writing = False

    def _shard_writers(self) -> _ShardWriters | None:
        """The shard writer processes of a sharded write (started on first use)."""
        if self._writing and self._writers is None:
            self._writers = _ShardWriters(self._paths)
        return self._writers

    def _clients(self) -> list[Any]:
        url = self.settings.chroma_url
        if url:
            with _clients_lock:
                if url not in _http_clients:
                    _http_clients[url] = _http_client(url)
                return [_http_clients[url]]
        generation = _generation(self.settings)
        return [_client_for(path, generation) for path in self._paths]

    @property
    def collection(self) -> Any:
        """The collection to read: Chroma's own, or one that asks every shard."""
        collections = [_open_collection(client) for client in self._clients()]
        return collections[0] if len(collections) == 1 else ShardedCollection(collections)

    @contextmanager
    def writing(self) -> Iterator[CommentIndex]:
        """Hold the single-writer lock for the duration of a write.

        Embedded writes are checked against (and bump) the index's generation, so other
        processes reopen their clients; sharded writes go to one process per shard.
        """
        self.settings.home.mkdir(parents=True, exist_ok=True)
        fd = os.open(self._lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            embedded = not self.settings.chroma_url
            self._writing = embedded and self.shards > 1
            try:
                yield self
                self.flush()
            finally:
                if self._writers is not None:
                    self._writers.close()
                    self._writers = None
                self._writing = False
                if embedded:
                    _write_layout(self.settings, self.shards)
                    generation = _new_generation(self.settings)
                    if self.shards == 1:
                        _adopt_generation(self._paths[0], generation)
        finally:
            fcntl.flock(fd, fcntl.LOCK_UN)
            os.close(fd)

    def upsert(self, rows: Sequence[IndexedComment], vectors: np.ndarray) -> None:
        """Write ``rows`` with their vectors (call inside :meth:`writing`).

        Sharded, the parts are handed to the shard writers and this returns once the
        previous write has finished; :meth:`flush` (or the end of :meth:`writing`) waits
        for the last.
        """
        ids = [row.comment_id for row in rows]
        metadatas = [comment_metadata(row) for row in rows]
        writers = self._shard_writers()
        if writers is not None:
            writers.wait()
            for shard, picked in _by_shard(ids, self.shards).items():
                writers.send(
                    shard,
                    (
                        "upsert",
                        [ids[i] for i in picked],
                        vectors[picked],
                        [metadatas[i] for i in picked],
                    ),
                )
            return
        _apply(self._clients()[0], ("upsert", ids, vectors, metadatas))

    def flush(self) -> None:
        """Wait until every write handed to the shard writers is in the index.

        Raises:
            RoomError: a shard could not be written (naming the shard and why).
        """
        if self._writers is not None:
            self._writers.wait()

    def delete(self, ids: Sequence[str]) -> None:
        """Remove ``ids`` (call inside :meth:`writing`)."""
        writers = self._shard_writers()
        if writers is not None:
            writers.wait()
            for shard, picked in _by_shard(list(ids), self.shards).items():
                writers.send(shard, ("delete", [ids[i] for i in picked]))
            writers.wait()
            return
        _apply(self._clients()[0], ("delete", list(ids)))

    def count(self) -> int:
        return int(self.collection.count())

    def drop(self) -> None:
        """Delete every shard's collection (inside :meth:`writing`, before any write)."""
        for client in self._clients():
            try:
                client.delete_collection(COLLECTION)
            except Exception:  # noqa: BLE001 - absent collection: nothing to drop
                pass

    def query(
        self, text: str, *, k: int = 10, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` comments nearest to ``text`` as (comment_id, cosine distance)."""
        return self.nearest(self.embed(text), k=k, where=where)

    def embed(self, text: str) -> np.ndarray:
        """The query vector of ``text`` (for several :meth:`nearest` calls, embed once)."""
        return np.asarray(get_embedder(self.settings).encode([text]))

    def nearest(
        self, vector: np.ndarray, *, k: int = 10, where: dict[str, Any] | None = None
    ) -> list[tuple[str, float]]:
        """The ``k`` comments nearest to a query vector from :meth:`embed`."""
        found = self.collection.query(query_embeddings=vector, n_results=k, where=where)
        return list(zip(found["ids"][0], found["distances"][0], strict=True))


def _apply(client: Any, write: tuple[Any, ...]) -> None:
    """Apply ``("upsert", ids, vectors, metadatas)`` or ``("delete", ids)`` to the
    client's collection, in batches Chroma accepts."""
    collection = _open_collection(client)
    batch = client.get_max_batch_size()
    op, ids = write[0], write[1]
    for start in range(0, len(ids), batch):
        part = slice(start, start + batch)
        if op == "upsert":
            collection.upsert(ids=ids[part], embeddings=write[2][part], metadatas=write[3][part])
        else:
            collection.delete(ids=list(ids[part]))


def _by_shard(ids: Sequence[str], shards: int) -> dict[int, list[int]]:
    """Positions of ``ids`` grouped by shard."""
    groups: dict[int, list[int]] = {}
    for position, comment_id in enumerate(ids):
        groups.setdefault(shard_of(comment_id, shards), []).append(position)
    return groups


def _write_layout(settings: Settings, shards: int) -> None:
    """Record a sharded layout; an unsharded index has no layout file (as before shards)."""
    marker = settings.chroma_path / SHARDS_FILE
    if shards == 1:
        marker.unlink(missing_ok=True)
        return
    marker.parent.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps({"shards": shards}) + "\n", encoding="utf-8")


_readers: ThreadPoolExecutor | None = None


def _each(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run ``calls`` on a shared thread pool (Chroma reads release the GIL) in order."""
    global _readers
    with _clients_lock:
        if _readers is None:
            _readers = ThreadPoolExecutor(max_workers=16, thread_name_prefix="index-read")
    return list(_readers.map(lambda call: call(), calls))


class ShardedCollection:
    """Reads over several shard collections as if they were one (get, query, count).

    The shards are asked at the same time, on a thread pool.
    """

    def __init__(self, collections: Sequence[Any]) -> None:
        self.collections = list(collections)

    def count(self) -> int:
        return sum(_each([c.count for c in self.collections]))

    def get(
        self,
        ids: Sequence[str] | None = None,
        *,
        where: dict[str, Any] | None = None,
        include: Sequence[str] = ("metadatas", "documents"),
    ) -> dict[str, Any]:
        """Chroma's ``get`` over all shards; with ``ids``, results keep their order."""
        include = list(include)
        keys = ["ids", *include]
        merged: dict[str, list[Any]] = {key: [] for key in keys}
        if ids is not None:
            groups = _by_shard(ids, len(self.collections))
            parts = _each(
                [
                    partial(
                        self.collections[shard].get,
                        ids=[ids[i] for i in picked],
                        where=where,
                        include=include,
                    )
                    for shard, picked in sorted(groups.items())
                ]
            )
        else:
            parts = _each([partial(c.get, where=where, include=include) for c in self.collections])
        for part in parts:
            for key in keys:
                values = part.get(key)
                if values is not None:
                    merged[key].extend(list(values))
        if ids is not None:
            rank = {comment_id: i for i, comment_id in enumerate(ids)}
            order = sorted(range(len(merged["ids"])), key=lambda i: rank[merged["ids"][i]])
            merged = {key: [values[i] for i in order] for key, values in merged.items()}
        result: dict[str, Any] = dict(merged)
        if "embeddings" in result:
            result["embeddings"] = np.asarray(result["embeddings"], dtype=np.float32).reshape(
                len(result["ids"]), -1
            )
        return result

    def query(
        self,
        *,
        query_embeddings: Any,
        n_results: int = 10,
        where: dict[str, Any] | None = None,
    ) -> dict[str, Any]:
        """Each shard's ``n_results`` nearest, merged: the ``n_results`` nearest overall."""
        queries = np.atleast_2d(np.asarray(query_embeddings, dtype=np.float32))
        ids: list[list[str]] = []
        distances: list[list[float]] = []
        answers = _each(
            [
                partial(
                    c.query,
                    query_embeddings=queries,
                    n_results=n_results,
                    where=where,
                    include=["distances"],
                )
                for c in self.collections
            ]
        )
        for row in range(len(queries)):
            pairs = [
                (float(distance), comment_id)
                for answer in answers
                for comment_id, distance in zip(
                    answer["ids"][row], answer["distances"][row], strict=True
                )
            ]
            pairs.sort()
            ids.append([comment_id for _, comment_id in pairs[:n_results]])
            distances.append([distance for distance, _ in pairs[:n_results]])
        return {"ids": ids, "distances": distances}


class _ShardWriters:
    """One process per shard, each writing its own embedded Chroma.

    Chroma's embedded writer works at the speed of one core per process (threads in one
    process wait for each other); independent shards in their own processes don't. The
    processes live for one :meth:`CommentIndex.writing` block, so none outlives the lock
    or keeps a stale copy of a shard.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self._connections: list[Connection] = []
        self._processes: list[subprocess.Popen[bytes]] = []
        self._pending = [0] * len(paths)
        self._failed: dict[int, str] = {}
        self._paths = list(paths)
        try:
            for path in paths:
                process, connection = start_child(_SHARD_CHILD, str(path))
                self._processes.append(process)
                self._connections.append(connection)
        except BaseException:
            self.close()
            raise

    def send(self, shard: int, message: tuple[Any, ...]) -> None:
        try:
            self._connections[shard].send(message)
        except OSError:
            self._failed[shard] = "writer process died"
        else:
            self._pending[shard] += 1

    def wait(self) -> None:
        """Wait for every write handed over; raise the first shard's failure."""
        for shard, connection in enumerate(self._connections):
            while self._pending[shard]:
                try:
                    answer = connection.recv()
                except (EOFError, OSError):
                    self._pending[shard] = 0
                    self._failed.setdefault(shard, "writer process died")
                    break
                self._pending[shard] -= 1
                if answer is not None:
                    self._failed.setdefault(shard, answer)
        if self._failed:
            failures, self._failed = self._failed, {}
            raise RoomError(
                "comment index write failed: "
                + "; ".join(
                    f"shard {shard} ({self._paths[shard]}): {why}"
                    for shard, why in sorted(failures.items())
                )
            )

    def close(self) -> None:
        stop_children(self._connections, self._processes, timeout=30)


_SHARD_CHILD = (
    "import sys\n"
    "from writers_room.index.chroma import _shard_writer_main\n"
    "_shard_writer_main(int(sys.argv[1]), sys.argv[2])\n"
)


def _shard_writer_main(fd: int, path: str) -> None:
    """A shard writer: apply each write its parent sends, answer None or why not.

    Exits when its parent closes the connection (or dies).
    """
    connection = child_connection(fd)
    try:
        client = _persistent_client(Path(path))
    except Exception as exc:  # noqa: BLE001 - every request is answered with why
        broken = f"cannot open the shard: {type(exc).__name__}: {exc}"
        while True:
            try:
                connection.recv()
                connection.send(broken)
            except (EOFError, OSError):
                return
    while True:
        try:
            message = connection.recv()
        except (EOFError, OSError):
            return
        try:
            _apply(client, message)
            connection.send(None)
        except Exception as exc:  # noqa: BLE001 - reported to the parent, which raises
            connection.send(f"{type(exc).__name__}: {exc}")


class PipelinedWriter:
    """Writes each batch to the index while the next one is being embedded.

    :meth:`add` starts embedding a batch (in the embedder's worker processes, which keep
    computing while Chroma holds the GIL), writes the batch before it, then waits for the
    new vectors; :meth:`finish` writes the last one. At most two batches are held.
    Repeated texts are embedded once (a :class:`VectorCache` per writer).
    """

    def __init__(
        self,
        index: CommentIndex,
        embedder: Any,
        *,
        batch_size: int = 256,
        cache: VectorCache | None = None,
        written: Callable[[int], None] | None = None,
    ) -> None:
        self.index = index
        self.embedder = embedder
        self.batch_size = batch_size
        self.cache = cache if cache is not None else VectorCache()
        self.written = written
        self._ready: tuple[Sequence[IndexedComment], np.ndarray] | None = None

    def add(self, rows: Sequence[IndexedComment]) -> None:
        job = self.embedder.submit(
            [row.text for row in rows], batch_size=self.batch_size, cache=self.cache
        )
        self.finish()
        self._ready = (rows, job.result())

    def finish(self) -> None:
        """Write the batch still waiting (call inside :meth:`CommentIndex.writing`)."""
        if self._ready is not None:
            rows, vectors = self._ready
            self._ready = None
            self.index.upsert(rows, vectors)
            if self.written:
                self.written(len(rows))


@dataclass(frozen=True)
class RebuildResult:
    sql_comments: int
    indexed: int
    shards: int = 1


def rebuild_index(
    settings: Settings, *, batch_size: int = 2048, progress: Progress | None = None
) -> RebuildResult:
    """Drop the comment index and recreate it from the SQL comments.

    The new index has the configured number of shards (:func:`configured_shards`),
    whatever the old one had.
    """
    old = CommentIndex(settings)
    index = CommentIndex(settings, shards=configured_shards(settings))
    embedder = get_embedder(settings)
    with session_scope(settings) as session:
        total = session.exec(select(func.count()).select_from(Comment)).one()
    done = 0
    with index.writing():
        old.drop()
        with session_scope(settings) as session:
            rows = session.exec(select(Comment).order_by(col(Comment.comment_id))).yield_per(
                batch_size
            )

            def written(count: int) -> None:
                nonlocal done
                done += count
                if progress:
                    progress(done, total)

            writer = PipelinedWriter(index, embedder, written=written)
            batch: list[Comment] = []
            for row in rows:
                batch.append(row)
                if len(batch) == batch_size:
                    writer.add(batch)
                    batch = []
            if batch:
                writer.add(batch)
            writer.finish()
    # Shard folders the new layout does not use are removed (the root one holds the rest).
    for path in set(old._paths) - set(index._paths) - {settings.chroma_path}:
        _forget_client(path)
        shutil.rmtree(path, ignore_errors=True)
    indexed = CommentIndex(settings).count()
    with session_scope(settings) as session:
        audit(
            session,
            actor="system",
            action="index.rebuild",
            detail={"sql_comments": total, "indexed": indexed, "shards": index.shards},
        )
    return RebuildResult(sql_comments=total, indexed=indexed, shards=index.shards)
