"""The conversations file format: what a file may say, and what a broken one is told."""

from __future__ import annotations

import pytest

from devkit.conversations import ConversationFileError, Turn, judge, parse_conversations


def test_a_conversation_may_name_the_pages_language() -> None:
    data = [
        {"name": "swedish page", "language": "sv", "turns": [{"shopper": "hej"}]},
        {"name": "no hint", "turns": [{"shopper": "hello"}]},
    ]
    hinted, plain = parse_conversations(data, "x.yml")
    assert hinted.language == "sv"
    assert plain.language is None


@pytest.mark.parametrize("language", ["", "  ", 7, ["sv"]])
def test_a_language_that_is_not_a_code_is_refused_with_the_conversations_name(
    language: object,
) -> None:
    data = [{"name": "broken hint", "language": language, "turns": [{"shopper": "hej"}]}]
    with pytest.raises(ConversationFileError, match=r"broken hint.*language"):
        parse_conversations(data, "x.yml")


def test_an_unknown_turn_key_is_refused() -> None:
    data = [{"name": "typo", "turns": [{"shopper": "hej", "expect_anny": ["x"]}]}]
    with pytest.raises(ConversationFileError, match="expect_anny"):
        parse_conversations(data, "x.yml")


def test_a_turn_passes_on_any_entry_and_fails_on_an_unwanted_one() -> None:
    turn = Turn("hej", (("din order", "skickad"), "levererad"), ("tappade tråden",))
    assert judge(turn, "din order är skickad") is None
    assert judge(turn, "den är levererad") is None
    assert judge(turn, "din order") is not None
    assert judge(turn, "levererad, men jag tappade tråden") == "says 'tappade tråden'"
    assert judge(turn, "") == "no reply"
