"""WEBCHAT_REDIS_URL: the socket.io Redis client manager that lets several workers share
rooms, and the budgets and offered buttons that every worker must see alike."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from socketio import AsyncRedisManager

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from channels.limits import RedisBudgets, RedisButtons  # noqa: E402
from channels.settings import Rate, SettingsError, load_settings  # noqa: E402
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


# --- budgets and offered buttons in Redis -------------------------------------------------

REDIS_URL = "redis://127.0.0.1:6379/0"


@pytest.fixture
def redis_prefix() -> Iterator[str]:
    import os
    import uuid

    import redis

    url = os.environ.get("TEST_REDIS_URL", REDIS_URL)
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        from tests.support.databases import unreachable

        unreachable(f"Redis at {url}", error)
    prefix = f"budgetunit{uuid.uuid4().hex[:10]}"
    yield prefix
    for key in client.scan_iter(f"{prefix}:*"):
        assert client.pttl(key) > 0  # every key expires
        client.delete(key)
    client.close()


def test_two_workers_share_one_budget_and_never_both_take_the_last_place(
    redis_prefix: str,
) -> None:
    """Two RedisBudgets stand for two workers; 40 takes race for 10 places."""
    clock = [1_800_000_000.0]
    rate = Rate(10, 60.0)

    async def scenario() -> tuple[list[float], float, float]:
        workers = [RedisBudgets(REDIS_URL, redis_prefix, clock=lambda: clock[0]) for _ in "ab"]
        try:
            results = await asyncio.gather(
                *(workers[n % 2].take([("addr:x", rate)]) for n in range(40))
            )
            clock[0] += 30
            later = await workers[0].take([("addr:x", rate)])
            clock[0] += 31
            freed = await workers[1].take([("addr:x", rate)])
        finally:
            for worker in workers:
                await worker.close()
        return list(results), later, freed

    results, later, freed = asyncio.run(scenario())
    assert results.count(0.0) == 10
    assert all(29 < wait <= 60 for wait in results if wait)
    assert 29 < later <= 30  # the oldest place frees 60 s after it was taken
    assert freed == 0.0


def test_buttons_offered_through_one_worker_are_known_to_another(redis_prefix: str) -> None:
    async def scenario() -> tuple[bool, bool, bool]:
        one, other = (RedisBudgets(REDIS_URL, redis_prefix) for _ in "ab")
        try:
            await RedisButtons(one, redis_prefix).remember("c1", ["/affirm", "/deny"])
            seen = RedisButtons(other, redis_prefix)
            return (
                await seen.offered("c1", "/deny"),
                await seen.offered("c1", "/human_handoff"),
                await seen.offered("c2", "/deny"),
            )
        finally:
            await one.close()
            await other.close()

    assert asyncio.run(scenario()) == (True, False, False)


def test_unreachable_redis_lets_messages_through() -> None:
    async def scenario() -> float:
        budgets = RedisBudgets("redis://127.0.0.1:1/0", "unreachable")
        try:
            return await budgets.take([("addr:x", Rate(1, 60.0))])
        finally:
            await budgets.close()

    assert asyncio.run(scenario()) == 0.0
