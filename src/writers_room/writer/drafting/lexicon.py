"""The words the drafter's rules read a story by: show talk, filler, family, story objects,
what proves who is behind them, and the verbs of leaving and of keeping.
"""

from __future__ import annotations

import re

from writers_room.brief.script import stem

# Words that are about the show, not the story: a viewer asking "why does every episode
# end on a cliffhanger" asks nothing the next episode can answer.
META = frozenset(
    stem(w)
    for w in """episode episodes season series show part scene start opening intro ending end
    cliffhanger ads coins coin price prices paywall next actor acting dialogue filter shot shots
    thumbnail title cover preview feed app drama plot armor writer writers""".split()
)
# Verbs and fillers too common to anchor a question to the story.
COMMON = frozenset(
    stem(w)
    for w in """look looks tell say said know knew see saw find found come came make made
    take took give gave want need think feel keep call calling called watch watching
    right wait really literally honestly okay maybe thing things people time times
    something nothing everything anyone someone nobody everybody guess real whole met meet
    already almost finally exactly sorry better best insane crazy love hate cool chills
    fr ngl lowkey bestie omg pls""".split()
)
KIN = {
    "dad": "father",
    "father": "father",
    "daddy": "father",
    "mom": "mother",
    "mum": "mother",
    "mother": "mother",
    "brother": "brother",
    "sister": "sister",
}
KIN_ADDRESS = {"father": "Dad", "mother": "Mom"}
# What a story object is, by the words that name it: what proves who is behind it.
WRITTEN = frozenset(
    "letter letters note notes envelope message ledger contract deed diary journal".split()
)
RECORDED = frozenset("tape footage recording drive video voice call phone camera".split())
PICTURED = frozenset("photo photos photograph photographs picture pictures".split())
ASPECTS = {
    "handwriting": "handwriting",
    "handwrit": "handwriting",
    "hand": "handwriting",
    "signature": "signature",
    "voice": "voice",
    "face": "face",
}
# A character as the subject of one of these answers what the rest of the clause names.
ANSWERING = (
    r"(?:is|was|were|wrote|sent|set|took|made|left|killed|sank|started|staged|planted|"
    r"burned|paid|signed|pulled|saved|hid)\b[^.;:]*"
)
# Verbs that put a story object in someone's hands on screen ('hands her a folded lien').
HANDLING = re.compile(
    r"\b(?:holds?|holding|hands?|pulls?|finds?|opens?|slams?|slides?|reads?|plays?|plugs?|"
    r"flips? through|lays?|drags? out|unfolds?|clutches|burns?|produces?)\b((?:\s+\S+){1,5})",
    re.IGNORECASE,
)
OBJECTS = (
    WRITTEN
    | RECORDED
    | PICTURED
    | frozenset("ring key keys chip box lockbox knife badge bag map blueprint blueprints".split())
)
DEPARTURE = re.compile(
    r"\b(flees|fled|walks out|storms out|out the door|leaves (?:her|him|them)|vanishes|"
    r"disappears|escapes|runs off|slips away|drives off)\b",
    re.IGNORECASE,
)
ENDURING = re.compile(r"\b(keep|keeps|know|knows|never|always|won't|owe|owes|promise|secret)")
