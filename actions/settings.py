"""Settings of the action server, read from the environment once and validated.

Nothing is read at import time: `load_settings()` is called when an action first needs a
client, so tests and tools can set the environment first. The result is cached because
the environment of a running server does not change; tests call `load_settings.cache_clear()`.

To add settings (e.g. for the handover queue), add a field with a default to `Settings`
and parse it in `load_settings()` with the helpers below.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import urlparse

DEFAULT_SERVICE_URL = "http://127.0.0.1:8000"


class SettingsError(ValueError):
    """A setting in the environment is malformed; raised at start-up, not mid-conversation."""


@dataclass(frozen=True)
class Settings:
    """Everything the actions need from the environment, already validated."""

    order_service_url: str = DEFAULT_SERVICE_URL
    tracking_service_url: str = DEFAULT_SERVICE_URL
    product_service_url: str = DEFAULT_SERVICE_URL
    service_connect_timeout: float = 2.0
    service_read_timeout: float = 5.0
    service_retries: int = 2


def _url(env: Mapping[str, str], name: str, default: str) -> str:
    value = env.get(name, "").strip() or default
    parsed = urlparse(value)
    if parsed.scheme not in ("http", "https") or not parsed.netloc:
        raise SettingsError(f"{name} must be an http(s) URL, got {value!r}")
    return value.rstrip("/")


def _positive_float(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number of seconds, got {raw!r}") from None
    if not value > 0:
        raise SettingsError(f"{name} must be greater than 0, got {raw!r}")
    return value


def _non_negative_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < 0:
        raise SettingsError(f"{name} must not be negative, got {raw!r}")
    return value


def settings_from_env(env: Mapping[str, str]) -> Settings:
    """Build settings from any mapping, so tests need not touch `os.environ`."""
    return Settings(
        order_service_url=_url(env, "ORDER_SERVICE_URL", DEFAULT_SERVICE_URL),
        tracking_service_url=_url(env, "TRACKING_SERVICE_URL", DEFAULT_SERVICE_URL),
        product_service_url=_url(env, "PRODUCT_SERVICE_URL", DEFAULT_SERVICE_URL),
        service_connect_timeout=_positive_float(env, "SERVICE_CONNECT_TIMEOUT", 2.0),
        service_read_timeout=_positive_float(env, "SERVICE_READ_TIMEOUT", 5.0),
        service_retries=_non_negative_int(env, "SERVICE_RETRIES", 2),
    )


@lru_cache(maxsize=1)
def load_settings() -> Settings:
    """The process-wide settings; a bad value fails loudly on first use."""
    return settings_from_env(os.environ)
