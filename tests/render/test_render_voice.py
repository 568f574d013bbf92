"""The TTS hook: dialogue voiced by a pluggable speaker, placed on its shot."""

from __future__ import annotations

import json
import math
import struct
import subprocess
import wave
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from render_helpers import make_manifest

from writers_room.brief.manifest import Shot, ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.render._ffmpeg import ffmpeg_exe
from writers_room.render.pipeline import RenderOptions, RenderResult, render_manifest

LINE = "Mara: Open it. '; rm -rf ~ [x], a:b"


class ToneSpeaker:
    """Stands in for a TTS engine: a 0.6-s tone per line, and a record of what it heard."""

    name = "tone-test-voice"

    def __init__(self) -> None:
        self.heard: list[tuple[str, str]] = []

    def speak(self, text: str, *, shot: Shot, out: Path) -> Path:
        self.heard.append((shot.shot_id, text))
        path = out.with_suffix(".wav")
        rate = 24_000
        samples = [
            int(12_000 * math.sin(2 * math.pi * 440 * i / rate)) for i in range(int(0.6 * rate))
        ]
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(rate)
            wav.writeframes(struct.pack(f"<{len(samples)}h", *samples))
        return path


def _voiced_manifest() -> ShotManifest:
    manifest = make_manifest(3, 1.0, fps=12)
    shots = [shot.model_dump() for shot in manifest.shots]
    shots[1]["dialogue"] = LINE
    return manifest.model_copy(update={"shots": [Shot(**shot) for shot in shots]})


def _render(tmp_path: Path, speaker: Any, name: str = "voiced") -> RenderResult:
    return render_manifest(
        Settings(home=tmp_path / "home"),
        _voiced_manifest(),
        tmp_path / name,
        preview=True,
        options=RenderOptions(speaker=speaker),
    )


def _loudness(path: Path) -> np.ndarray:
    """RMS of the episode's audio per 100 ms, mono."""
    pcm = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a"]
        + ["-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    samples = np.frombuffer(pcm, np.int16).astype(float)
    windows = samples[: len(samples) // 800 * 800].reshape(-1, 800)
    return np.sqrt((windows**2).mean(axis=1))


def test_dialogue_is_voiced_on_its_shot_only(tmp_path: Path) -> None:
    speaker = ToneSpeaker()
    result = _render(tmp_path, speaker)
    assert speaker.heard == [("s2", LINE)]  # the exact text, as data
    rms = _loudness(result.episode_path)
    assert len(rms) == 30  # the episode's 3 s, no longer
    # Under the line a quiet generated pad: the line is far louder than the pad around it.
    bed, spoken, after = rms[3:9].max(), rms[12:17].min(), rms[21:27].max()
    assert spoken > 4 * max(bed, after) and bed > 0, (bed, spoken, after)
    provenance = json.loads(result.provenance_path.read_text())
    voice = provenance["encode"]["voice"]
    assert voice["speaker"] == "tone-test-voice"
    assert [
        (line["shot_id"], line["start_s"], line["shot_end_s"], line["duration_s"])
        for line in voice["lines"]
    ] == [("s2", 1.15, 2.0, 0.6)]
    assert provenance["encode"]["audio"]["bed"] == "generated pad"
    assert provenance["warnings"] == []
    assert not (result.out_dir / ".work").exists()


def test_no_speaker_means_no_voice_record(tmp_path: Path) -> None:
    result = _render(tmp_path, None, "silent")
    assert json.loads(result.provenance_path.read_text())["encode"]["voice"] is None
    assert _loudness(result.episode_path).max() < 50


class BrokenSpeaker(ToneSpeaker):
    def speak(self, text: str, *, shot: Shot, out: Path) -> Path:
        raise RuntimeError("voice service timed out")


def test_a_failing_speaker_names_the_shot_and_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="shot 's2'.*timed out"):
        _render(tmp_path, BrokenSpeaker(), "broken")
    assert not (tmp_path / "broken").exists()
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".broken")] == []


def test_a_speaker_must_look_like_one(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="speaker must have a name"):
        _render(tmp_path, object(), "odd")
