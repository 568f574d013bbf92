"""A proposal's headline options pictured on thumbnails before approval (``jobs.previews``).

The pictures must be what the render will draw once an option is chosen: each tile is
compared with :func:`make_thumbnails`' own output for that headline on that frame.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from PIL import Image

from packaging_helpers import HEADLINES, packaging_proposal, store_packaging
from writers_room.brief.manifest import Shot
from writers_room.brief.proposals import BriefChangeProposal, Choice, FieldChange
from writers_room.config import Settings
from writers_room.ingest.series import add_series_file
from writers_room.jobs.packaging import packaging_from, thumbnail_refs
from writers_room.jobs.previews import TILE, option_sheets, sheet_plan
from writers_room.render.storyboard import StoryboardRenderer
from writers_room.render.thumbnails import make_thumbnails


def stored(settings: Settings, tiny_series: Path, proposal: BriefChangeProposal) -> dict:
    add_series_file(settings, tiny_series)
    return store_packaging(settings, proposal)


def test_thumbnail_assets_name_their_frame_as_the_writer_writes_it() -> None:
    ids = ["s01", "s02", "s06", "s06-cold-open"]
    assets = [
        "thumbnail: s06, close-up — She digs under the kelp; text: 'What is in it?'",
        "thumbnail: Mara at the door (s02: loses the fewest viewers)",
        "thumbnail: s99, wide — a shot that is not there",
        "headline: s01 is not a thumbnail",
    ]
    assert thumbnail_refs(assets, ids) == ("s06", "s02")
    _, shots = packaging_from(assets=assets, shot_ids=ids)
    assert shots == ("s06", "s02")


def test_each_headline_option_is_pictured_as_the_render_will_draw_it(
    sqlite_settings: Settings, tiny_series: Path, tmp_path: Path
) -> None:
    p = stored(sqlite_settings, tiny_series, packaging_proposal())
    (sheet,) = option_sheets(sqlite_settings, p)
    assert (sheet.slot, sheet.choice, sheet.options) == ("headline", 0, tuple(HEADLINES))
    assert sheet.shot_ids == ("s3", "s3", "s3")  # the frame the thumbnail asset names
    assert sheet.path.is_relative_to(sqlite_settings.reports_path / "tiny" / "options")
    assert p["content_hash"][:12] in sheet.path.name
    assert all(f"“{h}” on s3" in sheet.alt_text for h in HEADLINES)
    picture = Image.open(sheet.path).convert("RGB")
    assert picture.width == 3 * TILE[0] + 4 * 24 and picture.height > TILE[1]

    # What the render draws for each option, once approved: variant 1 of the thumbnails.
    shots = [Shot.model_validate(s) for s in _manifest_shots(sqlite_settings)]
    renderer = StoryboardRenderer()
    keyframes = []
    for shot in shots:
        path = tmp_path / f"{shot.shot_id}.png"
        renderer.frame(shot, TILE, labels="names").image.save(path)
        keyframes.append(path)

    def frames(index: int, size: tuple[int, int]) -> tuple[Image.Image, list[Any]]:
        frame = renderer.frame(shots[index], size, labels="names")
        return frame.image, [box for _, box in frame.labels]

    for n, headline in enumerate(HEADLINES):
        (thumb,) = make_thumbnails(
            keyframes,
            shots,
            tmp_path / f"thumbs-{n}",
            headlines=[headline],
            chosen=["s3"],
            sizes=[TILE],
            variants=1,
            frames=frames,
        )
        drawn = np.asarray(Image.open(thumb.path).convert("RGB"), dtype=np.int16)
        x = 24 + n * (TILE[0] + 24)
        tile = np.asarray(picture.crop((x, 64, x + TILE[0], 64 + TILE[1])), dtype=np.int16)
        assert np.abs(drawn - tile).mean() < 3.0, headline  # JPEG against PNG


def _manifest_shots(settings: Settings) -> list[dict[str, Any]]:
    from writers_room.store.proposals import base_documents

    _, manifest = base_documents(
        settings, {"series_id": "tiny", "episode_id": "ep1", "base_version": 1, "kind": "x"}
    )
    return list(manifest["shots"])


def test_sheets_are_drawn_once_per_version(sqlite_settings: Settings, tiny_series: Path) -> None:
    p = stored(sqlite_settings, tiny_series, packaging_proposal())
    (first,) = option_sheets(sqlite_settings, p)
    stamp = first.path.stat().st_mtime_ns
    (again,) = option_sheets(sqlite_settings, p)
    assert again == first and again.path.stat().st_mtime_ns == stamp
    edited = dict(p, content_hash="f" * 64, choices=[{"slot": "headline", "options": ["New"]}])
    (other,) = option_sheets(sqlite_settings, edited)
    assert other.path != first.path and other.options == ("New",)


def test_title_and_headline_choices_each_get_a_sheet_on_their_variants_frame(
    sqlite_settings: Settings, tiny_series: Path
) -> None:
    proposal = packaging_proposal(
        changes=[FieldChange(path="brief.title", before=None, after="The Knock")],
        choices=[
            Choice(slot="title", path="brief.title", options=["The Knock", "Next Year"]),
            Choice(slot="headline", options=HEADLINES),
        ],
        assets=[
            "thumbnail: s3, close-up — Theo at the door",
            "thumbnail: s1, close-up — Mara in the storm",
        ],
    )
    p = stored(sqlite_settings, tiny_series, proposal)
    title, headline = option_sheets(sqlite_settings, p)
    # The render puts the chosen title on variant 1 and the headline on variant 2.
    assert (title.slot, title.choice, title.shot_ids) == ("title", 0, ("s3", "s3"))
    assert (headline.slot, headline.choice, headline.shot_ids) == ("headline", 1, ("s1",) * 3)


def test_thumbnail_assets_without_a_headline_choice_show_the_variants(
    sqlite_settings: Settings, tiny_series: Path
) -> None:
    proposal = packaging_proposal(
        choices=[],
        assets=['headline: "Who wrote this?" — viewers', "thumbnail: s3, close-up — Theo"],
    )
    p = stored(sqlite_settings, tiny_series, proposal)
    (sheet,) = option_sheets(sqlite_settings, p)
    assert sheet.slot == "thumbnails" and sheet.choice is None
    assert sheet.shot_ids[0] == "s3" and len(sheet.shot_ids) == 3
    # The headline asset first, then the brief's new title, then the episode's.
    assert sheet.options == ("Who wrote this?", "The Knock", "The Letter")


def test_nothing_to_picture_and_unpicturable_proposals_give_no_sheet(
    sqlite_settings: Settings, tiny_series: Path, caplog: pytest.LogCaptureFixture
) -> None:
    plain = stored(sqlite_settings, tiny_series, packaging_proposal(choices=[], assets=[]))
    assert sheet_plan(plain) == [] and option_sheets(sqlite_settings, plain) == []
    broken = dict(
        stored(sqlite_settings, tiny_series, packaging_proposal()),
        changes=[{"path": "manifest.shots[9].caption", "after": "x"}],
    )
    with caplog.at_level(logging.WARNING):
        assert option_sheets(sqlite_settings, broken) == []
    assert "cannot picture the options" in caplog.text
