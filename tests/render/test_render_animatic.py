"""The animatic: voiced lines in their shots at phone loudness, subtitles that never cover
the storyboard's labels, staged figures, and thumbnails from the approved packaging."""

from __future__ import annotations

import json
import math
import re
import struct
import subprocess
import threading
import wave
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from writers_room.brief.manifest import Shot, ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.jobs.packaging import packaging_from
from writers_room.render._ffmpeg import ffmpeg_exe
from writers_room.render._layout import FRAME_LAYOUT, SAFE_AREA, overlaps
from writers_room.render.animatic import dialogue_warnings
from writers_room.render.audio import loudness
from writers_room.render.captions import caption_overlay, subtitle_overlay
from writers_room.render.cast import Cast, CastMember, spoken_lines
from writers_room.render.pipeline import RenderOptions, render_manifest
from writers_room.render.storyboard import TAG_BAND, StoryboardRenderer, staging
from writers_room.render.thumbnails import HEADLINE_FILL, make_thumbnails
from writers_room.render.tts import EspeakSpeaker, OpenAISpeechSpeaker, get_speaker
from writers_room.render.voice import speak_lines

CAST = (
    CastMember(
        "Mara Quinn",
        "woman, 29, auburn braid, yellow oilskin jacket",
        {"variant": "f3", "pitch": 55, "rate": 165},
    ),
    CastMember("Theo Vance", "man, 32, dark beard, navy peacoat"),
    CastMember("June Quinn", "woman, 24, short blonde hair, diner apron"),
)


def _manifest(shots: list[dict[str, Any]], fps: int = 12) -> ShotManifest:
    start = 0.0
    out = []
    for number, shot in enumerate(shots, start=1):
        out.append({"shot_id": f"s{number}", "start_s": start, "seed": number, **shot})
        start += shot["duration_s"]
    return ShotManifest(series_id="tiny", episode_id="ep1", fps=fps, shots=out)


def _pcm(path: Path) -> np.ndarray:
    raw = subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-i", str(path), "-map", "0:a"]
        + ["-ac", "1", "-ar", "8000", "-f", "s16le", "-"],
        capture_output=True,
        check=True,
    ).stdout
    return np.frombuffer(raw, np.int16).astype(float)


