"""The TTS hook: each line of dialogue voiced in its character's voice, placed in its shot.

A :class:`Speaker` is any text-to-speech engine: the room ships two
(:mod:`writers_room.render.tts`: eSpeak NG offline, and any OpenAI-compatible speech
endpoint) and a studio can plug in its own through ``RenderOptions.speaker``. The render
asks it for every line of every shot's ``dialogue`` (``"MARA: …"`` lines, one call per
speaker), with the character's :class:`~writers_room.render.cast.Voice` when the engine
takes a ``voice`` argument; an engine written for the earlier hook (no ``voice``) is
called as before. Each line is then placed on the timeline
(:func:`~writers_room.render.dialogue.place_lines`) and mixed over the bed
(:mod:`writers_room.render.audio`). Dialogue text reaches the engine as a Python string,
never a shell or an ffmpeg filter; the engine's file reaches ffmpeg as an input path only.
"""

from __future__ import annotations

import inspect
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from writers_room.brief.manifest import Shot
from writers_room.errors import InputError
from writers_room.render.cast import Cast, SpokenLine, Voice

__all__ = ["Speaker", "speak_lines", "takes_voice"]


@runtime_checkable
class Speaker(Protocol):
    """A text-to-speech engine.

    ``speak`` may also take a keyword ``voice`` (a
    :class:`~writers_room.render.cast.Voice`: variant, pitch, rate, character, and the
    character's ``slot`` in the cast); engines that do are given each speaker's voice.
    """

    name: str
    """Engine and voice, as recorded in provenance."""

    def speak(self, text: str, *, shot: Shot, out: Path) -> Path:
        """Write ``text`` spoken to an audio file (any format ffmpeg reads) at or beside
        ``out`` (``out`` has no suffix: add the one you write), and return its path."""
        ...


def takes_voice(speaker: Speaker) -> bool:
    """Whether ``speaker.speak`` accepts a ``voice`` keyword."""
    try:
        parameters = inspect.signature(speaker.speak).parameters.values()
    except (TypeError, ValueError):  # a builtin or C extension: call it the plain way
        return False
    return any(p.name == "voice" or p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters)


def speak_lines(
    speaker: Speaker,
    lines: Sequence[SpokenLine],
    shots: Sequence[Shot],
    cast: Cast,
    work: Path,
) -> list[Path]:
    """Ask ``speaker`` for every line; the audio file of each, in order.

    Raises:
        InputError: the engine failed or wrote no file; the message names the shot.
    """
    work.mkdir(parents=True, exist_ok=True)
    with_voice = takes_voice(speaker)
    files: list[Path] = []
    for number, line in enumerate(lines):
        shot = shots[line.shot_index]
        voice: Voice = cast.voice(line)
        extra: dict[str, Any] = {"voice": voice} if with_voice else {}
        try:
            path = Path(speaker.speak(line.text, shot=shot, out=work / f"{number:03d}", **extra))
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
        files.append(path)
    return files
