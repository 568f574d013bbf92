"""Fonts for every text the render draws: captions, storyboard cards, thumbnails.

A :class:`FontStack` is an ordered list of font files, like a CSS font stack: each
character is drawn with the first font that has it. The stack is

1. the fonts in ``WRITERS_ROOM_FONTS`` (files separated like ``PATH``, ``file.ttc#N``
   for the N-th face of a collection), in the order given;
2. Pillow's embedded Aileron (Latin), which exists wherever Pillow does;
3. DejaVu Sans as shipped inside matplotlib (Latin, Greek, Cyrillic, Arabic, Hebrew,
   Armenian, Georgian and more), which the room installs anyway.

So a caption in Spanish, Ukrainian or Arabic renders out of the box, and one in Chinese,
Japanese, Korean, Hindi or Thai renders once a font for that script is named (e.g. Noto
Sans CJK). A text no font can draw is refused before a render starts
(:func:`writers_room.render.validate.check_fonts`), instead of coming out as boxes.

A text that one font can draw whole is drawn with that font in one call, so HarfBuzz
(Pillow's raqm layout) shapes it and orders right-to-left scripts; only a line that
needs two fonts is drawn run by run, left to right. The stack's :attr:`FontStack.id`
hashes the font files, so cached storyboard frames change when the fonts do.
"""

from __future__ import annotations

import functools
import hashlib
import io
import os
import shutil
import subprocess
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import ImageDraw, ImageFont

from writers_room.errors import InputError

if TYPE_CHECKING:
    from writers_room.config import Settings

__all__ = [
    "Face",
    "FontSource",
    "FontStack",
    "default_fonts",
    "font_stack",
    "installed_font_for",
    "needs_glyph",
    "room_fonts",
]

FONTS_ENV = "WRITERS_ROOM_FONTS"


def needs_glyph(char: str) -> bool:
    """Whether ``char`` must be in a font to be drawn (spaces and joiners need not)."""
    if char.isspace():
        return False
    code = ord(char)
    if 0xFE00 <= code <= 0xFE0F or 0xE0100 <= code <= 0xE01EF:
        return False  # variation selectors: the shaper applies or ignores them
    return unicodedata.category(char) not in {"Cc", "Cf", "Zs", "Zl", "Zp"}


@dataclass(frozen=True, eq=False)
class FontSource:
    """One font face: where it comes from, a hash of its bytes, the characters it has."""

    label: str
    data: bytes
    index: int
    digest: str
    codepoints: frozenset[int]

    def has(self, char: str) -> bool:
        """Whether this face has a glyph for ``char``."""
        return ord(char) in self.codepoints

    @functools.cache  # noqa: B019 - sources live as long as the process's stacks
    def at(self, size: int) -> ImageFont.FreeTypeFont:
        """This face at ``size`` pixels."""
        return ImageFont.truetype(io.BytesIO(self.data), size=max(6, size), index=self.index)


def _codepoints(data: bytes, index: int) -> frozenset[int]:
    from fontTools.ttLib import TTFont

    with TTFont(io.BytesIO(data), fontNumber=index, lazy=True) as parsed:
        cmap = parsed.getBestCmap() or {}
    return frozenset(cmap)


def _source(label: str, data: bytes, index: int = 0) -> FontSource:
    digest = hashlib.blake2b(data, digest_size=8).hexdigest()
    return FontSource(label, data, index, digest, _codepoints(data, index))


@functools.cache
def _pillow_default() -> FontSource:
    probe = ImageFont.load_default(size=12)
    if not isinstance(probe, ImageFont.FreeTypeFont) or probe.font_bytes is None:
        raise RuntimeError(
            "this Pillow has no FreeType support, so it cannot draw captions; "
            "install Pillow from its wheels (pip install --force-reinstall pillow)"
        )
    return _source(f"Pillow default ({probe.font.family})", probe.font_bytes)


@functools.cache
def _dejavu() -> FontSource | None:
    try:
        import matplotlib
    except ImportError:  # pragma: no cover - a dependency of the room
        return None
    path = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
    if not path.is_file():  # pragma: no cover - matplotlib always ships it
        return None
    return _source("DejaVu Sans (matplotlib)", path.read_bytes())


def _split_spec(spec: str) -> tuple[Path, int]:
    path, sep, number = spec.rpartition("#")
    if sep and number.isdigit():
        return Path(path).expanduser(), int(number)
    return Path(spec).expanduser(), 0


@functools.cache
def _file_source(spec: str) -> FontSource:
    path, index = _split_spec(spec)
    where = f"{FONTS_ENV} entry {spec!r}"
    if not path.is_file():
        raise InputError(
            f"{where}: {path} is not a file; name font files (.ttf, .otf, .ttc) "
            f"separated by {os.pathsep!r}",
            field=FONTS_ENV,
            value=spec,
        )
    data = path.read_bytes()
    try:
        source = _source(str(path) + (f"#{index}" if index else ""), data, index)
        source.at(24)
    except Exception as exc:
        raise InputError(
            f"{where}: {path} is not a font Pillow can draw with (face {index}): {exc}",
            field=FONTS_ENV,
            value=spec,
        ) from exc
    return source


