"""Pictures of a proposal's packaging options, drawn before anyone approves it.

An approver choosing between three headlines should see them as a viewer in the feed will:
on the thumbnail. For each ``headline`` or ``title`` choice of a proposal, one *sheet*
shows every option on the frame its thumbnail variant will use, laid out exactly as the
render lays out thumbnails (:func:`writers_room.render.thumbnails.headline_tile`); the
frames are the ones the proposal's ``thumbnail:`` assets name, then the best-ranked. A
proposal with ``thumbnail:`` assets but no headline choice gets one sheet of the variants
the render will draw. The episode is pictured as the proposal would leave it (its changes
applied to the brief it was written on), in storyboard frames: the render draws the final
pictures with the room's keyframe renderer.

Sheets are PNG files in the review's report folder
(``reports/<series>/<window>/options/<proposal>-<hash>-<slot>.png``; a proposal of no
review: ``reports/<series>/options/``), so the review pages serve them and Slack shows
them. A sheet is drawn once per content hash: an edit changes the hash and the pictures.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image, ImageDraw

from writers_room.brief.manifest import Shot
from writers_room.brief.proposals import apply_changes
from writers_room.config import Settings, window_slug
from writers_room.jobs.packaging import packaging_from, thumbnail_refs
from writers_room.render.cast import cast_from_bible
from writers_room.render.fonts import FontStack, room_fonts
from writers_room.render.storyboard import StoryboardRenderer
from writers_room.render.thumbnails import fit_words, headline_tile, variant_frames
from writers_room.store.db import session_scope
from writers_room.store.models import Episode, Series
from writers_room.store.proposals import base_documents

__all__ = ["TILE", "OptionSheet", "option_sheets", "sheet_plan"]

log = logging.getLogger(__name__)

TILE = (360, 640)
"""One option's picture: a 9:16 thumbnail at the feed's smallest delivery size."""
_GAP = 24
_HEAD = 64
_LABEL = 96
_BACKGROUND = (24, 24, 30)
_INK = (236, 236, 240)
_MUTED = (160, 160, 172)
_SLOT_WORDS = {"headline": "Headline", "title": "Title", "thumbnails": "Thumbnails"}


@dataclass(frozen=True)
class OptionSheet:
    """One picture of a proposal's options for one slot."""

    slot: str
    """``headline``, ``title`` (one per such choice) or ``thumbnails`` (the variants)."""
    choice: int | None
    """The choice's index in the proposal's ``choices`` (``None`` for ``thumbnails``)."""
    options: tuple[str, ...]
    """The text on each tile, in the card's order."""
    shot_ids: tuple[str, ...]
    """The frame each tile shows."""
    path: Path

    @property
    def heading(self) -> str:
        """What the sheet shows, in words."""
        if self.slot == "thumbnails":
            return f"Thumbnails the render will draw ({len(self.options)} variants)"
        words = _SLOT_WORDS.get(self.slot, self.slot.capitalize())
        return f"{words} options on the thumbnail — choose one on the card"

    @property
    def alt_text(self) -> str:
        """The sheet in words (Slack's ``alt_text``, the page's ``alt``)."""
        tiles = "; ".join(
            f"({n}) “{text}” on {shot}"
            for n, (text, shot) in enumerate(zip(self.options, self.shot_ids, strict=True), 1)
        )
        return f"{self.heading}: {tiles}"


@dataclass(frozen=True)
class _Episode:
    """The episode as the proposal would leave it, and how to draw it."""

    shots: list[Shot]
    brief: dict[str, Any]
    title: str
    renderer: StoryboardRenderer


def options_folder(settings: Settings, proposal: Mapping[str, Any]) -> Path:
    """Where a proposal's sheets go: its review's report folder, under ``options/``."""
    series = settings.reports_path / str(proposal["series_id"])
    window = proposal.get("window_end")
    return (series / window_slug(window) if window else series) / "options"


def sheet_plan(proposal: Mapping[str, Any]) -> list[tuple[str, int | None, tuple[str, ...]]]:
    """``(slot, choice index, option texts)`` of each sheet a proposal gets (no drawing).

    One per ``headline``/``title`` choice; else one ``thumbnails`` sheet when the
    proposal's assets name thumbnails (its texts are filled in when drawn).
    """
    plan: list[tuple[str, int | None, tuple[str, ...]]] = []
    for index, choice in enumerate(proposal.get("choices") or []):
        if not isinstance(choice, Mapping) or choice.get("slot") not in {"headline", "title"}:
            continue
        options = tuple(str(o) for o in choice.get("options") or [] if str(o).strip())
        if options:
            plan.append((str(choice["slot"]), index, options))
    assets = [str(a) for a in proposal.get("assets") or []]
    if not plan and any(a.strip().lower().startswith("thumbnail:") for a in assets):
        plan.append(("thumbnails", None, ()))
    return plan


