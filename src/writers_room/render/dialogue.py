"""Dialogue on the timeline: when each line is spoken, and when its subtitle shows.

A shot's lines are spoken one after the other from just after the shot's first frame,
with a short breath between speakers. A line is never cut and never sped up: one that
runs past its shot's end keeps playing into the next shot (the next line waits for it)
and is reported — by :func:`line_warnings`, in the render's provenance and in the
manifest checks (from an estimate of its length before anything is spoken).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from writers_room.render.cast import Cast, SpokenLine, Voice
from writers_room.render.validate import Timeline

__all__ = [
    "LEAD_IN_S",
    "MIN_CUE_S",
    "PlacedLine",
    "estimate_s",
    "line_warnings",
    "place_lines",
    "subtitle_cues",
]

LEAD_IN_S = 0.15
"""Silence between a shot's cut and its first line."""
GAP_S = 0.2
"""Breath between two lines."""
MIN_CUE_S = 1.2
"""A subtitle stays up at least this long (when nothing else needs the screen)."""
_WORD = re.compile(r"[^\W_]+(?:['’][^\W_]+)*")
_PAUSE = re.compile(r"[.!?…;:,—-]+(?:\s|$)")


def estimate_s(text: str, rate: int) -> float:
    """How long ``text`` takes to say at ``rate`` words per minute (eSpeak NG's pace:
    the words, plus a short pause at each punctuation mark)."""
    words = len(_WORD.findall(text))
    pauses = len(_PAUSE.findall(text))
    return round(0.75 * words * 60 / max(rate, 1) + 0.12 * pauses + 0.1, 3)


@dataclass(frozen=True)
class PlacedLine:
    """A spoken line with its place on the timeline."""

    line: SpokenLine
    voice: Voice
    start_s: float
    duration_s: float
    shot_start_s: float
    shot_end_s: float
    audio: Path | None = None
    """The voiced line (``None`` when nothing was spoken: timing from the estimate)."""

    @property
    def end_s(self) -> float:
        return self.start_s + self.duration_s

    @property
    def overrun_s(self) -> float:
        """How far the line runs past its shot's end (0 when it fits)."""
        return max(0.0, round(self.end_s - self.shot_end_s, 3))


def place_lines(
    lines: Sequence[SpokenLine],
    durations: Sequence[float],
    timeline: Timeline,
    cast: Cast,
    audio: Sequence[Path | None] | None = None,
) -> list[PlacedLine]:
    """Each line's start: in its shot, after the line before it (never over it)."""
    placed: list[PlacedLine] = []
    ends = (*timeline.starts[1:], timeline.total_frames)
    free_from = 0.0
    for number, (line, duration) in enumerate(zip(lines, durations, strict=True)):
        shot_start = timeline.starts[line.shot_index] / timeline.fps
        shot_end = ends[line.shot_index] / timeline.fps
        same_shot = bool(placed) and placed[-1].line.shot_index == line.shot_index
        start = max(shot_start + LEAD_IN_S, free_from + (GAP_S if same_shot else 0.05))
        placed.append(
            PlacedLine(
                line=line,
                voice=cast.voice(line),
                start_s=round(start, 3),
                duration_s=round(float(duration), 3),
                shot_start_s=round(shot_start, 3),
                shot_end_s=round(shot_end, 3),
                audio=audio[number] if audio is not None else None,
            )
        )
        free_from = start + float(duration)
    return placed


def line_warnings(placed: Sequence[PlacedLine], runtime_s: float, *, measured: bool) -> list[str]:
    """One sentence per line that does not fit its shot (and per line the episode cuts)."""
    how = "runs" if measured else "needs about"
    warnings = []
    for item in placed:
        line = item.line
        who = line.speaker or "an unattributed line"
        if item.overrun_s > 0.05:
            warnings.append(
                f"shot {line.shot_id!r}: {who}'s line {how} {item.duration_s:.1f} s from "
                f"{item.start_s:.1f} s, {item.overrun_s:.1f} s past the shot's end at "
                f"{item.shot_end_s:.1f} s (it plays on into the next shot; not cut): "
                f"“{line.text}”"
            )
        if item.end_s > runtime_s + 0.05:
            warnings.append(
                f"shot {line.shot_id!r}: {who}'s line ends at {item.end_s:.1f} s, after the "
                f"episode's end at {runtime_s:.1f} s: its last {item.end_s - runtime_s:.1f} s "
                "are not heard"
            )
    return warnings


def subtitle_cues(placed: Sequence[PlacedLine], runtime_s: float) -> list[tuple[float, float]]:
    """When each line's subtitle shows: from its first word until its last, held for at
    least :data:`MIN_CUE_S` unless the next line (or the episode's end) comes first."""
    cues = []
    for number, item in enumerate(placed):
        following = placed[number + 1].start_s if number + 1 < len(placed) else runtime_s
        end = min(max(item.end_s, item.start_s + MIN_CUE_S), following, runtime_s)
        cues.append((item.start_s, max(end, min(item.start_s + 0.1, runtime_s))))
    return cues
