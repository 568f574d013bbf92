"""The pages over HTTP: what a signed link opens, and what everything else gets (403)."""

from __future__ import annotations

import http.client
import os
import re
from datetime import datetime
from html import unescape
from pathlib import Path

import pytest
from starlette.testclient import TestClient
from web_helpers import WINDOW, local, write_render

from writers_room.config import Settings
from writers_room.errors import InputError
from writers_room.web.app import sign_playlist
from writers_room.web.links import proposals_url, render_url, report_url, signed_url
from writers_room.web.server import PagesServer


def test_health_and_static_files_need_no_token(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"ok": True}
    hls = client.get("/static/hls.min.js")
    assert hls.status_code == 200 and hls.headers["content-type"].startswith("text/javascript")
    assert len(hls.content) > 100_000 and b"Hls" in hls.content
    licence = client.get("/static/hls.js.LICENSE")
    assert licence.status_code == 200 and b"Apache License" in licence.content
    assert client.get("/static/room.css").status_code == 200
    assert client.get("/static/../links.py").status_code == 404
    assert client.get("/static/nothing.js").status_code == 404


@pytest.mark.parametrize(
    "path",
    [
        "/reports/tiny/2026-11-19T00-00-00Z/",
        "/proposals/tiny/2026-11-19T00-00-00Z/",
        "/renders/tiny/ep1/r1/",
        "/renders/tiny/ep1/r1/hls/master.m3u8",
        "/renders/tiny/ep1/r1/episode.mp4",
    ],
)
def test_no_token_no_page(client: TestClient, path: str) -> None:
    for query in ("", "?exp=9999999999", "?sig=abc", "?exp=9999999999&sig=abc"):
        response = client.get(path + query)
        assert response.status_code == 403, (path, query)
        assert "Not a valid link" in response.text
        assert response.headers["cache-control"] == "no-store"


def test_an_expired_link_says_so(client: TestClient, room: Settings) -> None:
    url = signed_url(room, "reports/tiny/2026-11-19T00-00-00Z/", 60, now=1_000_000_000)
    response = client.get(local(url, room))
    assert response.status_code == 403
    assert "This link has expired" in response.text
    assert "expired on 2001-09-09 01:47 UTC" in response.text
    assert "ask the room for a fresh one" in response.text


def test_a_link_for_one_page_opens_no_other(client: TestClient, room: Settings) -> None:
    url = local(report_url(room, "tiny", WINDOW), room)
    query = url.split("?", 1)[1]
    assert client.get(url).status_code == 200
    assert client.get(f"/proposals/tiny/2026-11-19T00-00-00Z/?{query}").status_code == 403
    assert client.get(f"/renders/tiny/ep1/r1/?{query}").status_code == 403
    assert client.get(f"/reports/tiny/2026-11-18T00-00-00Z/?{query}").status_code == 403


def test_the_report_page_is_the_analysts_report(client: TestClient, room: Settings) -> None:
    url = local(report_url(room, "tiny", WINDOW), room)
    response = client.get(url)
    assert response.status_code == 200
    assert response.text == "<!doctype html><h1>Window report: tiny</h1>"
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    csp = response.headers["content-security-policy"]
    assert "script-src" not in csp and "default-src 'none'" in csp
    assert response.headers["referrer-policy"] == "no-referrer"
    # The folder's other files open with the same link; a missing window's report is 404.
    query = url.split("?", 1)[1]
    data = client.get(f"/reports/tiny/2026-11-19T00-00-00Z/report.json?{query}")
    assert data.status_code == 200 and data.json() == {"series_id": "tiny"}
    missing = report_url(room, "tiny", "2026-01-01T00:00:00Z")
    assert client.get(local(missing, room)).status_code == 404


