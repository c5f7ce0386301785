"""AGENT_TOKENS: every agent one token and one name that fits; refused at start-up otherwise."""

from __future__ import annotations

import pytest

from envsettings import SettingsError
from handover.settings import (
    DEMO_AGENT_NAME,
    DEMO_AGENT_TOKEN,
    MAX_AGENT_NAME_CHARS,
    handover_settings_from_env,
)

SAM = "sam-token-0123456789abcdef"
KIM = "kim-token-0123456789abcdef"


def tokens(value: str, app_env: str = "production") -> dict[str, str]:
    env = {"AGENT_TOKENS": value, "APP_ENV": app_env}
    return dict(handover_settings_from_env(env).agent_tokens)


def test_each_agent_gets_their_own_token() -> None:
    assert tokens(f"Sam:{SAM}, Kim Lee:{KIM}") == {SAM: "Sam", KIM: "Kim Lee"}


def test_a_name_that_fits_the_store_exactly_is_accepted() -> None:
    name = "A" * MAX_AGENT_NAME_CHARS
    assert tokens(f"{name}:{SAM}") == {SAM: name}


def test_a_name_longer_than_the_store_keeps_is_refused() -> None:
    """The store kept 64 characters and compared the whole name: the agent was locked
    out of every chat they claimed (issue 11.6)."""
    name = "Alexandra " * 7  # 70 characters
    with pytest.raises(SettingsError, match=rf"at most {MAX_AGENT_NAME_CHARS}"):
        tokens(f"{name}:{SAM}")


@pytest.mark.parametrize("other", ["Sam", "sam", "SAM"])
def test_two_tokens_for_one_name_are_refused(other: str) -> None:
    """Two tokens with one name were one identity: each could post in and close the
    other's chats, and nothing told which person had written."""
    with pytest.raises(SettingsError, match="twice"):
        tokens(f"Sam:{SAM},{other}:{KIM}")


def test_development_adds_the_demo_agent_unless_the_name_is_taken() -> None:
    assert tokens(f"Sam:{SAM}", "development") == {SAM: "Sam", DEMO_AGENT_TOKEN: DEMO_AGENT_NAME}
    assert tokens(f"{DEMO_AGENT_NAME}:{SAM}", "development") == {SAM: DEMO_AGENT_NAME}
