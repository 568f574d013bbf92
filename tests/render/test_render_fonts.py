"""Captions, cards and thumbnails in any script: the font stack, its checks and settings."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from fontTools.ttLib import TTCollection, TTFont
from PIL import Image, ImageChops
from render_helpers import build_font, make_manifest

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.render.captions import caption_overlay
from writers_room.render.fonts import default_fonts, font_stack, room_fonts
from writers_room.render.keyframes import StoryboardRenderer, get_renderer
from writers_room.render.pipeline import RenderOptions, render_manifest
from writers_room.render.validate import check_fonts

CJK = "你好世界我们"


@pytest.fixture(scope="module")
def cjk_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_font(tmp_path_factory.mktemp("fonts") / "room-test-cjk.ttf", CJK)


def _ink(image: Image.Image) -> bytes:
    return image.getchannel("A").tobytes()


def test_latin_text_keeps_the_first_font_and_other_scripts_fall_back() -> None:
    stack = default_fonts()
    assert [s.label for s in stack.sources] == [
        "Pillow default (Aileron)",
        "DejaVu Sans (matplotlib)",
    ]
    assert stack.face("Mara opens the door", 40).fonts[0].font.family == "Aileron"
    # Text one font can draw whole goes to that font in one run, so HarfBuzz shapes it
    # and orders right-to-left scripts.
    for text in ("Привет, мир", "مرحبا بالعالم", "שלום", "Γειά σου", "Ñandú — ¿qué?"):
        assert stack.missing(text) == [], text
    assert stack.face("مرحبا بالعالم — Привет", 40).fonts[0].font.family == "DejaVu Sans"
    assert stack.missing("Mara 你好") == ["你", "好"]


def test_a_named_font_draws_what_the_built_in_ones_lack(cjk_font: Path) -> None:
    stack = font_stack((str(cjk_font),))
    assert stack.sources[0].label == str(cjk_font)
    assert stack.missing("Mara 你好!") == []
    face = stack.face("Mara 你好!", 40)
    assert [(font.font.family, run) for font, run in face.runs("Mara 你好!")] == [
        ("Aileron", "Mara "),
        ("Room Test Sans", "你好"),
        ("Aileron", "!"),
    ]
    runs = face.runs("Mara 你好!")
    assert face.getlength("Mara 你好!") == pytest.approx(
        sum(font.getlength(run) for font, run in runs)
    )
    # Each character gets its own glyph: a font that lacks them draws one box for all.
    plates = [caption_overlay(char, (720, 1280), stack)[0] for char in "你好"]
    assert _ink(plates[0]) != _ink(plates[1])
    boxes = [caption_overlay(char, (720, 1280))[0] for char in "你好"]
    assert _ink(boxes[0]) == _ink(boxes[1])


def test_a_mixed_caption_stays_inside_the_safe_area(cjk_font: Path) -> None:
    stack = font_stack((str(cjk_font),))
    text = "Mara whispers 你好世界 and then 我们 — " * 4
    plate, x, y = caption_overlay(text, (1080, 1920), stack)
    assert 0 < x and x + plate.width <= 1080 * 0.85 + 1
    assert y + plate.height <= 1920 * 0.78 + 1
    assert ImageChops.difference(plate, Image.new("RGBA", plate.size)).getbbox() is not None


def test_text_no_font_has_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    manifest = make_manifest(2, caption="Mara: 你好")
    with pytest.raises(InputError) as caught:
        check_fonts(manifest, default_fonts())
    message = str(caught.value)
    assert caught.value.field == "shots[0].caption"
    assert "shots[0] ('s1').caption" in message
    assert "U+4F60" in message and "CJK UNIFIED IDEOGRAPH-4F60" in message
    assert "WRITERS_ROOM_FONTS" in message

    settings = Settings(home=tmp_path / "home")
    out = tmp_path / "renders" / "r1"
    with pytest.raises(InputError, match="U\\+4F60"):
        render_manifest(settings, manifest, out, preview=True)
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_storyboard_fields_are_checked_only_where_a_card_draws_them() -> None:
    manifest = make_manifest(2, mood="紧张")
    check_fonts(manifest, default_fonts())  # a diffusion render draws no mood
    with pytest.raises(InputError) as caught:
        check_fonts(manifest, default_fonts(), storyboard=default_fonts())
    assert caught.value.field == "shots[0].mood"
    with pytest.raises(InputError, match="headline"):
        check_fonts(make_manifest(1), default_fonts(), headline="今晚")


def test_fonts_come_from_settings_like_path(cjk_font: Path, tmp_path: Path) -> None:
    other = build_font(tmp_path / "other.ttf", "ab")
    settings = Settings(home=tmp_path, fonts=f"{cjk_font}{os.pathsep}{other}")
    assert settings.fonts == [str(cjk_font), str(other)]
    stack = room_fonts(settings)
    assert [s.label for s in stack.sources][:2] == [str(cjk_font), str(other)]
    storyboard = get_renderer(settings)
    assert isinstance(storyboard, StoryboardRenderer)
    assert storyboard.fonts is stack
    # The fonts are part of the storyboard's cache key.
    assert storyboard.version != StoryboardRenderer().version


def test_a_collection_face_is_picked_with_a_hash_index(tmp_path: Path) -> None:
    first = build_font(tmp_path / "a.ttf", "你")
    second = build_font(tmp_path / "b.ttf", "好", family="Second Face")
    collection = TTCollection()
    collection.fonts = [TTFont(str(first)), TTFont(str(second))]
    path = tmp_path / "both.ttc"
    collection.save(str(path))
    assert font_stack((str(path),)).missing("好") == ["好"]
    assert font_stack((f"{path}#1",)).missing("好") == []


@pytest.mark.parametrize("bad", ["missing.ttf", "not-a-font.ttf"])
def test_a_bad_font_entry_is_named(tmp_path: Path, bad: str) -> None:
    (tmp_path / "not-a-font.ttf").write_text("hello", "utf-8")
    entry = str(tmp_path / bad)
    with pytest.raises(InputError, match="WRITERS_ROOM_FONTS entry") as caught:
        room_fonts(Settings(home=tmp_path, fonts=[entry]))
    assert entry in str(caught.value)
    assert caught.value.field == "WRITERS_ROOM_FONTS"


def test_a_preview_with_a_chinese_caption_renders_and_records_its_fonts(
    cjk_font: Path, tmp_path: Path
) -> None:
    settings = Settings(home=tmp_path / "home", fonts=[str(cjk_font)])
    manifest = make_manifest(2, duration_s=1.0, caption="你好世界", mood="我们")
    result = render_manifest(
        settings,
        manifest,
        tmp_path / "renders" / "r1",
        preview=True,
        options=RenderOptions(crossfade_s=0),
    )
    provenance = json.loads(result.provenance_path.read_text("utf-8"))
    assert [f["font"] for f in provenance["fonts"]][0] == str(cjk_font)
    assert provenance["renderer"]["fonts"] == provenance["fonts"]
    assert "你好世界" in result.captions_path.read_text("utf-8")
