"""What the 3-rung x264 ladder costs, against thread splits, chunk counts and presets.

Standalone (numpy, Pillow, an ffmpeg binary and ``gpu_render.py`` beside it; no GPU,
no room install), so it runs on a bare GPU host. The frames are the GPU benchmark's
grainy texture (``--content smooth`` drops the grain) moved by a Ken Burns zoom, 12
shots, 1080x1920 yuv420p, held in memory; each time chunk is one ffmpeg with the room's
three x264 outputs (``writers_room.render.encode.chunk_command``'s options), fed over a
pipe, all chunks at once. It reports wall and CPU seconds (user + system of the ffmpeg children) per
variant, and with ``--quality`` each rung's SSIM and PSNR against its scaled source for
``veryfast``, ``superfast`` and ``faster`` (one thread each, first ``--quality-frames``).

Run::

    python benchmarks/x264_ladder.py                  # imageio-ffmpeg's binary, if installed
    python benchmarks/x264_ladder.py --ffmpeg /tmp/ffmpeg --repeats 3
    python benchmarks/x264_ladder.py --quality --content smooth --no-variants

Pass ``--json FILE`` to keep the numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import statistics
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from PIL import Image

from gpu_render import _texture  # the GPU benchmark's picture: same frames, same x264 work

WIDTH, HEIGHT, FPS, SEGMENT_S = 1080, 1920, 30, 2
LADDER = ((1080, 1920, 3500), (720, 1280, 1500), (360, 640, 600))
FRAME_BYTES = WIDTH * HEIGHT * 3 // 2

# name: (x264 threads per rung or None for x264's own, preset, chunks)
VARIANTS: dict[str, tuple[list[int] | None, str, int]] = {
    "4 chunks [15,7,2] (the room's)": ([15, 7, 2], "veryfast", 4),
    "4 chunks, x264's own threads": (None, "veryfast", 4),
    "4 chunks [8,4,1]": ([8, 4, 1], "veryfast", 4),
    "4 chunks [4,2,1]": ([4, 2, 1], "veryfast", 4),
    "8 chunks [2,1,1]": ([2, 1, 1], "veryfast", 8),
    "15 chunks [1,1,1]": ([1, 1, 1], "veryfast", 15),
    "4 chunks [15,7,2] superfast": ([15, 7, 2], "superfast", 4),
}


def make_frames(ffmpeg: str, grain: bool, count: int, scratch: Path) -> bytes:
    """``count`` frames of 12 shots, each a zoom into its own texture, as raw yuv420p."""
    out = bytearray()
    shots = 12
    for shot in range(shots):
        frames = count // shots + (1 if shot < count % shots else 0)
        still = scratch / f"still{shot}.ppm"  # uncompressed: quick to write and read
        _texture((768, 1344), shot % 6, grain).resize((1536, 2688), Image.Resampling.BICUBIC).save(
            still
        )
        move = (
            f"zoompan=z='1+0.15*on/{frames}':x='iw/2-(iw/zoom/2)':y='ih/2-(ih/zoom/2)'"
            f":d={frames}:s={WIDTH}x{HEIGHT}:fps={FPS},format=yuv420p"
        )
        out += subprocess.run(
            [ffmpeg, "-v", "error", "-i", str(still), "-vf", move, "-frames:v", str(frames)]
            + ["-f", "rawvideo", "-"],
            check=True,
            capture_output=True,
        ).stdout
    return bytes(out)


def _x264(preset: str) -> list[str]:
    gop = str(FPS * SEGMENT_S)
    return ["-c:v", "libx264", "-profile:v", "high", "-preset", preset, "-pix_fmt", "yuv420p"] + [
        "-g",
        gop,
        "-keyint_min",
        gop,
        "-sc_threshold",
        "0",
        "-force_key_frames",
        f"expr:gte(t,n_forced*{SEGMENT_S})",
    ]


def _rate(kbps: int) -> list[str]:
    return ["-b:v", f"{kbps}k", "-maxrate", f"{round(kbps * 1.1)}k", "-bufsize", f"{kbps * 2}k"]


def chunk_command(
    ffmpeg: str, chunk: int, threads: list[int] | None, preset: str, out: Path
) -> list[str]:
    """One time chunk, every rung, as the room's ``chunk_command`` builds it."""
    command = [ffmpeg, "-v", "error", "-nostdin", "-y", "-f", "rawvideo", "-pix_fmt", "yuv420p"]
    command += ["-s", f"{WIDTH}x{HEIGHT}", "-r", str(FPS), "-i", "pipe:0"]
    for index, (width, height, kbps) in enumerate(LADDER):
        command += _x264(preset)
        if (width, height) != (WIDTH, HEIGHT):
            command += ["-vf", f"scale={width}:{height}:flags=bicubic"]
        if threads is not None:
            command += ["-threads", str(threads[index])]
        command += _rate(kbps) + ["-an", "-f", "mp4", str(out / f"c{chunk}_{index}.mp4")]
    return command


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_variant(
    ffmpeg: str, data: bytes, threads: list[int] | None, preset: str, chunks: int, out: Path
) -> dict[str, Any]:
    """Encode ``data`` in ``chunks`` time chunks of whole segments at once."""
    frames = len(data) // FRAME_BYTES
    gop = FPS * SEGMENT_S
    segments = -(-frames // gop)
    bounds = [min(frames, round(segments * k / chunks) * gop) for k in range(chunks + 1)]
    bounds[-1] = frames
    cpu0, start = _children_cpu(), time.perf_counter()
    procs, feeders = [], []
    for chunk in range(chunks):
        proc = subprocess.Popen(
            chunk_command(ffmpeg, chunk, threads, preset, out), stdin=subprocess.PIPE
        )
        view = memoryview(data)[bounds[chunk] * FRAME_BYTES : bounds[chunk + 1] * FRAME_BYTES]

        def feed(proc: subprocess.Popen[bytes] = proc, view: memoryview = view) -> None:
            assert proc.stdin is not None
            for offset in range(0, len(view), 8 * FRAME_BYTES):
                proc.stdin.write(view[offset : offset + 8 * FRAME_BYTES])
            proc.stdin.close()

        feeder = threading.Thread(target=feed)
        feeder.start()
        procs.append(proc)
        feeders.append(feeder)
    for feeder in feeders:
        feeder.join()
    if any(proc.wait() != 0 for proc in procs):
        raise RuntimeError("an encoder failed")
    wall = time.perf_counter() - start
    top = sum((out / f"c{k}_0.mp4").stat().st_size for k in range(chunks))
    return {
        "wall_s": round(wall, 2),
        "cpu_s": round(_children_cpu() - cpu0, 1),
        "top_rung_kbps": round(top * 8 / (frames / FPS) / 1000),
    }


def quality(ffmpeg: str, data: bytes, frames: int, out: Path) -> list[dict[str, Any]]:
    """Each rung at three presets, one thread: CPU seconds, rate, SSIM and PSNR."""
    source = out / "source.yuv"
    source.write_bytes(data[: frames * FRAME_BYTES])
    raw = ["-f", "rawvideo", "-pix_fmt", "yuv420p", "-r", str(FPS)]
    rows = []
    for width, height, kbps in LADDER:
        reference = out / f"reference{width}.yuv"
        subprocess.run(
            [ffmpeg, "-v", "error", "-y", *raw, "-s", f"{WIDTH}x{HEIGHT}", "-i", str(source)]
            + ["-vf", f"scale={width}:{height}:flags=bicubic", "-f", "rawvideo", str(reference)],
            check=True,
        )
        for preset in ("veryfast", "superfast", "faster"):
            encoded = out / f"q{width}_{preset}.mp4"
            cpu0 = _children_cpu()
            subprocess.run(
                [ffmpeg, "-v", "error", "-y", *raw, "-s", f"{width}x{height}", "-i", str(reference)]
                + [*_x264(preset), "-threads", "1", *_rate(kbps), "-an", str(encoded)],
                check=True,
            )
            cpu = _children_cpu() - cpu0
            log = subprocess.run(
                [ffmpeg, "-v", "info", "-i", str(encoded), *raw, "-s", f"{width}x{height}"]
                + ["-i", str(reference), "-lavfi", "[0:v][1:v]ssim;[0:v][1:v]psnr"]
                + ["-f", "null", "-"],
                capture_output=True,
                text=True,
                check=True,
            ).stderr
            ssim = re.search(r"SSIM .*All:([\d.]+)", log)
            psnr = re.search(r"PSNR .*average:([\d.]+)", log)
            rows.append(
                {
                    "rung": f"{width}x{height}",
                    "preset": preset,
                    "cpu_s": round(cpu, 1),
                    "kbps": round(encoded.stat().st_size * 8 / (frames / FPS) / 1000),
                    "ssim": float(ssim.group(1)) if ssim else None,
                    "psnr_db": float(psnr.group(1)) if psnr else None,
                }
            )
            print(json.dumps(rows[-1]), flush=True)
    return rows


def main() -> None:
    """Parse arguments, make the frames, time the variants, print and keep the numbers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ffmpeg", help="ffmpeg binary with libx264 (default imageio-ffmpeg's)")
    parser.add_argument("--content", choices=("texture", "smooth"), default="texture")
    parser.add_argument("--frames", type=int, default=900, help="episode frames (30 s)")
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--variants", nargs="*", help="only variants whose name has one")
    parser.add_argument("--no-variants", action="store_true", help="skip the timing variants")
    parser.add_argument("--quality", action="store_true", help="SSIM/PSNR per preset")
    parser.add_argument("--quality-frames", type=int, default=300)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if args.ffmpeg is None:
        import imageio_ffmpeg

        args.ffmpeg = imageio_ffmpeg.get_ffmpeg_exe()
    report: dict[str, Any] = {
        "cores": os.cpu_count(),
        "content": args.content,
        "date": time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
    }
    with tempfile.TemporaryDirectory(dir="/dev/shm" if Path("/dev/shm").is_dir() else None) as tmp:
        scratch = Path(tmp)
        start = time.perf_counter()
        data = make_frames(args.ffmpeg, args.content == "texture", args.frames, scratch)
        print(f"{args.frames} frames in {time.perf_counter() - start:.1f} s", flush=True)
        if not args.no_variants:
            chosen = {
                name: spec
                for name, spec in VARIANTS.items()
                if not args.variants or any(part in name for part in args.variants)
            }
            runs: dict[str, list[dict[str, Any]]] = {}
            for _ in range(args.repeats):  # interleaved, so drifts hit every variant
                for name, (threads, preset, chunks) in chosen.items():
                    runs.setdefault(name, []).append(
                        run_variant(args.ffmpeg, data, threads, preset, chunks, scratch)
                    )
                    print(f"{name:34s} {runs[name][-1]}", flush=True)
            report["variants"] = {
                name: {
                    "wall_median_s": statistics.median(r["wall_s"] for r in rows),
                    "cpu_median_s": statistics.median(r["cpu_s"] for r in rows),
                    "runs": rows,
                }
                for name, rows in runs.items()
            }
        if args.quality:
            report["quality"] = quality(args.ffmpeg, data, args.quality_frames, scratch)
    print(json.dumps(report.get("variants", {}), indent=1))
    if args.json:
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
