"""Settings of the web chat channel, read from the environment once and validated.

Nothing is read at import time: the channel calls `load_settings()` when Rasa builds it
from credentials.yml, so a bad value stops the server at start-up instead of failing a
shopper mid-conversation. The signing secret is the one value that must never fall back
to a default in production: with a known secret anyone could forge a session token and
read another shopper's conversation.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

# Only accepted when APP_ENV=development; long enough to pass the length check.
DEMO_SECRET = "demo-secret-for-local-development-only-change-me"  # noqa: S105
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
MIN_SECRET_LENGTH = 32


class SettingsError(ValueError):
    """A web chat setting is missing or malformed; raised at start-up."""


@dataclass(frozen=True)
class WebchatSettings:
    """Everything the channel needs from the environment, already validated."""

    secret: str
    app_env: str = "production"
    allowed_origins: tuple[str, ...] = DEFAULT_ORIGINS
    max_message_chars: int = 2000
    rate_limit_messages: int = 5
    rate_limit_window_seconds: float = 10.0
    # With several Sanic workers or Rasa processes, each socket.io server knows only its
    # own clients; a shared Redis relays every emit (bot reply, agent message, queue
    # update) to whichever process holds the shopper's socket. None: one process only.
    redis_url: str | None = None

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"


def _int(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a whole number, got {raw!r}") from None
    if value < minimum:
        raise SettingsError(f"{name} must be at least {minimum}, got {raw!r}")
    return value


def _rate_limit(env: Mapping[str, str]) -> tuple[int, float]:
    """Parse WEBCHAT_RATE_LIMIT as "<messages>/<seconds>", e.g. "5/10"."""
    raw = env.get("WEBCHAT_RATE_LIMIT", "").strip()
    if not raw:
        return 5, 10.0
    count, _, window = raw.partition("/")
    try:
        messages, seconds = int(count), float(window)
    except ValueError:
        raise SettingsError(
            f"WEBCHAT_RATE_LIMIT must look like '5/10' (messages/seconds), got {raw!r}"
        ) from None
    if messages < 1 or seconds <= 0:
        raise SettingsError(f"WEBCHAT_RATE_LIMIT must be positive, got {raw!r}")
    return messages, seconds


def _origins(env: Mapping[str, str]) -> tuple[str, ...]:
    raw = env.get("WEBCHAT_ALLOWED_ORIGINS", "").strip()
    if not raw:
        return DEFAULT_ORIGINS
    origins = tuple(o.strip().rstrip("/") for o in raw.split(",") if o.strip())
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
            raise SettingsError(
                "WEBCHAT_ALLOWED_ORIGINS must be a comma list of origins like "
                f"https://shop.example.com, got {origin!r}"
            )
    return origins


def _redis_url(env: Mapping[str, str]) -> str | None:
    raw = env.get("WEBCHAT_REDIS_URL", "").strip()
    if not raw:
        return None
    parsed = urlparse(raw)
    if parsed.scheme not in ("redis", "rediss", "unix") or not (parsed.netloc or parsed.path):
        raise SettingsError(
            "WEBCHAT_REDIS_URL must be a Redis URL like redis://host:6379/0, got "
            f"{parsed.scheme or 'no scheme'}://..."
        )
    return raw


def load_settings(env: Mapping[str, str] | None = None) -> WebchatSettings:
    """Build and validate the settings; `env` defaults to the process environment."""
    env = os.environ if env is None else env
    app_env = env.get("APP_ENV", "").strip() or "production"
    secret = env.get("WEBCHAT_SECRET", "")
    if not secret:
        if app_env != "development":
            raise SettingsError(
                "WEBCHAT_SECRET is not set. Outside APP_ENV=development the web chat needs "
                f"its own secret of at least {MIN_SECRET_LENGTH} characters, e.g. "
                "`python -c 'import secrets; print(secrets.token_urlsafe(48))'`."
            )
        secret = DEMO_SECRET
    if secret == DEMO_SECRET and app_env != "development":
        raise SettingsError("WEBCHAT_SECRET is the demo secret; set a real one outside development")
    if len(secret) < MIN_SECRET_LENGTH:
        raise SettingsError(f"WEBCHAT_SECRET must be at least {MIN_SECRET_LENGTH} characters")
    messages, window = _rate_limit(env)
    return WebchatSettings(
        secret=secret,
        app_env=app_env,
        allowed_origins=_origins(env),
        max_message_chars=_int(env, "WEBCHAT_MAX_MESSAGE_CHARS", 2000, 1),
        rate_limit_messages=messages,
        rate_limit_window_seconds=window,
        redis_url=_redis_url(env),
    )
