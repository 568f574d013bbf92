"""The TTS hook: spoken dialogue from any text-to-speech engine, placed on the timeline.

The room ships no speech model (nothing may be downloaded at run time, and voices are a
casting decision). A studio plugs its engine in as a :class:`Speaker` through
``RenderOptions.speaker``; the render then asks it for each shot's ``dialogue``, places
each line at its shot's first frame, cuts it at the shot's end, normalises it to the
episode's loudness and mixes it over the music bed (see
:func:`~writers_room.render.encode.audio_source`). Dialogue text reaches the engine as a
Python string, never a shell or an ffmpeg filter; the engine's file reaches ffmpeg as an
input path only.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from writers_room.brief.manifest import Shot
from writers_room.errors import InputError
from writers_room.render.encode import VoiceLine
from writers_room.render.provenance import sha256_file
from writers_room.render.validate import Timeline

__all__ = ["Speaker", "speak_dialogue"]


@runtime_checkable
class Speaker(Protocol):
    """A text-to-speech engine."""

    name: str
    """Engine and voice, as recorded in provenance."""

    def speak(self, text: str, *, shot: Shot, out: Path) -> Path:
        """Write ``text`` spoken to an audio file (any format ffmpeg reads) at or beside
        ``out`` (``out`` has no suffix: add the one you write), and return its path."""
        ...


def speak_dialogue(
    speaker: Speaker, shots: Sequence[Shot], timeline: Timeline, work: Path
) -> tuple[list[VoiceLine], list[dict[str, Any]]]:
    """Ask ``speaker`` for every shot with dialogue; the lines and their provenance.

    Raises:
        InputError: the engine failed or wrote no file; the message names the shot.
    """
    work.mkdir(parents=True, exist_ok=True)
    lines: list[VoiceLine] = []
    records: list[dict[str, Any]] = []
    for index, shot in enumerate(shots):
        text = shot.dialogue.strip()
        if not text:
            continue
        try:
            path = Path(speaker.speak(text, shot=shot, out=work / f"{index:02d}"))
        except Exception as exc:  # an engine's failure, reported against the shot
            raise InputError(
                f"shot {shot.shot_id!r}: the speaker {speaker.name!r} failed: {exc}",
                field="dialogue",
                value=shot.shot_id,
            ) from exc
        if not path.is_file() or path.stat().st_size == 0:
            raise InputError(
                f"shot {shot.shot_id!r}: the speaker {speaker.name!r} wrote no audio at {path}",
                field="dialogue",
                value=shot.shot_id,
            )
        start_s = timeline.starts[index] / timeline.fps
        max_s = timeline.frames[index] / timeline.fps
        lines.append(VoiceLine(path=path, start_s=start_s, max_s=max_s))
        records.append(
            {
                "shot_id": shot.shot_id,
                "start_s": round(start_s, 6),
                "max_s": round(max_s, 6),
                "sha256": sha256_file(path),
            }
        )
    return lines, records
