"""Motion and encode in a helper process: clips rendered in parallel, joined, encoded once.

The render process starts one helper (``python -m writers_room.render._compose SPEC``)
before the keyframes exist and tells it, one line per shot on its stdin, when each
keyframe file is ready. The helper

* starts the encoder at once (it waits for frames on its stdin);
* runs each shot's clip command (see :func:`writers_room.render.motion.clip_plan`) as
  soon as its keyframe is ready (``N`` on stdin: the PNG is in place; ``N raw``: the raw
  RGB copy is, which comes sooner), ``workers`` at a time, in shot order, reading the
  raw frames into a bounded buffer per clip, so later clips render while earlier ones
  encode; ``N frames`` says the render process has already made the clip's frames (on
  the GPU, :mod:`writers_room.render.motion_torch`) into the clip's ``frames_file``,
  which the helper then reads instead of running the clip command (and deletes);
* writes the frames to the encoder in timeline order, blending each clip's head with the
  previous clip's tail (the cross-fade, the same linear mix as ffmpeg's ``xfade=fade``);
* forwards the encoder's ``frame=N`` progress lines on its stdout.

With ``chunks`` in the spec (see :func:`writers_room.render.encode.chunk_ranges`) the
ladder is encoded by several encoders at once, one per time range: the writer hands
each frame to the queue of the chunk it falls in, a feeder thread per chunk writes to
that chunk's encoder, and once every chunk encoder has finished the ``package`` command
joins their outputs into the HLS folder. Progress then counts the frames of all chunks.

Why a process and not threads of the render process: relaying ~2.8 GB of frames takes a
few thousand GIL acquisitions, and while keyframes render the GIL is held by the
diffusers loop nearly all the time (each wait costs up to the 5 ms switch interval). A
process of its own also lowers its priority (``nice``), and its children inherit that,
so ffmpeg's threads never starve the one thread that keeps the GPU busy. Clips run lower
still: the encoder is the bottleneck (it alone keeps ~12 of 16 cores busy), clips run
ahead of it into their buffers, and clip work that preempts x264's critical path slows
the whole ladder.

``WRITERS_ROOM_COMPOSE_STATS=<file>`` makes the helper write where its time went (clip
start and end times, time the writer waited for frames or for the encoder) as JSON.

The relay only moves bytes and blends a few frames per cut; it needs numpy and nothing
else from the room.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO, Any

__all__ = ["ClipSpec", "EpisodeJob", "lower_thread_priority", "main"]

# Bytes of buffered frames the helper may hold across the clips rendered ahead.
BUFFER_BYTES = 1 << 30
# Bytes of timeline frames each chunk encoder may have queued (chunked encodes only).
CHUNK_BUFFER_BYTES = 1 << 30
# Linux: a 1 MiB pipe (the unprivileged maximum) moves a frame in 3 system calls, not 48.
_F_SETPIPE_SZ = 1031
_PIPE_BYTES = 1 << 20
_STDERR_TAIL = 4000


@dataclass(frozen=True)
class ClipSpec:
    """One clip as the helper sees it (see :class:`writers_room.render.motion.Clip`)."""

    args: list[str]
    raw_args: list[str] | None
    frames: int
    head: int
    tail: int
    frames_file: str | None = None
    """Where the render process may put the clip's finished frames (``N frames``)."""


def _grow_pipe(fd: int) -> None:
    try:
        import fcntl

        fcntl.fcntl(fd, _F_SETPIPE_SZ, _PIPE_BYTES)
    except (ImportError, OSError):  # not Linux, or capped lower: the default pipe works
        pass


def _tail(handle: IO[bytes]) -> str:
    handle.seek(0)
    return handle.read().decode("utf-8", "replace")[-_STDERR_TAIL:].strip()


# --------------------------------------------------------------------------------------
# The render process's side.


