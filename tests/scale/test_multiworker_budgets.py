"""The web chat's budgets and offered buttons hold across two Sanic workers (issue 11).

Kept in memory per worker, every budget would be as many times looser as there are
workers, and a button offered by the worker that ran the bot's turn would be unknown to
a worker holding another tab of the same conversation. With WEBCHAT_REDIS_URL they live
in Redis. This stack runs the production defaults of every budget (bench/stack.py lifts
them for measurements) and trusts 127.0.0.1 as a proxy, so that each test speaks from
its own X-Forwarded-For address and starts with the address budgets untouched.

Needs PostgreSQL (TEST_POSTGRES_URL) and Redis (TEST_REDIS_URL): skipped when either is
unreachable, except in CI (env CI set), where that fails instead.
"""

from __future__ import annotations

import json
import os
import random
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
import socketio
import sqlalchemy as sa

from devkit.servers import find_model
from devkit.stack import Stack, redis_settings, running_stack
from tests.support.chat import ChatClient
from tests.support.databases import throwaway_postgres, unreachable

pytestmark = [pytest.mark.e2e, pytest.mark.postgres, pytest.mark.redis]

DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# The production defaults (channels/settings.py), spelled out: bench/stack.py lifts them.
BUDGETS = {
    "WEBCHAT_RATE_LIMIT": "5/10",
    "WEBCHAT_SOCKET_RATE_LIMIT": "10/10",
    "WEBCHAT_ADDRESS_RATE_LIMIT": "60/60",
    "WEBCHAT_SOCKET_SESSION_LIMIT": "3/60",
    "WEBCHAT_ADDRESS_SESSION_LIMIT": "10/60,20/600",
}


class Client(ChatClient):
    """A shopper behind the trusted proxy, on a WebSocket (which stays on one worker)."""

    def __init__(self, base_url: str, address: str) -> None:
        super().__init__(base_url)
        self.address = address
        # websocket-client sends an Origin of its own unless told which: the development
        # default of WEBCHAT_ALLOWED_ORIGINS.
        self.sio = socketio.Client(
            reconnection=False, websocket_extra_options={"origin": "http://localhost:8080"}
        )
        self.sio.on("*", self._record)

    def connect(self) -> Client:
        if self.sio.connected:  # `with` on a client that on_two_workers connected
            return self
        self.sio.connect(
            self.base_url,
            headers={"X-Forwarded-For": self.address},
            transports=["websocket"],
            wait_timeout=10,
        )
        return self

    def worker(self) -> int:
        self.sio.emit("probe_whoami", {})
        return int(self.wait_for("probe_pid", timeout=30)["pid"])


def new_address() -> str:
    return f"198.18.{random.randrange(256)}.{random.randrange(1, 255)}"


@pytest.fixture(scope="module")
def redis_env() -> Iterator[dict[str, str]]:
    url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    client = redis.Redis.from_url(url, socket_timeout=5)
    try:
        client.ping()
    except redis.RedisError as error:
        unreachable(f"Redis at {url}", error)
    prefix = f"budgettest{uuid.uuid4().hex[:10]}"
    yield {**redis_settings(url, prefix), "WEBCHAT_REDIS_PREFIX": prefix}
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()


@pytest.fixture(scope="module")
def stack(redis_env: dict[str, str]) -> Iterator[Stack]:
    with throwaway_postgres("budget_test") as database_url:
        settings = {
            **redis_env,
            **BUDGETS,
            "DATABASE_URL": database_url,
            "SANIC_WORKERS": "2",
            "WEBCHAT_TRUSTED_PROXIES": "127.0.0.1",
        }
        extensions = ("handover.desk:AgentDesk", "tests.scale.probe:WorkerProbe")
        with running_stack(Path(find_model()), settings, extensions) as running:
            yield running


def on_two_workers(url: str, address: str) -> tuple[Client, Client]:
    """Two connected clients held by different workers.

    Which worker accepts a connection is up to the kernel; while the first client's
    worker is held busy, only the other one can accept the second.
    """
    first = Client(url, address).connect()
    first_pid = first.worker()
    for _ in range(5):
        first.sio.emit("probe_hold", {"seconds": 2.0})
        time.sleep(0.3)
        second = Client(url, address).connect()
        if second.worker() != first_pid:
            return first, second
        second.close()
        time.sleep(2.0)
    first.close()
    raise AssertionError("every connection went to the same worker")


