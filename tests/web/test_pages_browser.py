"""The pages in a real browser: Debian's headless Chromium, driven by Playwright.

No browser is downloaded: Playwright starts the system's ``chromium`` (``.ci/run``
installs it; without it these tests skip and say why). The preview test renders a real
two-rung ladder (720p and 360p, 4.5 s) with the room's render pipeline and plays every
rung past 2 s. Set ``WR_PAGES_SCREENSHOTS=<folder>`` to keep screenshots of both pages.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import WINDOW, local

from writers_room.config import Settings
from writers_room.web.links import proposals_url, render_url
from writers_room.web.server import PagesServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [
    pytest.mark.skipif(
        CHROMIUM is None,
        reason="no headless Chromium on this machine: `apt-get install chromium` "
        "(Debian's package; .ci/run installs it when missing)",
    ),
    pytest.mark.timeout(180),
]


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    playwright_api = pytest.importorskip(
        "playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')"
    )
    with playwright_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        yield chromium
        chromium.close()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A real render of a 4.5-s, 720x1280 manifest: a 720p and a 360p rung."""
    from writers_room.brief.manifest import ShotManifest
    from writers_room.render.pipeline import render_manifest

    shots = [
        {
            "shot_id": f"s{index + 1}",
            "start_s": index * 1.5,
            "duration_s": 1.5,
            "camera": "static",
            "framing": "close-up",
            "action": f"Mara opens door number {index + 1}.",
            "mood": mood,
            "caption": f"Caption {index + 1}",
            "characters": ["Mara"],
            "seed": index + 1,
        }
        for index, mood in enumerate(("tense", "calm", "joyful"))
    ]
    manifest = ShotManifest(
        series_id="tiny", episode_id="ep1", fps=24, width=720, height=1280, shots=shots
    )
    home = tmp_path_factory.mktemp("render") / "home"
    out = home / "renders" / "tiny" / "ep1" / "r1"
    render_manifest(Settings(home=home), manifest, out)
    return out


@pytest.fixture
def pages(room: Settings, rendered: Path) -> Iterator[tuple[Settings, str]]:
    target = room.home / "renders" / "tiny" / "ep1" / "r1"
    shutil.rmtree(target)
    shutil.copytree(rendered, target)
    with PagesServer(room, host="127.0.0.1", port=0) as server:
        yield room, server.url


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    tab = context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))
    tab.on(
        "console",
        lambda msg: (
            problems.append(f"console {msg.type}: {msg.text}") if msg.type == "error" else None
        ),
    )
    tab.problems = problems
    yield tab
    context.close()


def _screenshot(tab: Any, name: str) -> None:
    folder = os.environ.get("WR_PAGES_SCREENSHOTS")
    if folder:
        Path(folder).mkdir(parents=True, exist_ok=True)
        tab.screenshot(path=str(Path(folder) / name), full_page=True)


def test_the_proposals_page_loads_and_shows_every_change(
    pages: tuple[Settings, str], page: Any
) -> None:
    room, base = pages
    response = page.goto(base + local(proposals_url(room, "tiny", WINDOW), room))
    assert response.status == 200
    sections = page.locator("section.proposal")
    assert sections.count() == 3
    # Each proposal reads like a script diff: fields and shots, words cut and added.
    assert page.locator("section.proposal section.wr-diff").count() == 3
    items = page.locator("li.wr-item")
    assert items.count() >= 3
    for index in range(items.count()):
        assert items.nth(index).is_visible()
    hook = page.locator('li.wr-item[data-key="brief.hook"]').first
    assert "underwater" in hook.locator("ins").inner_text()
    assert "smashes" in hook.locator("del").inner_text()
    # Every stored field change (what the hash covers), once its fold is opened.
    rows = page.locator("tbody.change")
    assert rows.count() == 6
    summaries = page.locator("details.exact > summary")
    assert summaries.count() == 3
    for index in range(3):
        summaries.nth(index).click()
    for index in range(6):
        assert rows.nth(index).is_visible()
    paths = [rows.nth(i).locator("td.path").first.inner_text() for i in range(6)]
    assert paths[0] == "brief.hook" and paths[3] == "manifest.shots[+]"
    # Hostile text is shown as text: the title change reads as written.
    assert '<script>alert("x")</script>' in rows.nth(2).locator("td.after").inner_text()
    # The style sheet applied (the content security policy let it in).
    colour = page.eval_on_selector("td.after", "el => getComputedStyle(el).backgroundColor")
    assert colour == "rgb(240, 253, 244)"
    _screenshot(page, "proposals.png")
    assert page.problems == []


def test_the_preview_plays_every_rendition_past_two_seconds(
    pages: tuple[Settings, str], page: Any
) -> None:
    room, base = pages
    response = page.goto(base + local(render_url(room, "tiny", "ep1", "r1"), room))
    assert response.status == 200
    page.wait_for_selector('video[data-ready="1"]')
    assert page.evaluate("Boolean(window.Hls && window.Hls.isSupported())")
    buttons = page.locator(".rungs button[data-height]")
    assert buttons.count() == 2
    for index in range(buttons.count()):
        button = buttons.nth(index)
        height = int(button.get_attribute("data-height"))
        button.click()
        assert button.get_attribute("aria-pressed") == "true"
        page.evaluate("() => { const v = document.getElementById('video'); v.currentTime = 0; }")
        page.wait_for_function(
            """(height) => {
                const v = document.getElementById('video');
                const hls = window.roomPlayer;
                if (v.paused) v.play().catch(() => {});
                const current = hls.levels[hls.currentLevel];
                return current !== undefined && current.height === height
                    && v.videoHeight === height && v.currentTime > 2.0;
            }""",
            arg=height,
            timeout=30_000,
            polling=100,
        )
        status = page.inner_text("#status")
        assert f"×{height} — {button.get_attribute('data-name')}, chosen" in status, status
        if index == 0:
            _screenshot(page, "preview.png")
    assert page.problems == []


def test_a_rung_chosen_before_the_playlist_arrives_is_the_one_that_plays(
    pages: tuple[Settings, str], page: Any
) -> None:
    """hls.js cannot flush buffers it has not made yet: an early choice still holds."""
    room, base = pages
    held: list[Any] = []
    # The playlist waits for the click.
    page.route("**/hls/master.m3u8*", lambda route: held.append(route))
    page.goto(base + local(render_url(room, "tiny", "ep1", "r1"), room))
    page.wait_for_selector('video[data-ready="1"]')
    page.wait_for_function("() => true")  # let the held request reach the handler
    assert len(held) == 1
    page.locator('.rungs button[data-name="720p"]').click()
    held[0].continue_()
    page.wait_for_function(
        """() => {
            const v = document.getElementById('video');
            if (v.paused) v.play().catch(() => {});
            return v.videoHeight === 1280 && v.currentTime > 2.0;
        }""",
        timeout=30_000,
        polling=100,
    )
    assert "720p, chosen" in page.inner_text("#status")
    assert page.problems == []
