"""What a storyboard frame shows: figures, props and the place, drawn with Pillow.

Figures are flat, outlined, storyboard-style people built from a character's ``look``
(``"woman, 29, auburn braid, yellow oilskin jacket"`` gives auburn braided hair and a
yellow coat), so the same character is recognisable in every shot. Each is drawn whole
in body units (one unit is a head's height) and the framing only picks the scale and
the place: a close-up is a figure so large that only head and shoulders fit the frame.
Props (inserts) and places (the backdrop) are picked from the shot's words.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from PIL import ImageDraw

__all__ = [
    "Look",
    "Place",
    "draw_figure",
    "draw_place",
    "draw_prop",
    "parse_look",
    "pick_place",
    "pick_prop",
]

RGB = tuple[int, int, int]
INK = (24, 22, 28)
SKIN = (226, 200, 176)

_HAIR_COLOURS: tuple[tuple[str, RGB], ...] = (
    ("auburn", (146, 64, 36)),
    ("ginger", (184, 84, 40)),
    ("red", (160, 48, 32)),
    ("bleached", (236, 226, 190)),
    ("platinum", (232, 228, 210)),
    ("blonde", (222, 186, 104)),
    ("silver", (204, 206, 212)),
    ("white", (232, 232, 228)),
    ("grey", (160, 160, 166)),
    ("gray", (160, 160, 166)),
    ("brown", (96, 62, 40)),
    ("dark", (44, 34, 30)),
    ("black", (30, 26, 26)),
)
_GARMENT_COLOURS: tuple[tuple[str, RGB], ...] = (
    ("yellow", (226, 184, 40)),
    ("navy", (36, 52, 96)),
    ("camel", (186, 146, 96)),
    ("charcoal", (64, 66, 74)),
    ("black", (34, 34, 40)),
    ("white", (232, 232, 226)),
    ("grey", (128, 130, 138)),
    ("gray", (128, 130, 138)),
    ("red", (176, 44, 44)),
    ("green", (56, 116, 72)),
    ("blue", (52, 96, 168)),
    ("brown", (110, 72, 44)),
    ("leather", (78, 54, 40)),
    ("trench", (168, 140, 98)),
    ("fisherman", (196, 186, 160)),
    ("apron", (206, 216, 224)),
    ("pink", (210, 120, 150)),
    ("purple", (110, 60, 140)),
)
_GARMENTS = re.compile(
    r"jacket|coat|suit|sweater|apron|hoodie|sweatshirt|bomber|shirt|dress|uniform|vest|"
    r"cardigan|blazer|parka|oilskin|overcoat|peacoat|trench",
    re.IGNORECASE,
)


def _hash(text: str) -> int:
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:4], "big")


@dataclass(frozen=True)
class Look:
    """How a figure is drawn."""

    build: str  # "woman", "man" or "person"
    hair: RGB
    hair_style: str  # "long", "braid", "short", "bun", "shaved", "slicked"
    coat: RGB
    beard: bool = False
    glasses: bool = False
    headwear: bool = False


def parse_look(name: str, look: str) -> Look:
    """A :class:`Look` from the bible's ``look`` text; what it leaves out comes from a
    hash of the name, so an undescribed character still looks the same in every shot."""
    text = look.lower()
    seed = _hash(name)
    build = (
        "woman"
        if re.search(r"\b(woman|girl|female)\b", text)
        else "man"
        if re.search(r"\b(man|boy|male)\b", text)
        else "person"
    )
    hair_part = next((p for p in text.split(",") if re.search(r"hair|braid|bun|sides", p)), "")
    hair = next((c for word, c in _HAIR_COLOURS if word in hair_part), None)
    if hair is None:
        beardish = next((c for word, c in _HAIR_COLOURS if f"{word} beard" in text), None)
        hair = beardish or _HAIR_COLOURS[seed % len(_HAIR_COLOURS)][1]
    style = (
        "braid"
        if "braid" in hair_part
        else "bun"
        if "bun" in hair_part
        else "shaved"
        if "shaved" in hair_part
        else "slicked"
        if "slicked" in hair_part
        else "short"
        if "short" in hair_part or build == "man"
        else "long"
    )
    garment = " ".join(p for p in text.split(",") if _GARMENTS.search(p))
    coat = next((c for word, c in _GARMENT_COLOURS if word in garment), None)
    if coat is None:
        coat = _GARMENT_COLOURS[(seed >> 8) % len(_GARMENT_COLOURS)][1]
    return Look(
        build=build,
        hair=hair,
        hair_style=style,
        coat=coat,
        beard="beard" in text or "stubble" in text,
        glasses="glasses" in text,
        headwear="helmet" in text or "hat" in text or "cap" in text,
    )


def _darker(colour: RGB, factor: float = 0.6) -> RGB:
    return (int(colour[0] * factor), int(colour[1] * factor), int(colour[2] * factor))


def draw_figure(
    draw: ImageDraw.ImageDraw,
    look: Look,
    *,
    cx: float,
    top: float,
    unit: float,
    facing: str = "front",
) -> tuple[float, float, float, float]:
    """Draw a whole figure: head top at ``top``, centred on ``cx``, ``unit`` pixels a head.

    ``facing`` is ``front``, ``left``, ``right`` (three-quarter views) or ``back`` (the
    back of the head, for an over-the-shoulder foreground). Parts outside the image are
    simply clipped. Returns the head's box.
    """
    u = unit
    line = max(1, round(u / 22))
    shoulders = 1.05 if look.build == "woman" else 1.2
    trousers = _darker(look.coat, 0.45) if sum(look.coat) > 300 else (52, 56, 70)
    # Legs and shoes, then the arms behind the torso, the torso, the neck and the head.
    for side in (-1, 1):
        x = cx + side * 0.34 * u
        draw.rounded_rectangle(
            [x - 0.3 * u, top + 3.55 * u, x + 0.3 * u, top + 7.2 * u],
            radius=0.12 * u,
            fill=trousers,
            outline=INK,
            width=line,
        )
        draw.ellipse(
            [x - 0.36 * u, top + 7.0 * u, x + 0.42 * u, top + 7.5 * u], fill=INK, outline=INK
        )
        draw.rounded_rectangle(
            [
                cx + side * (shoulders - 0.05) * u - 0.24 * u,
                top + 1.35 * u,
                cx + side * (shoulders - 0.05) * u + 0.24 * u,
                top + 3.9 * u,
            ],
            radius=0.22 * u,
            fill=look.coat,
            outline=INK,
            width=line,
        )
        draw.ellipse(
            [
                cx + side * (shoulders - 0.05) * u - 0.2 * u,
                top + 3.75 * u,
                cx + side * (shoulders - 0.05) * u + 0.2 * u,
                top + 4.2 * u,
            ],
            fill=SKIN,
            outline=INK,
            width=line,
        )
    torso = [
        (cx - shoulders * u, top + 1.45 * u),
        (cx - (shoulders - 0.15) * u, top + 1.25 * u),
        (cx + (shoulders - 0.15) * u, top + 1.25 * u),
        (cx + shoulders * u, top + 1.45 * u),
        (cx + 0.78 * u, top + 3.75 * u),
        (cx - 0.78 * u, top + 3.75 * u),
    ]
    draw.polygon(torso, fill=look.coat, outline=INK, width=line)
    if facing != "back":
        draw.line([(cx, top + 1.3 * u), (cx, top + 3.7 * u)], fill=_darker(look.coat), width=line)
    draw.rectangle(
        [cx - 0.17 * u, top + 0.85 * u, cx + 0.17 * u, top + 1.3 * u],
        fill=SKIN,
        outline=INK,
        width=line,
    )
    return _draw_head(draw, look, cx=cx, top=top, unit=u, facing=facing, line=line)


def _draw_head(
    draw: ImageDraw.ImageDraw,
    look: Look,
    *,
    cx: float,
    top: float,
    unit: float,
    facing: str,
    line: int,
) -> tuple[float, float, float, float]:
    u = unit
    head = (cx - 0.39 * u, top, cx + 0.39 * u, top + u)
    hair = look.hair
    if look.hair_style in {"long", "braid"}:
        # Hair that falls behind the shoulders is drawn before the face.
        draw.rounded_rectangle(
            [cx - 0.44 * u, top + 0.12 * u, cx + 0.44 * u, top + 1.4 * u],
            radius=0.3 * u,
            fill=hair,
            outline=INK,
            width=line,
        )
        if look.hair_style == "braid":
            side = 1 if facing != "right" else -1
            for k in range(4):
                y = top + (1.05 + 0.28 * k) * u
                x = cx + side * 0.42 * u
                draw.ellipse(
                    [x - 0.13 * u, y, x + 0.13 * u, y + 0.32 * u],
                    fill=hair,
                    outline=INK,
                    width=line,
                )
    if look.hair_style == "bun":
        draw.ellipse(
            [cx - 0.22 * u, top - 0.28 * u, cx + 0.22 * u, top + 0.12 * u],
            fill=hair,
            outline=INK,
            width=line,
        )
    draw.ellipse(head, fill=hair if facing == "back" else SKIN, outline=INK, width=line)
    if facing == "back":
        draw.arc(
            [cx - 0.3 * u, top + 0.15 * u, cx + 0.3 * u, top + 0.9 * u],
            200,
            340,
            fill=_darker(hair),
            width=line,
        )
        return head
    shift = {"left": -0.1, "right": 0.1}.get(facing, 0.0) * u
    _draw_hair_top(draw, look, cx=cx, top=top, unit=u, line=line)
    if look.beard:
        draw.chord(
            [cx - 0.39 * u, top + 0.3 * u, cx + 0.39 * u, top + 1.02 * u],
            20,
            160,
            fill=look.hair,
            outline=INK,
            width=line,
        )
    for side in (-1, 1):
        ex = cx + shift + side * 0.16 * u
        draw.ellipse([ex - 0.055 * u, top + 0.45 * u, ex + 0.055 * u, top + 0.56 * u], fill=INK)
        draw.line(
            [(ex - 0.1 * u, top + 0.38 * u), (ex + 0.1 * u, top + 0.36 * u)],
            fill=_darker(look.hair, 0.7),
            width=line + 1,
        )
        if look.glasses:
            draw.ellipse(
                [ex - 0.12 * u, top + 0.4 * u, ex + 0.12 * u, top + 0.62 * u],
                outline=INK,
                width=line,
            )
    draw.line(
        [(cx + shift * 1.4, top + 0.55 * u), (cx + shift * 1.6 + 0.04 * u, top + 0.7 * u)],
        fill=_darker(SKIN, 0.7),
        width=max(1, line // 2 + 1),
    )
    draw.line(
        [(cx + shift - 0.1 * u, top + 0.82 * u), (cx + shift + 0.1 * u, top + 0.82 * u)],
        fill=(150, 70, 70),
        width=line + 1,
    )
    return head


def _draw_hair_top(
    draw: ImageDraw.ImageDraw, look: Look, *, cx: float, top: float, unit: float, line: int
) -> None:
    u = unit
    if look.headwear:
        draw.chord(
            [cx - 0.45 * u, top - 0.12 * u, cx + 0.45 * u, top + 0.75 * u],
            180,
            360,
            fill=_darker(look.coat, 0.5),
            outline=INK,
            width=line,
        )
        return
    if look.hair_style == "shaved":
        draw.chord(
            [cx - 0.2 * u, top - 0.06 * u, cx + 0.2 * u, top + 0.5 * u],
            180,
            360,
            fill=look.hair,
            outline=INK,
            width=line,
        )
        return
    depth = 0.3 if look.hair_style in {"long", "braid"} else 0.26
    draw.chord(
        [cx - 0.42 * u, top - 0.05 * u, cx + 0.42 * u, top + depth * 2 * u],
        180,
        360,
        fill=look.hair,
        outline=INK,
        width=line,
    )
    if look.hair_style == "slicked":
        for k in range(3):
            draw.arc(
                [cx - (0.3 - 0.08 * k) * u, top + 0.02 * u, cx + 0.38 * u, top + 0.55 * u],
                190,
                300,
                fill=_darker(look.hair, 0.6),
                width=line,
            )


# -- places ---------------------------------------------------------------------------

_PLACES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("lighthouse", "EXT.", ("lighthouse", "beacon")),
    (
        "water",
        "EXT.",
        (
            "harbor",
            "harbour",
            "dock",
            "pier",
            "boat",
            "hull",
            "sea",
            "ocean",
            "tide",
            "kelp",
            "moorings",
            "shore",
            "beach",
            "wharf",
            "marina",
            "waves",
            "gulls",
            "rock",
        ),
    ),
    (
        "city",
        "EXT.",
        (
            "street",
            "alley",
            "roof",
            "rooftop",
            "helipad",
            "city",
            "neon",
            "garage",
            "parking",
            "skyline",
            "car",
        ),
    ),
    (
        "interior",
        "INT.",
        (
            "diner",
            "kitchen",
            "room",
            "office",
            "counter",
            "window",
            "hall",
            "bar",
            "basement",
            "laundromat",
            "wheelhouse",
            "apartment",
            "casino",
            "vault",
            "desk",
            "table",
            "door",
            "bed",
            "corridor",
            "elevator",
            "booth",
            "coffee",
        ),
    ),
)


@dataclass(frozen=True)
class Place:
    """The backdrop kind and the slug line shown in the header (may be empty)."""

    kind: str  # "water", "lighthouse", "city", "interior", "open"
    slug: str


def _words(text: str) -> set[str]:
    return {w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2}


def pick_place(action: str, prompt: str, locations: tuple[str, ...] = ()) -> Place:
    """The place a shot plays in: a bible location its action names, else a kind of
    place from its words (the action first, then the keyframe prompt)."""
    words = _words(action)
    generic = {"the", "and", "family", "level", "second", "below", "floor", "offices", "row"}
    named = max(
        locations,
        key=lambda loc: (len((_words(loc) - generic) & words), -locations.index(loc)),
        default="",
    )
    if named and not (_words(named) - generic) & words:
        named = ""
    kind, prefix = "open", "EXT."
    for source in (f"{named} {action}", prompt):
        found = next(((k, p) for k, p, keys in _PLACES if _words(source) & set(keys)), None)
        if found:
            kind, prefix = found
            break
    return Place(kind=kind, slug=f"{prefix} {named.upper()}" if named else "")


def draw_place(
    draw: ImageDraw.ImageDraw, place: Place, size: tuple[int, int], tone: RGB, floor: float
) -> None:
    """Draw the backdrop's set lines over the mood gradient (``floor``: the horizon y)."""
    width, height = size
    light = tuple(min(255, int(c * 0.55 + 150)) for c in tone)
    ink = (*light, 110)
    line = max(1, round(height / 480))
    if place.kind in {"water", "lighthouse"}:
        draw.rectangle([0, floor, width, height], fill=(*_darker(tone, 0.55), 255))
        for k in range(9):
            y = floor + (k + 1) ** 1.6 * height * 0.006
            for wave_x in range(-40, width, max(8, width // 9)):
                offset = (k * 37) % 60
                draw.arc(
                    [wave_x + offset, y, wave_x + offset + width // 12, y + height * 0.012],
                    200,
                    340,
                    fill=ink,
                    width=line,
                )
        if place.kind == "lighthouse":
            x = width * 0.78
            draw.polygon(
                [
                    (x - width * 0.05, floor),
                    (x + width * 0.05, floor),
                    (x + width * 0.03, floor - height * 0.2),
                    (x - width * 0.03, floor - height * 0.2),
                ],
                fill=(*light, 200),
            )
            draw.rectangle(
                [
                    x - width * 0.035,
                    floor - height * 0.235,
                    x + width * 0.035,
                    floor - height * 0.2,
                ],
                fill=(255, 236, 160, 230),
            )
        else:
            for k in range(4):
                x = width * (0.08 + 0.26 * k)
                draw.rectangle(
                    [x, floor - height * 0.05, x + width * 0.018, floor + height * 0.05],
                    fill=(*_darker(tone, 0.35), 220),
                )
            draw.line(
                [(0, floor - height * 0.03), (width, floor - height * 0.035)],
                fill=ink,
                width=line * 2,
            )
    elif place.kind == "city":
        for k in range(7):
            x0 = width * (k / 7) - width * 0.02
            top = floor - height * (0.1 + 0.17 * ((k * 53) % 7) / 7)
            draw.rectangle([x0, top, x0 + width * 0.15, floor], fill=(*_darker(tone, 0.35), 235))
            for row in range(int((floor - top) // (height * 0.03))):
                for col in range(3):
                    if (k + row + col) % 3:
                        wx = x0 + width * (0.025 + 0.04 * col)
                        wy = top + height * (0.012 + 0.03 * row)
                        draw.rectangle(
                            [wx, wy, wx + width * 0.018, wy + height * 0.012],
                            fill=(*light, 150),
                        )
        draw.rectangle([0, floor, width, height], fill=(*_darker(tone, 0.3), 255))
    elif place.kind == "interior":
        draw.rectangle([0, floor, width, height], fill=(*_darker(tone, 0.5), 255))
        draw.rectangle(
            [width * 0.52, height * 0.29, width * 0.86, height * 0.46],
            fill=(*light, 70),
            outline=ink,
            width=line * 2,
        )
        draw.line(
            [(width * 0.69, height * 0.29), (width * 0.69, height * 0.46)], fill=ink, width=line * 2
        )
        draw.line(
            [(width * 0.52, height * 0.375), (width * 0.86, height * 0.375)],
            fill=ink,
            width=line * 2,
        )
        draw.line([(0, floor), (width, floor)], fill=ink, width=line * 2)
    else:
        draw.rectangle([0, floor, width, height], fill=(*_darker(tone, 0.55), 255))
        draw.line([(0, floor), (width, floor)], fill=ink, width=line * 2)


# -- props ----------------------------------------------------------------------------

_PROPS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("photos", ("photo", "photos", "photograph", "photographs", "picture", "pictures")),
    ("box", ("lockbox", "box", "case", "safe", "chest", "crate", "briefcase")),
    (
        "letter",
        (
            "letter",
            "envelope",
            "notice",
            "lien",
            "note",
            "paper",
            "papers",
            "document",
            "contract",
            "deed",
            "file",
            "ledger",
            "handwriting",
            "postcard",
        ),
    ),
    ("phone", ("phone", "text", "message", "screen", "laptop", "tablet")),
    ("key", ("key", "keys", "keycard", "card", "cards", "chip", "chips")),
    ("sign", ("sign", "poster", "board")),
    ("cup", ("coffee", "cup", "mug", "glass", "drink")),
    ("ring", ("ring", "necklace", "locket", "watch", "badge")),
)


def pick_prop(text: str) -> tuple[str, str]:
    """The prop an insert shows: ``(kind, the word that names it)``."""
    words = re.findall(r"[a-z]+", text.lower())
    for word in words:
        for kind, keys in _PROPS:
            if word in keys:
                return kind, word
    return "object", ""


def draw_prop(
    draw: ImageDraw.ImageDraw, kind: str, *, cx: float, cy: float, unit: float
) -> tuple[float, float, float, float]:
    """Draw a prop centred on ``(cx, cy)``, ``unit`` about its size; returns its box."""
    u = unit
    line = max(2, round(u / 40))
    paper = (238, 232, 214)
    if kind == "photos":
        for k, angle in enumerate((-0.14, 0.06, -0.02)):
            dx, dy = (k - 1) * 0.18 * u, (k - 1) * 0.1 * u
            box = [cx - 0.6 * u + dx, cy - 0.45 * u + dy, cx + 0.6 * u + dx, cy + 0.45 * u + dy]
            draw.rectangle(box, fill=paper, outline=INK, width=line)
            inner = [box[0] + 0.08 * u, box[1] + 0.08 * u, box[2] - 0.08 * u, box[3] - 0.2 * u]
            draw.rectangle(inner, fill=(96 + 20 * k, 104, 112), outline=INK, width=line)
            draw.ellipse(
                [
                    inner[0] + 0.3 * u + angle * u,
                    inner[1] + 0.12 * u,
                    inner[0] + 0.5 * u + angle * u,
                    inner[1] + 0.32 * u,
                ],
                fill=(40, 40, 46),
            )
        return (cx - 0.8 * u, cy - 0.6 * u, cx + 0.8 * u, cy + 0.6 * u)
    if kind == "box":
        body = [cx - 0.8 * u, cy - 0.3 * u, cx + 0.8 * u, cy + 0.5 * u]
        draw.rectangle(body, fill=(112, 84, 60), outline=INK, width=line)
        draw.polygon(
            [
                (cx - 0.8 * u, cy - 0.3 * u),
                (cx - 0.6 * u, cy - 0.6 * u),
                (cx + 0.95 * u, cy - 0.6 * u),
                (cx + 0.8 * u, cy - 0.3 * u),
            ],
            fill=(140, 104, 72),
            outline=INK,
            width=line,
        )
        draw.rectangle(
            [cx - 0.12 * u, cy - 0.1 * u, cx + 0.12 * u, cy + 0.2 * u],
            fill=(200, 170, 80),
            outline=INK,
            width=line,
        )
        return (cx - 0.8 * u, cy - 0.6 * u, cx + 0.95 * u, cy + 0.5 * u)
    if kind == "phone":
        draw.rounded_rectangle(
            [cx - 0.35 * u, cy - 0.65 * u, cx + 0.35 * u, cy + 0.65 * u],
            radius=0.1 * u,
            fill=(30, 30, 36),
            outline=INK,
            width=line,
        )
        draw.rectangle(
            [cx - 0.28 * u, cy - 0.52 * u, cx + 0.28 * u, cy + 0.5 * u], fill=(120, 190, 230)
        )
        return (cx - 0.35 * u, cy - 0.65 * u, cx + 0.35 * u, cy + 0.65 * u)
    if kind == "cup":
        draw.rounded_rectangle(
            [cx - 0.4 * u, cy - 0.4 * u, cx + 0.35 * u, cy + 0.45 * u],
            radius=0.08 * u,
            fill=paper,
            outline=INK,
            width=line,
        )
        draw.arc(
            [cx + 0.2 * u, cy - 0.2 * u, cx + 0.65 * u, cy + 0.25 * u],
            270,
            90,
            fill=INK,
            width=line * 2,
        )
        return (cx - 0.4 * u, cy - 0.4 * u, cx + 0.65 * u, cy + 0.45 * u)
    if kind in {"key", "ring"}:
        draw.ellipse(
            [cx - 0.5 * u, cy - 0.3 * u, cx + 0.1 * u, cy + 0.3 * u],
            outline=(210, 180, 80),
            width=line * 3,
        )
        if kind == "key":
            draw.rectangle(
                [cx + 0.1 * u, cy - 0.06 * u, cx + 0.8 * u, cy + 0.06 * u],
                fill=(210, 180, 80),
                outline=INK,
            )
            draw.rectangle(
                [cx + 0.55 * u, cy + 0.06 * u, cx + 0.65 * u, cy + 0.25 * u],
                fill=(210, 180, 80),
                outline=INK,
            )
        return (cx - 0.5 * u, cy - 0.3 * u, cx + 0.8 * u, cy + 0.3 * u)
    if kind == "sign":
        draw.rectangle(
            [cx - 0.8 * u, cy - 0.45 * u, cx + 0.8 * u, cy + 0.35 * u],
            fill=paper,
            outline=INK,
            width=line * 2,
        )
        draw.rectangle(
            [cx - 0.6 * u, cy - 0.25 * u, cx + 0.6 * u, cy + 0.15 * u], fill=(190, 50, 40)
        )
        return (cx - 0.8 * u, cy - 0.45 * u, cx + 0.8 * u, cy + 0.35 * u)
    # A letter (and any unnamed object): paper with an envelope flap and lines of text.
    sheet = (cx - 0.75 * u, cy - 0.5 * u, cx + 0.75 * u, cy + 0.5 * u)
    draw.rectangle(sheet, fill=paper, outline=INK, width=line)
    if kind == "letter":
        draw.line(
            [(sheet[0], sheet[1]), (cx, cy + 0.05 * u), (sheet[2], sheet[1])], fill=INK, width=line
        )
        for k in range(3):
            y = cy + (0.18 + 0.1 * k) * u
            draw.line(
                [(cx - 0.5 * u, y), (cx + (0.5 - 0.2 * k) * u, y)], fill=(60, 70, 110), width=line
            )
    else:
        draw.ellipse(
            [cx - 0.25 * u, cy - 0.25 * u, cx + 0.25 * u, cy + 0.25 * u],
            fill=(150, 150, 160),
            outline=INK,
            width=line,
        )
    return sheet
