"""Text-to-speech engines behind the :class:`~writers_room.render.voice.Speaker` hook.

* :class:`EspeakSpeaker` — eSpeak NG, offline: the library and its voice data ship in the
  ``espeakng-loader`` wheel (nothing is downloaded, no system package is needed), driven
  through its C API with ``ctypes``. A formant synthesiser: robotic, but every line is
  intelligible, distinct per character (variant, pitch, rate) and made in milliseconds —
  a temp track for an animatic, not a performance.
* :class:`OpenAISpeechSpeaker` — any OpenAI-compatible ``POST …/audio/speech`` endpoint
  (OpenAI, a local server that speaks the same API).

:func:`get_speaker` picks one from the settings (``WRITERS_ROOM_TTS``). Dialogue reaches
an engine as data: a C string argument or a JSON field, never a command line.
"""

from __future__ import annotations

import array
import ctypes
import json
import threading
import urllib.error
import urllib.request
import wave
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from writers_room.brief.manifest import Shot
from writers_room.errors import InputError
from writers_room.render.cast import DEFAULT_PITCH, DEFAULT_RATE, Voice

if TYPE_CHECKING:
    from writers_room.config import Settings
    from writers_room.render.voice import Speaker

__all__ = ["EspeakSpeaker", "OpenAISpeechSpeaker", "get_speaker"]

# espeak_AUDIO_OUTPUT, espeak_PARAMETER, espeak_POSITION_TYPE and flags from speak_lib.h.
_AUDIO_OUTPUT_SYNCHRONOUS = 2
_INITIALIZE_DONT_EXIT = 0x8000
_RATE, _VOLUME, _PITCH = 1, 2, 3
_POS_CHARACTER = 1
_CHARS_UTF8 = 1
_SynthCallback = ctypes.CFUNCTYPE(
    ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p
)


class _Espeak:
    """The process's one eSpeak NG instance (its C state is global: one caller at a time)."""

    _lock = threading.Lock()
    _instance: _Espeak | None = None

    def __init__(self) -> None:
        import espeakng_loader

        self.lib = ctypes.CDLL(espeakng_loader.get_library_path())
        self.lib.espeak_Initialize.restype = ctypes.c_int
        self.lib.espeak_Initialize.argtypes = [
            ctypes.c_int,
            ctypes.c_int,
            ctypes.c_char_p,
            ctypes.c_int,
        ]
        self.lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        self.lib.espeak_SetParameter.argtypes = [ctypes.c_int, ctypes.c_int, ctypes.c_int]
        self.lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        # The path is the folder that holds espeak-ng-data.
        data = Path(espeakng_loader.get_data_path()).parent
        self.sample_rate = self.lib.espeak_Initialize(
            _AUDIO_OUTPUT_SYNCHRONOUS, 0, str(data).encode(), _INITIALIZE_DONT_EXIT
        )
        if self.sample_rate <= 0:
            raise RuntimeError(f"eSpeak NG did not start (data in {data})")
        self.samples = array.array("h")
        self._callback = _SynthCallback(self._collect)  # kept alive with the instance
        self.lib.espeak_SetSynthCallback(self._callback)
        self.version = _espeak_version(self.lib)

    def _collect(self, wav: Any, count: int, _events: Any) -> int:
        if count > 0 and wav:
            self.samples.extend(ctypes.cast(wav, ctypes.POINTER(ctypes.c_short * count)).contents)
        return 0

    @classmethod
    def get(cls) -> _Espeak:
        with cls._lock:
            if cls._instance is None:
                cls._instance = cls()
            return cls._instance

    def synth(self, text: str, voice: str, *, rate: int, pitch: int) -> array.array[int]:
        with self._lock:
            if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
                raise InputError(f"eSpeak NG has no voice {voice!r}", field="voice", value=voice)
            self.lib.espeak_SetParameter(_RATE, rate, 0)
            self.lib.espeak_SetParameter(_PITCH, pitch, 0)
            self.lib.espeak_SetParameter(_VOLUME, 100, 0)
            self.samples = array.array("h")
            data = text.encode("utf-8")
            status = self.lib.espeak_Synth(
                data, len(data) + 1, 0, _POS_CHARACTER, 0, _CHARS_UTF8, None, None
            )
            self.lib.espeak_Synchronize()
            if status != 0:
                raise RuntimeError(f"eSpeak NG could not speak (status {status})")
            return self.samples


