"""Settings of the web chat channel, read from the environment once and validated.

Nothing is read at import time: the channel calls `load_settings()` when Rasa builds it
from credentials.yml, so a bad value stops the server at start-up instead of failing a
shopper mid-conversation. The signing secret is the one value that must never fall back
to a default in production: with a known secret anyone could forge a session token and
read another shopper's conversation.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from envsettings import Env, SettingsError

__all__ = ["DEFAULT_ORIGINS", "SettingsError", "WebchatSettings", "load_settings"]

# Only accepted when APP_ENV=development; long enough to pass the length check.
DEMO_SECRET = "demo-secret-for-local-development-only-change-me"  # noqa: S105
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
MIN_SECRET_LENGTH = 32


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


def _rate_limit(env: Env) -> tuple[int, float]:
    """Parse WEBCHAT_RATE_LIMIT as "<messages>/<seconds>", e.g. "5/10"."""
    raw = env.raw("WEBCHAT_RATE_LIMIT")
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


def _origins(env: Env) -> tuple[str, ...]:
    origins = tuple(o.rstrip("/") for o in env.items("WEBCHAT_ALLOWED_ORIGINS", DEFAULT_ORIGINS))
    for origin in origins:
        parsed = urlparse(origin)
        if parsed.scheme not in ("http", "https") or not parsed.netloc or parsed.path:
            raise SettingsError(
                "WEBCHAT_ALLOWED_ORIGINS must be a comma list of origins like "
                f"https://shop.example.com, got {origin!r}"
            )
    return origins


def load_settings(env: Mapping[str, str] | None = None) -> WebchatSettings:
    """Build and validate the settings; `env` defaults to the process environment."""
    read = Env(env)
    secret = read.secret(
        "WEBCHAT_SECRET", DEMO_SECRET, min_length=MIN_SECRET_LENGTH, purpose="the web chat"
    )
    messages, window = _rate_limit(read)
    return WebchatSettings(
        secret=secret,
        app_env=read.app_env,
        allowed_origins=_origins(read),
        max_message_chars=read.whole("WEBCHAT_MAX_MESSAGE_CHARS", 2000, minimum=1),
        rate_limit_messages=messages,
        rate_limit_window_seconds=window,
        redis_url=read.url("WEBCHAT_REDIS_URL", None, schemes=("redis", "rediss", "unix")),
    )
