"""Helpers to inspect render outputs with the bundled ffmpeg (there is no ffprobe)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np

from writers_room.brief.manifest import ShotManifest
from writers_room.render._ffmpeg import ffmpeg_exe

MOODS = ("tense", "calm", "joyful", "sad", "romantic", "mysterious")


def make_manifest(
    count: int = 3,
    duration_s: float = 1.5,
    *,
    fps: int = 24,
    width: int = 1080,
    height: int = 1920,
    **shot_fields: Any,
) -> ShotManifest:
    """A manifest of ``count`` equal shots with distinct moods (so colours tell them apart)."""
    shots = []
    for index in range(count):
        shot = {
            "shot_id": f"s{index + 1}",
            "start_s": index * duration_s,
            "duration_s": duration_s,
            "camera": "static",
            "framing": "close-up",
            "action": f"Mara opens door number {index + 1}.",
            "mood": MOODS[index % len(MOODS)],
            "caption": f"Caption {index + 1}",
            "characters": ["Mara"],
            "seed": index + 1,
        }
        shot.update(shot_fields)
        shots.append(shot)
    return ShotManifest(
        series_id="tiny", episode_id="ep1", fps=fps, width=width, height=height, shots=shots
    )


def decode_frames(path: Path, width: int, height: int, *, stream: str = "0:v:0") -> np.ndarray:
    """Every video frame of ``path``, scaled to ``width`` x ``height``, as uint8 RGB."""
    raw = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(path),
            "-map",
            stream,
            "-fps_mode",
            "passthrough",
            "-vf",
            f"scale={width}:{height}:flags=area",
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.uint8).reshape(-1, height, width, 3)


def decode_frame(path: Path, index: int, width: int, height: int) -> np.ndarray:
    """One frame (by index) at full size."""
    frames = decode_frames(path, width, height)
    return frames[index]


def parse_master(path: Path) -> list[dict[str, str]]:
    """The variants of a master playlist: attributes plus ``uri``."""
    lines = path.read_text().splitlines()
    variants = []
    for index, line in enumerate(lines):
        if line.startswith("#EXT-X-STREAM-INF:"):
            attrs = dict(re.findall(r'([A-Z-]+)=("[^"]*"|[^,]*)', line.split(":", 1)[1]))
            attrs = {k: v.strip('"') for k, v in attrs.items()}
            attrs["uri"] = lines[index + 1]
            variants.append(attrs)
    return variants


def parse_variant(path: Path) -> dict[str, Any]:
    """Target duration, init segment and ``(duration, uri)`` segments of a media playlist."""
    text = path.read_text()
    target = int(re.search(r"#EXT-X-TARGETDURATION:(\d+)", text).group(1))  # type: ignore[union-attr]
    init = re.search(r'#EXT-X-MAP:URI="([^"]+)"', text).group(1)  # type: ignore[union-attr]
    segments = [
        (float(duration), uri) for duration, uri in re.findall(r"#EXTINF:([\d.]+),\s*\n(\S+)", text)
    ]
    return {"target": target, "init": init, "segments": segments, "ended": "#EXT-X-ENDLIST" in text}


def x264_options(data: bytes) -> dict[str, str]:
    """The option string x264 writes into its SEI (first IDR of the stream)."""
    match = re.search(rb"x264 - core \d+.*?options: ([^\x00]+)", data)
    assert match, "no x264 SEI found"
    return dict(
        item.split("=", 1)
        for item in match.group(1).decode("ascii", "replace").split()
        if "=" in item
    )


def build_font(path: Path, chars: str, *, family: str = "Room Test Sans") -> Path:
    """Write a TrueType font with a distinct glyph for each of ``chars`` (fontTools).

    Glyph ``k`` is a bar whose height and a notch whose place depend on ``k``, so two
    characters never share a bitmap, unlike the missing-glyph box that every character
    a font lacks shares.
    """
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.ttGlyphPen import TTGlyphPen

    names = [".notdef", *(f"uni{ord(char):04X}" for char in chars)]
    glyphs = {}
    for number, name in enumerate(names):
        pen = TTGlyphPen(None)
        top = 200 + (number * 97) % 600
        for x0, y0, x1, y1 in ((100, 0, 400, top), (500, top // 2, 500 + 40 * number, 700)):
            pen.moveTo((x0, y0))
            pen.lineTo((x0, y1))
            pen.lineTo((x1, y1))
            pen.lineTo((x1, y0))
            pen.closePath()
        glyphs[name] = pen.glyph()
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(names)
    builder.setupCharacterMap({ord(char): f"uni{ord(char):04X}" for char in chars})
    builder.setupGlyf(glyphs)
    builder.setupHorizontalMetrics({name: (1000, 0) for name in names})
    builder.setupHorizontalHeader(ascent=880, descent=-120)
    builder.setupNameTable({"familyName": family, "styleName": "Regular"})
    builder.setupOS2(sTypoAscender=880, sTypoDescender=-120, usWinAscent=880, usWinDescent=120)
    builder.setupPost()
    builder.save(str(path))
    return path