@dataclass(frozen=True)
class FontStack:
    """Fonts in order of preference; each character is drawn with the first that has it."""

    sources: tuple[FontSource, ...]

    @functools.cached_property
    def id(self) -> str:
        """Changes when any font of the stack does (part of storyboard cache keys)."""
        joined = ",".join(f"{s.digest}:{s.index}" for s in self.sources)
        return "fonts-" + hashlib.blake2b(joined.encode(), digest_size=8).hexdigest()

    def source_for(self, char: str) -> FontSource | None:
        """The first font that has ``char``, or ``None``."""
        return next((s for s in self.sources if s.has(char)), None)

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that no font has, in order of appearance."""
        seen: dict[str, None] = {}
        for char in text:
            if char not in seen and needs_glyph(char) and self.source_for(char) is None:
                seen[char] = None
        return list(seen)

    def primary(self, size: int) -> Face:
        """The first font alone, for labels the room writes itself."""
        return Face((self.sources[0].at(size),))

    def face(self, text: str, size: int) -> Face:
        """The face that draws ``text`` at ``size``.

        The first font that has every character draws it all (one shaping run); failing
        that, each run of characters gets the first font that has it.
        """
        chars = [c for c in set(text) if needs_glyph(c)]
        for source in self.sources:
            if all(source.has(c) for c in chars):
                return Face((source.at(size),))
        used = [s for s in self.sources if any(s.has(c) for c in chars)] or [self.sources[0]]
        return Face(
            tuple(s.at(size) for s in used),
            tuple(s.codepoints for s in used),
        )

    def describe(self) -> list[dict[str, Any]]:
        """The fonts, for ``provenance.json``."""
        return [{"font": s.label, "blake2b": s.digest} for s in self.sources]


class Face:
    """One or more fonts at one size, measured and drawn as one."""

    def __init__(
        self,
        fonts: tuple[ImageFont.FreeTypeFont, ...],
        codepoints: tuple[frozenset[int], ...] = (),
    ) -> None:
        self.fonts = fonts
        self._codepoints = codepoints
        ascents, descents = zip(*(f.getmetrics() for f in fonts), strict=True)
        self.ascent = max(ascents)
        self.descent = max(descents)
        self.line_height = int((self.ascent + self.descent) * 1.15)

    def runs(self, text: str) -> list[tuple[ImageFont.FreeTypeFont, str]]:
        """``text`` cut into runs, each with the first font that has its characters.

        Spaces, joiners and combining marks stay with the run before them.
        """
        if len(self.fonts) == 1:
            return [(self.fonts[0], text)] if text else []
        runs: list[tuple[ImageFont.FreeTypeFont, str]] = []
        current = self.fonts[0]
        start = 0
        for position, char in enumerate(text):
            if not needs_glyph(char) or unicodedata.category(char).startswith("M"):
                continue
            code = ord(char)
            chosen = next(
                (f for f, cps in zip(self.fonts, self._codepoints, strict=True) if code in cps),
                self.fonts[0],
            )
            if chosen is not current:
                if position > start:
                    runs.append((current, text[start:position]))
                current, start = chosen, position
        if len(text) > start:
            runs.append((current, text[start:]))
        return runs

    def getlength(self, text: str) -> float:
        """Advance width of ``text`` in pixels."""
        return float(sum(font.getlength(run) for font, run in self.runs(text)))

    def draw(
        self,
        draw: ImageDraw.ImageDraw,
        xy: tuple[float, float],
        text: str,
        *,
        fill: tuple[int, ...],
        stroke_width: int = 0,
        stroke_fill: tuple[int, ...] | None = None,
    ) -> None:
        """Draw ``text`` with its top-left at ``xy`` (as data: no markup, no escapes)."""
        x, y = xy
        if len(self.fonts) == 1:
            draw.text(
                (x, y),
                text,
                font=self.fonts[0],
                fill=fill,
                stroke_width=stroke_width,
                stroke_fill=stroke_fill,
            )
            return
        baseline = y + self.ascent
        for font, run in self.runs(text):
            draw.text(
                (x, baseline),
                run,
                font=font,
                fill=fill,
                anchor="ls",
                stroke_width=stroke_width,
                stroke_fill=stroke_fill,
            )
            x += font.getlength(run)


@functools.cache
def font_stack(specs: tuple[str, ...] = ()) -> FontStack:
    """The stack of ``specs`` (font files, ``file.ttc#N``) then the built-in fonts.

    Raises:
        InputError: a file is missing or is not a font, naming it.
    """
    sources = [_file_source(spec) for spec in specs]
    sources.append(_pillow_default())
    dejavu = _dejavu()
    if dejavu is not None:
        sources.append(dejavu)
    return FontStack(tuple(sources))


def default_fonts() -> FontStack:
    """The built-in stack: Pillow's Aileron, then DejaVu Sans."""
    return font_stack(())


def room_fonts(settings: Settings) -> FontStack:
    """The stack ``WRITERS_ROOM_FONTS`` names, then the built-in fonts.

    Raises:
        InputError: an entry is not a readable font file, naming it.
    """
    return font_stack(tuple(settings.fonts))


def installed_font_for(chars: Sequence[str]) -> str | None:
    """A font file on this machine that has every one of ``chars``, via fontconfig.

    Only a hint for error messages: renders never pick up system fonts by themselves,
    so the same manifest and settings draw the same pixels on every machine.
    """
    fc_match = shutil.which("fc-match")
    if fc_match is None or not chars:
        return None
    charset = " ".join(f"{ord(c):x}" for c in chars)
    try:
        found = subprocess.run(
            [fc_match, "--format=%{file}\n%{index}", f":charset={charset}"],
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        ).stdout.split("\n")
        path, index = found[0].strip(), int(found[1] or 0) if len(found) > 1 else 0
        if not path or not Path(path).is_file():
            return None
        source = _source(path, Path(path).read_bytes(), index)
    except Exception:  # a hint only: any failure means "no hint"
        return None
    if not all(source.has(c) for c in chars):
        return None
    return f"{path}#{index}" if index else path
