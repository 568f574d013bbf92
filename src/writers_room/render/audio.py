"""The episode's sound: voiced lines over a bed, loudness-normalised for phones.

Every line is decoded to 48 kHz, levelled to the same speech loudness and laid at its
place on the timeline (:func:`~writers_room.render.dialogue.place_lines`). Under it runs
the bed: the music given (``RenderOptions.music``), or, with no music, a quiet generated
pad (a slow, soft chord) so the track is never dead air between lines. The bed ducks
about 12 dB while anyone speaks. The mix is then brought to the phone target of EBU R128
streaming practice — **-16 LUFS integrated, true peak at most -1.5 dBTP** — by gain
measured with the BS.1770 meter and a soft peak limiter, measured
again and corrected, so the integrated loudness lands within a few tenths of a LU.

The meter is BS.1770-4 in numpy (what ffmpeg's ``ebur128`` reports, without a
process per pass; the tests check the finished episode with ``ebur128`` itself): a 30-s
episode's track is made in a fraction of a second.
"""

from __future__ import annotations

import functools
import re
import subprocess
import wave
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from writers_room.render._ffmpeg import ffmpeg_exe
from writers_room.render.dialogue import PlacedLine

__all__ = [
    "RATE",
    "TARGET_LUFS",
    "TARGET_TP",
    "AudioTrack",
    "build_track",
    "decode",
    "integrated_lufs",
    "loudness",
]

RATE = 48_000
TARGET_LUFS = -16.0
TARGET_TP = -1.5
SPEECH_RMS = 0.1
"""Level every line is brought to before mixing (-20 dBFS RMS over its voiced part)."""
PAD_RMS = 0.012
"""The generated pad's level: about 18 dB under speech."""
DUCK = 0.25
"""The bed's gain while someone speaks (-12 dB)."""
# Sample-peak ceiling: room for inter-sample peaks and for the AAC encoder, whose overshoot
# on speech reached 1.1 dB over the PCM peak in a test run.
_CEILING = 10 ** ((TARGET_TP - 1.5) / 20)


@dataclass(frozen=True)
class AudioTrack:
    """The finished track (48 kHz stereo WAV) and what went into it."""

    path: Path
    facts: dict[str, Any]