def test_a_folder_without_its_slash_is_redirected(client: TestClient, room: Settings) -> None:
    url = local(render_url(room, "tiny", "ep1", "r1"), room)
    path, query = url.split("?", 1)
    response = client.get(f"{path.rstrip('/')}?{query}", follow_redirects=False)
    assert response.status_code == 308
    assert response.headers["location"] == f"r1/?{query}"


def _changes(html: str) -> list[tuple[str, str, str]]:
    """(field, before cell, after cell) of each change, from its table body."""
    bodies = re.findall(r'<tbody class="change" data-path="([^"]*)">(.*?)</tbody>', html, re.S)
    out = []
    for path, body in bodies:
        before = re.search(r'<td class="before">(.*?)</td>', body, re.S)
        after = re.search(r'<td class="after">(.*?)</td>', body, re.S)
        assert before and after, body
        out.append((unescape(path), before.group(1), after.group(1)))
    return out


def test_the_proposals_page_shows_every_change_of_the_review(
    client: TestClient, room: Settings
) -> None:
    response = client.get(local(proposals_url(room, "tiny", WINDOW), room))
    assert response.status_code == 200
    html = response.text
    assert html.count('<section class="proposal"') == 3
    changes = _changes(html)
    assert [path for path, _, _ in changes] == [
        "brief.hook",
        "manifest.shots[1].duration_s",
        "brief.title",
        "manifest.shots[+]",
        "manifest.shots[0].duration_s",
        "manifest.shots[1].duration_s",
    ]
    hook = changes[0]
    assert unescape(re.sub("<[^>]+>", "", hook[1])) == "A wave smashes the lighthouse door open."
    after = unescape(re.sub("<[^>]+>", "", hook[2]))
    assert after == "Mara is already underwater when the episode starts."
    assert ">10<" in changes[1][1] and ">6<" in changes[1][2]
    assert "none" in changes[3][1] and "<dt>caption</dt><dd>Who wrote it?</dd>" in changes[3][2]
    # Hostile text is shown as text, never as markup.
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    # What an approval is bound to, the choices, the evidence; the report is linked.
    assert re.search(r"hash <span class='hash'>[0-9a-f]{12}</span>", html)
    assert "The letter is in Mara&#x27;s fist as the water closes over her." in html
    assert "the storm bit is so slow" in html
    report_link = re.search(r'href="(\.\./\.\./\.\./reports/tiny/[^"]+)"', html)
    assert report_link is not None
    target = "/" + unescape(report_link.group(1)).removeprefix("../../../")
    assert client.get(target).text.startswith("<!doctype html><h1>Window report")
    # The day before's proposal is on its own page, not this one.
    assert "THE DAY BEFORE" not in html
    other = client.get(local(proposals_url(room, "tiny", "2026-11-18T00:00:00Z"), room))
    assert other.status_code == 200 and "THE DAY BEFORE" in other.text


def test_a_review_without_proposals_says_so(client: TestClient, room: Settings) -> None:
    response = client.get(local(proposals_url(room, "tiny", "2026-10-01T00:00:00Z"), room))
    assert response.status_code == 200 and "This review has no proposals." in response.text
    for window in ("not-a-window", "2026-13-45T00-00-00Z"):
        bad = local(signed_url(room, f"proposals/tiny/{window}/"), room)
        assert client.get(bad).status_code == 404


