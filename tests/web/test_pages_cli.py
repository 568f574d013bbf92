"""``writers-room link …`` makes links the pages open; ``serve`` starts the pages."""

from __future__ import annotations

import json
import re
import urllib.request
from datetime import UTC, datetime
from html import unescape

from starlette.testclient import TestClient
from typer.testing import CliRunner
from web_helpers import WINDOW, local

from writers_room.bots.serve import _start_pages
from writers_room.cli import app
from writers_room.config import Settings
from writers_room.jobs.render import queue_render
from writers_room.store.db import session_scope
from writers_room.store.models import RenderJob
from writers_room.store.proposals import list_proposals
from writers_room.web.links import proposals_url

runner = CliRunner()


def _link(room: Settings, *args: str) -> tuple[int, str]:
    result = runner.invoke(app, ["--home", str(room.home), "link", *args])
    return result.exit_code, result.output.strip()


def test_link_commands_make_links_the_pages_open(client: TestClient, room: Settings) -> None:
    code, url = _link(room, "report", "tiny", "2026-11-19T00:00:00Z")
    assert code == 0 and url.startswith("http://127.0.0.1:3001/reports/tiny/2026-11-19T00-00-00Z/?")
    assert client.get(local(url, room)).status_code == 200

    code, url = _link(room, "proposals", "tiny", "2026-11-19T00:00:00Z", "--ttl", "120")
    assert code == 0 and client.get(local(url, room)).status_code == 200

    proposal = list_proposals(room, series_id="tiny")[-1]
    code, url = _link(room, "proposal", proposal["proposal_id"])
    assert code == 0 and url.endswith(f"#{proposal['proposal_id']}")
    page = client.get(local(url.split("#")[0], room)).text
    assert f'id="{proposal["proposal_id"]}"' in page

    code, output = _link(room, "report", "tiny", "2026-11-19T00:00:00Z", "--json")
    data = json.loads(output)
    assert code == 0 and data["expires"] > datetime.now(UTC).timestamp() + 6 * 86400


def test_link_render_and_the_pages_that_link_a_proposal_to_its_render(
    client: TestClient, room: Settings
) -> None:
    proposal = next(p for p in list_proposals(room, series_id="tiny") if p["episode_id"] == "ep1")
    job = queue_render(room, "tiny", "ep1", 1, proposal_id=proposal["proposal_id"])
    (room.renders_path / "tiny" / "ep1" / "r1").rename(
        room.renders_path / "tiny" / "ep1" / job.render_id
    )
    code, url = _link(room, "render", job.render_id)
    assert code == 0 and f"/renders/tiny/ep1/{job.render_id}/?" in url
    preview = client.get(local(url, room)).text
    # The preview leads back to the proposal on its review's page, with a link of its own.
    back = re.search(r'<a href="([^"]+)">the proposal</a>', preview)
    assert back is not None and back.group(1).endswith(f"#{proposal['proposal_id']}")
    target = "/" + unescape(back.group(1)).split("#")[0].removeprefix("../../../../")
    assert f'id="{proposal["proposal_id"]}"' in client.get(target).text
    # Once the render is done, the proposals page links to it.
    page = local(proposals_url(room, "tiny", WINDOW), room)
    assert "preview the render" not in client.get(page).text
    with session_scope(room) as session:
        row = session.get(RenderJob, job.render_id)
        assert row is not None
        row.status = "done"
    assert "preview the render" in client.get(page).text

    code, output = _link(room, "render", "r-nope")
    assert code == 2 and "no render" in output


def test_serve_starts_the_pages_unless_told_not_to(room: Settings) -> None:
    assert (
        _start_pages(room.model_copy(update={"pages_port": 0}), host="127.0.0.1", port=None) is None
    )
    pages = _start_pages(room, host="127.0.0.1", port=0)
    assert pages is not None
    try:
        with urllib.request.urlopen(f"{pages.url}/healthz", timeout=10) as response:
            assert json.loads(response.read()) == {"ok": True}
    finally:
        pages.stop()


def test_the_help_lists_the_link_commands() -> None:
    for command in (["link"], ["link", "render"], ["serve"]):
        result = runner.invoke(app, [*command, "--help"])
        assert result.exit_code == 0, result.output
    assert "--pages-port" in runner.invoke(app, ["serve", "--help"]).output
