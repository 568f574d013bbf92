"""Render-time manifest checks: errors name the shot, the field and the value."""

from __future__ import annotations

import json

import pytest
from render_helpers import make_manifest

from writers_room.errors import InputError
from writers_room.render.validate import check_manifest, parse_manifest, timeline


def _data(**changes: object) -> dict:
    data = make_manifest(4, 1.0).model_dump(mode="json")
    data.update(changes)
    return data


def test_a_valid_manifest_passes_and_rounds_boundaries_to_frames() -> None:
    manifest = make_manifest(3, 1.5, fps=24)
    check_manifest(manifest)
    frames = timeline(manifest)
    assert frames.starts == (0, 36, 72)
    assert frames.frames == (36, 36, 36)
    assert frames.total_frames == 108


def test_schema_errors_name_the_shot_index_id_and_field() -> None:
    data = _data()
    data["shots"][3]["duration_s"] = -1
    with pytest.raises(InputError) as err:
        parse_manifest(json.dumps(data), file="ep1.json")
    message = str(err.value)
    assert "ep1.json" in message
    assert "shots[3] ('s4').duration_s" in message
    assert "-1" in message
    assert err.value.field == "shots[3] ('s4').duration_s"


def test_a_shot_shorter_than_a_frame_is_refused_by_name() -> None:
    data = _data(fps=24)
    data["shots"][2]["duration_s"] = 0.01
    for later in data["shots"][3:]:
        later["start_s"] = round(later["start_s"] - 0.99, 6)
    with pytest.raises(InputError, match=r"shots\[2\] \('s3'\)\.duration_s is 0\.01"):
        parse_manifest(data)


def test_non_9_16_frames_are_refused() -> None:
    with pytest.raises(InputError, match="9:16"):
        check_manifest(make_manifest(2, 1.0, width=1080, height=1350))


@pytest.mark.parametrize("bad", ["../etc", "a/b", ".", "", "x" * 200])
def test_ids_that_cannot_name_a_folder_are_refused(bad: str) -> None:
    data = _data(series_id=bad)
    with pytest.raises(InputError):
        parse_manifest(data)


def test_control_characters_in_captions_are_refused_but_newlines_allowed() -> None:
    ok = make_manifest(2, 1.0, caption="two\nlines")
    check_manifest(ok)
    bad = make_manifest(2, 1.0, caption="bell\x07")
    with pytest.raises(InputError, match=r"shots\[0\] \('s1'\)\.caption contains the control"):
        check_manifest(bad)


def test_overlong_captions_are_refused() -> None:
    with pytest.raises(InputError, match=r"\.caption is 201 characters"):
        check_manifest(make_manifest(1, 1.0, caption="x" * 201))


def test_broken_json_names_the_line() -> None:
    with pytest.raises(InputError) as err:
        parse_manifest('{\n  "series_id": "a",\n  oops\n}', file="m.json")
    assert err.value.line == 3