class EpisodeJob:
    """The helper process, seen from the render process.

    Args:
        clips: One clip per shot, in order.
        encoder: The encoder's argument list (:func:`~writers_room.render.encode.hls_command`);
            unused when ``chunks`` are given.
        cwd: Working directory of every ffmpeg command (the render folder).
        spec_dir: Where the helper's spec file is written.
        size: Frame size (width, height) of the clips.
        total_frames: Frames of the whole episode.
        workers: Clips rendered at the same time.
        nice: Niceness added to the helper and the encoder.
        clip_nice: Niceness added on top of that to the clip processes (see the module
            docstring).
        chunks: ``(start_frame, end_frame, encoder)`` per time chunk, in order, covering
            the timeline (:func:`~writers_room.render.encode.chunk_command`); empty for
            the single encoder.
        audio: A command run beside the chunk encoders, finished before ``package``
            (:func:`~writers_room.render.encode.audio_command`).
        package: The command that joins the chunks' outputs, run once they are all
            encoded (:func:`~writers_room.render.encode.package_command`).
    """

    def __init__(
        self,
        clips: Sequence[ClipSpec],
        encoder: list[str],
        *,
        cwd: Path,
        spec_dir: Path,
        size: tuple[int, int],
        total_frames: int,
        workers: int,
        nice: int = 5,
        clip_nice: int = 5,
        chunks: Sequence[tuple[int, int, list[str]]] = (),
        audio: list[str] | None = None,
        package: list[str] | None = None,
    ) -> None:
        width, height = size
        frame_bytes = width * height * 3 // 2
        spec = {
            "cwd": str(cwd),
            "frame_bytes": frame_bytes,
            "total_frames": total_frames,
            "workers": max(1, workers),
            # Enough to hold whole clips ahead at 1080p; never so little that a clip stalls.
            "buffer_frames": max(16, BUFFER_BYTES // max(1, workers) // frame_bytes),
            "nice": nice,
            "clip_nice": clip_nice,
            "clips": [asdict(clip) for clip in clips],
            "encoder": encoder,
            "chunks": [{"start": a, "end": b, "encoder": list(c)} for a, b, c in chunks],
            "audio": audio,
            "package": package,
        }
        spec_dir.mkdir(parents=True, exist_ok=True)
        spec_path = spec_dir / "compose.json"
        spec_path.write_text(json.dumps(spec), "utf-8")
        self.total_frames = total_frames
        self.frames_done = 0
        self._count = len(clips)
        self._sent: set[int] = set()
        self._lock = threading.Lock()
        self._stderr = tempfile.TemporaryFile()
        env = dict(os.environ)
        # The helper imports this package: make sure it finds the same copy, wherever the
        # render process found it (an installed wheel, a source tree on sys.path).
        root = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join(p for p in (root, env.get("PYTHONPATH")) if p)
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "writers_room.render._compose", str(spec_path)],
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            env=env,
            # Its own process group: an abort can stop the helper's ffmpeg children too.
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read_progress, daemon=True)
        self._reader.start()

    def _read_progress(self) -> None:
        assert self._proc.stdout is not None
        for line in self._proc.stdout:
            if line.startswith(b"frame="):
                try:
                    self.frames_done = int(line[6:])
                except ValueError:
                    pass

    def ready(self, index: int, *, raw: bool = False, frames: bool = False) -> None:
        """Tell the helper that shot ``index``'s keyframe is in place (first call counts).

        Args:
            index: The shot.
            raw: The raw RGB copy is in place (the PNG may not be yet).
            frames: The clip's frames are in its ``frames_file`` already.
        """
        with self._lock:
            if index in self._sent:
                return
            self._sent.add(index)
            kind = " frames" if frames else " raw" if raw else ""
            try:
                assert self._proc.stdin is not None
                self._proc.stdin.write(f"{index}{kind}\n".encode())
                self._proc.stdin.flush()
            except (BrokenPipeError, ValueError):  # the helper failed; wait() reports why
                pass

    def wait(self, progress: Callable[[int, int], None] | None = None) -> None:
        """Wait for the encode to finish, calling ``progress(frames, total)`` meanwhile.

        Progress is reported from the calling thread, as the rest of the render does.

        Raises:
            FFmpegError: the helper, a clip or the encoder failed.
        """
        from writers_room.render._ffmpeg import FFmpegError

        with self._lock:
            missing = sorted(set(range(self._count)) - self._sent)
            self._close_stdin()
        reported = -1
        while True:
            try:
                returncode = self._proc.wait(timeout=0.2)
                break
            except subprocess.TimeoutExpired:
                if progress is not None and self.frames_done != reported:
                    reported = self.frames_done
                    progress(min(reported, self.total_frames), self.total_frames)
        self._reader.join()
        stderr = _tail(self._stderr)
        self._stderr.close()
        if returncode != 0 or missing:
            raise FFmpegError(
                f"motion/encode helper exited with status {returncode}: "
                f"{stderr or '(no output)'}"
                + (f" (keyframes never announced: {missing})" if missing else ""),
                returncode=returncode,
                stderr=stderr,
            )
        if progress is not None:
            progress(self.total_frames, self.total_frames)

    def abort(self) -> None:
        """Stop the helper and everything it started; returns once they are gone."""
        with self._lock:
            self._close_stdin()
        try:
            # End of input before every keyframe arrived makes the helper stop its
            # children and exit; that leaves no ffmpeg writing into a folder being deleted.
            self._proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            try:
                os.killpg(self._proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self._proc.wait()
        self._reader.join(timeout=5)
        self._stderr.close()

    def _close_stdin(self) -> None:
        try:
            if self._proc.stdin is not None and not self._proc.stdin.closed:
                self._proc.stdin.close()
        except BrokenPipeError:
            pass


# --------------------------------------------------------------------------------------
# The helper's side.


class _Failed(Exception):
    """Something the helper runs failed; the message says what."""


class _Composer:
    def __init__(self, spec: dict[str, Any]) -> None:
        self.cwd = spec["cwd"]
        self.frame_bytes = int(spec["frame_bytes"])
        self.total_frames = int(spec["total_frames"])
        self.workers = int(spec["workers"])
        self.clips = [ClipSpec(**clip) for clip in spec["clips"]]
        self.encoder_args = list(spec["encoder"])
        self.chunks: list[dict[str, Any]] = list(spec.get("chunks") or [])
        self.package_args: list[str] | None = spec.get("package")
        self.audio_args: list[str] | None = spec.get("audio")
        # Per chunk: up to CHUNK_BUFFER_BYTES of frames (a whole 1080p chunk of a 30-s
        # episode in four) wait in memory for its encoder, so the writer seldom stalls a
        # later chunk's encoder behind an earlier one's.
        per_chunk = max(16, CHUNK_BUFFER_BYTES // self.frame_bytes)
        self.chunk_queues: list[queue.Queue[Any]] = [
            queue.Queue(maxsize=max(1, min(per_chunk, int(c["end"]) - int(c["start"]))))
            for c in self.chunks
        ]
        self.chunk_frames = [0] * len(self.chunks)
        self.progress_lock = threading.Lock()
        self.clip_nice = int(spec.get("clip_nice", 0))
        self.raw: set[int] = set()
        self.made: set[int] = set()  # clips whose frames the render process wrote
        self.started_at = time.perf_counter()
        self.stats: dict[str, Any] = {"clips": {}, "wait_frames_s": 0.0, "wait_encoder_s": 0.0}
        self.cond = threading.Condition()
        self.ready: set[int] = set()
        self.input_closed = False
        self.running = 0
        self.failure: str | None = None
        self.started = [threading.Event() for _ in self.clips]
        size = max(1, int(spec["buffer_frames"]))
        self.queues: list[queue.Queue[Any]] = [queue.Queue(maxsize=size) for _ in self.clips]
        self.children: list[subprocess.Popen[bytes]] = []

    # -- failure -----------------------------------------------------------------------

    def fail(self, message: str) -> None:
        with self.cond:
            if self.failure is None:
                self.failure = message
            self.cond.notify_all()

    def check(self) -> None:
        if self.failure is not None:
            raise _Failed(self.failure)

    # -- threads -----------------------------------------------------------------------

    def read_control(self) -> None:
        """Shot indices whose keyframes are ready, one per line, until end of input.

        Reads the raw descriptor, not ``sys.stdin``: the helper may finish while this
        thread still waits for input, and a daemon thread blocked inside a buffered
        reader makes interpreter shutdown abort (it cannot take the reader's lock).
        """
        for line in _lines(0):
            fields = line.split()
            try:
                index = int(fields[0])
            except (IndexError, ValueError):
                continue
            with self.cond:
                if fields[1:] == [b"raw"] and self.clips[index].raw_args is not None:
                    self.raw.add(index)
                elif fields[1:] == [b"frames"] and self.clips[index].frames_file is not None:
                    self.made.add(index)
                self.ready.add(index)
                self.cond.notify_all()
        with self.cond:
            self.input_closed = True
            self.cond.notify_all()

    def launch(self) -> None:
        """Start clips in shot order as their keyframes arrive, ``workers`` at a time.

        Strict order means the clip the writer needs next has always been started before
        any later one, so a full buffer of a later clip can never block the writer.
        """
        for index in range(len(self.clips)):

            def startable(i: int = index) -> bool:
                return (
                    self.failure is not None
                    or (i in self.ready and self.running < self.workers)
                    or (self.input_closed and i not in self.ready)
                )

            with self.cond:
                self.cond.wait_for(startable)
                if self.failure is not None:
                    return
                if index not in self.ready:
                    self.failure = f"input ended before the keyframe of shot {index} was ready"
                    self.cond.notify_all()
                    return
                self.running += 1
            threading.Thread(target=self.read_clip, args=(index,), daemon=True).start()
            self.started[index].set()

    def read_clip(self, index: int) -> None:
        clip = self.clips[index]
        target = self.queues[index]
        record: dict[str, Any] = {"start_s": round(time.perf_counter() - self.started_at, 3)}
        self.stats["clips"][index] = record
        try:
            if index in self.made and clip.frames_file is not None:
                record["made"] = True
                failure = self.read_made_clip(index, clip, target, record)
            else:
                failure = self.run_clip(index, clip, target, record)
            record["end_s"] = round(time.perf_counter() - self.started_at, 3)
            self.put(target, _Failed(failure) if failure else None)
        except _Failed:
            pass
        except Exception as exc:  # a broken clip must end the helper, not hang it
            self.fail(f"clip {index}: {exc!r}")
        finally:
            with self.cond:
                self.running -= 1
                self.cond.notify_all()

    def read_frames(
        self, stream: IO[bytes], clip: ClipSpec, target: queue.Queue[Any], record: dict[str, Any]
    ) -> int:
        """Move up to ``clip.frames`` frames from ``stream`` to ``target``; returns how many."""
        for count in range(clip.frames):
            frame = _read_exactly(stream, self.frame_bytes)
            if frame is None:
                return count
            if count == 0:
                record["first_frame_s"] = round(time.perf_counter() - self.started_at, 3)
            self.put(target, frame)
        return clip.frames

    def read_made_clip(
        self, index: int, clip: ClipSpec, target: queue.Queue[Any], record: dict[str, Any]
    ) -> str | None:
        """Read the frames the render process made; the file goes once read."""
        assert clip.frames_file is not None
        path = Path(self.cwd) / clip.frames_file
        try:
            with path.open("rb", buffering=0) as stream:
                got = self.read_frames(stream, clip, target, record)
        finally:
            path.unlink(missing_ok=True)
        if got < clip.frames:
            return f"clip {index}: its frames file held {got} of {clip.frames} frames"
        return None

    def run_clip(
        self, index: int, clip: ClipSpec, target: queue.Queue[Any], record: dict[str, Any]
    ) -> str | None:
        """Run the clip's ffmpeg command and read its frames."""
        args = clip.args
        if index in self.raw and clip.raw_args is not None:
            args = clip.raw_args
            record["raw"] = True
        lower_thread_priority(self.clip_nice)  # the clip process inherits it from this thread
        with tempfile.TemporaryFile() as err:
            proc = self.spawn(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=err)
            assert proc.stdout is not None
            _grow_pipe(proc.stdout.fileno())
            got = self.read_frames(proc.stdout, clip, target, record)
            returncode = proc.wait()
            if returncode != 0 or got < clip.frames:
                return (
                    f"clip {index} (ffmpeg status {returncode}) gave fewer than "
                    f"{clip.frames} frames: {_tail(err) or '(no output)'}"
                )
        return None

    def put(self, target: queue.Queue[Any], item: Any) -> None:
        while True:
            self.check()
            try:
                target.put(item, timeout=0.2)
                return
            except queue.Full:
                continue

    def get(self, source: queue.Queue[Any]) -> Any:
        while True:
            self.check()
            try:
                item = source.get(timeout=0.2)
            except queue.Empty:
                continue
            if isinstance(item, _Failed):
                self.fail(str(item))
                raise item
            return item

    # -- the writer (main thread) --------------------------------------------------------

    def write_frames(self, out: int | None) -> int:
        """Write the timeline's frames in order: to ``out``, or to the chunk queues."""
        import numpy as np

        written = 0
        previous_tail: list[bytearray] = []
        for index, clip in enumerate(self.clips):
            while not self.started[index].wait(timeout=0.2):
                self.check()
            source = self.queues[index]
            tail: list[bytearray] = []
            fade = 2 * clip.head
            for position in range(clip.frames):
                waited = time.perf_counter()
                frame = self.get(source)
                self.stats["wait_frames_s"] += time.perf_counter() - waited
                if frame is None:
                    raise _Failed(f"clip {index} ended after {position} of {clip.frames} frames")
                if position < fade:
                    # ffmpeg's xfade=fade: out = A * p + B * (1 - p), p falling from 1 to
                    # 1/fade over the fade; integer maths, rounded.
                    a = np.frombuffer(previous_tail[position], np.uint8).astype(np.uint32)
                    b = np.frombuffer(frame, np.uint8).astype(np.uint32)
                    mixed = (a * (fade - position) + b * position + fade // 2) // fade
                    self.write(out, mixed.astype(np.uint8), written)
                    written += 1
                elif position >= clip.frames - 2 * clip.tail:
                    tail.append(frame)
                else:
                    self.write(out, frame, written)
                    written += 1
            if self.get(source) is not None:
                raise _Failed(f"clip {index} sent more than {clip.frames} frames")
            previous_tail = tail
        return written

    def write(self, out: int | None, data: Any, index: int) -> None:
        waited = time.perf_counter()
        if out is not None:
            _write_all(out, data)
        else:
            self.put(self.chunk_queues[self.chunk_of(index)], data)
        self.stats["wait_encoder_s"] += time.perf_counter() - waited

    def chunk_of(self, index: int) -> int:
        for number, chunk in enumerate(self.chunks):
            if index < int(chunk["end"]):
                return number
        raise _Failed(f"frame {index} is past the last chunk")

    def run(self) -> int:
        if self.chunks:
            return self.run_chunked()
        with tempfile.TemporaryFile() as err:
            encoder = self.start_encoder(self.encoder_args, err)
            threading.Thread(target=self.read_control, daemon=True).start()
            threading.Thread(target=self.launch, daemon=True).start()
            assert encoder.stdin is not None and encoder.stdout is not None
            relay = threading.Thread(target=_relay_progress, args=(encoder.stdout,), daemon=True)
            relay.start()
            try:
                written = self.write_frames(encoder.stdin.fileno())
                if written != self.total_frames:
                    raise _Failed(f"wrote {written} frames, the timeline has {self.total_frames}")
                encoder.stdin.close()
                returncode = encoder.wait()
                relay.join()
                self.stats["encoder_end_s"] = round(time.perf_counter() - self.started_at, 3)
                if returncode != 0:
                    raise _Failed(f"encoder exited with status {returncode}: {_tail(err)}")
            except (_Failed, BrokenPipeError) as exc:
                message = str(exc)
                if isinstance(exc, BrokenPipeError):
                    encoder.wait()
                    message = f"encoder exited with status {encoder.returncode}: {_tail(err)}"
                return self.give_up(message)
        self.write_stats()
        return 0

    def spawn(
        self, args: list[str], *, stdin: Any, stdout: Any, stderr: Any
    ) -> subprocess.Popen[bytes]:
        """Start an ffmpeg child in the render folder, registered so a failure stops it."""
        process = subprocess.Popen(
            args, cwd=self.cwd, stdin=stdin, stdout=stdout, stderr=stderr, bufsize=0
        )
        with self.cond:
            self.children.append(process)
        return process

    def start_encoder(self, args: list[str], err: Any) -> subprocess.Popen[bytes]:
        """Start an encoder that reads raw frames on stdin and reports progress on stdout."""
        argv = list(args)
        # -progress writes key=value lines to stdout; global, so straight after the binary.
        argv[1:1] = ["-progress", "pipe:1", "-nostats"]
        encoder = self.spawn(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err)
        assert encoder.stdin is not None
        _grow_pipe(encoder.stdin.fileno())
        return encoder

    def give_up(self, message: str) -> int:
        """Record the failure, stop every child process, report; the exit status."""
        self.fail(message)
        self.stop_children()
        sys.stderr.write(f"{self.failure}\n")
        return 1

    def run_chunked(self) -> int:
        """Encode the timeline in time chunks, one encoder each, then package them."""
        errs = [tempfile.TemporaryFile() for _ in range(len(self.chunks) + 1)]
        audio: subprocess.Popen[bytes] | None = None
        try:
            if self.audio_args is not None:
                audio = self.spawn(
                    self.audio_args,
                    stdin=subprocess.DEVNULL,
                    stdout=subprocess.DEVNULL,
                    stderr=errs[-1],
                )
            encoders, feeders, relays = self.start_chunks(errs)
            threading.Thread(target=self.read_control, daemon=True).start()
            threading.Thread(target=self.launch, daemon=True).start()
            try:
                written = self.write_frames(None)
                if written != self.total_frames:
                    raise _Failed(f"wrote {written} frames, the timeline has {self.total_frames}")
                for target in self.chunk_queues:
                    self.put(target, None)
                self.end_chunks(encoders, feeders, relays, errs)
                if audio is not None and audio.wait() != 0:
                    raise _Failed(
                        f"audio encoder exited with status {audio.returncode}: {_tail(errs[-1])}"
                    )
                if self.package_args is not None:
                    with tempfile.TemporaryFile() as err:
                        proc = subprocess.run(
                            self.package_args,
                            cwd=self.cwd,
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=err,
                            check=False,
                        )
                        if proc.returncode != 0:
                            raise _Failed(
                                f"packaging exited with status {proc.returncode}: {_tail(err)}"
                            )
                self.stats["package_end_s"] = round(time.perf_counter() - self.started_at, 3)
            except _Failed as exc:
                return self.give_up(str(exc))
        finally:
            for err in errs:
                err.close()
        self.write_stats()
        return 0

    def start_chunks(self, errs: Sequence[IO[bytes]]) -> tuple[list[Any], list[Any], list[Any]]:
        """Each chunk's encoder, the thread feeding it frames and the one relaying progress."""
        encoders: list[subprocess.Popen[bytes]] = []
        feeders: list[threading.Thread] = []
        relays: list[threading.Thread] = []
        for number, chunk in enumerate(self.chunks):
            encoder = self.start_encoder(chunk["encoder"], errs[number])
            encoders.append(encoder)
            assert encoder.stdout is not None
            feeder = threading.Thread(target=self.feed_chunk, args=(number, encoder), daemon=True)
            relay = threading.Thread(
                target=self.relay_chunk, args=(number, encoder.stdout), daemon=True
            )
            feeder.start()
            relay.start()
            feeders.append(feeder)
            relays.append(relay)
        return encoders, feeders, relays

    def end_chunks(
        self, encoders: list[Any], feeders: list[Any], relays: list[Any], errs: Sequence[IO[bytes]]
    ) -> None:
        """Wait for every chunk's feeder, encoder and relay; when each encoder ended."""
        ends = []
        for number, (feeder, encoder) in enumerate(zip(feeders, encoders, strict=True)):
            while feeder.is_alive():
                feeder.join(timeout=0.2)
                self.check()
            returncode = encoder.wait()
            ends.append(round(time.perf_counter() - self.started_at, 3))
            if returncode != 0:
                raise _Failed(
                    f"encoder of chunk {number} exited with status {returncode}: "
                    f"{_tail(errs[number])}"
                )
        for relay in relays:
            relay.join()
        self.stats["chunk_end_s"] = ends
        self.stats["encoder_end_s"] = max(ends)

    def feed_chunk(self, number: int, encoder: subprocess.Popen[bytes]) -> None:
        """Write chunk ``number``'s frames to its encoder until the end marker."""
        assert encoder.stdin is not None
        fd = encoder.stdin.fileno()
        try:
            while True:
                frame = self.get(self.chunk_queues[number])
                if frame is None:
                    break
                _write_all(fd, frame)
            encoder.stdin.close()
        except _Failed:
            pass
        except BrokenPipeError:
            encoder.wait()
            self.fail(f"encoder of chunk {number} exited with status {encoder.returncode}")
        except Exception as exc:  # a broken feeder must end the helper, not hang it
            self.fail(f"feeding chunk {number}: {exc!r}")

    def relay_chunk(self, number: int, stream: IO[bytes]) -> None:
        """Forward the sum of the chunks' ``frame=N`` counts as the helper's progress."""
        out = sys.stdout.buffer
        for line in stream:
            if not line.startswith(b"frame="):
                continue
            try:
                count = int(line[6:])
            except ValueError:
                continue
            with self.progress_lock:
                self.chunk_frames[number] = count
                total = sum(self.chunk_frames)
                try:
                    out.write(f"frame={total}\n".encode())
                    out.flush()
                except (BrokenPipeError, ValueError):  # the render process stopped listening
                    pass

    def write_stats(self) -> None:
        target = os.environ.get("WRITERS_ROOM_COMPOSE_STATS")
        if target:
            for key in ("wait_frames_s", "wait_encoder_s"):
                self.stats[key] = round(self.stats[key], 3)
            Path(target).write_text(json.dumps(self.stats), "utf-8")

    def stop_children(self) -> None:
        with self.cond:
            children = list(self.children)
        for child in children:
            if child.poll() is None:
                child.kill()
        for child in children:
            child.wait()


def lower_thread_priority(extra: int) -> None:
    """Raise the calling thread's niceness by ``extra``; processes it starts inherit it.

    Linux keeps a niceness per thread, so this leaves the rest of the process (the thread
    driving the GPU) alone. Elsewhere ``setpriority`` would apply to the whole process (or
    to an unrelated one), so it does nothing there.
    """
    if extra <= 0 or sys.platform != "linux":
        return
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, os.getpriority(os.PRIO_PROCESS, tid) + extra)
    except (AttributeError, OSError):  # not Linux, or not allowed: the helper's priority
        pass


def _lines(fd: int) -> Iterator[bytes]:
    """Lines from a file descriptor, read with plain ``os.read`` calls."""
    pending = b""
    while True:
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        pending += chunk
        *complete, pending = pending.split(b"\n")
        yield from complete
    if pending:
        yield pending


def _read_exactly(stream: IO[bytes], size: int) -> bytearray | None:
    buffer = bytearray(size)
    view = memoryview(buffer)
    got = 0
    while got < size:
        count = stream.readinto(view[got:])  # type: ignore[attr-defined]
        if not count:
            return None
        got += count
    return buffer


def _write_all(fd: int, data: Any) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[os.write(fd, view) :]


def _relay_progress(stream: IO[bytes]) -> None:
    out = sys.stdout.buffer
    for line in stream:
        if line.startswith(b"frame="):
            try:
                out.write(line)
                out.flush()
            except (BrokenPipeError, ValueError):  # the render process stopped listening
                pass


def main(argv: Sequence[str] | None = None) -> int:
    """The helper: ``python -m writers_room.render._compose SPEC.json``."""
    args = list(sys.argv[1:] if argv is None else argv)
    spec = json.loads(Path(args[0]).read_text("utf-8"))
    try:
        os.nice(int(spec.get("nice", 0)))
    except OSError:  # not allowed here: run at normal priority
        pass
    return _Composer(spec).run()


if __name__ == "__main__":
    raise SystemExit(main())