def option_sheets(settings: Settings, proposal: Mapping[str, Any]) -> list[OptionSheet]:
    """The sheets of ``proposal`` (``proposals --json`` shape), drawn where missing.

    Returns an empty list for a proposal with no packaging to picture, or when its
    episode cannot be drawn (a base version that is gone, changes that no longer fit):
    the card and the page then list the options as text, as before.
    """
    plan = sheet_plan(proposal)
    if not plan:
        return []
    folder = options_folder(settings, proposal)
    stem = f"{proposal['proposal_id']}-{str(proposal.get('content_hash', ''))[:12]}"
    drawn = _drawn(folder / f"{stem}.json")
    if drawn is not None:
        return drawn
    try:
        episode = _episode(settings, proposal)
    except (ValueError, KeyError, TypeError) as exc:
        log.warning("cannot picture the options of %s: %s", proposal["proposal_id"], exc)
        return []
    if episode is None:
        return []
    fonts = room_fonts(settings)
    frames = [episode.renderer.frame(shot, TILE, labels="names") for shot in episode.shots]
    ids = [shot.shot_id for shot in episode.shots]
    chosen = thumbnail_refs([str(a) for a in proposal.get("assets") or []], ids)
    headline_choices = sum(1 for slot, _, _ in plan if slot != "thumbnails")
    order = variant_frames(
        [f.image for f in frames], episode.shots, chosen, max(3, headline_choices)
    )
    sheets: list[OptionSheet] = []
    for number, (slot, choice, options) in enumerate(plan):
        if slot == "thumbnails":
            headlines = _variant_texts(proposal, episode)
            if not headlines:
                continue
            variants = list(range(len(order)))
            texts = tuple(headlines[v % len(headlines)] for v in variants)
        else:
            texts, variants = options, [number] * len(options)
        shown = [order[v % len(order)] for v in variants]  # the frame of each tile
        path = folder / f"{stem}-{slot}{'' if choice is None else f'-{choice + 1}'}.png"
        sheet = OptionSheet(slot, choice, texts, tuple(ids[i] for i in shown), path)
        if not path.is_file():
            tiles = [
                headline_tile(
                    frames[i].image,
                    [box for _, box in frames[i].labels],
                    text,
                    variant=v + 1,
                    fonts=fonts,
                )
                for text, i, v in zip(texts, shown, variants, strict=True)
            ]
            _write_sheet(sheet, tiles, fonts)
        sheets.append(sheet)
    _write_index(folder / f"{stem}.json", sheets)
    return sheets


def _write_index(path: Path, sheets: Sequence[OptionSheet]) -> None:
    """What was drawn, so the next card or page of this version draws nothing."""
    rows = [
        {
            "slot": s.slot,
            "choice": s.choice,
            "options": list(s.options),
            "shot_ids": list(s.shot_ids),
            "file": s.path.name,
        }
        for s in sheets
    ]
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial.json")
    partial.write_text(json.dumps(rows, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
    partial.replace(path)


def _drawn(path: Path) -> list[OptionSheet] | None:
    """The sheets listed in ``path`` when every one is on disk, else ``None``."""
    try:
        rows = json.loads(path.read_text(encoding="utf-8"))
        sheets = [
            OptionSheet(
                slot=str(row["slot"]),
                choice=row["choice"],
                options=tuple(row["options"]),
                shot_ids=tuple(row["shot_ids"]),
                path=path.parent / str(row["file"]),
            )
            for row in rows
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return sheets if all(s.path.is_file() for s in sheets) else None


def _episode(settings: Settings, proposal: Mapping[str, Any]) -> _Episode | None:
    brief, manifest = base_documents(settings, dict(proposal))
    brief, manifest = apply_changes(brief, manifest, list(proposal.get("changes") or []))
    shots = [Shot.model_validate(s) for s in manifest.get("shots") or []]
    if not shots:
        return None
    with session_scope(settings) as session:
        series = session.get(Series, proposal["series_id"])
        episode = session.get(Episode, (proposal["series_id"], proposal["episode_id"]))
        people = [p for p in (series.characters if series else []) if isinstance(p, Mapping)]
        locations = (series.constraints or {}).get("locations") if series else None
        title = episode.title if episode is not None else ""
    renderer = StoryboardRenderer(
        room_fonts(settings),
        cast=cast_from_bible(people),
        locations=[str(loc) for loc in locations or []],
    )
    return _Episode(shots=shots, brief=brief, title=title, renderer=renderer)


def _variant_texts(proposal: Mapping[str, Any], episode: _Episode) -> tuple[str, ...]:
    """The headlines the render puts on its variants, as if approved as proposed."""
    headlines, _ = packaging_from(
        assets=[str(a) for a in proposal.get("assets") or []],
        changes={"choices": list(proposal.get("choices") or [])},
        brief=episode.brief,
        title=episode.title,
    )
    return headlines


def _write_sheet(sheet: OptionSheet, tiles: Sequence[Image.Image], fonts: FontStack) -> None:
    """Tiles side by side under a heading, each numbered with its text beneath."""
    width = len(tiles) * TILE[0] + (len(tiles) + 1) * _GAP
    height = _HEAD + TILE[1] + _LABEL + _GAP
    image = Image.new("RGB", (width, height), _BACKGROUND)
    draw = ImageDraw.Draw(image)
    head = fonts.face(sheet.heading, 26)
    head.draw(draw, (_GAP, (_HEAD - head.line_height) // 2 + 4), sheet.heading, fill=_INK)
    for n, (tile, text, shot) in enumerate(zip(tiles, sheet.options, sheet.shot_ids, strict=True)):
        x = _GAP + n * (TILE[0] + _GAP)
        image.paste(tile.resize(TILE), (x, _HEAD))
        label = f"({n + 1}) {text}"
        face, lines = fit_words(
            label, fonts, max_width=TILE[0], max_lines=2, sizes=(24, 22, 20, 18)
        )
        y = _HEAD + TILE[1] + 10
        for line in lines:
            face.draw(draw, (x, y), line, fill=_INK)
            y += face.line_height
        small = fonts.face(shot, 16)
        small.draw(draw, (x, y + 2), f"frame {shot}", fill=_MUTED)
    sheet.path.parent.mkdir(parents=True, exist_ok=True)
    partial = sheet.path.with_suffix(".partial.png")
    image.save(partial, format="PNG", optimize=True)
    partial.replace(sheet.path)
