"""Two Sanic workers on PostgreSQL + Redis: nothing lost, nothing doubled, emits cross workers.

One stack per module (Rasa start-up is the expensive part): reference service, action
server and `rasa run` with SANIC_WORKERS=2 on the repository's endpoints.yml, switched by
environment variables alone to a throw-away PostgreSQL database and the Redis lock
store (own key prefix), with the web chat's socket.io Redis client manager.

Needs PostgreSQL (TEST_POSTGRES_URL) and Redis (TEST_REDIS_URL): skipped when either is
unreachable, except in CI (env CI set), where that fails instead.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import time
import urllib.request
import uuid
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
import sqlalchemy as sa

from devkit.servers import find_model
from devkit.shopper import Options, Shopper, think
from devkit.stack import Stack, redis_settings, running_stack
from devkit.waiting import eventually_async
from tests.support.databases import postgres_database, unreachable

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
CONVERSATIONS = 200
SCRIPT = ("hello", "which payment options do you have")
# 200 conversations open at the same time, shoppers starting within RAMP seconds and
# thinking about 15 s (7.5-22.5 s) before each message: about 6 messages/s on average,
# what two workers on two shared cores can answer. Offered all at once, hundreds of
# messages queue on each worker's event loop (Rasa 3.6 predicts synchronously), engine.io
# pings wait behind them and connections drop after 45 s: an overload test, not this one.
RAMP = 30.0
# A turn ends after `quiet` seconds without a bot message. Under load the introduction and
# the answer to the first message can be more than a second apart (each is its own action
# call); 2 s keeps a slow second message in its own turn instead of counting it missing.
OPTIONS = Options(think=15.0, quiet=2.0, timeout=90.0, intro=False)


@pytest.fixture(scope="module")
def database_url() -> Iterator[str]:
    with postgres_database("scale_test") as url:
        yield url


@pytest.fixture(scope="module")
def redis_env() -> Iterator[dict[str, str]]:
    """Lock store and socket.io manager settings on TEST_REDIS_URL, with our own key prefix."""
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        unreachable(f"Redis at {url}", error)
    prefix = f"scaletest{uuid.uuid4().hex[:10]}"
    yield redis_settings(url, prefix)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def stack(database_url: str, redis_env: dict[str, str]) -> Iterator[Stack]:
    settings = {
        **redis_env,
        "DATABASE_URL": database_url,
        "SANIC_WORKERS": "2",
        "SANIC_BACKLOG": "1024",
    }
    extensions = ("handover.desk:AgentDesk", "tests.scale.probe:WorkerProbe")
    with running_stack(Path(find_model()), settings, extensions) as running:
        yield running


async def _converse(
    url: str, ramp: float = 0.0, options: Options = OPTIONS
) -> tuple[str, list[int], int, list[str]]:
    """One conversation: (session id, bot messages per turn, late extras, outcomes)."""
    rng = random.Random()
    await asyncio.sleep(rng.uniform(0, ramp))
    shopper = Shopper(url, options)
    try:
        session_id = await shopper.open()
        counts, outcomes = [], []
        for text in SCRIPT:
            await think(rng, options.think)
            outcome, _ms, got = await shopper.turn(text, None)
            counts.append(len(got))
            outcomes.append(outcome)
        await asyncio.sleep(2.0)  # a duplicate would arrive late: give it the chance
        return session_id, counts, shopper.replies.qsize(), outcomes
    finally:
        await shopper.close()


def _user_events(database_url: str, sender_ids: list[str]) -> dict[str, list[str]]:
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user'")
            ).fetchall()
    finally:
        engine.dispose()
    texts: dict[str, list[str]] = {s: [] for s in sender_ids}
    for sender_id, data in rows:
        texts.setdefault(sender_id, []).append(json.loads(data).get("text"))
    return texts


def test_every_message_answered_once_and_stored_once(stack: Stack) -> None:
    # One conversation alone first: how many bot messages each turn gives when nothing
    # competes. Under load every conversation must get exactly as many.
    alone = Options(think=0.0, quiet=OPTIONS.quiet, timeout=OPTIONS.timeout, intro=False)
    _, baseline, _, outcomes = asyncio.run(_converse(stack.url, 0.0, alone))
    assert outcomes == ["ok"] * len(SCRIPT)
    assert all(n >= 1 for n in baseline)

    async def all_conversations() -> list[tuple[str, list[int], int, list[str]]]:
        return await asyncio.gather(*(_converse(stack.url, RAMP) for _ in range(CONVERSATIONS)))

    started = time.monotonic()
    results = asyncio.run(all_conversations())
    seconds = time.monotonic() - started
    print(
        f"\n{CONVERSATIONS} conversations x {len(SCRIPT)} messages on 2 workers: "
        f"{seconds:.1f} s, {CONVERSATIONS * len(SCRIPT) / seconds:.1f} messages/s"
    )

    sender_ids = [r[0] for r in results]
    assert len(set(sender_ids)) == CONVERSATIONS
    outcomes_seen = Counter(o for r in results for o in r[3])
    assert outcomes_seen == {"ok": CONVERSATIONS * len(SCRIPT)}, outcomes_seen
    wrong = [(sid, counts, late) for sid, counts, late, _ in results
             if counts != baseline or late]  # fmt: skip
    assert not wrong, f"replies per turn differ from {baseline} (or arrived late): {wrong[:5]}"

    stored = _user_events(stack.env["DATABASE_URL"], sender_ids)
    for sender_id in sender_ids:
        assert sorted(stored[sender_id]) == sorted(SCRIPT), (sender_id, stored[sender_id])


def test_emit_from_one_worker_reaches_a_client_on_the_other(stack: Stack) -> None:
    async def scenario() -> None:
        shopper = Shopper(stack.url, Options(timeout=30.0))
        answer: asyncio.Future[Any] = asyncio.get_running_loop().create_future()

        def on_pid(data: Any) -> None:
            if not answer.done():
                answer.set_result(data)

        shopper.sio.on("probe_pid", on_pid)
        pings: list[Any] = []
        shopper.sio.on("probe_ping", pings.append)
        try:
            await shopper.open()
            await shopper.sio.emit("probe_whoami", {})
            target_pid = int((await asyncio.wait_for(answer, 30))["pid"])
            # While the shopper's worker is held, only the other one can accept the emit
            # request. Right after start-up the other one may still be busy finishing its
            # own start, so a request can wait for the held worker: then hold again.
            nonce = uuid.uuid4().hex
            for _ in range(5):
                await shopper.sio.emit("probe_hold", {"seconds": 3.0})
                await asyncio.sleep(0.5)  # the event has reached the worker, which now sleeps
                emitter = await asyncio.to_thread(_post_emit, stack.url, shopper.session_id,
                                                  nonce)  # fmt: skip
                if emitter != target_pid:
                    break
            assert emitter != target_pid, "every emit was served by the shopper's own worker"
            expected = {"from_pid": emitter, "nonce": nonce}
            await eventually_async(
                lambda: pings,
                until=lambda got: expected in got,
                timeout=15,
                what=f"the ping {expected} from the other worker",
            )
        finally:
            await shopper.close()

    asyncio.run(scenario())


def _post_emit(url: str, conversation_id: str, nonce: str) -> int:
    request = urllib.request.Request(  # noqa: S310 - local http only
        f"{url}/webhooks/webchat/probe/emit/{conversation_id}",
        data=json.dumps({"nonce": nonce}).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as reply:  # noqa: S310 - local http
        return int(json.loads(reply.read())["pid"])