def user_texts(database_url: str, conversation_ids: list[str] | None) -> list[str]:
    """Shopper texts of these conversations (None: of every conversation), oldest first."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, data FROM events WHERE type_name = 'user' ORDER BY id")
            ).fetchall()
    finally:
        engine.dispose()
    return [
        json.loads(data)["text"]
        for sid, data in rows
        if conversation_ids is None or sid in conversation_ids
    ]


def settled_texts(
    database_url: str, conversation_ids: list[str] | None, expect: int | None = None
) -> list[str]:
    """The stored shopper texts once 4 s pass without a new one (and `expect` are in).

    Turns of one conversation wait for each other's lock, so on a busy machine the
    last one may be stored many seconds after it was accepted.
    """
    texts: list[str] = []
    quiet_since, deadline = time.monotonic(), time.monotonic() + 60
    while time.monotonic() < deadline and (
        time.monotonic() - quiet_since < 4.0 or (expect is not None and len(texts) < expect)
    ):
        now = user_texts(database_url, conversation_ids)
        if now != texts:
            texts, quiet_since = now, time.monotonic()
        time.sleep(0.3)
    return texts


def test_one_conversations_budget_is_shared_by_both_workers(stack: Stack) -> None:
    first, second = on_two_workers(stack.url, new_address())
    with first, second:
        session = first.request_session()
        assert second.request_session(session["session_id"], session["session_token"])["resumed"]
        for n in range(4):
            first.sio.emit("user_uttered", {"message": f"first tab {n}"})
            second.sio.emit("user_uttered", {"message": f"second tab {n}"})
        refused = [
            data
            for chat in (first, second)
            for name, data in chat.drain(6.0)
            if name == "bot_uttered" and data.get("notice") == "too_fast"
        ]
    assert len(refused) == 3, refused  # WEBCHAT_RATE_LIMIT 5/10 for the conversation
    through = settled_texts(stack.env["DATABASE_URL"], [session["session_id"]], expect=5)
    # Not `== 5`: now and then one of two turns that reach two workers at the same instant
    # is not stored. That is Rasa's ticket lock (issue_ticket reads, changes and writes the
    # lock in Redis without a transaction), not the budget; see the report on issue 11.
    assert 4 <= len(through) <= 5, through


def test_new_sessions_per_address_are_counted_across_workers(stack: Stack) -> None:
    address = new_address()
    clients: list[Client] = []
    try:
        for _ in range(6):
            clients.extend(on_two_workers(stack.url, address))
        assert len({c.worker() for c in clients}) == 2
        for client in clients:
            client.sio.emit("session_request", {})
        time.sleep(3.0)
        outcomes = []
        for client in clients:
            events = client.drain(0.2)
            names = [
                "confirmed" if name == "session_confirm" else data.get("notice")
                for name, data in events
                if name == "session_confirm" or (name == "bot_uttered" and data.get("notice"))
            ]
            outcomes.extend(names)
    finally:
        for client in clients:
            client.close()
    # WEBCHAT_ADDRESS_SESSION_LIMIT: 10 a minute, whichever worker is asked.
    assert outcomes.count("confirmed") == 10, outcomes
    assert outcomes.count("too_many_sessions") == 2, outcomes


def test_a_session_per_message_gets_at_most_15_of_30_through(stack: Stack) -> None:
    with Client(stack.url, new_address()) as chat:
        for n in range(30):
            chat.sio.emit("session_request", {})
            chat.sio.emit("user_uttered", {"message": f"flood {n}"})
            time.sleep(4.5 / 30)
        events = chat.drain(8.0)
    sessions = [data["session_id"] for name, data in events if name == "session_confirm"]
    through = settled_texts(stack.env["DATABASE_URL"], sessions)
    assert len(through) <= 15, through


def test_a_new_connection_and_session_per_message_gets_at_most_15_of_30_through(
    stack: Stack,
) -> None:
    """The same flood from one address, each message on a connection of its own."""
    marker = uuid.uuid4().hex[:8]
    address, started = new_address(), time.monotonic()
    for n in range(30):
        with Client(stack.url, address) as chat:
            chat.sio.emit("session_request", {})
            chat.sio.emit("user_uttered", {"message": f"own socket {marker} {n}"})
            chat.drain(0.3)  # long enough for the server to take both
    assert time.monotonic() - started < 45  # connecting takes time; the budget does not care
    stored = settled_texts(stack.env["DATABASE_URL"], None)
    through = [t for t in stored if marker in t]
    assert 1 <= len(through) <= 15, through


def test_a_button_offered_on_one_worker_is_accepted_on_the_other(stack: Stack) -> None:
    first, second = on_two_workers(stack.url, new_address())
    with first, second:
        session = first.request_session()
        second.request_session(session["session_id"], session["session_token"])
        first.say("how can I contact you?")
        offer = first.wait_for_bot(lambda d: bool(d.get("quick_replies")))
        assert "/deny" in [b["payload"] for b in offer["quick_replies"]]
        second.say("/deny")  # pressed in the tab held by the other worker
        second.drain(3.0)  # stay connected while it is answered
    texts = settled_texts(stack.env["DATABASE_URL"], [session["session_id"]])
    assert texts == ["how can I contact you?", "/deny"]  # not "deny": taken as the intent
