"""The router: verbs by grammar, decision words, follow-ups, then similarity to examples."""

from __future__ import annotations

from pathlib import Path

import pytest

from writers_room.config import Settings
from writers_room.graphs.chat.router import (
    EXAMPLES,
    Router,
    find_episode_ref,
    looks_like_decision,
    parse_command,
    resolve_episode,
    split_series_prefix,
)

EPISODES = [("ep01", 0), ("ep02", 1), ("ep03", 2), ("pilot", 3)]


@pytest.mark.parametrize(
    ("text", "intent", "episode", "proposal", "rest"),
    [
        ("help", "help", None, None, ""),
        ("status", "status", None, None, ""),
        ("report ep3", "explain", "ep3", None, ""),
        ("report 3", "explain", "3", None, ""),
        ("report pilot", "explain", "pilot", None, ""),
        ("propose episode 2", "propose", "episode 2", None, ""),
        ("brief ep01", "brief", "ep01", None, ""),
        ("note ep3 open on the storm", "note", "ep3", None, "open on the storm"),
        ("note episode 3 open on the storm", "note", "3", None, "open on the storm"),
        ("approve p-0123456789ab", "approve", None, "p-0123456789ab", ""),
        (
            "reject p-0123456789ab off tone, too cruel",
            "reject",
            None,
            "p-0123456789ab",
            "off tone, too cruel",
        ),
        ("render status for episode 3", "render_status", "episode 3", None, ""),
        ("draft next", "draft", "next", None, ""),
        ("draft", "draft", None, None, ""),
        ("draft episode 9", "draft", "episode 9", None, ""),
        ("<@UBOT> brief ep2", "brief", "ep2", None, ""),
    ],
)
def test_verbs_are_parsed_by_grammar(
    text: str, intent: str, episode: str | None, proposal: str | None, rest: str
) -> None:
    route = parse_command(text)
    assert route is not None and route.source == "verb"
    assert (route.intent, route.episode_ref, route.proposal_id, route.text) == (
        intent,
        episode,
        proposal,
        rest,
    )


def test_bad_commands_say_what_is_missing() -> None:
    note = parse_command("note ep3")
    assert note is not None and "note <episode> <text>" in (note.problem or "")
    assert parse_command("why did episode 3 drop?") is None  # a question, not a verb


def test_series_prefix() -> None:
    assert split_series_prefix("series:neon-heist report ep2") == ("neon-heist", "report ep2")
    assert split_series_prefix("report ep2") == (None, "report ep2")
    route = parse_command("series:neon-heist status")
    assert route is not None and route.series_id == "neon-heist"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("ep03", "ep03"),
        ("EP03", "ep03"),
        ("3", "ep03"),
        ("episode 2", "ep02"),
        ("pilot", "pilot"),
        ("4", "pilot"),
        ("9", None),
    ],
)
def test_episode_resolution(ref: str, expected: str | None) -> None:
    assert resolve_episode(ref, EPISODES) == expected


def test_episode_refs_in_free_text() -> None:
    assert find_episode_ref("why did episode 3 drop?") == "3"
    assert find_episode_ref("and ep. 4?") == "4"
    assert find_episode_ref("no episode here") is None
    assert find_episode_ref("approve p-1e2b3c4d5e6f") is None


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        ("why did episode 3 drop?", "explain"),
        ("where do people stop watching episode 5", "explain"),
        ("what are viewers saying about episode 2", "explain"),
        ("what should we change in episode 2", "propose"),
        ("is the render done yet", "render_status"),
        ("show me the brief for episode 4", "brief"),
        ("draft the next episode", "draft"),
        ("write the next episode please", "draft"),
        ("could you write episode 9 for us", "draft"),
        ("which proposals are open", "status"),
        ("hi there", "help"),
    ],
)
def test_similarity_routes_free_text(router: Router, text: str, intent: str) -> None:
    route = router.route(text)
    assert route.intent == intent, route


