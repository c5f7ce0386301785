"""Settings of the web chat channel, read from the environment once and validated.

Nothing is read at import time: the channel calls `load_settings()` when Rasa builds it
from credentials.yml, so a bad value stops the server at start-up instead of failing a
shopper mid-conversation. The signing secret is the one value that must never fall back
to a default in production: with a known secret anyone could forge a session token and
read another shopper's conversation.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlparse

from envsettings import Env, SettingsError

__all__ = ["DEFAULT_ORIGINS", "Rate", "SettingsError", "WebchatSettings", "load_settings"]

IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Only accepted when APP_ENV=development; long enough to pass the length check.
DEMO_SECRET = "demo-secret-for-local-development-only-change-me"  # noqa: S105
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")
MIN_SECRET_LENGTH = 32


@dataclass(frozen=True)
class Rate:
    """At most `limit` events in any `seconds`-long sliding window."""

    limit: int
    seconds: float

    def __str__(self) -> str:
        return f"{self.limit}/{self.seconds:g}"


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
    # Budgets that a new session cannot reset: messages per socket and per client address,
    # and new sessions per socket and per address (see channels/limits.py). Each is one or
    # more windows, all of which must have room: new sessions per address are capped per
    # minute (a burst of new connections) and per 10 minutes (a steady trickle).
    socket_rate_limit: tuple[Rate, ...] = (Rate(10, 10.0),)
    address_rate_limit: tuple[Rate, ...] = (Rate(60, 60.0),)
    socket_session_limit: tuple[Rate, ...] = (Rate(3, 60.0),)
    address_session_limit: tuple[Rate, ...] = (Rate(10, 60.0), Rate(20, 600.0))
    # Peers whose X-Forwarded-For is believed (a reverse proxy or load balancer).
    trusted_proxies: tuple[IPNetwork, ...] = ()
    redis_prefix: str = "webchat"
    session_max_age_days: float = 90.0
    max_request_bytes: int = 256 * 1024

    @property
    def conversation_rate_limit(self) -> Rate:
        return Rate(self.rate_limit_messages, self.rate_limit_window_seconds)

    @property
    def is_development(self) -> bool:
        return self.app_env == "development"


def _rate(env: Env, name: str, default: Rate) -> Rate:
    raw = env.raw(name)
    return _parse_rate(name, raw) if raw else default


def _parse_rate(name: str, raw: str) -> Rate:
    """Parse "<count>/<seconds>", e.g. "5/10"."""
    count, _, window = raw.partition("/")
    try:
        limit, seconds = int(count), float(window)
    except ValueError:
        raise SettingsError(f"{name} must look like '5/10' (count/seconds), got {raw!r}") from None
    if limit < 1 or not 0 < seconds < float("inf"):
        raise SettingsError(f"{name} must be positive, got {raw!r}")
    return Rate(limit, seconds)


def _rates(env: Env, name: str, default: tuple[Rate, ...]) -> tuple[Rate, ...]:
    """Parse a comma list of "<count>/<seconds>" windows, e.g. "10/60,20/600"."""
    if not env.raw(name):
        return default
    return tuple(_parse_rate(name, item) for item in env.items(name))


def _trusted_proxies(env: Env) -> tuple[IPNetwork, ...]:
    networks = []
    for item in env.items("WEBCHAT_TRUSTED_PROXIES"):
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise SettingsError(
                "WEBCHAT_TRUSTED_PROXIES must be a comma list of IP addresses or networks "
                f"like 10.0.0.0/8, got {item!r}"
            ) from None
    return tuple(networks)


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
    conversation = _rate(read, "WEBCHAT_RATE_LIMIT", Rate(5, 10.0))
    defaults = WebchatSettings(secret=secret)
    prefix = read.text("WEBCHAT_REDIS_PREFIX", defaults.redis_prefix)
    if not all(c.isalnum() or c in "-_:." for c in prefix):
        raise SettingsError(
            f"WEBCHAT_REDIS_PREFIX may hold letters, digits and -_:. only, got {prefix!r}"
        )
    return WebchatSettings(
        secret=secret,
        app_env=read.app_env,
        allowed_origins=_origins(read),
        max_message_chars=read.whole("WEBCHAT_MAX_MESSAGE_CHARS", 2000, minimum=1),
        rate_limit_messages=conversation.limit,
        rate_limit_window_seconds=conversation.seconds,
        redis_url=read.url("WEBCHAT_REDIS_URL", None, schemes=("redis", "rediss", "unix")),
        socket_rate_limit=_rates(read, "WEBCHAT_SOCKET_RATE_LIMIT", defaults.socket_rate_limit),
        address_rate_limit=_rates(read, "WEBCHAT_ADDRESS_RATE_LIMIT", defaults.address_rate_limit),
        socket_session_limit=_rates(
            read, "WEBCHAT_SOCKET_SESSION_LIMIT", defaults.socket_session_limit
        ),
        address_session_limit=_rates(
            read, "WEBCHAT_ADDRESS_SESSION_LIMIT", defaults.address_session_limit
        ),
        trusted_proxies=_trusted_proxies(read),
        redis_prefix=prefix,
        session_max_age_days=read.number(
            "WEBCHAT_SESSION_MAX_AGE_DAYS", defaults.session_max_age_days
        ),
        max_request_bytes=read.whole(
            "WEBCHAT_MAX_REQUEST_KB", defaults.max_request_bytes // 1024, minimum=1
        )
        * 1024,
    )
