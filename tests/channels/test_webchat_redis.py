"""WEBCHAT_REDIS_URL: the socket.io Redis client manager that lets several workers share rooms."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest
from socketio import AsyncRedisManager

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from channels.settings import SettingsError, load_settings  # noqa: E402
from channels.webchat import WebchatInput  # noqa: E402

DEV = {"APP_ENV": "development"}


async def _ignore(_message: Any) -> None:
    return None


def test_without_redis_url_one_process_keeps_its_own_rooms() -> None:
    settings = load_settings(DEV)
    assert settings.redis_url is None
    channel = WebchatInput(settings)
    channel.blueprint(_ignore)
    assert channel.sio is not None
    assert not isinstance(channel.sio.manager, AsyncRedisManager)


@pytest.mark.parametrize("url", ["redis://127.0.0.1:6379/0", "rediss://:pw@redis.internal:6380/2"])
def test_redis_url_selects_the_redis_manager(url: str) -> None:
    settings = load_settings({**DEV, "WEBCHAT_REDIS_URL": url})
    assert settings.redis_url == url
    channel = WebchatInput(settings)
    channel.blueprint(_ignore)  # builds the client; nothing connects before the first emit
    assert channel.sio is not None
    assert isinstance(channel.sio.manager, AsyncRedisManager)
    assert channel.sio.manager.redis_url == url


@pytest.mark.parametrize("url", ["http://127.0.0.1:6379", "127.0.0.1:6379", "redis://"])
def test_a_bad_redis_url_refuses_to_start(url: str) -> None:
    with pytest.raises(SettingsError, match="WEBCHAT_REDIS_URL"):
        load_settings({**DEV, "WEBCHAT_REDIS_URL": url})


def test_the_error_does_not_echo_a_password() -> None:
    with pytest.raises(SettingsError) as caught:
        load_settings({**DEV, "WEBCHAT_REDIS_URL": "http://user:hunter2@host:6379"})
    assert "hunter2" not in str(caught.value)