@pytest.mark.parametrize(
    ("text", "intent", "proposal"),
    [
        # Only `approve p-<id>` alone and `reject p-<id> <reason>` are decision commands.
        ("approve p-0123456789ab", "approve", "p-0123456789ab"),
        ("Approve `p-0123456789ab`.", "approve", "p-0123456789ab"),
        ("<@UBOT> approve p-0123456789ab", "approve", "p-0123456789ab"),
        ("series:neon-heist approve p-0123456789ab", "approve", "p-0123456789ab"),
        ("reject p-0123456789ab", "reject", "p-0123456789ab"),  # the graph asks for a reason
        # Anything else that starts with the verb is not a decision.
        ("approve it", "how_to_decide", None),
        ("approve that proposal", "how_to_decide", None),
        ("approve", "how_to_decide", None),
        ("approve p-0123456789ab if the numbers hold", "how_to_decide", "p-0123456789ab"),
        ("approve p-0123456789ab? not sure", "how_to_decide", "p-0123456789ab"),
        ("reject it, too cruel", "how_to_decide", None),
    ],
)
def test_decision_commands_need_the_exact_grammar(
    text: str, intent: str, proposal: str | None
) -> None:
    route = parse_command(text)
    assert route is not None and route.source == "verb"
    assert (route.intent, route.proposal_id) == (intent, proposal)


@pytest.mark.parametrize(
    "text",
    [
        "approve that proposal",  # before #14 similarity routed these to approve
        "looks good, ship it",
        "yes, go with that change",
        "I don't approve it",
        "do not approve that proposal",
        "no, kill that proposal",
        "decline the proposal",
        "anything I need to approve",
        "what's waiting for approval",
    ],
)
def test_similarity_never_picks_a_decision(router: Router, text: str) -> None:
    assert "approve" not in EXAMPLES and "reject" not in EXAMPLES
    route = router.route(text)
    assert route.intent == "how_to_decide", route
    assert router.similar(text)[0] not in ("approve", "reject")


@pytest.mark.parametrize(
    "text",
    [
        "why did episode 3 drop?",
        "why is retention declining in episode 2",
        "what is pending",
        "and episode 4?",
        "show me the brief for episode 4",
        "where do people stop watching episode 5",
        "what should we change in episode 2",
        "is the render done yet",
        "how did the last window go",
        "what do the comments say about the ending",
        "note ep3 open on the storm",
        "hi there",
    ],
)
def test_ordinary_questions_do_not_look_like_decisions(text: str) -> None:
    assert not looks_like_decision(text)


def test_follow_up_reuses_the_last_intent(router: Router) -> None:
    route = router.route("and episode 4?", last_intent="brief")
    assert (route.intent, route.source, route.episode_ref) == ("brief", "followup", "episode 4")
    route = router.route("what about ep 2", last_intent="help")
    assert (route.intent, route.episode_ref) == ("explain", "ep 2")


def test_nonsense_falls_back(router: Router) -> None:
    assert router.route("qwzx vbnm").intent == "help"
    assert router.route("qwzx vbnm", last_intent="explain").intent == "explain"


def test_free_text_note_needs_an_explicit_text(router: Router) -> None:
    route = router.route("add a note to episode 3")
    assert route.intent == "note" and route.problem


def test_unsure_messages_go_to_the_configured_llm(tmp_path: Path) -> None:
    from langchain_core.language_models.fake_chat_models import GenericFakeChatModel
    from langchain_core.messages import AIMessage

    settings = Settings(home=tmp_path / "home")
    model = GenericFakeChatModel(
        messages=iter([AIMessage(content='{"intent": "brief", "episode": "ep2"}')])
    )
    route = Router(settings, model=model).route("qwzx vbnm")
    assert (route.intent, route.source, route.episode_ref) == ("brief", "llm", "ep2")
    # A model that never answers in shape leaves the offline fallback in charge.
    broken = GenericFakeChatModel(
        messages=iter([AIMessage(content="no idea"), AIMessage(content="?")])
    )
    route = Router(settings, model=broken).route("qwzx vbnm")
    assert (route.intent, route.source) == ("help", "fallback")
    # A model that reads a decision into a message decides nothing: it is told how to.
    deciding = GenericFakeChatModel(
        messages=iter([AIMessage(content='{"intent": "approve", "episode": null}')])
    )
    route = Router(settings, model=deciding).route("qwzx vbnm")
    assert (route.intent, route.source) == ("how_to_decide", "llm")
    # Confident matches never wait for a model.
    route = Router(settings, model=broken).route("why did episode 3 drop?")
    assert route.source == "similarity"


def test_offline_settings_use_no_model(tmp_path: Path) -> None:
    route = Router(Settings(home=tmp_path / "home")).route("qwzx vbnm")
    assert route.source == "fallback"
