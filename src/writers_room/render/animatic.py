"""The animatic's dialogue stage: lines voiced, placed, subtitled and mixed.

:func:`prepare_dialogue` runs before the keyframes: it reads every line of the manifest
(:func:`~writers_room.render.cast.spoken_lines`), voices each with the render's speaker
in its character's voice (or, with no speaker, times it from an estimate of its length),
places the lines in their shots, turns them into subtitle cues, and mixes the sound
track. What it returns feeds the captions (burned-in subtitles and ``captions.vtt``),
the encoder's audio input and ``provenance.json``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from writers_room.brief.manifest import ShotManifest
from writers_room.render.audio import AudioTrack, build_track, decode
from writers_room.render.captions import Cue, dialogue_cues
from writers_room.render.cast import Cast, CastMember, spoken_lines
from writers_room.render.dialogue import (
    PlacedLine,
    estimate_s,
    line_warnings,
    place_lines,
    subtitle_cues,
)
from writers_room.render.provenance import sha256_file
from writers_room.render.validate import Timeline, timeline
from writers_room.render.voice import Speaker, speak_lines

__all__ = ["Dialogue", "dialogue_warnings", "prepare_dialogue"]


@dataclass
class Dialogue:
    """Everything the render needs to know about its spoken lines."""

    placed: list[PlacedLine] = field(default_factory=list)
    cues: list[Cue] = field(default_factory=list)
    track: AudioTrack | None = None
    warnings: list[str] = field(default_factory=list)
    speaker: str | None = None
    hashes: list[str | None] = field(default_factory=list)
    """Each voiced line's audio file's SHA-256 (taken before the work folder goes)."""

    def records(self) -> list[dict[str, Any]]:
        """One provenance record per line."""
        return [
            {
                "shot_id": item.line.shot_id,
                "speaker": item.line.speaker,
                "character": item.line.character or None,
                "text": item.line.text,
                "voice": item.voice.describe(),
                "start_s": item.start_s,
                "duration_s": item.duration_s,
                "shot_end_s": item.shot_end_s,
                "overrun_s": item.overrun_s,
                "subtitle_frames": [cue.first_frame, cue.end_frame],
                "sha256": digest,
            }
            for item, cue, digest in zip(self.placed, self.cues, self.hashes, strict=True)
        ]


def prepare_dialogue(
    manifest: ShotManifest,
    frames: Timeline,
    work: Path,
    *,
    cast: tuple[CastMember, ...] = (),
    speaker: Speaker | None = None,
    music: Path | None = None,
) -> Dialogue:
    """Voice, place and subtitle every line; mix the track when there is anything to hear.

    With no speaker the lines are timed from :func:`estimate_s` (subtitles only); with
    no lines and no music the episode stays silent (no track).
    """
    labels = [line.label for line in spoken_lines(manifest.shots) if line.label]
    roster = Cast.of(cast, labels)
    lines = spoken_lines(manifest.shots, roster)
    result = Dialogue(speaker=speaker.name if speaker is not None else None)
    samples = []
    audio: list[Path | None] | None = None
    if speaker is not None and lines:
        files = speak_lines(speaker, lines, manifest.shots, roster, work / "voice")
        samples = [decode(path) for path in files]
        durations = [len(pcm) / 48_000 for pcm in samples]
        audio = list(files)
    else:
        durations = [estimate_s(line.text, roster.voice(line).rate) for line in lines]
    result.placed = place_lines(lines, durations, frames, roster, audio)
    result.hashes = [sha256_file(path) if path else None for path in audio or [None] * len(lines)]
    result.cues = dialogue_cues(
        result.placed, subtitle_cues(result.placed, manifest.runtime_s), frames
    )
    result.warnings = line_warnings(result.placed, manifest.runtime_s, measured=speaker is not None)
    if samples or music is not None:
        spoken = result.placed if samples else []
        result.track = build_track(
            manifest.runtime_s, spoken, samples, work / "audio" / "track.wav", music=music
        )
    return result


def dialogue_warnings(manifest: ShotManifest, cast: tuple[CastMember, ...] = ()) -> list[str]:
    """Lines that will not fit their shots, from an estimate of their length at their
    voice's rate: the manifest check's warning list (nothing is refused for it)."""
    labels = [line.label for line in spoken_lines(manifest.shots) if line.label]
    roster = Cast.of(cast, labels)
    lines = spoken_lines(manifest.shots, roster)
    durations = [estimate_s(line.text, roster.voice(line).rate) for line in lines]
    placed = place_lines(lines, durations, timeline(manifest), roster)
    return line_warnings(placed, manifest.runtime_s, measured=False)