def _espeak_version(lib: Any) -> str:
    try:
        lib.espeak_Info.restype = ctypes.c_char_p
        lib.espeak_Info.argtypes = [ctypes.c_void_p]
        return str(lib.espeak_Info(None).decode())
    except (AttributeError, UnicodeDecodeError):  # an older library without espeak_Info
        return "unknown"


class EspeakSpeaker:
    """Speaks each line with eSpeak NG in its character's voice (``language+variant``)."""

    def __init__(self, language: str = "en-us") -> None:
        self.language = language
        # Only strings are kept: the speaker travels to render workers (Ray) by pickle,
        # and each process starts its own engine.
        self.name = f"espeak-ng {_Espeak.get().version} ({language})"

    def speak(self, text: str, *, shot: Shot, out: Path, voice: Voice | None = None) -> Path:
        """Write ``text`` spoken in ``voice`` to ``out.wav`` (16-bit mono)."""
        variant = voice.variant if voice is not None else ""
        name = f"{self.language}+{variant}" if variant else self.language
        engine = _Espeak.get()
        samples = engine.synth(
            text,
            name,
            rate=voice.rate if voice is not None else DEFAULT_RATE,
            pitch=voice.pitch if voice is not None else DEFAULT_PITCH,
        )
        path = out.with_suffix(".wav")
        with wave.open(str(path), "wb") as wav:
            wav.setnchannels(1)
            wav.setsampwidth(2)
            wav.setframerate(engine.sample_rate)
            wav.writeframes(samples.tobytes())
        return path


class OpenAISpeechSpeaker:
    """Speaks each line through an OpenAI-compatible ``/audio/speech`` endpoint.

    Args:
        base_url: The API root, e.g. ``https://api.openai.com/v1`` or a local server's.
        model: The speech model.
        voices: The endpoint's voices, handed out by cast order; a character whose bible
            variant names one of them gets that one.
        api_key: Sent as a bearer token when given.
        timeout_s: Per request.
    """

    def __init__(
        self,
        base_url: str,
        *,
        model: str,
        voices: Sequence[str],
        api_key: str | None = None,
        timeout_s: float = 60.0,
    ) -> None:
        if not voices:
            raise InputError("the speech endpoint needs at least one voice name", field="voices")
        self.url = base_url.rstrip("/") + "/audio/speech"
        self.model = model
        self.voices = list(voices)
        self.api_key = api_key
        self.timeout_s = timeout_s
        self.name = f"openai-speech {model} at {base_url.rstrip('/')}"

    def voice_name(self, voice: Voice | None) -> str:
        if voice is None:
            return self.voices[0]
        if voice.variant in self.voices:
            return voice.variant
        return self.voices[voice.slot % len(self.voices)]

    def speak(self, text: str, *, shot: Shot, out: Path, voice: Voice | None = None) -> Path:
        """POST the line; the answer's audio (WAV asked for) is written beside ``out``."""
        rate = voice.rate if voice is not None else DEFAULT_RATE
        body = {
            "model": self.model,
            "input": text,
            "voice": self.voice_name(voice),
            "response_format": "wav",
            "speed": round(min(4.0, max(0.25, rate / 175)), 3),
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
                kind = response.headers.get("Content-Type", "")
                audio = response.read()
        except urllib.error.HTTPError as exc:
            raise RuntimeError(f"{self.url} answered {exc.code} {exc.reason}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise RuntimeError(f"{self.url} could not be reached: {exc}") from None
        suffix = ".mp3" if "mpeg" in kind else ".ogg" if "ogg" in kind else ".wav"
        path = out.with_suffix(suffix)
        path.write_bytes(audio)
        return path


def get_speaker(settings: Settings) -> Speaker | None:
    """The engine ``settings.tts`` names (``None`` for ``off``)."""
    if settings.tts == "off":
        return None
    if settings.tts == "openai":
        return OpenAISpeechSpeaker(
            settings.tts_base_url or settings.openai_base_url or "https://api.openai.com/v1",
            model=settings.tts_model,
            voices=settings.tts_voices,
            api_key=settings.openai_api_key,
        )
    return EspeakSpeaker()
