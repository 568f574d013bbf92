"""The changes table: structures shown as what differs, texts with their cuts marked."""

from __future__ import annotations

import re
from html import unescape

from writers_room.web.diffs import changes_html

SHOT_S01 = {"shot_id": "s01", "start_s": 0.0, "duration_s": 6.0, "caption": ""}
SHOT_S02 = {"shot_id": "s02", "start_s": 6.0, "duration_s": 5.0, "caption": "Mara"}


def _rows(html: str) -> list[tuple[str, str, str]]:
    found = re.findall(
        r'<td class="path[^"]*">([^<]*)</td><td class="before">(.*?)</td>'
        r'<td class="arrow"[^>]*>→</td><td class="after">(.*?)</td>',
        html,
        re.S,
    )
    return [(unescape(p), unescape(b), unescape(a)) for p, b, a in found]


def test_a_rewritten_shot_list_shows_only_what_differs() -> None:
    cold_open = {"shot_id": "s06", "start_s": 0.0, "duration_s": 3.0, "caption": "What?"}
    after = [cold_open, {**SHOT_S02, "start_s": 3.0, "duration_s": 2.5}]
    html = changes_html(
        [{"path": "manifest.shots", "before": [SHOT_S01, SHOT_S02], "after": after}]
    )
    assert html.count('<tbody class="change"') == 1
    assert "manifest.shots — what differs:" in html
    rows = _rows(html)
    assert [path for path, _, _ in rows] == [
        "[shot_id=s01]",
        "[shot_id=s06]",
        "[shot_id=s02].start_s",
        "[shot_id=s02].duration_s",
    ]
    removed, added, start, duration = rows
    # A removed or added shot is shown whole, field by field (empty fields left out).
    assert "<dt>duration_s</dt><dd>6.0</dd>" in removed[1] and "none" in removed[2]
    assert "<dt>caption</dt>" not in removed[1]
    assert "none" in added[1] and "<dt>caption</dt><dd>What?</dd>" in added[2]
    assert ">6.0<" in start[1] and ">3.0<" in start[2]
    assert ">5.0<" in duration[1] and ">2.5<" in duration[2]
    # The caption that did not change is not repeated.
    assert "Mara" not in html


def test_a_reordered_list_says_so() -> None:
    html = changes_html(
        [{"path": "manifest.shots", "before": [SHOT_S01, SHOT_S02], "after": [SHOT_S02, SHOT_S01]}]
    )
    ((path, before, after),) = _rows(html)
    assert path == " (order)"
    assert '"s01",\n  "s02"' in before and '"s02",\n  "s01"' in after


def test_a_trimmed_line_marks_the_words_cut() -> None:
    before = "THEO: Parcel fourteen-B, the slip rights. He signed it all over to me."
    after = "THEO: He signed it all over to me."
    html = changes_html([{"path": "manifest.shots[5].dialogue", "before": before, "after": after}])
    cut = re.findall(r"<del>(.*?)</del>", html)
    assert "".join(cut).strip() == "Parcel fourteen-B, the slip rights."
    assert "<ins>" not in html
    plain = _rows(html)[0]
    assert re.sub("<[^>]+>", "", plain[1]) == before
    assert re.sub("<[^>]+>", "", plain[2]) == after


def test_unrelated_texts_are_shown_whole_and_everything_is_escaped() -> None:
    html = changes_html(
        [
            {"path": "brief.title", "before": "The Letter", "after": "<b>Who</b> & why"},
            {"path": "brief.hook", "before": "a <i>wave</i>", "after": "a <i>storm</i>"},
        ]
    )
    assert "<b>" not in html and "<i>" not in html
    assert "&lt;b&gt;Who&lt;/b&gt; &amp; why" in html
    assert "<del>wave</del>" in html and "<ins>storm</ins>" in html


def test_a_rewritten_sentence_is_shown_whole_not_word_by_word() -> None:
    html = changes_html(
        [
            {
                "path": "brief.hook",
                "before": "A wave smashes the lighthouse door open.",
                "after": "Mara is already underwater when the episode starts.",
            }
        ]
    )
    assert "<del>" not in html and "<ins>" not in html