def test_the_preview_page_lists_every_rung_and_signs_the_playlists(
    client: TestClient, room: Settings
) -> None:
    url = local(render_url(room, "tiny", "ep1", "r1"), room)
    query = url.split("?", 1)[1]
    response = client.get(url)
    assert response.status_code == 200
    html = unescape(response.text)
    assert f'data-master="hls/master.m3u8?{query}"' in html
    rungs = re.findall(r'data-level="(\d+)" data-name="([^"]+)" data-height="(\d+)"', html)
    assert rungs == [("0", "720p", "1280"), ("1", "360p", "640")]
    assert f'data-uri="hls/720p/index.m3u8?{query}"' in html
    assert '<script src="../../../../static/hls.min.js"></script>' in html
    assert f'href="episode.mp4?{query}"' in html
    assert "script-src 'self'" in response.headers["content-security-policy"]

    master = client.get(f"/renders/tiny/ep1/r1/hls/master.m3u8?{query}")
    assert master.headers["content-type"] == "application/vnd.apple.mpegurl"
    assert f"720p/index.m3u8?{query}\n" in master.text
    variant = client.get(f"/renders/tiny/ep1/r1/hls/720p/index.m3u8?{query}").text
    assert f'#EXT-X-MAP:URI="init_0.mp4?{query}"' in variant
    assert f"seg_00001.m4s?{query}" in variant
    segment = client.get(f"/renders/tiny/ep1/r1/hls/720p/seg_00001.m4s?{query}")
    assert segment.status_code == 200 and segment.headers["content-type"] == "video/iso.segment"
    video = client.get(f"/renders/tiny/ep1/r1/episode.mp4?{query}", headers={"Range": "bytes=0-9"})
    assert video.status_code == 206 and len(video.content) == 10


def test_sign_playlist_leaves_absolute_uris_alone() -> None:
    text = '#EXTM3U\n#EXT-X-MAP:URI="https://cdn.example/init.mp4"\n/abs.m4s\na.m4s?x=1\n'
    signed = sign_playlist(text, "exp=1&sig=s")
    assert 'URI="https://cdn.example/init.mp4"' in signed
    assert "\n/abs.m4s\n" in signed and "\na.m4s?x=1&exp=1&sig=s\n" in signed


def test_the_pages_are_read_only(client: TestClient, room: Settings) -> None:
    url = local(report_url(room, "tiny", WINDOW), room)
    assert client.post(url).status_code == 405
    assert client.delete(url).status_code == 405
    assert client.head(url).status_code == 200


# -- over a real socket: raw paths that a client library would tidy up --------------------


@pytest.fixture
def server(room: Settings) -> PagesServer:
    with PagesServer(room, host="127.0.0.1", port=0) as pages:
        yield pages  # type: ignore[misc]


def _raw_get(server: PagesServer, target: str) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        connection.request("GET", target)  # sent exactly as written
        response = connection.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        connection.close()


def test_paths_never_leave_the_home(server: PagesServer, room: Settings, tmp_path: Path) -> None:
    home = room.home
    (tmp_path / "secret.txt").write_text("the secret")
    folder_link = local(render_url(room, "tiny", "ep1", "r1"), room)
    query = folder_link.split("?", 1)[1]
    status, _ = _raw_get(server, folder_link)
    assert status == 200
    for target in (
        "/renders/tiny/ep1/r1/../../../../.pages_key",
        "/renders/tiny/ep1/r1/%2e%2e/%2e%2e/%2e%2e/%2e%2e/room.db",
        "/renders/tiny/ep1/r1/..%2f..%2f..%2f..%2fsecret.txt",
        "/renders/tiny/ep1/r1/./episode.mp4",
        "/renders/tiny/ep1/r1//etc/passwd",
        "//etc/passwd",
        "/renders/tiny/ep1/r1/.chunks/x",
        "/renders/tiny/ep1/r1/%00",
        "/renders/tiny/ep1/r1/..%5c..%5csecret.txt",
    ):
        status, body = _raw_get(server, f"{target}?{query}")
        assert status == 403, target
        assert "the secret" not in body and "Not allowed" in body, target
    # A symbolic link inside the signed folder that points out of the home is refused.
    folder = home / "renders" / "tiny" / "ep1" / "r1"
    os.symlink(tmp_path / "secret.txt", folder / "leak.txt")
    os.symlink(tmp_path, folder / "outside")
    for target in ("leak.txt", "outside/secret.txt"):
        status, body = _raw_get(server, f"/renders/tiny/ep1/r1/{target}?{query}")
        assert status == 403 and "the secret" not in body, target
    # ...and so is one that stays in the home but leaves the folder the link was for.
    write_render(home, rid="r2")
    os.symlink(home / "renders" / "tiny" / "ep1" / "r2", folder / "sibling")
    status, _ = _raw_get(server, f"/renders/tiny/ep1/r1/sibling/episode.mp4?{query}")
    assert status == 403
    # A signed link to a path outside the areas cannot even be made.
    with pytest.raises(ValueError):
        signed_url(room, "../secret.txt")
    unknown = local(signed_url(room, "room.db"), room)
    assert _raw_get(server, unknown)[0] == 404