def decode(path: Path) -> np.ndarray:
    """Any audio file ffmpeg reads, as mono float32 samples at 48 kHz."""
    if path.suffix.lower() == ".wav":
        samples = _read_pcm_wav(path)
        if samples is not None:
            return samples
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", f"file:{path.resolve()}"]
        + ["-ac", "1", "-ar", str(RATE), "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.float32).copy()


def _read_pcm_wav(path: Path) -> np.ndarray | None:
    """A 16-bit PCM WAV read directly (resampled linearly to 48 kHz), else ``None``."""
    try:
        with wave.open(str(path), "rb") as wav:
            if wav.getsampwidth() != 2 or wav.getcomptype() != "NONE":
                return None
            channels, rate = wav.getnchannels(), wav.getframerate()
            data = np.frombuffer(wav.readframes(wav.getnframes()), "<i2").astype(np.float32)
    except (wave.Error, EOFError):
        return None
    mono = data.reshape(-1, channels).mean(axis=1) / 32768.0
    if rate == RATE or len(mono) < 2:
        return mono.astype(np.float32)
    count = int(round(len(mono) * RATE / rate))
    positions = np.arange(count) * (rate / RATE)
    return np.interp(positions, np.arange(len(mono)), mono).astype(np.float32)


def _levelled(samples: np.ndarray) -> np.ndarray:
    """``samples`` at :data:`SPEECH_RMS`, measured over the voiced part (above -50 dBFS)."""
    if not len(samples):
        return samples
    frames = samples[: len(samples) // 480 * 480].reshape(-1, 480)
    rms = np.sqrt((frames**2).mean(axis=1)) if len(frames) else np.array([0.0])
    voiced = rms[rms > 0.003]
    level = float(np.sqrt((voiced**2).mean())) if len(voiced) else 0.0
    return samples * (SPEECH_RMS / level) if level > 0 else samples


def _pad(count: int) -> np.ndarray:
    """A soft minor chord that swells slowly: a bed that never competes with speech.

    Drawn at 12 kHz (its highest partial is 330 Hz) and repeated up to 48 kHz by linear
    interpolation: a quarter of the sine work for the same sound.
    """
    step = 4
    coarse = count // step + 2
    t = np.arange(coarse, dtype=np.float32) * np.float32(step / RATE)
    tones = ((110.0, 1.0), (164.81, 0.7), (220.0, 0.5), (261.63, 0.35), (329.63, 0.2))
    stereo = np.zeros((coarse, 2), np.float32)
    for number, (freq, weight) in enumerate(tones):
        swell = 0.75 + 0.25 * np.sin(np.float32(2 * np.pi * (0.07 + 0.013 * number)) * t + number)
        stereo[:, 0] += weight * swell * np.sin(np.float32(2 * np.pi * freq) * t)
        stereo[:, 1] += weight * swell * np.sin(np.float32(2 * np.pi * freq * 1.003) * t + 0.5)
    # Linear interpolation by 4, as one broadcast: each coarse step and its next, mixed.
    weights = (np.arange(step, dtype=np.float32) / step)[None, :, None]
    fine = stereo[:-1, None, :] * (1 - weights) + stereo[1:, None, :] * weights
    stereo = fine.reshape(-1, 2)[:count].astype(np.float32, copy=False)
    fade = min(count // 2, int(1.5 * RATE))
    if fade:
        ramp = np.linspace(0.0, 1.0, fade, dtype=np.float32)[:, None]
        stereo[:fade] *= ramp
        stereo[count - fade :] *= ramp[::-1]
    rms = float(np.sqrt((stereo**2).mean())) or 1.0
    return stereo * np.float32(PAD_RMS / rms)


def _music(path: Path, count: int) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-nostdin", "-i", f"file:{path.resolve()}"]
        + ["-ac", "2", "-ar", str(RATE), "-t", f"{count / RATE:.6f}", "-f", "f32le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    music = np.frombuffer(raw, np.float32).reshape(-1, 2)[:count]
    out = np.zeros((count, 2), np.float32)
    out[: len(music)] = music
    fade = min(count, RATE)
    out[count - fade :] *= np.linspace(1.0, 0.0, fade, dtype=np.float32)[:, None]
    rms = float(np.sqrt((out**2).mean()))
    # Loud enough to carry the episode alone; ducked under speech.
    return out * (SPEECH_RMS / rms) if rms > 0 else out


def _duck(count: int, placed: Sequence[PlacedLine]) -> np.ndarray:
    """The bed's gain over time: :data:`DUCK` under speech, ramping over 0.25 s."""
    speaking = np.zeros(count, np.float32)
    for item in placed:
        a = max(0, int((item.start_s - 0.1) * RATE))
        b = min(count, int((item.end_s + 0.2) * RATE))
        speaking[a:b] = 1.0
    ramp = int(0.25 * RATE)
    if ramp > 1 and speaking.any():
        # A moving average (a running sum, not a convolution): smooth steps in and out.
        padded = np.concatenate([np.zeros(ramp // 2 + 1), speaking, np.zeros(ramp)])
        total = np.cumsum(padded, dtype=np.float64)
        speaking = ((total[ramp : ramp + count] - total[:count]) / ramp).astype(np.float32)
    return (1.0 - (1.0 - DUCK) * np.clip(speaking, 0.0, 1.0)).astype(np.float32)


# BS.1770 K-weighting at 48 kHz: a high shelf (the head's effect), then a high-pass.
_SHELF = (
    (1.53512485958697, -2.69169618940638, 1.19839281085285),
    (1.0, -1.69065929318241, 0.73248077421585),
)
_HIGHPASS = ((1.0, -2.0, 1.0), (1.0, -1.99004745483398, 0.99007225036621))


METER_DECIMATION = 3
"""The meter runs at 16 kHz: each channel is averaged over 3 samples first (and that
average's own response divided out of the weighting), a third of the FFT work. Speech
and the pad carry next to nothing above 8 kHz; the tests hold the encoded episode to
ffmpeg's full-rate ``ebur128``."""


@functools.cache
def _k_response(size: int) -> np.ndarray:
    """The K-weighting filters' magnitude on the bins of a ``size``-point real FFT of the
    decimated signal, the decimating average divided out."""
    omega = np.linspace(0.0, np.pi / METER_DECIMATION, size // 2 + 1)
    z = np.exp(-1j * omega)
    response = np.ones_like(z)
    for b, a in (_SHELF, _HIGHPASS):
        response *= np.polyval(b[::-1], z) / np.polyval(a[::-1], z)
    half = omega / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        box = np.sin(METER_DECIMATION * half) / (METER_DECIMATION * np.sin(half))
    box[0] = 1.0
    return (np.abs(response) / np.maximum(np.abs(box), 0.05)).astype(np.float32)


def _k_weighted_power(samples: np.ndarray) -> np.ndarray:
    """Per-sample power of the K-weighted channels at the meter's rate, channels summed.

    The two biquads are applied in the frequency domain (their magnitude response on
    the FFT's bins): block energies depend on the magnitude only, and one FFT pass is
    far cheaper in numpy than a sample-by-sample recursive filter.
    """
    count = len(samples) // METER_DECIMATION
    decimated = samples[: count * METER_DECIMATION].reshape(count, METER_DECIMATION, -1)
    decimated = decimated.mean(axis=1, dtype=np.float32)
    size = 1 << int(np.ceil(np.log2(count + count // 10 + 1)))
    response = _k_response(size)
    total = np.zeros(count, np.float32)
    for channel in range(decimated.shape[1]):
        spectrum = np.fft.rfft(decimated[:, channel], n=size)
        spectrum *= response
        weighted = np.fft.irfft(spectrum, n=size)[:count].astype(np.float32)
        total += weighted * weighted
    return total


def integrated_lufs(samples: np.ndarray) -> float:
    """Integrated loudness of 48 kHz stereo samples, as ITU-R BS.1770-4 defines it
    (K-weighting, 400 ms blocks every 100 ms, the -70 LUFS and -10 LU gates): what
    ffmpeg's ``ebur128`` meter reports (to about a tenth of a LU on speech), without a
    process per pass."""
    power = np.concatenate([[0.0], np.cumsum(_k_weighted_power(samples), dtype=np.float64)])
    rate = RATE // METER_DECIMATION
    block, step = int(0.4 * rate), int(0.1 * rate)
    starts = np.arange(0, len(power) - 1 - block + 1, step)
    if not len(starts):
        return float("-inf")
    means = (power[starts + block] - power[starts]) / block
    with np.errstate(divide="ignore"):
        loud = -0.691 + 10 * np.log10(np.maximum(means, 1e-20))
    gated = means[loud > -70]
    if not len(gated):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(gated.mean()) - 10
    kept = means[(loud > -70) & (loud > relative)]
    return float(-0.691 + 10 * np.log10(kept.mean()))


def _parse_ebur128(text: str) -> tuple[float, float]:
    summary = text[text.rfind("Summary:") :]
    integrated = re.search(r"I:\s+(-?[\d.]+|-inf) LUFS", summary)
    peak = re.search(r"Peak:\s+(-?[\d.]+|-inf) dBFS", summary)
    value = float(integrated.group(1)) if integrated else float("-inf")
    return value, float(peak.group(1)) if peak else float("-inf")


def loudness(path: Path) -> dict[str, float]:
    """A file's integrated loudness (LUFS), loudness range (LU) and true peak (dBTP)."""
    result = subprocess.run(
        [ffmpeg_exe(), "-hide_banner", "-nostats", "-nostdin", "-i", f"file:{path.resolve()}"]
        + ["-map", "0:a:0", "-af", "ebur128=peak=true", "-f", "null", "-"],
        capture_output=True,
        check=True,
    )
    text = result.stderr.decode("utf-8", "replace")
    integrated, peak = _parse_ebur128(text)
    lra = re.search(r"LRA:\s+(-?[\d.]+) LU", text[text.rfind("Summary:") :])
    return {
        "integrated_lufs": integrated,
        "lra_lu": float(lra.group(1)) if lra else 0.0,
        "true_peak_dbtp": peak,
    }


def _limit(samples: np.ndarray) -> np.ndarray:
    """Soft-limit peaks above 0.7 of the ceiling to just under the ceiling."""
    knee = 0.7 * _CEILING
    magnitude = np.abs(samples)
    over = magnitude > knee
    if not over.any():
        return samples
    limited = samples.copy()
    squeezed = knee + (_CEILING - knee) * np.tanh((magnitude[over] - knee) / (_CEILING - knee))
    limited[over] = np.sign(samples[over]) * squeezed
    return limited


def _normalise(mix: np.ndarray) -> tuple[np.ndarray, dict[str, float]]:
    """Gain to :data:`TARGET_LUFS` with peaks limited; the gain is corrected by what the
    limiter takes off (measured again) until the result is within 0.2 LU."""
    before = integrated_lufs(mix)
    if not np.isfinite(before):
        return mix, {"input_lufs": before, "integrated_lufs": before, "sample_peak_dbfs": 0.0}
    gain_db = TARGET_LUFS - before
    out, measured = mix, before
    for _ in range(3):
        out = _limit(mix * np.float32(10 ** (gain_db / 20)))
        measured = integrated_lufs(out)
        if abs(measured - TARGET_LUFS) <= 0.2:
            break
        # The limiter gives back less than the gain asks for: overshoot by half again.
        gain_db += 1.5 * (TARGET_LUFS - measured)
    peak = float(np.abs(out).max())
    return out, {
        "input_lufs": before,
        "integrated_lufs": measured,
        "sample_peak_dbfs": 20 * float(np.log10(peak)) if peak > 0 else float("-inf"),
    }


def build_track(
    runtime_s: float,
    placed: Sequence[PlacedLine],
    voices: Sequence[np.ndarray],
    out: Path,
    *,
    music: Path | None = None,
) -> AudioTrack:
    """Mix the voiced lines over the bed, normalise, and write ``out`` (48 kHz stereo).

    Args:
        runtime_s: The episode's length; the track is exactly this long.
        placed: The lines with their start times.
        voices: Each line's samples (:func:`decode`), in the order of ``placed``.
        out: The WAV file to write.
        music: A music bed; ``None``: the generated pad.
    """
    count = int(round(runtime_s * RATE))
    speech = np.zeros(count, np.float32)
    for item, samples in zip(placed, voices, strict=True):
        start = int(round(item.start_s * RATE))
        if start >= count:
            continue
        part = _levelled(samples)[: count - start]
        speech[start : start + len(part)] += part
    bed = _music(music, count) if music is not None else _pad(count)
    mix = bed * _duck(count, placed)[:, None] + speech[:, None]
    mix, measured = _normalise(mix.astype(np.float32))
    pcm = (np.clip(mix, -1.0, 1.0) * 32767).round().astype("<i2")
    out.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(out), "wb") as wav:
        wav.setnchannels(2)
        wav.setsampwidth(2)
        wav.setframerate(RATE)
        wav.writeframes(pcm.tobytes())
    facts: dict[str, Any] = {
        "bed": "music" if music is not None else "generated pad",
        "lines": len(placed),
        "target": {"integrated_lufs": TARGET_LUFS, "true_peak_dbtp": TARGET_TP},
        "measured": {k: round(v, 2) for k, v in measured.items()},
        "ducking_db": round(20 * float(np.log10(DUCK)), 1),
    }
    return AudioTrack(path=out, facts=facts)
