"""PII redaction rules."""

from __future__ import annotations

import pytest

from writers_room.ingest.redact import pseudonymise, redact


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("mail me: jo.doe+tv@example.co.uk!", "mail me: [email]!"),
        ("call +1 (555) 201-7788 tonight", "call [phone] tonight"),
        ("ring 07700 900123", "ring [phone]"),
        ("text 555.123.4567", "text [phone]"),
        ("@mara_fan you saw that?", "[handle] you saw that?"),
        ("cc <@U024BE7LH> and <!channel>", "cc [mention] and [mention]"),
        ("see https://x.example/p?token=abc&u=9 now", "see [url] now"),
        ("www.spam.example/#frag=1", "[url]"),
    ],
)
def test_personal_data_is_replaced(text: str, expected: str) -> None:
    assert redact(text).text == expected


@pytest.mark.parametrize(
    "text",
    [
        "episode 3 at 0:12 was wild",
        "best show of 2026!!",
        "she said 10/10 would watch again",
        "watch on example.com/show",
        "Mara > Theo, 100%",
    ],
)
def test_ordinary_text_is_left_alone(text: str) -> None:
    result = redact(text)
    assert (result.text, result.count) == (text, 0)


def test_counts_every_span() -> None:
    assert redact("a@b.io and c@d.io and @e").count == 3


def test_pseudonym_is_keyed_and_stable() -> None:
    assert pseudonymise("user-1", b"k1") == pseudonymise("user-1", b"k1")
    assert pseudonymise("user-1", b"k1") != pseudonymise("user-1", b"k2")
    assert pseudonymise("user-1", b"k1") != pseudonymise("user-2", b"k1")
    assert len(pseudonymise("user-1", b"k1")) == 16
