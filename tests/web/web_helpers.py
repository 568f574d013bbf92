"""What the pages tests look at: a reviewed window's proposals, a render's HLS folder."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from writers_room.brief.proposals import BriefChangeProposal, Choice, Evidence, FieldChange
from writers_room.config import Settings

WINDOW = datetime(2026, 11, 19, tzinfo=UTC)
OTHER_WINDOW = datetime(2026, 11, 18, tzinfo=UTC)
HOSTILE = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'

MASTER = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-STREAM-INF:BANDWIDTH=923272,RESOLUTION=720x1280,CODECS="avc1.64001f,mp4a.40.2"
720p/index.m3u8

#EXT-X-STREAM-INF:BANDWIDTH=364292,RESOLUTION=360x640,CODECS="avc1.64001e,mp4a.40.2"
360p/index.m3u8
"""
VARIANT = """#EXTM3U
#EXT-X-VERSION:7
#EXT-X-TARGETDURATION:2
#EXT-X-PLAYLIST-TYPE:VOD
#EXT-X-MAP:URI="init_0.mp4"
#EXTINF:2.000000,
seg_00000.m4s
#EXTINF:1.000000,
seg_00001.m4s
#EXT-X-ENDLIST
"""


def proposals_of_the_window() -> list[BriefChangeProposal]:
    """Three proposals with six changes in all: text, numbers, a new shot, hostile text."""
    return [
        BriefChangeProposal(
            episode_id="ep1",
            kind="hook_rewrite",
            summary="Open on Mara underwater, the letter in her fist, before the storm.",
            target="retention_10s 19% vs cohort 53%",
            expected_effect="10-s retention back to the cohort band",
            changes=[
                FieldChange(
                    path="brief.hook",
                    before="A wave smashes the lighthouse door open.",
                    after="Mara is already underwater when the episode starts.",
                ),
                FieldChange(path="manifest.shots[1].duration_s", before=10, after=6),
            ],
            evidence=Evidence(metrics={"retention_10s": 0.19}, quotes=["the storm bit is so slow"]),
            choices=[
                Choice(
                    slot="hook",
                    path="brief.hook",
                    options=[
                        "Mara is already underwater when the episode starts.",
                        "The letter is in Mara's fist as the water closes over her.",
                    ],
                )
            ],
        ),
        BriefChangeProposal(
            episode_id="ep1",
            kind="packaging",
            summary="Retitle the episode so the card promises the letter, not the storm.",
            target="ctr 2.1% vs cohort 4.0%",
            expected_effect="CTR up by a point",
            changes=[
                FieldChange(path="brief.title", before="The Letter", after=HOSTILE),
                FieldChange(
                    path="manifest.shots[+]",
                    before=None,
                    after={"shot_id": "s4", "duration_s": 3, "caption": "Who wrote it?"},
                ),
            ],
        ),
        BriefChangeProposal(
            episode_id="ep2",
            kind="pacing_cut",
            summary="Shorten the cold open so Theo's wound lands inside ten seconds.",
            target="retention_10s 31% vs cohort 53%",
            expected_effect="10-s retention +8 points",
            changes=[
                FieldChange(path="manifest.shots[0].duration_s", before=12, after=8),
                FieldChange(path="manifest.shots[1].duration_s", before=8, after=12),
            ],
        ),
    ]


def other_window_proposal() -> BriefChangeProposal:
    return BriefChangeProposal(
        episode_id="ep2",
        kind="hook_rewrite",
        summary="A proposal of the day before, which this review's page must not show.",
        target="retention_10s 30% vs 53%",
        expected_effect="none",
        changes=[FieldChange(path="brief.hook", before="x", after="THE DAY BEFORE")],
    )


def write_render(home: Path, series: str = "tiny", episode: str = "ep1", rid: str = "r1") -> Path:
    """A render folder with the layout the pipeline writes (playlists, stand-in media)."""
    folder = home / "renders" / series / episode / rid
    for rung in ("720p", "360p"):
        (folder / "hls" / rung).mkdir(parents=True)
        (folder / "hls" / rung / "index.m3u8").write_text(VARIANT)
        for name in ("init_0.mp4", "seg_00000.m4s", "seg_00001.m4s"):
            (folder / "hls" / rung / name).write_bytes(b"\x00" * 64)
    (folder / "hls" / "master.m3u8").write_text(MASTER)
    (folder / "episode.mp4").write_bytes(b"\x00" * 1024)
    (folder / "provenance.json").write_text(
        '{"render_id": "r1", "brief_version": 2, "renderer": "storyboard", "shots": [1, 2]}'
    )
    return folder


def local(url: str, settings: Settings) -> str:
    """A signed URL as a path and query on the test client's server."""
    assert url.startswith(settings.pages_url)
    return url[len(settings.pages_url) :]