def test_a_taken_port_stops_the_pages_with_a_clear_error(
    server: PagesServer, room: Settings
) -> None:
    with pytest.raises(InputError, match="WRITERS_ROOM_PAGES_PORT"):
        PagesServer(room, host="127.0.0.1", port=server.port)


def test_each_proposal_reads_like_a_script_diff_above_its_stored_changes(
    client: TestClient, room: Settings
) -> None:
    html = client.get(local(proposals_url(room, "tiny", WINDOW), room)).text
    assert html.count('<section class="wr-diff"') == 3
    assert html.count('<details class="exact">') == 3
    assert "Every field change as stored (2) — what the hash covers" in html
    assert '<ins class="wr-ins">' in html and '<del class="wr-del">' in html
    # The alternatives come with the readable diff, not twice.
    assert "Hook — choose one:" in html and "<h3>Choices</h3>" not in html


def test_without_a_readable_diff_the_stored_changes_are_the_changes(
    client: TestClient, room: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    import writers_room.store.proposals as proposals

    def broken(*_args: object, **_kwargs: object) -> None:
        raise RuntimeError("no diff today")

    monkeypatch.setattr(proposals, "proposal_diffs", broken)
    response = client.get(local(proposals_url(room, "tiny", WINDOW), room))
    assert response.status_code == 200
    html = response.text
    # The stored changes are shown as they are, not folded behind a readable diff.
    assert "wr-diff" not in html and "Every field change as stored" not in html
    assert len(_changes(html)) == 6 and "<h3>Choices</h3>" in html


def test_a_reviews_diffs_read_at_once_are_each_proposals_own(room: Settings) -> None:
    from writers_room.store.proposals import list_proposals, proposal_diff, proposal_diffs

    views = list_proposals(room, series_id="tiny")
    together = proposal_diffs(room, views)
    assert set(together) == {v["proposal_id"] for v in views}
    for view in views:
        assert together[view["proposal_id"]] == proposal_diff(room, view)


def test_a_packaging_proposal_shows_its_headline_options_on_thumbnails(
    client: TestClient, room: Settings
) -> None:
    from packaging_helpers import packaging_proposal, store_packaging
    from writers_room.brief.proposals import Choice

    window = "2026-11-17T00:00:00Z"
    headlines = ["Who wrote this?", "Next year's letter"]
    store_packaging(
        room,
        packaging_proposal(
            choices=[Choice(slot="headline", options=headlines)],
            assets=["thumbnail: s3, close-up — Theo at the door"],
        ),
        window_end=datetime.fromisoformat(window),
    )
    html = client.get(local(proposals_url(room, "tiny", window), room)).text
    (figure,) = re.findall(r'<figure class="options"(.*?)</figure>', html, re.S)
    assert "Headline options on the thumbnail" in figure
    alt = unescape(re.search(r'alt="([^"]*)"', figure).group(1))  # type: ignore[union-attr]
    assert all(f"“{h}” on s3" in alt for h in headlines)
    src = unescape(re.search(r'src="([^"]+)"', figure).group(1))  # type: ignore[union-attr]
    assert src.startswith("../../../reports/tiny/2026-11-17T00-00-00Z/options/")
    picture = client.get("/" + src.removeprefix("../../../"))
    assert picture.status_code == 200 and picture.headers["content-type"] == "image/png"
