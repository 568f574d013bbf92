"""End-to-end renders with the real ffmpeg: the full ladder (slow) and previews."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image
from render_helpers import (
    decode_frames,
    make_manifest,
    parse_master,
    parse_variant,
    x264_options,
)

from writers_room.brief.manifest import ShotManifest
from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.render import _ffmpeg
from writers_room.render._ffmpeg import count_frames, probe
from writers_room.render.captions import caption_overlay
from writers_room.render.keyframes import StoryboardRenderer
from writers_room.render.pipeline import RenderOptions, RenderResult, render_manifest
from writers_room.render.validate import timeline

HOSTILE = "'; rm -rf ~ %{pts} [x], a:b\\c"


def _full_manifest() -> ShotManifest:
    shots = [
        {"shot_id": "s1", "start_s": 0.0, "duration_s": 1.5, "camera": "slow push-in"},
        {"shot_id": "s2", "start_s": 1.5, "duration_s": 2.0, "camera": "static"},
        {"shot_id": "s3", "start_s": 3.5, "duration_s": 1.5, "camera": "pan left"},
    ]
    for shot, mood in zip(shots, ["tense", "calm", "joyful"], strict=True):
        shot.update(
            mood=mood,
            framing="close-up",
            action=f"Beat {shot['shot_id']}: Mara and the letter.",
            caption=f"Caption for {shot['shot_id']}",
            characters=["Mara"],
        )
    return ShotManifest(series_id="tiny", episode_id="ep1", fps=24, shots=shots)


# The single pass (what a small machine chooses), the ladder encoded in three time
# chunks of one segment each, joined by the packaging pass (what a many-core host does),
# and the moves drawn by torch instead of zoompan (what a GPU host does; here on the
# CPU): every check below must hold for all three.
@pytest.fixture(
    scope="module",
    params=[(1, "ffmpeg"), (3, "ffmpeg"), (3, "torch")],
    ids=["single-pass", "chunked", "torch-motion"],
)
def full_render(
    tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest
) -> tuple[ShotManifest, RenderResult]:
    chunks, motion = request.param
    home = tmp_path_factory.mktemp("full") / "home"
    manifest = _full_manifest()
    result = render_manifest(
        Settings(home=home),
        manifest,
        home / "renders" / "tiny" / "ep1" / "full",
        options=RenderOptions(encode_chunks=chunks, motion=motion),
    )
    provenance = json.loads(result.provenance_path.read_text())
    assert len(provenance["encode"]["encode_chunks"]) == chunks
    assert provenance["encode"]["motion"] == (
        "torch (cpu)" if motion == "torch" else "ffmpeg zoompan"
    )
    return manifest, result


@pytest.mark.slow
def test_the_master_is_h264_high_aac_with_synthetic_tags(
    full_render: tuple[ShotManifest, RenderResult],
) -> None:
    manifest, result = full_render
    info = probe(result.episode_path)
    video, audio = info.video, info.audio
    assert (video.codec, video.profile) == ("h264", "High")
    assert (video.width, video.height) == (1080, 1920)
    assert video.fps == 24
    assert audio is not None and audio.codec == "aac" and audio.sample_rate == 48000
    assert "synthetic" in info.tags["comment"] and "AI-generated" in info.tags["comment"]
    assert "synthetic" in info.tags["description"]
    assert count_frames(result.episode_path) == timeline(manifest).total_frames == 120
    assert info.duration_s == pytest.approx(manifest.runtime_s, abs=0.05)


@pytest.mark.slow
def test_cuts_land_on_the_manifest_boundaries(
    full_render: tuple[ShotManifest, RenderResult],
) -> None:
    manifest, result = full_render
    frames = decode_frames(result.episode_path, 9, 16).astype(float)
    # The top row shows each storyboard's sky in its mood's colour, above the safe area
    # (the figures and the ground fill the bottom now).
    colours = frames[:, :1, :, :].mean(axis=(1, 2))
    plan = timeline(manifest)
    assert len(colours) == plan.total_frames
    mids = [start + count // 2 for start, count in zip(plan.starts, plan.frames, strict=True)]
    refs = [colours[mid] for mid in mids]
    for k, boundary in enumerate(plan.starts[1:]):
        before, after = refs[k], refs[k + 1]
        window = range(mids[k], mids[k + 1] + 1)
        first_after = next(
            f
            for f in window
            if np.linalg.norm(colours[f] - after) < np.linalg.norm(colours[f] - before)
        )
        assert abs(first_after - boundary) <= 1, (k, first_after, boundary)


@pytest.mark.slow
def test_the_hls_ladder_has_three_renditions_and_short_segments(
    full_render: tuple[ShotManifest, RenderResult],
) -> None:
    _, result = full_render
    variants = parse_master(result.hls_master_path)
    assert [v["RESOLUTION"] for v in variants] == ["1080x1920", "720x1280", "360x640"]
    targets = {"1080x1920": (3500, 128), "720x1280": (1500, 96), "360x640": (600, 64)}
    measured: list[float] = []
    for variant in variants:
        video_kbps, audio_kbps = targets[variant["RESOLUTION"]]
        codecs = variant["CODECS"].split(",")
        assert codecs[0].startswith("avc1.64") and codecs[1] == "mp4a.40.2"
        assert int(variant["BANDWIDTH"]) <= (video_kbps * 1.1 + audio_kbps) * 1000 * 1.1

        playlist = result.hls_master_path.parent / variant["uri"]
        media = parse_variant(playlist)
        assert media["ended"] and media["target"] <= 2
        durations = [duration for duration, _ in media["segments"]]
        assert all(duration <= 2.0 + 1e-3 for duration in durations)
        assert sum(durations) == pytest.approx(5.0, abs=0.05)
        folder = playlist.parent
        init = (folder / media["init"]).read_bytes()
        segments = b"".join((folder / uri).read_bytes() for _, uri in media["segments"])

        options = x264_options(segments)
        assert options["bitrate"] == str(video_kbps)
        assert options["vbv_maxrate"] == str(round(video_kbps * 1.1))
        assert options["keyint"] == "48"  # fps x 2 s: one GOP per segment
        assert options["scenecut"] == "0"

        joined = folder / "joined-for-test.mp4"
        joined.write_bytes(init + segments)
        info = probe(joined)
        joined.unlink()
        w, h = (int(x) for x in variant["RESOLUTION"].split("x"))
        assert (info.video.width, info.video.height, info.video.profile) == (w, h, "High")
        assert info.video.bitrate_kbps is not None
        assert info.video.bitrate_kbps <= video_kbps * 1.15
        measured.append(info.video.bitrate_kbps)
        # Every segment starts on a keyframe: count IDR-started fragments per segment.
        assert len(media["segments"]) == 3
    assert measured[0] > measured[1] > measured[2]


@pytest.mark.slow
def test_sidecars_thumbnails_and_provenance(
    full_render: tuple[ShotManifest, RenderResult],
) -> None:
    manifest, result = full_render
    out = result.out_dir
    assert json.loads((out / "manifest.json").read_text()) == manifest.model_dump(mode="json")
    vtt = result.captions_path.read_text()
    assert "00:00:01.500 --> 00:00:03.500\nCaption for s2" in vtt
    assert [p.name for p in result.keyframe_paths] == ["00_s1.png", "01_s2.png", "02_s3.png"]
    sizes = {Image.open(p).size for p in result.thumbnail_paths}
    assert sizes == {(1080, 1920), (720, 1280)}
    assert len(result.thumbnail_paths) >= 6
    provenance = json.loads(result.provenance_path.read_text())
    assert provenance["synthetic"] is True
    assert provenance["renderer"]["name"] == "storyboard"
    assert provenance["brief_version"] == 1
    assert provenance["libraries"]["ffmpeg"] and provenance["libraries"]["pillow"]
    assert [s["frames"] for s in provenance["shots"]] == [36, 48, 36]
    assert [s["move"] for s in provenance["shots"]] == ["push_in", "static", "pan_left"]
    assert all("prompt" in s and "seed" in s for s in provenance["shots"])
    assert {"keyframes", "encode", "master", "thumbnails", "total"} <= set(provenance["timings_s"])
    assert provenance["cpu_seconds"] > 0
    assert "episode.mp4" in provenance["outputs"]
    assert not any(name.startswith(".") for name in os.listdir(out))
    assert not any(name.startswith(".") for name in os.listdir(out / "hls"))
    chunks = provenance["encode"]["encode_chunks"]
    assert chunks[0][0] == 0 and chunks[-1][1] == 120
    assert all(a[1] == b[0] and b[0] % 48 == 0 for a, b in zip(chunks, chunks[1:], strict=False))


def _preview(settings: Settings, manifest: ShotManifest, name: str, **kw: Any) -> RenderResult:
    return render_manifest(
        settings, manifest, settings.renders_path / "tiny" / "ep1" / name, preview=True, **kw
    )


def test_a_hostile_caption_renders_literally_without_a_shell(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    canary = tmp_path / "fake-home" / "canary.txt"
    canary.parent.mkdir()
    canary.write_text("still here")
    monkeypatch.setenv("HOME", str(canary.parent))
    calls: list[tuple[list[str], dict[str, Any]]] = []
    real_popen = subprocess.Popen

    def spy(args: Any, **kwargs: Any) -> Any:
        calls.append((list(args), kwargs))
        return real_popen(args, **kwargs)

    monkeypatch.setattr(_ffmpeg.subprocess, "Popen", spy)
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(2, 1.0, fps=12, caption=HOSTILE, camera="static")
    result = _preview(settings, manifest, "hostile", options=RenderOptions(crossfade_s=0))

    assert canary.read_text() == "still here"
    assert calls, "ffmpeg was not run through the spy"
    for args, kwargs in calls:
        assert isinstance(args, list) and not kwargs.get("shell", False)
        assert not any("rm -rf" in arg or "%{pts}" in arg for arg in args)
    assert HOSTILE.replace("&", "&amp;") in result.captions_path.read_text()

    # The burned-in caption matches Pillow's drawing of the literal text better than a
    # drawing of what a mis-escaped filter string would have shown.
    keyframe = Image.open(result.keyframe_paths[0]).convert("RGBA")
    frame = decode_frames(result.episode_path, 360, 640)[6].astype(int)

    def expected(text: str) -> tuple[np.ndarray, tuple[int, int, int, int]]:
        plate, x, y = caption_overlay(text, (360, 640))
        composed = keyframe.copy()
        composed.alpha_composite(plate, (x, y))
        return np.asarray(composed.convert("RGB")).astype(int), (x, y, plate.width, plate.height)

    literal, (x, y, w, h) = expected(HOSTILE)
    wrong, _ = expected("\\'; rm -rf ~ 0.5 [x], a\\:b\\\\c")
    region = (slice(y, y + h), slice(x, x + w))
    differs = np.abs(literal[region] - wrong[region]).sum(axis=2) > 60
    assert differs.sum() > 50
    err_literal = np.abs(frame[region] - literal[region]).sum(axis=2)[differs].mean()
    err_wrong = np.abs(frame[region] - wrong[region]).sum(axis=2)[differs].mean()
    assert err_literal * 2 < err_wrong, (err_literal, err_wrong)


def test_a_preview_is_one_small_rendition(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    stages: list[str] = []
    result = _preview(
        settings,
        make_manifest(3, 1.0, fps=12),
        "preview",
        progress=lambda stage, done, total: stages.append(stage),
    )
    info = probe(result.episode_path)
    assert (info.video.width, info.video.height, info.video.profile) == (360, 640, "High")
    assert [v["RESOLUTION"] for v in parse_master(result.hls_master_path)] == ["360x640"]
    assert {Image.open(p).size for p in result.thumbnail_paths} == {(360, 640)}
    assert {"keyframes", "encode", "master", "done"} <= set(stages)
    assert stages[-1] == "done"
    assert result.artifacts(settings.home)["episode"] == "renders/tiny/ep1/preview/episode.mp4"


def test_a_shot_level_rerender_only_redraws_the_changed_shot(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(3, 1.0, fps=12)
    first = _preview(settings, manifest, "one")
    assert first.rendered_shots == ("s1", "s2", "s3")
    data = manifest.model_dump()
    # The caption is a plate burned in over the keyframe: only the action redraws it.
    data["shots"][1]["caption"] = "A new caption"
    data["shots"][1]["action"] = "Mara slams door number 2."
    second = _preview(settings, ShotManifest.model_validate(data), "two")
    assert second.rendered_shots == ("s2",)
    assert second.cache_hits == ("s1", "s3")
    assert second.keyframe_paths[0].read_bytes() == first.keyframe_paths[0].read_bytes()
    provenance = json.loads(second.provenance_path.read_text())
    assert [s["cache_hit"] for s in provenance["shots"]] == [True, False, True]


def test_renders_never_overwrite_and_failures_leave_nothing(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(2, 1.0, fps=12)
    done = _preview(settings, manifest, "taken")
    with pytest.raises(InputError, match="already exists"):
        _preview(settings, manifest, "taken")

    class Broken(StoryboardRenderer):
        def render(self, shots, size):  # type: ignore[no-untyped-def]
            return [image.resize((10, 10)) for image in super().render(shots, size)]

    with pytest.raises(RuntimeError, match="expected"):
        _preview(
            settings, manifest, "broken", renderer=Broken(), options=RenderOptions(use_cache=False)
        )
    assert sorted(os.listdir(done.out_dir.parent)) == ["taken"]


@pytest.mark.parametrize("chunks", [1, 2], ids=["single-pass", "chunked"])
def test_a_music_bed_is_loudness_normalised_under_the_episode(tmp_path: Path, chunks: int) -> None:
    music = tmp_path / "bed.wav"
    subprocess.run(
        [_ffmpeg.ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", "sine=f=220:d=5", str(music)],
        check=True,
    )
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(2, 2.0, fps=12)  # two 2-s segments: room for two chunks
    options = RenderOptions(music=music, encode_chunks=chunks)
    result = _preview(settings, manifest, "music", options=options)
    info = probe(result.episode_path)
    assert info.audio is not None and info.audio.codec == "aac"
    assert info.duration_s == pytest.approx(4.0, abs=0.1)
    assert count_frames(result.episode_path) == timeline(manifest).total_frames
    media = parse_variant(result.variant_playlists[0])
    assert [round(duration, 3) for duration, _ in media["segments"]] == [2.0, 2.0]
    stats = _ffmpeg.run_ffmpeg(
        [_ffmpeg.ffmpeg_exe(), "-i", str(result.episode_path), "-map", "0:a"]
        + ["-af", "volumedetect", "-f", "null", "-"]
    )
    mean_db = float(re.search(r"mean_volume: (-?[\d.]+) dB", stats).group(1))  # type: ignore[union-attr]
    assert -30 < mean_db < -10  # audible, near the -16 LUFS target, not clipped
    provenance = json.loads(result.provenance_path.read_text())
    assert len(provenance["encode"]["encode_chunks"]) == chunks
    assert provenance["encode"]["audio"]["music"] == "bed.wav"
    audio = provenance["encode"]["audio"]
    assert audio["bed"] == "music" and audio["target"]["integrated_lufs"] == -16.0
    assert abs(audio["measured"]["integrated_lufs"] + 16) <= 0.5
    with pytest.raises(InputError, match="is not a file"):
        _preview(settings, manifest, "nomusic", options=RenderOptions(music=tmp_path / "no.wav"))


def test_a_failing_clip_fails_the_render_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from writers_room.render import pipeline

    real_plan = pipeline.clip_plan

    def broken_plan(*args: Any, **kwargs: Any) -> Any:
        clips = real_plan(*args, **kwargs)
        # The second clip's still does not exist: its ffmpeg exits with an error.
        for command in (clips[1].args, clips[1].raw_args):
            command[command.index("-i") + 1] = "keyframes/missing.png"
        return clips

    monkeypatch.setattr(pipeline, "clip_plan", broken_plan)
    settings = Settings(home=tmp_path / "home")
    with pytest.raises(_ffmpeg.FFmpegError, match="clip 1"):
        _preview(settings, make_manifest(3, 1.0, fps=12), "broken-clip")
    assert not (settings.renders_path / "tiny" / "ep1").exists() or not os.listdir(
        settings.renders_path / "tiny" / "ep1"
    )


def test_the_encode_may_finish_before_the_keyframe_files_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Motion starts from the raw copy of each keyframe; with slow PNG writes the helper
    # finishes the whole encode while the render process is still writing PNGs.
    from writers_room.render.keyframes import KeyframeCache

    real_put = KeyframeCache.put

    def slow_put(self: KeyframeCache, key: str, image: Image.Image) -> Path:
        import time

        time.sleep(2.0)
        return real_put(self, key, image)

    monkeypatch.setattr(KeyframeCache, "put", slow_put)
    settings = Settings(home=tmp_path / "home")
    manifest = make_manifest(2, 0.5, fps=12)
    result = _preview(settings, manifest, "slow-png")
    assert count_frames(result.episode_path) == timeline(manifest).total_frames
    assert all(path.is_file() for path in result.keyframe_paths)


def test_chunks_are_whole_segments_and_only_many_cores_choose_them() -> None:
    from writers_room.render.encode import chunk_ranges, encode_chunks_for

    assert chunk_ranges(900, 30, 2, 4) == [(0, 240), (240, 480), (480, 720), (720, 900)]
    assert chunk_ranges(120, 24, 2, 2) == [(0, 96), (96, 120)]
    assert chunk_ranges(120, 24, 2, 8) == [(0, 48), (48, 96), (96, 120)]  # one per segment
    assert chunk_ranges(100, 24, 2, 1) == [(0, 100)]
    assert encode_chunks_for(2) == 1
    assert encode_chunks_for(16, preview=True) == 1
    assert encode_chunks_for(16) > 1
    with pytest.raises(InputError, match="encode_chunks"):
        render_manifest(
            Settings(home=Path("/nonexistent")),
            make_manifest(1, 1.0),
            Path("/nonexistent/out"),
            options=RenderOptions(encode_chunks=0),
        )
