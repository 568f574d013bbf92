"""Signed links: the key, signing, verification, expiry, scopes and refused paths."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from urllib.parse import parse_qs, urlsplit

import pytest

from writers_room.config import Settings
from writers_room.web.links import (
    KEY_FILE,
    page_path,
    pages_key,
    proposals_url,
    render_url,
    report_url,
    sign,
    signed_url,
    verify,
    window_slug,
)

NOW = 1_800_000_000.0


def _token(url: str) -> tuple[str, str, str]:
    parts = urlsplit(url)
    query = parse_qs(parts.query)
    return parts.path, query["exp"][0], query["sig"][0]


def test_the_key_is_made_once_private_and_kept(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home")
    key = pages_key(settings)
    path = settings.home / KEY_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(key) == 64 and pages_key(settings) == key
    assert pages_key(Settings(home=tmp_path / "other")) != key
    # Not the pseudonymisation key: each secret has one job.
    assert key != settings.author_key


def test_a_damaged_key_file_is_refused(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    (tmp_path / KEY_FILE).write_text("short")
    with pytest.raises(ValueError, match="no usable key"):
        pages_key(settings)


def test_signed_url_uses_the_public_url_or_the_pages_port(tmp_path: Path) -> None:
    default = signed_url(Settings(home=tmp_path), "reports/tiny/w/", now=NOW)
    assert default.startswith("http://127.0.0.1:3001/reports/tiny/w/?exp=")
    port = signed_url(Settings(home=tmp_path, pages_port=8080), "reports/tiny/w/", now=NOW)
    assert port.startswith("http://127.0.0.1:8080/reports/tiny/w/?")
    public = Settings(home=tmp_path, public_url="https://room.example.com/pages/")
    url = signed_url(public, "/reports/tiny/w/", ttl=3600, now=NOW)
    assert url.startswith("https://room.example.com/pages/reports/tiny/w/?exp=1800003600&sig=")


def test_a_signature_opens_its_path_until_it_expires(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, link_ttl_s=600)
    key = pages_key(settings)
    path, exp, sig = _token(signed_url(settings, "proposals/tiny/w/", now=NOW))
    assert exp == str(int(NOW) + 600)
    assert verify(key, path, exp, sig, now=NOW).ok
    assert verify(key, path, exp, sig, now=NOW + 599).ok
    expired = verify(key, path, exp, sig, now=NOW + 600)
    assert expired.status == "expired" and expired.exp == int(exp)


@pytest.mark.parametrize(
    "change",
    ["path", "exp", "sig", "no-sig", "no-exp", "other-key", "exp-not-a-number", "huge-sig"],
)
def test_any_change_to_a_link_makes_it_invalid(tmp_path: Path, change: str) -> None:
    settings = Settings(home=tmp_path)
    key = pages_key(settings)
    path, exp, sig = _token(signed_url(settings, "reports/tiny/w/", now=NOW))
    args: tuple[str, str | None, str | None] = (path, exp, sig)
    if change == "path":
        args = ("/reports/tiny/other/", exp, sig)
    elif change == "exp":
        args = (path, str(int(exp) + 1), sig)  # a longer life is a different signature
    elif change == "sig":
        args = (path, exp, sig[:-2] + ("AA" if not sig.endswith("AA") else "BB"))
    elif change == "no-sig":
        args = (path, exp, None)
    elif change == "no-exp":
        args = (path, None, sig)
    elif change == "exp-not-a-number":
        args = (path, "1e99", sig)
    elif change == "huge-sig":
        args = (path, exp, sig * 10)
    if change == "other-key":
        key = b"0" * 64
    verdict = verify(key, *args, now=NOW)
    assert verdict.status == "invalid" and not verdict.ok


def test_a_forged_link_is_invalid_even_when_expired() -> None:
    """Only a genuine signature's expiry is looked at: no hint for forgers."""
    assert verify(b"k" * 64, "/reports/a/", "1", "forged", now=NOW).status == "invalid"


def test_a_folder_link_opens_what_is_under_it_and_nothing_beside_it(tmp_path: Path) -> None:
    key = pages_key(Settings(home=tmp_path))
    exp = str(int(NOW) + 60)
    sig = sign(key, "/renders/tiny/ep1/r1/", int(exp))
    for inside in (
        "/renders/tiny/ep1/r1/",
        "/renders/tiny/ep1/r1",
        "/renders/tiny/ep1/r1/hls/master.m3u8",
        "/renders/tiny/ep1/r1/hls/720p/seg_00000.m4s",
    ):
        verdict = verify(key, inside, exp, sig, now=NOW)
        assert verdict.ok and verdict.scope == "/renders/tiny/ep1/r1/", inside
    for outside in (
        "/renders/tiny/ep1/r2/",
        "/renders/tiny/ep1/",
        "/renders/tiny/ep1/r10/episode.mp4",
        "/reports/tiny/ep1/r1/",
    ):
        assert not verify(key, outside, exp, sig, now=NOW).ok, outside
    # A file's link opens that file only.
    file_sig = sign(key, "/renders/tiny/ep1/r1/episode.mp4", int(exp))
    assert verify(key, "/renders/tiny/ep1/r1/episode.mp4", exp, file_sig, now=NOW).ok
    assert not verify(key, "/renders/tiny/ep1/r1/captions.vtt", exp, file_sig, now=NOW).ok


@pytest.mark.parametrize(
    "bad",
    [
        "",
        "/",
        "reports/../.pages_key",
        "../room.db",
        "reports/tiny/..",
        "reports/./tiny/",
        "reports//tiny/",
        "//etc/passwd",
        "reports/.hidden/",
        ".pages_key",
        "renders/.cache/keyframes/x.png",
        "reports\\..\\x",
        "reports/tiny\x00/",
        Path("/etc/passwd"),
    ],
)
def test_page_paths_never_leave_the_pages(bad: str | Path, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        page_path(bad)
    with pytest.raises(ValueError):
        signed_url(Settings(home=tmp_path), bad)


def test_page_paths_are_canonical() -> None:
    assert page_path("reports/tiny/w/") == "/reports/tiny/w/"
    assert page_path("/renders/a/b/c") == "/renders/a/b/c"
    assert page_path(PurePosixPath("renders/a/b")) == "/renders/a/b"


def test_the_page_helpers(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path)
    end = datetime(2026, 11, 19, tzinfo=UTC)
    assert window_slug(end) == "2026-11-19T00-00-00Z"
    assert window_slug("2026-11-19T00:00:00Z") == "2026-11-19T00-00-00Z"
    assert window_slug("2026-11-19T01:00:00+01:00") == "2026-11-19T00-00-00Z"
    assert window_slug("2026-11-19T00-00-00Z") == "2026-11-19T00-00-00Z"
    assert "/reports/tiny/2026-11-19T00-00-00Z/?exp=" in report_url(settings, "tiny", end)
    url = proposals_url(settings, "tiny", "2026-11-19T00:00:00+00:00", proposal_id="p-1")
    assert "/proposals/tiny/2026-11-19T00-00-00Z/?exp=" in url and url.endswith("#p-1")
    assert "/renders/tiny/ep1/r-9/?exp=" in render_url(settings, "tiny", "ep1", "r-9")
