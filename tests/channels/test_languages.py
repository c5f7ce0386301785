"""The conversation languages: the page hint the channel accepts, and every text the
server or an action composes in Python existing in all four languages (README "Languages")."""

from __future__ import annotations

import ast
import datetime as dt
import re
import string
from decimal import Decimal
from pathlib import Path

import pytest

from actions.fallback import SUGGESTIONS, TRANSLATED_SUGGESTIONS
from channels import languages
from channels.webchat import NOTICES

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("hint", "language"),
    [
        ("sv", "sv"),
        ("sv-SE", "sv"),
        ("SV_se", "sv"),
        ("fi-FI", "fi"),
        ("en-GB", "en"),
        ("en", "en"),
        ("nb", "nb"),
        ("nb-NO", "nb"),
        ("no", "nb"),
        ("nn", "nb"),
        ("nn-NO", "nb"),
    ],
)
def test_page_languages_are_normalised(hint: str, language: str) -> None:
    assert languages.normalise(hint) == language


@pytest.mark.parametrize(
    "hint", ["de", "da-DK", "", "x", None, 42, ["sv"], {"language": "sv"}, "sv" * 40, "svenska"]
)
def test_anything_else_is_ignored(hint: object) -> None:
    assert languages.normalise(hint) is None


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


@pytest.mark.parametrize("key", sorted(languages.TEXTS))
def test_every_composed_text_exists_in_every_language_with_the_same_fields(key: str) -> None:
    entry = languages.TEXTS[key]
    assert set(entry) == set(languages.LANGUAGES), (
        f"{key} lacks {set(languages.LANGUAGES) - set(entry)}"
    )
    english = _fields(entry["en"])
    for language in languages.LANGUAGES:
        assert entry[language].strip(), f"{key} is empty in {language}"
        assert _fields(entry[language]) == english, f"{key} in {language}"


def test_every_channel_notice_has_its_texts() -> None:
    assert set(NOTICES.values()) <= set(languages.TEXTS)


def test_every_suggested_topic_has_a_title_in_every_language() -> None:
    assert set(TRANSLATED_SUGGESTIONS) == set(languages.LANGUAGES) - {"en"}
    for language, titles in TRANSLATED_SUGGESTIONS.items():
        assert set(titles) == set(SUGGESTIONS), language
        assert all(t.strip() for t in titles.values())


def test_notices_come_out_in_the_language_asked_for() -> None:
    texts = {
        language: languages.say(
            "notice_too_fast", language, wait=languages.wait_phrase(40, language)
        )
        for language in languages.LANGUAGES
    }
    assert texts["en"] == (
        "You're typing faster than I can read. Please wait about 40 seconds and send your "
        "message again."
    )
    assert "ungefär 40 sekunder" in texts["sv"]
    assert "noin 40 sekuntia" in texts["fi"]
    assert "omtrent 40 sekunder" in texts["nb"]
    assert languages.say("notice_no_session", "de") == languages.say("notice_no_session", "en")


@pytest.mark.parametrize(
    ("language", "day", "amount", "clock"),
    [
        ("en", "Thursday 24 December", "€1,299.90", "14:05"),
        ("sv", "torsdag 24 december", "1\xa0299,90\xa0€", "14:05"),
        ("fi", "torstaina 24. joulukuuta", "1\xa0299,90\xa0€", "14.05"),
        ("nb", "torsdag 24. desember", "1\xa0299,90\xa0€", "14:05"),
    ],
)
def test_dates_amounts_and_times_follow_the_locale(
    language: str, day: str, amount: str, clock: str
) -> None:
    today = dt.date(2026, 12, 1)
    assert languages.day_text(dt.date(2026, 12, 24), language, today=today) == day
    assert languages.money_text(Decimal("1299.90"), "EUR", language) == amount
    assert languages.clock_text(dt.time(14, 5), language) == clock
    tomorrow = languages.day_text(dt.date(2026, 12, 2), language, today=today)
    assert tomorrow == languages.say("day_tomorrow", language)


NAMES = re.compile(
    r"\b(January|February|March|April|June|July|August|September|October|November|"
    r"December|januari|februari|augusti|oktober|tammikuu|joulukuu|desember|Monday|Tuesday|"
    r"Wednesday|Thursday|Friday|Saturday|Sunday|måndag|maanantai|mandag)\b",
    re.IGNORECASE,
)


def _string_literals(source: str) -> list[str]:
    """String constants that are not docstrings (docstrings give examples in English)."""
    tree = ast.parse(source)
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        node.value
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
    ]


def test_no_hand_written_month_or_day_names_in_code() -> None:
    """Babel names days and months in the shopper's locale; a literal would be English."""
    offenders = [
        f"{path.relative_to(ROOT)}: {text!r}"
        for folder in ("actions", "channels", "handover")
        for path in (ROOT / folder).rglob("*.py")
        for text in _string_literals(path.read_text(encoding="utf-8"))
        if NAMES.search(text)
    ]
    assert offenders == []


def test_the_downloaded_transcript_is_in_the_conversations_language() -> None:
    from channels import transcript

    messages = [
        {
            "sender": "shopper",
            "text": "var är mitt paket?",
            "timestamp": "2026-01-01T10:00:00+00:00",
        },
        {"sender": "bot", "text": "...", "timestamp": "2026-01-01T10:00:01+00:00"},
        {
            "sender": "system",
            "text": "Sam från kundtjänst har anslutit.",
            "timestamp": "2026-01-01T10:00:59+00:00",
        },
        {
            "sender": "agent",
            "name": "Sam",
            "text": "Hej!",
            "timestamp": "2026-01-01T10:01:00+00:00",
        },
    ]
    text = transcript.render_text("c1", messages, "2026-01-01T10:05:00+00:00", "sv")
    assert text.splitlines()[:3] == [
        "Chattutskrift",
        "Konversation: c1",
        "Nedladdad: 2026-01-01T10:05:00+00:00 (tider i UTC)",
    ]
    assert "] Du: var är mitt paket?" in text
    assert "] Assistent (bot): ..." in text
    assert "] Handläggare Sam: Hej!" in text
    # the desk's notice is labelled as the widget labels it, not "System"
    assert "] Meddelande: Sam från kundtjänst har anslutit." in text
    assert transcript.render_text("c1", [], "now", "fi").rstrip().endswith("(ei viestejä)")
