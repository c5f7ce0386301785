"""Reading settings from the environment: one error type and one reader for every package.

Each package (actions, channels, handover) keeps its own frozen settings dataclass and
builds it from an `Env`; this module only knows how a value is written. Settings are read
when a process starts (never at import time), so a malformed value stops the process with
a message naming the variable instead of failing a shopper mid-conversation.

Every getter treats an unset or blank variable as "use the default", and raises
`SettingsError` for anything else it cannot accept. Nothing is rounded or truncated: a
whole-number setting given "0.5" is refused, not read as 0.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from urllib.parse import urlparse

DEVELOPMENT = "development"


class SettingsError(ValueError):
    """A setting in the environment is missing or malformed; raised at start-up."""


class Env:
    """Typed, validating getters over a mapping (the process environment by default)."""

    def __init__(self, env: Mapping[str, str] | None = None) -> None:
        self._env = os.environ if env is None else env

    def raw(self, name: str) -> str:
        """The stripped value, or "" when unset."""
        return self._env.get(name, "").strip()

    def text(self, name: str, default: str = "") -> str:
        return self.raw(name) or default

    @property
    def app_env(self) -> str:
        """`APP_ENV`; anything but "development" is treated as production."""
        return self.raw("APP_ENV") or "production"

    @property
    def is_development(self) -> bool:
        return self.app_env == DEVELOPMENT

    def number(self, name: str, default: float, *, minimum: float = 0.0) -> float:
        """A number strictly greater than `minimum` (seconds, minutes, ratios)."""
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a number, got {raw!r}") from None
        if not value > minimum:  # also refuses NaN
            raise SettingsError(f"{name} must be greater than {minimum:g}, got {raw!r}")
        if value == float("inf"):
            raise SettingsError(f"{name} must be finite, got {raw!r}")
        return value

    def whole(self, name: str, default: int, *, minimum: int = 0) -> int:
        """A whole number of at least `minimum`; "0.5" or "2e3" are refused, not truncated."""
        raw = self.raw(name)
        if not raw:
            return default
        try:
            value = int(raw)
        except ValueError:
            raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
        if value < minimum:
            raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
        return value

    def url(
        self, name: str, default: str | None, *, schemes: tuple[str, ...] = ("http", "https")
    ) -> str | None:
        """A URL with one of `schemes` and a host (or a path, for unix sockets)."""
        raw = self.raw(name)
        if not raw:
            return default
        parsed = urlparse(raw)
        if parsed.scheme not in schemes or not (parsed.netloc or parsed.scheme == "unix"):
            # The value may hold a password (redis://:secret@host), so it is not echoed.
            raise SettingsError(
                f"{name} must be a URL starting with {' or '.join(s + '://' for s in schemes)}, "
                f"got {parsed.scheme or 'no scheme'}://..."
            )
        return raw.rstrip("/")

    def http_url(self, name: str, default: str) -> str:
        value = self.url(name, default)
        assert value is not None  # a default was given
        return value

    def items(self, name: str, default: tuple[str, ...] = ()) -> tuple[str, ...]:
        """A comma-separated list; blank items are dropped."""
        raw = self.raw(name)
        if not raw:
            return default
        return tuple(item.strip() for item in raw.split(",") if item.strip())

    def secret(self, name: str, demo: str, *, min_length: int, purpose: str) -> str:
        """A secret that falls back to `demo` only in development, and is refused as
        `demo` (or too short) anywhere else: with a known secret anyone could forge what it
        protects."""
        value = self._env.get(name, "")
        if not value:
            if not self.is_development:
                raise SettingsError(
                    f"{name} is not set. Outside APP_ENV=development {purpose} needs its own "
                    f"secret of at least {min_length} characters, e.g. "
                    "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
                )
            value = demo
        if value == demo and not self.is_development:
            raise SettingsError(f"{name} is the demo value; set a real one outside development")
        if len(value) < min_length:
            raise SettingsError(f"{name} must be at least {min_length} characters")
        return value