def _rms(samples: np.ndarray, start_s: float, end_s: float) -> np.ndarray:
    part = samples[int(start_s * 8000) : int(end_s * 8000)]
    windows = part[: len(part) // 400 * 400].reshape(-1, 400)  # 50 ms
    return np.sqrt((windows**2).mean(axis=1))


def test_every_character_gets_a_distinct_voice_the_same_every_time() -> None:
    cast = Cast.of(CAST, ["NARRATOR"])
    again = Cast.of(CAST, ["NARRATOR"])
    assert cast.voices == again.voices
    assert cast.voices["Mara Quinn"].variant == "f3" and not cast.voices["Mara Quinn"].assigned
    variants = [v.variant for v in cast.voices.values()]
    assert len(set(variants)) == len(variants) == 4
    assert cast.voices["June Quinn"].variant.startswith("f")  # the look says woman
    assert cast.voices["Theo Vance"].variant.startswith("m")
    lines = spoken_lines(
        [
            Shot(
                shot_id="a",
                start_s=0,
                duration_s=3,
                dialogue="MARA: It's my father's boat. / THEO (V.O.): It was. / A voice",
            )
        ],
        cast,
    )
    assert [(x.speaker, x.character, x.direction, x.text) for x in lines] == [
        ("MARA", "Mara Quinn", "", "It's my father's boat."),
        ("THEO", "Theo Vance", "(V.O.)", "It was."),
        ("", "", "", "A voice"),
    ]
    assert lines[0].subtitle == "MARA: It's my father's boat."


def test_the_approved_packaging_reaches_the_renderer() -> None:
    headlines, shots = packaging_from(
        assets=[
            'headline: "What is in the rusted lockbox?" — viewers on Low Tide',
            "headline: Theo was there that night",
            "thumbnail: Mara drags out a rusted lockbox (s06: loses the fewest viewers)",
            "thumbnail: the fog (s99)",
        ],
        changes={"choices": [{"slot": "headline", "options": ["Open it.", "Don't."]}]},
        picks=[1],
        brief={"title": "Low Tide"},
        title="Low Tide (ep03)",
        shot_ids=["s01", "s06"],
    )
    assert headlines == (
        "Don't.",
        "What is in the rusted lockbox?",
        "Theo was there that night",
        "Low Tide",
        "Low Tide (ep03)",
    )
    assert shots == ("s06",)


@pytest.fixture(scope="module")
def voiced(tmp_path_factory: pytest.TempPathFactory) -> tuple[ShotManifest, Any]:
    manifest = _manifest(
        [
            {
                "duration_s": 2.5,
                "framing": "close-up",
                "characters": ["Mara Quinn"],
                "action": "Mara reads the letter",
                "mood": "tense",
                "dialogue": "MARA: Who sent this?",
            },
            {
                "duration_s": 2.0,
                "framing": "wide",
                "characters": [],
                "action": "Fog on the harbor",
                "mood": "calm",
                "caption": "Low tide. The third rock.",
            },
            {
                "duration_s": 4.0,
                "framing": "two-shot",
                "characters": ["Mara Quinn", "Theo Vance"],
                "action": "Theo steps out of the fog",
                "mood": "shock",
                "dialogue": "THEO: You weren't supposed to find that. / MARA: Stay back.",
            },
        ]
    )
    home = tmp_path_factory.mktemp("animatic")
    result = render_manifest(
        Settings(home=home / "home"),
        manifest,
        home / "out",
        preview=True,
        options=RenderOptions(speaker=EspeakSpeaker(), cast=CAST, headlines=("Who sent this?",)),
    )
    return manifest, result


def test_the_track_is_at_phone_loudness(voiced: tuple[ShotManifest, Any]) -> None:
    _, result = voiced
    measured = loudness(result.episode_path)  # ffmpeg's ebur128 on the encoded episode
    assert abs(measured["integrated_lufs"] - (-16.0)) <= 1.0, measured
    assert measured["true_peak_dbtp"] <= -1.0, measured


def test_every_line_is_heard_in_its_shot(voiced: tuple[ShotManifest, Any]) -> None:
    manifest, result = voiced
    samples = _pcm(result.episode_path)
    provenance = json.loads(result.provenance_path.read_text())
    lines = provenance["encode"]["voice"]["lines"]
    assert [(x["shot_id"], x["speaker"]) for x in lines] == [
        ("s1", "MARA"),
        ("s3", "THEO"),
        ("s3", "MARA"),
    ]
    assert lines[0]["voice"]["variant"] == "f3"
    assert lines[1]["voice"]["variant"] != lines[2]["voice"]["variant"]
    pad = _rms(samples, 2.7, 4.3).max()  # the captioned shot without dialogue: pad only
    for line in lines:
        shot = next(s for s in manifest.shots if s.shot_id == line["shot_id"])
        assert shot.start_s <= line["start_s"] and line["start_s"] + line["duration_s"] <= (
            shot.end_s
        )
        speech = _rms(samples, line["start_s"], line["start_s"] + line["duration_s"])
        assert speech.max() > 6 * pad and (speech > 3 * pad).mean() > 0.4, line
    assert provenance["warnings"] == []
    assert provenance["encode"]["audio"]["bed"] == "generated pad"


def test_subtitles_name_the_speaker_on_screen_and_in_the_vtt(
    voiced: tuple[ShotManifest, Any],
) -> None:
    manifest, result = voiced
    vtt = result.captions_path.read_text()
    assert "<v Mara Quinn>MARA: Who sent this?" in vtt
    assert "<v Theo Vance>THEO: You weren&#39;t" not in vtt
    assert "THEO: You weren't supposed to find that." in vtt
    cues = re.findall(r"(\d\d:\d\d:\d\d\.\d+) --> (\d\d:\d\d:\d\d\.\d+)\n<v", vtt)
    assert len(cues) == 3
    frames = subprocess.run(
        [
            ffmpeg_exe(),
            "-v",
            "error",
            "-i",
            str(result.episode_path),
            "-f",
            "rawvideo",
            "-pix_fmt",
            "rgb24",
            "-",
        ],
        capture_output=True,
        check=True,
    ).stdout
    video = np.frombuffer(frames, np.uint8).reshape(-1, 640, 360, 3).astype(int)
    band = FRAME_LAYOUT.band("subtitles", 360, 640)
    plate, x, y = subtitle_overlay("MARA: Who sent this?", (360, 640), speaker="MARA")
    region = (slice(y, y + plate.height), slice(x, x + plate.width))
    assert band[1] <= y and y + plate.height <= band[3]
    during, before = video[6][region], video[1][region]  # 0.5 s (speaking) / 0.08 s
    # The speaker's name is drawn in yellow: many yellowish pixels while the line plays.
    yellow = (during[..., 0] > 190) & (during[..., 1] > 150) & (during[..., 2] < 120)
    assert yellow.sum() > 15
    assert np.abs(during - before).mean() > 10


def test_a_line_longer_than_its_shot_is_reported_not_cut(tmp_path: Path) -> None:
    manifest = _manifest(
        [
            {
                "duration_s": 1.0,
                "framing": "close-up",
                "characters": ["Theo Vance"],
                "dialogue": "THEO: Somebody's been covering his debts for two whole years, Mara.",
            },
            {"duration_s": 5.0, "framing": "wide", "characters": []},
        ]
    )
    estimated = dialogue_warnings(manifest, CAST)
    assert len(estimated) == 1 and "shot 's1'" in estimated[0] and "not cut" in estimated[0]
    result = render_manifest(
        Settings(home=tmp_path / "home"),
        manifest,
        tmp_path / "long",
        preview=True,
        options=RenderOptions(speaker=EspeakSpeaker(), cast=CAST),
    )
    provenance = json.loads(result.provenance_path.read_text())
    (warning,) = provenance["warnings"]
    assert "THEO's line runs" in warning and "past the shot's end" in warning
    assert result.warnings == (warning,)
    line = provenance["encode"]["voice"]["lines"][0]
    assert line["overrun_s"] > 0.5
    samples = _pcm(result.episode_path)
    # Still speaking in the next shot: the line plays on, it is not cut at the cut.
    assert _rms(samples, 1.05, 1.0 + line["overrun_s"] - 0.1).max() > 1500


@pytest.mark.parametrize("size", [(360, 640), (1080, 1920)])
def test_captions_and_subtitles_never_cover_a_storyboard_label(size: tuple[int, int]) -> None:
    renderer = StoryboardRenderer(cast=CAST, locations=("Gull & Anchor diner",))
    long = "A caption long enough to need wrapping onto more than one line of text, surely " * 2
    line = "MARA: " + "I never asked you to pay for any of it, and you know that " * 3
    plates = []
    for plate_text, draw in ((long, caption_overlay), (line, subtitle_overlay)):
        plate, x, y = draw(plate_text, size)
        plates.append((x, y, x + plate.width, y + plate.height))
    left, top, right, bottom = SAFE_AREA.box(*size)
    for framing in (
        "close-up",
        "extreme close-up",
        "medium",
        "two-shot",
        "over-the-shoulder",
        "wide",
        "extreme wide",
        "insert",
    ):
        shot = Shot(
            shot_id="s9",
            start_s=0,
            duration_s=4,
            framing=framing,
            camera="slow push-in",
            characters=["Mara Quinn", "Theo Vance"],
            mood="tense",
            action="June wipes the diner counter and does not look up when Mara walks in, "
            "holding the folded lien notice stamped HARBOR AUTHORITY for everyone to see",
        )
        _, px, py, header = renderer.label_plate(shot, size)
        tags = [box for _, box in renderer.frame(shot, size, labels="names").labels]
        for box in [*header, *tags, *plates]:
            assert left <= box[0] and box[2] <= right and top <= box[1] and box[3] <= bottom
        for box in header + tags:
            assert not any(overlaps(box, plate) for plate in plates), (framing, box)
        for box in tags:  # a 12 % camera move never carries a tag into other text
            assert size[1] * TAG_BAND[0] <= box[1] and box[3] <= size[1] * TAG_BAND[1]


def test_the_framing_decides_the_staging() -> None:
    assert staging("close-up", 1) == "cu"
    assert staging("Extreme Close-Up", 1) == "ecu"
    assert staging("medium two-shot", 2) == "two"
    assert staging("over-the-shoulder", 2) == "ots"
    assert staging("wide", 1) == "wide" and staging("extreme wide", 0) == "ewide"
    assert staging("insert", 1) == staging("top-down", 0) == "insert"
    renderer = StoryboardRenderer(cast=CAST)

    def tags(framing: str, people: list[str], action: str = "") -> list[Any]:
        shot = Shot(
            shot_id="s", start_s=0, duration_s=2, framing=framing, characters=people, action=action
        )
        return [box for kind, box in renderer.frame(shot, (360, 640), labels="names").labels]

    assert len(tags("close-up", ["Mara Quinn"])) == 1
    assert len(tags("two-shot", ["Mara Quinn", "Theo Vance"])) == 2
    assert len(tags("over-the-shoulder", ["Mara Quinn", "Theo Vance"])) == 2
    assert len(tags("wide", ["Mara Quinn", "Theo Vance", "June Quinn"])) == 3
    insert = tags("insert", ["Theo Vance"], "Theo hands her a folded lien notice")
    assert len(insert) == 1  # the prop's tag, no figure
    # The same character looks the same in every shot (figures come from the look).
    one = renderer.render(
        [Shot(shot_id="a", start_s=0, duration_s=1, framing="close-up", characters=["Mara Quinn"])],
        (360, 640),
    )[0]
    two = renderer.render(
        [Shot(shot_id="b", start_s=5, duration_s=1, framing="close-up", characters=["Mara Quinn"])],
        (360, 640),
    )[0]
    assert np.array_equal(np.asarray(one)[300:], np.asarray(two)[300:])


def _luminance(rgb: np.ndarray) -> np.ndarray:
    c = rgb / 255.0
    linear = np.where(c <= 0.03928, c / 12.92, ((c + 0.055) / 1.055) ** 2.4)
    return linear @ np.array([0.2126, 0.7152, 0.0722])


def test_thumbnails_carry_the_approved_headline_legibly(tmp_path: Path) -> None:
    renderer = StoryboardRenderer(cast=CAST)
    shots = [
        Shot(
            shot_id="s1",
            start_s=0,
            duration_s=3,
            framing="extreme wide",
            mood="sleepy",
            action="Dawn fog rolls over the empty harbor",
        ),
        Shot(
            shot_id="s2",
            start_s=3,
            duration_s=3,
            framing="close-up",
            mood="urgent",
            characters=["Mara Quinn"],
            action="She drags out a rusted lockbox",
        ),
        Shot(
            shot_id="s3",
            start_s=6,
            duration_s=3,
            framing="two-shot",
            mood="shock",
            characters=["Mara Quinn", "Theo Vance"],
            dialogue="THEO: You found it.",
        ),
        Shot(
            shot_id="s4",
            start_s=9,
            duration_s=3,
            framing="medium",
            mood="tense",
            characters=["June Quinn"],
            caption="Mail came.",
        ),
    ]
    keyframes = []
    for shot in shots:
        path = tmp_path / f"{shot.shot_id}.png"
        renderer.render([shot], (1080, 1920))[0].save(path)
        keyframes.append(path)
    headline = "Extraordinarily unforgettable lockbox revelations overwhelm everybody " * 2

    def frames(index: int, size: tuple[int, int]) -> tuple[Any, list[Any]]:
        frame = renderer.frame(shots[index], size, labels="names")
        return frame.image, [box for _, box in frame.labels]

    thumbs = make_thumbnails(
        keyframes,
        shots,
        tmp_path / "thumbs",
        headlines=("What is in the rusted lockbox?", headline),
        chosen=("s3",),
        sizes=[(1080, 1920), (360, 640)],
        frames=frames,
    )
    big = [t for t in thumbs if t.size == (1080, 1920)]
    assert [t.shot_id for t in big][0] == "s3"  # the packaging's frame first
    assert "s1" not in {t.shot_id for t in big}  # never the empty fog shot
    assert big[0].headline == "What is in the rusted lockbox?"
    words = headline.split()
    for thumb in thumbs:
        assert thumb.label_boxes, thumb  # name tags recorded
        assert not any(overlaps(thumb.headline_box, box) for box in thumb.label_boxes)
        said = " ".join(thumb.lines).split()
        expected = thumb.headline.split()
        # Whole words only: every word as written, the last maybe ending in an ellipsis.
        assert said[:-1] == expected[: len(said) - 1]
        assert said[-1] in {expected[len(said) - 1], expected[len(said) - 1] + "…"} or (
            said[-1].rstrip("…") == expected[len(said) - 1].rstrip(",.;:—-")
        )
        if thumb.headline.startswith("Extraordinarily"):
            assert set(w.rstrip("…") for w in said) <= set(words)
    for thumb in [t for t in thumbs if t.size == (360, 640)]:
        image = np.asarray(Image.open(thumb.path).convert("RGB")).astype(float)
        x0, y0, x1, y1 = thumb.headline_box
        region = image[y0 + 2 : y1 - 2, x0 + 2 : x1 - 2].reshape(-1, 3)
        lum = _luminance(region)
        text = region[np.abs(region - np.array(HEADLINE_FILL)).sum(axis=1) < 90]
        assert len(text) > 150, len(text)  # the headline is there, in its colour
        text_l = float(np.median(_luminance(text)))
        ground_l = float(np.percentile(lum, 20))
        assert (text_l + 0.05) / (ground_l + 0.05) >= 4.5


class _Speech(BaseHTTPRequestHandler):
    requests: list[tuple[dict[str, Any], str]] = []
    status = 200

    def do_POST(self) -> None:  # noqa: N802 (http.server's name)
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).requests.append((body, self.headers.get("Authorization", "")))
        if self.path != "/v1/audio/speech" or type(self).status != 200:
            self.send_response(type(self).status if self.path == "/v1/audio/speech" else 404)
            self.end_headers()
            return
        rate = 24_000
        tone = [int(9000 * math.sin(2 * math.pi * 300 * i / rate)) for i in range(rate // 2)]
        data = struct.pack(f"<{len(tone)}h", *tone)
        header = b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVEfmt "
        header += struct.pack("<IHHIIHH", 16, 1, 1, rate, rate * 2, 2, 16)
        payload = header + b"data" + struct.pack("<I", len(data)) + data
        self.send_response(200)
        self.send_header("Content-Type", "audio/wav")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


def test_an_openai_compatible_speech_endpoint_voices_each_character(tmp_path: Path) -> None:
    server = HTTPServer(("127.0.0.1", 0), _Speech)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{server.server_port}/v1"
        settings = Settings(
            home=tmp_path,
            tts="openai",
            tts_base_url=base,
            tts_model="tts-x",
            tts_voices=["alloy", "nova", "onyx"],
            openai_api_key="sk-test",
        )
        speaker = get_speaker(settings)
        assert isinstance(speaker, OpenAISpeechSpeaker)
        shots = [
            Shot(
                shot_id="s1",
                start_s=0,
                duration_s=4,
                dialogue="MARA: Who sent this? / THEO: I did.",
            )
        ]
        cast = Cast.of(CAST)
        files = speak_lines(speaker, spoken_lines(shots, cast), shots, cast, tmp_path / "v")
        assert [f.suffix for f in files] == [".wav", ".wav"]
        with wave.open(str(files[0])) as wav:
            assert wav.getnframes() == 12_000
        (mara, auth), (theo, _) = _Speech.requests[-2:]
        assert auth == "Bearer sk-test"
        assert (mara["model"], mara["input"], mara["response_format"]) == (
            "tts-x",
            "Who sent this?",
            "wav",
        )
        assert mara["voice"] != theo["voice"]
        assert {mara["voice"], theo["voice"]} <= {"alloy", "nova", "onyx"}
        _Speech.status = 500
        with pytest.raises(InputError, match="shot 's1'.*answered 500"):
            speak_lines(speaker, spoken_lines(shots, cast), shots, cast, tmp_path / "w")
    finally:
        _Speech.status = 200
        server.shutdown()
        server.server_close()
