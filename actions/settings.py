"""Settings of the action server, read from the environment once and validated.

Nothing is read at import time: `load_settings()` is called when an action first needs a
client, so tests and tools can set the environment first. The result is cached because
the environment of a running server does not change; tests call `load_settings.cache_clear()`.

To add settings (e.g. for the handover queue), add a field with a default to `Settings`
and read it in `settings_from_env()` with the `envsettings.Env` getters.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from envsettings import Env, SettingsError

DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"
# The shared secret between Rasa and the action server. This demo value is accepted only
# with APP_ENV=development (the Makefile exports it for `make run`); anywhere else the
# action server refuses to start without a real one, or with this one.
DEMO_ACTION_SERVER_TOKEN = "demo-action-server-token-for-development-only"  # noqa: S105
MIN_TOKEN_LENGTH = 32

__all__ = [
    "ServerSettings",
    "Settings",
    "SettingsError",
    "load_settings",
    "server_settings_from_env",
    "settings_from_env",
]


@dataclass(frozen=True)
class Settings:
    """Everything the actions need from the environment, already validated."""

    order_service_url: str = DEFAULT_SERVICE_URL
    tracking_service_url: str = DEFAULT_SERVICE_URL
    product_service_url: str = DEFAULT_SERVICE_URL
    service_connect_timeout: float = 2.0
    service_read_timeout: float = 5.0
    service_retries: int = 2
    # The whole call, retries included: the shopper hears the apology and the offer of a
    # person within 10 s whatever the service does.
    service_total_timeout: float = 8.0
    # Shop facts that differ by language: {"sv": {"support_phone": "020 123 456"}}, from
    # SUPPORT_PHONE_SV, PRIVACY_URL_SV ... (README "Languages"). A fact not set for a
    # language keeps the domain's value (domain/shared.yml).
    shop_facts: dict[str, dict[str, str]] = field(default_factory=dict)


#: Slots of domain/shared.yml a shop may set per language, and whether each is a URL.
LANGUAGE_FACTS: dict[str, bool] = {"support_phone": False, "privacy_url": True}
FACT_LANGUAGES = ("en", "sv", "fi", "nb")


def shop_facts_from_env(read: Env) -> dict[str, dict[str, str]]:
    """`<FACT>_<LANG>` variables (SUPPORT_PHONE_FI, PRIVACY_URL_NB ...) by language."""
    facts: dict[str, dict[str, str]] = {}
    for language in FACT_LANGUAGES:
        for slot, is_url in LANGUAGE_FACTS.items():
            name = f"{slot.upper()}_{language.upper()}"
            value = read.url(name, None) if is_url else read.text(name) or None
            if value:
                facts.setdefault(language, {})[slot] = value
    return facts


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Build settings from any mapping, so tests need not touch `os.environ`."""
    read = Env(env)
    return Settings(
        order_service_url=read.http_url("ORDER_SERVICE_URL", DEFAULT_SERVICE_URL),
        tracking_service_url=read.http_url("TRACKING_SERVICE_URL", DEFAULT_SERVICE_URL),
        product_service_url=read.http_url("PRODUCT_SERVICE_URL", DEFAULT_SERVICE_URL),
        service_connect_timeout=read.number("SERVICE_CONNECT_TIMEOUT", 2.0),
        service_read_timeout=read.number("SERVICE_READ_TIMEOUT", 5.0),
        service_retries=read.whole("SERVICE_RETRIES", 2),
        service_total_timeout=read.number("SERVICE_TOTAL_TIMEOUT", 8.0),
        shop_facts=shop_facts_from_env(read),
    )


@dataclass(frozen=True)
class ServerSettings:
    """What the action server process itself needs; read by `python -m actions.server`
    only, so actions and their tests never need the secret."""

    token: str


def server_settings_from_env(env: Mapping[str, str]) -> ServerSettings:
    return ServerSettings(
        token=Env(env).secret(
            "ACTION_SERVER_TOKEN",
            DEMO_ACTION_SERVER_TOKEN,
            min_length=MIN_TOKEN_LENGTH,
            purpose="the action server (and Rasa's action_endpoint)",
        )
    )


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings; a bad value fails loudly on first use."""
    return settings_from_env(os.environ)
