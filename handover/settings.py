"""Settings of the human handover, read from the environment and validated once.

Both processes read them: the action server (opening hours, the queue database) and the
Rasa server's web chat channel (agent tokens, the same database). The database is the
tracker store's own (`DATABASE_URL`, as in endpoints.yml), so one backup and one
deletion route cover the bot's and the agents' conversations alike.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from envsettings import Env, SettingsError
from handover.hours import (
    DEFAULT_OPENING_HOURS,
    DEFAULT_TIMEZONE,
    OpeningHours,
    OpeningHoursError,
)

#: Accepted only when APP_ENV=development, so a demo can't be reached in production.
DEMO_AGENT_NAME = "Demo Agent"
DEMO_AGENT_TOKEN = "demo-agent-token"  # noqa: S105 - a documented demo value
MIN_TOKEN_LENGTH = 16
#: The width of the agent column (handover/models.py); a longer name could not be stored
#: whole, and the desk compares the stored name with the token's to tell whose chat it is.
MAX_AGENT_NAME_CHARS = 64
DEFAULT_DATABASE_URL = "sqlite:///rasa.db"


@dataclass(frozen=True)
class HandoverSettings:
    opening_hours: OpeningHours = field(default_factory=OpeningHours.parse)
    #: Estimate per queue position while too few requests were handled to take a median.
    default_handling_minutes: float = 4.0
    #: How many recently closed requests the median handling time is taken over.
    median_window: int = 20
    #: token -> agent name.
    agent_tokens: Mapping[str, str] = field(default_factory=dict)
    database_url: str = DEFAULT_DATABASE_URL
    app_env: str = "production"
    #: How often the desk re-checks queue positions to push changes to the widgets.
    position_poll_seconds: float = 2.0


def _agent_tokens(env: Mapping[str, str], app_env: str) -> dict[str, str]:
    """token -> agent name; one token per agent, as the name is the agent's identity."""
    raw = Env(env).raw("AGENT_TOKENS")
    tokens: dict[str, str] = {}
    names: set[str] = set()
    for item in (i.strip() for i in raw.split(",") if i.strip()):
        name, sep, token = item.partition(":")
        name, token = name.strip(), token.strip()
        if not sep or not name or not token:
            raise SettingsError("AGENT_TOKENS must look like 'name:token,name:token'")
        if token == DEMO_AGENT_TOKEN and app_env != "development":
            raise SettingsError("the demo agent token is allowed only in development")
        if len(token) < MIN_TOKEN_LENGTH and app_env != "development":
            raise SettingsError(
                f"agent token of {name!r} is shorter than {MIN_TOKEN_LENGTH} characters"
            )
        if len(name) > MAX_AGENT_NAME_CHARS:
            raise SettingsError(
                f"AGENT_TOKENS: the agent name {name[:20]!r}... has {len(name)} characters; "
                f"at most {MAX_AGENT_NAME_CHARS} fit"
            )
        if token in tokens:
            raise SettingsError("two agents share one token in AGENT_TOKENS")
        # Names that differ only in case look alike to shoppers and colleagues.
        if name.casefold() in names:
            raise SettingsError(
                f"AGENT_TOKENS names the agent {name!r} twice; give each agent one token "
                "and a name of their own (the name is who claims and closes a chat)"
            )
        names.add(name.casefold())
        tokens[token] = name
    if app_env == "development" and DEMO_AGENT_NAME.casefold() not in names:
        tokens.setdefault(DEMO_AGENT_TOKEN, DEMO_AGENT_NAME)
    return tokens


def handover_settings_from_env(env: Mapping[str, str]) -> HandoverSettings:
    """Build settings from any mapping, so tests need not touch `os.environ`."""
    read = Env(env)
    app_env = read.app_env
    try:
        hours = OpeningHours.parse(
            read.text("HANDOVER_OPENING_HOURS", DEFAULT_OPENING_HOURS),
            read.text("HANDOVER_TIMEZONE", DEFAULT_TIMEZONE),
        )
    except OpeningHoursError as exc:
        raise SettingsError(f"HANDOVER_OPENING_HOURS/HANDOVER_TIMEZONE: {exc}") from exc
    url = read.text("DATABASE_URL", DEFAULT_DATABASE_URL)
    if "://" not in url:
        raise SettingsError(f"DATABASE_URL must be a database URL, got {url!r}")
    return HandoverSettings(
        opening_hours=hours,
        default_handling_minutes=read.number("HANDOVER_DEFAULT_HANDLING_MINUTES", 4.0),
        median_window=read.whole("HANDOVER_MEDIAN_WINDOW", 20, minimum=1),
        agent_tokens=_agent_tokens(env, app_env),
        database_url=url,
        app_env=app_env,
        position_poll_seconds=read.number("HANDOVER_POSITION_POLL_SECONDS", 2.0),
    )


@lru_cache(maxsize=1)
def load_handover_settings() -> HandoverSettings:
    """The process-wide settings; tests call `load_handover_settings.cache_clear()`."""
    return handover_settings_from_env(os.environ)
