"""Which series and episodes a message is about, when the room has several series.

The router reads *what* is asked; this reads *about what*, from (strongest first):

1. the series written out (``series:<id>``, its id or its title in the text);
2. what only one series has: an episode title (“Low Tide”), a character (Callum);
3. the conversation's context (the series this thread talked about last);
4. the episode numbers: the series that have every episode the message names;
5. the only series of the room.

When that leaves several series, the room asks which, naming them (and the episode each
means); a reply that only names a series then answers the question that was waiting.
Two small queries (series, episodes) per message; no comment is read here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from sqlmodel import col, select

from writers_room.config import Settings
from writers_room.graphs.chat.router import Route, resolve_episode
from writers_room.store.db import session_scope
from writers_room.store.models import Episode, Series

__all__ = [
    "ROOM_WIDE",
    "Catalog",
    "Resolution",
    "SeriesInfo",
    "load_catalog",
    "only_names_a_series",
    "resolve",
]

# Intents that need no series (or answer for every series when none is known).
ROOM_WIDE = frozenset(
    {"help", "status", "approve", "reject", "how_to_decide", "next_steps", "lessons"}
)
# Intents that need one episode.
NEEDS_EPISODE = frozenset({"brief", "note", "propose"})
_FILLER = frozenset(
    "the a one in of for on about series show please i mean it's its it is that ok okay "
    "sorry yes".split()
)


@dataclass(frozen=True)
class SeriesInfo:
    """One series as the chat resolves it: its episodes (id, position, title) and cast."""

    series_id: str
    title: str
    episodes: tuple[tuple[str, int, str], ...]
    characters: tuple[str, ...]

    def pairs(self) -> list[tuple[str, int]]:
        return [(e, p) for e, p, _ in self.episodes]

    def episode_title(self, episode_id: str) -> str:
        return next((t for e, _, t in self.episodes if e == episode_id), "")

    def character(self, written: str) -> str | None:
        """The full name of the character ``written`` names (first or full name)."""
        wanted = written.lower().removesuffix("'s").removesuffix("’s").strip()
        for name in self.characters:
            if wanted in (name.lower(), name.split()[0].lower()):
                return name
        return None


@dataclass(frozen=True)
class Catalog:
    """Every series of the room (id order)."""

    series: dict[str, SeriesInfo]

    def ids(self) -> list[str]:
        return list(self.series)

    def character_names(self) -> list[str]:
        return [n for s in self.series.values() for n in s.characters]

    def titles(self) -> list[str]:
        return [t for s in self.series.values() for _, _, t in s.episodes if t.strip()]

    def named(self, text: str) -> str | None:
        """The series whose id or title ``text`` contains (the longest match), if any."""
        lowered = text.lower()
        best: tuple[int, str] | None = None
        for s in self.series.values():
            for form in (s.series_id.lower(), s.title.lower()):
                if form and _contains(lowered, form) and (best is None or len(form) > best[0]):
                    best = (len(form), s.series_id)
        return best[1] if best else None

    def label(self, series_id: str) -> str:
        s = self.series[series_id]
        return f"{s.title} (`{series_id}`)" if s.title else f"`{series_id}`"


def load_catalog(settings: Settings) -> Catalog:
    """Series and episodes from SQL (two small queries)."""
    with session_scope(settings) as session:
        series = list(
            session.exec(
                select(col(Series.series_id), col(Series.title), col(Series.characters)).order_by(
                    col(Series.series_id)
                )
            )
        )
        episodes = session.exec(
            select(
                col(Episode.series_id),
                col(Episode.episode_id),
                col(Episode.position),
                col(Episode.title),
            ).order_by(col(Episode.series_id), col(Episode.position))
        )
        by_series: dict[str, list[tuple[str, int, str]]] = {}
        for series_id, episode_id, position, title in episodes:
            by_series.setdefault(series_id, []).append((episode_id, position, title))
    return Catalog(
        {
            series_id: SeriesInfo(
                series_id=series_id,
                title=title,
                episodes=tuple(by_series.get(series_id, [])),
                characters=tuple(
                    str(c.get("name", "")).strip()
                    for c in cast or []
                    if isinstance(c, dict) and str(c.get("name", "")).strip()
                ),
            )
            for series_id, title, cast in series
        }
    )


def _contains(lowered: str, phrase: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(phrase)}(?![\w-])", lowered) is not None


def titles_in(catalog: Catalog, text: str) -> list[tuple[int, str, str]]:
    """(offset, series_id, episode_id) of the episode titles ``text`` names, in order.

    Titles of several words match in any case; a one-word title ("Mother", "Crew") only
    as written, capitalised, so everyday words don't pick an episode.
    """
    found = []
    lowered = text.lower()
    for s in catalog.series.values():
        for episode_id, _, title in s.episodes:
            if not title.strip():
                continue
            if " " in title.strip():
                match = re.search(
                    rf"(?<![\w-]){re.escape(title.strip().lower())}(?![\w-])", lowered
                )
            else:
                match = re.search(rf"(?<![\w-]){re.escape(title.strip())}(?![\w-])", text)
            if match:
                found.append((match.start(), s.series_id, episode_id))
    return sorted(found)


def only_names_a_series(catalog: Catalog, text: str) -> str | None:
    """The series ``text`` names when it names nothing else ("harbor-hearts", "Neon Heist")."""
    cleaned = re.sub(r"^\s*series:\s*", "", text.strip(), flags=re.IGNORECASE)
    series_id = catalog.named(cleaned)
    if series_id is None:
        return None
    s = catalog.series[series_id]
    rest = cleaned.lower()
    for form in sorted({s.series_id.lower(), s.title.lower()} - {""}, key=len, reverse=True):
        rest = rest.replace(form, " ")
    words = [w for w in re.findall(r"[\w']+", rest) if w not in _FILLER]
    return series_id if not words else None


def _refs(catalog: Catalog, route: Route, titles: list[tuple[int, str, str]]) -> list[str]:
    """The episodes written by number or id, less the words of a title the text names
    (``report Low Tide`` reads "Low" as the episode; the title says which it is)."""
    refs = route.episode_refs or ([route.episode_ref] if route.episode_ref else [])
    words = {
        w for _, sid, eid in titles for w in catalog.series[sid].episode_title(eid).lower().split()
    }
    return [r for r in refs if r.lower() not in words]


@dataclass
class Resolution:
    """The series, episodes and character a message is about, or what is missing."""

    series_id: str | None = None
    episode_ids: list[str] = field(default_factory=list)
    character: str | None = None
    problem: str | None = None
    ambiguous: bool = False  # several series fit: the question waits for the answer


def _candidates(
    catalog: Catalog, route: Route, text: str, context: str | None
) -> tuple[list[str], list[tuple[int, str, str]], str | None]:
    """The series that fit, the titles named, and a problem with the explicit series."""
    explicit = route.series_id or catalog.named(text)
    titles = titles_in(catalog, text)
    if explicit is not None:
        if explicit not in catalog.series:
            return [], titles, f"there is no series `{explicit}`; the room has: {_ids(catalog)}"
        return [explicit], [t for t in titles if t[1] == explicit], None
    refs = _refs(catalog, route, titles)
    fits = [
        sid
        for sid, s in catalog.series.items()
        if all(resolve_episode(r, s.pairs()) is not None for r in refs)
    ]
    named: list[str] = list(dict.fromkeys(sid for _, sid, _ in titles))
    if not named and route.subject:
        named = [sid for sid, s in catalog.series.items() if s.character(route.subject)]
    if named:
        narrowed = [sid for sid in named if sid in fits] or named
        if len(narrowed) > 1 and context in narrowed:
            narrowed = [context]
        return narrowed, [t for t in titles if t[1] in narrowed], None
    if context in catalog.series and context in fits:
        return [context], titles, None
    if refs and not fits:
        # Say which series lacks the episode when the conversation or the room has one.
        only = context if context in catalog.series else None
        only = only or (catalog.ids()[0] if len(catalog.series) == 1 else None)
        return ([only] if only else []), titles, None
    return fits, titles, None


def resolve(
    catalog: Catalog,
    route: Route,
    text: str,
    *,
    context_series: str | None,
    context_episode: str | None,
) -> Resolution:
    """Resolve the series, episodes and character of ``route`` (see the module docstring)."""
    candidates, titles, problem = _candidates(catalog, route, text, context_series)
    if problem is not None:
        return Resolution(problem=problem)
    refs = _refs(catalog, route, titles)
    if len(candidates) != 1:
        if route.intent in ROOM_WIDE:
            return Resolution()
        return _which_series(catalog, candidates, refs, context_series)
    series_id = candidates[0]
    s = catalog.series[series_id]
    out = Resolution(series_id=series_id)
    for ref in refs:
        found = resolve_episode(ref, s.pairs())
        if found is None:
            out.problem = (
                f"{series_id} has no episode `{ref}`; episodes: "
                f"{', '.join(f'`{e}`' for e, _, _ in s.episodes) or 'none'}"
            )
            return out
        out.episode_ids.append(found)
    out.episode_ids.extend(e for _, sid, e in titles if sid == series_id)
    out.episode_ids = list(dict.fromkeys(out.episode_ids))
    if not out.episode_ids and context_episode and series_id == context_series:
        out.episode_ids = [context_episode]
    if route.subject:
        out.character = s.character(route.subject)
        if out.character is None:
            out.problem = (
                f"{s.title or series_id} has no character called {route.subject}; its cast: "
                + (", ".join(s.characters) or "none listed")
            )
    return out


def _which_series(
    catalog: Catalog, candidates: list[str], refs: list[str], context: str | None
) -> Resolution:
    if not catalog.series:
        return Resolution(problem="the room has no series yet: `writers-room series add FILE.yaml`")
    if not candidates:
        written = ", ".join(f"`{r}`" for r in refs)
        where = f" (this conversation is about {catalog.label(context)})" if context else ""
        return Resolution(
            problem=f"no series has episode {written}{where}; the room has: {_ids(catalog)}"
        )
    options = []
    for sid in candidates:
        s = catalog.series[sid]
        found = [resolve_episode(r, s.pairs()) for r in refs]
        episodes = ", ".join(f"{e} “{s.episode_title(e)}”" for e in found if e)
        options.append(f"{catalog.label(sid)}" + (f": {episodes}" if episodes else ""))
    written = ", ".join(f"`{r}`" for r in refs)
    verb = "is" if len(refs) == 1 else "are each"
    what = f"{written} {verb} in more than one series" if refs else "which series?"
    return Resolution(
        problem=f"{what} — {'; '.join(options)}. Answer with the series "
        f"(e.g. `{candidates[0]}`) or start with `series:<id>`",
        ambiguous=True,
    )


def _ids(catalog: Catalog) -> str:
    return ", ".join(f"`{i}`" for i in catalog.ids()) or "none"
