"""Storyboard keyframes, caption plates, motion planning and the keyframe cache."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from render_helpers import make_manifest

from writers_room.brief.manifest import Shot
from writers_room.render._layout import SAFE_AREA
from writers_room.render.captions import caption_overlay, vtt_text
from writers_room.render.keyframes import (
    KeyframeCache,
    KeyframeRenderer,
    StoryboardRenderer,
    _chunks,
    cache_key,
    mood_colour,
    render_keyframes,
)
from writers_room.render.motion import crossfade_half_frames, plan_move
from writers_room.render.validate import timeline

SHOT = Shot(
    shot_id="s4",
    start_s=4,
    duration_s=2.5,
    camera="slow push-in",
    framing="close-up",
    action="Mara finds the letter under the door and freezes.",
    mood="tense",
    caption="He knew.",
    dialogue="Who sent this?",
    characters=["Mara"],
)


@pytest.mark.parametrize("size", [(1080, 1920), (720, 1280), (360, 640)])
def test_storyboard_frames_have_the_requested_size(size: tuple[int, int]) -> None:
    renderer = StoryboardRenderer()
    assert isinstance(renderer, KeyframeRenderer)
    (image,) = renderer.render([SHOT], size)
    assert image.size == size
    assert image.mode == "RGB"


def test_storyboard_labels_are_legible_inside_the_safe_area() -> None:
    renderer = StoryboardRenderer()
    plate, x, y, boxes = renderer.label_plate(SHOT, (1080, 1920))
    left, top, right, bottom = SAFE_AREA.box(1080, 1920)
    assert boxes and all(left <= b[0] and b[2] <= right and top <= b[1] for b in boxes)
    assert y + plate.height <= bottom
    pixels = np.asarray(plate).astype(int)
    # White text on a dark strip: near-white pixels, and sharp edges in the header.
    assert (pixels[..., :3].min(axis=2) > 230).mean() > 0.01
    assert np.abs(np.diff(pixels[40:120, :, :3].mean(axis=2), axis=1)).max() > 150


def test_storyboard_colour_carries_the_mood_and_is_deterministic() -> None:
    renderer = StoryboardRenderer()
    tense, calm = renderer.render([SHOT, SHOT.model_copy(update={"mood": "calm"})], (360, 640))
    assert np.asarray(tense)[200, 5].tolist() != np.asarray(calm)[200, 5].tolist()
    # The sky runs from a dark shade of the mood's colour down to the colour itself.
    top = np.asarray(tense)[1, 2].astype(int)
    assert np.abs(top - np.array(mood_colour("tense")) * 0.35).max() <= 12
    again = renderer.render([SHOT], (360, 640))[0]
    assert np.array_equal(np.asarray(again), np.asarray(tense))
    assert mood_colour("strangely wistful") == mood_colour("strangely wistful")


def test_caption_plates_stay_inside_the_safe_area() -> None:
    long = "A caption long enough to need wrapping onto more than one line of text, surely"
    for size in [(1080, 1920), (360, 640)]:
        plate, x, y = caption_overlay(long, size)
        left, top, right, bottom = SAFE_AREA.box(*size)
        assert left <= x and x + plate.width <= right
        assert top <= y and y + plate.height <= bottom


def test_hostile_captions_are_drawn_as_given() -> None:
    hostile = "'; rm -rf ~ %{pts} [x], a:b\\c"
    escaped = "\\'\\; rm -rf ~ \\%\\{pts\\} \\[x\\]\\, a\\:b\\\\c"
    plate, _, _ = caption_overlay(hostile, (1080, 1920))
    other, _, _ = caption_overlay(escaped, (1080, 1920))
    again, _, _ = caption_overlay(hostile, (1080, 1920))
    assert np.array_equal(np.asarray(plate), np.asarray(again))
    assert plate.size != other.size or not np.array_equal(np.asarray(plate), np.asarray(other))


def test_vtt_escapes_markup_and_keeps_text_literal() -> None:
    manifest = make_manifest(2, 1.0, caption="a <b>bold</b> & --> move")
    text = vtt_text(manifest, timeline(manifest))
    assert text.startswith("WEBVTT\n")
    assert "00:00:01.000 --> 00:00:02.000" in text
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; --&gt; move" in text
    assert text.count("-->") == 2


def test_camera_notes_pick_the_move() -> None:
    assert plan_move("Slow push-in on Mara", 0).kind == "push_in"
    assert plan_move("pull back to reveal", 0).kind == "pull_out"
    assert plan_move("pan left across the room", 0).kind == "pan_left"
    assert plan_move("tilt up to the window", 0).kind == "tilt_up"
    assert plan_move("locked-off static", 0).kind == "static"
    assert {plan_move("", 0).kind, plan_move("", 1).kind} == {"push_in", "pull_out"}


def test_crossfades_never_swallow_a_shot() -> None:
    manifest = make_manifest(3, 0.25, fps=24)
    assert crossfade_half_frames(timeline(manifest), 1.0) == 3
    assert crossfade_half_frames(timeline(make_manifest(1, 2.0)), 0.5) == 0


def test_the_cache_rerenders_only_changed_shots(tmp_path: Path) -> None:
    calls: list[list[str]] = []

    class Counting(StoryboardRenderer):
        def render(self, shots, size):  # type: ignore[no-untyped-def]
            calls.append([shot.shot_id for shot in shots])
            return super().render(shots, size)

    renderer = Counting()
    cache = KeyframeCache(tmp_path / "cache")
    manifest = make_manifest(3, 1.0)
    targets = [tmp_path / "a" / f"{i}.png" for i in range(3)]
    first = render_keyframes(renderer, manifest.shots, (90, 160), cache=cache, targets=targets)
    assert [r.cache_hit for r in first] == [False, False, False]
    # Every shot drawn once (storyboards go one a call, each handed on as soon as drawn).
    assert [shot for call in calls for shot in call] == ["s1", "s2", "s3"]

    changed = list(manifest.shots)
    changed[1] = changed[1].model_copy(update={"action": "Something else happens."})
    targets2 = [tmp_path / "b" / f"{i}.png" for i in range(3)]
    second = render_keyframes(renderer, changed, (90, 160), cache=cache, targets=targets2)
    assert [r.cache_hit for r in second] == [True, False, True]
    assert calls[-1] == ["s2"]
    assert targets2[0].read_bytes() == targets[0].read_bytes()
    assert targets2[1].read_bytes() != targets[1].read_bytes()
    assert cache.path(cache_key(renderer, changed[1], (90, 160))).is_file()
    assert Image.open(targets2[1]).size == (90, 160)
    # A different size is a different keyframe.
    assert cache_key(renderer, changed[0], (90, 160)) != cache_key(renderer, changed[0], (180, 320))


def test_batches_start_and_end_half_full_and_cover_every_shot() -> None:
    assert _chunks(list(range(12)), 4) == [[0, 1], [2, 3, 4, 5], [6, 7, 8, 9], [10, 11]]
    assert _chunks([5, 7, 9], 2) == [[5], [7], [9]]
    assert _chunks([], 4) == []
    for count in range(1, 30):
        for batch in (1, 2, 3, 4, 8, 16):
            chunks = _chunks(list(range(count)), batch)
            assert [i for chunk in chunks for i in chunk] == list(range(count))
            assert all(1 <= len(chunk) <= batch for chunk in chunks)


def test_each_keyframe_is_announced_once_it_is_in_place(tmp_path: Path) -> None:
    manifest = make_manifest(3, 1.0)
    targets = [tmp_path / "k" / f"{i}.png" for i in range(3)]
    seen: list[int] = []

    def ready(index: int) -> None:
        assert Image.open(targets[index]).size == (90, 160)
        seen.append(index)

    cache = KeyframeCache(tmp_path / "cache")
    render_keyframes(
        StoryboardRenderer(),
        manifest.shots,
        (90, 160),
        cache=cache,
        targets=targets,
        on_ready=ready,
    )
    assert sorted(seen) == [0, 1, 2]
    # Cache hits are announced too (before anything renders).
    seen.clear()
    again = [tmp_path / "k2" / f"{i}.png" for i in range(3)]
    targets[:] = again
    render_keyframes(
        StoryboardRenderer(),
        manifest.shots,
        (90, 160),
        cache=cache,
        targets=again,
        on_ready=ready,
    )
    assert sorted(seen) == [0, 1, 2]
