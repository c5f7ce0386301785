"""Transcript download and conversation delete, against a running Rasa server.

The rows must really be gone from the SQL tracker store (SQLite here, PostgreSQL in the
`postgres` tests), together with the agent desk's rows, in one transaction.
"""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from devkit.waiting import eventually
from tests.channels.conftest import ALLOWED_ORIGIN
from tests.channels.fake_extension import FAIL_DELETE_TEXT, TABLE
from tests.support.chat import ChatClient

pytestmark = pytest.mark.e2e

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00$")


def conversation_url(base_url: str, conversation_id: str, suffix: str = "") -> str:
    return f"{base_url}/webhooks/webchat/conversations/{conversation_id}{suffix}"


def event_count(engine: sa.engine.Engine, conversation_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": conversation_id}
            ).scalar_one()
        )


def agent_rows(engine: sa.engine.Engine, conversation_id: str) -> int:
    with engine.connect() as connection:
        return int(
            connection.execute(
                sa.text(f"SELECT COUNT(*) FROM {TABLE} WHERE conversation_id = :s"),
                {"s": conversation_id},
            ).scalar_one()
        )


def settle(engine: sa.engine.Engine, conversation_id: str, quiet: float = 1.5) -> int:
    """The event count once Rasa has stopped writing (it saves after sending replies)."""
    changes: list[tuple[int, float]] = []  # (count, when it was first seen)

    def count_and_age() -> tuple[int, float]:
        count, now = event_count(engine, conversation_id), time.monotonic()
        if not changes or changes[-1][0] != count:
            changes.append((count, now))
        return count, now - changes[-1][1]

    count, _ = eventually(
        count_and_age,
        until=lambda seen: seen[0] > 0 and seen[1] >= quiet,
        timeout=30,
        what=f"a settled event count of {conversation_id} (count, seconds unchanged)",
    )
    return count


def chat_a_little(
    base_url: str, engine: sa.engine.Engine, *texts: str
) -> tuple[ChatClient, dict[str, Any]]:
    """A conversation with the intro and a bot reply per text; the client stays open."""
    chat = ChatClient(base_url).connect()
    session = chat.request_session()
    chat.say("/session_start")
    chat.wait_for_bot()
    for text in texts:
        chat.say(text)
        chat.wait_for_bot()
        settle(engine, session["session_id"])
    settle(engine, session["session_id"])
    return chat, session


@pytest.fixture
def conversation(rasa_url: str, sqlite_engine: sa.engine.Engine) -> Any:
    chat, session = chat_a_little(rasa_url, sqlite_engine, "hi", "<b>bold</b> & more")
    yield chat, session
    chat.close()


def test_json_transcript_has_messages_with_times_and_nothing_internal(
    rasa_url: str, conversation: Any
) -> None:
    chat, session = conversation
    reply = requests.get(
        conversation_url(rasa_url, session["session_id"], "/transcript?format=json"),
        headers=chat.auth,
        timeout=10,
    )
    assert reply.status_code == 200
    assert reply.headers["Cache-Control"] == "no-store"
    body = reply.json()
    assert body["conversation_id"] == session["session_id"]
    messages = body["messages"]
    senders = [m["sender"] for m in messages]
    assert senders[0] == "bot"  # the introduction
    assert [m["text"] for m in messages if m["sender"] == "shopper"] == [
        "hi",
        "<b>bold</b> & more",
    ]
    assert senders.count("bot") >= 3
    for message in messages:
        assert set(message) == {"sender", "text", "timestamp"}
        assert ISO_UTC.match(message["timestamp"]), message
        assert not message["text"].startswith("/")
    assert "session_start" not in reply.text
    assert "slot" not in reply.text
    assert "action_" not in reply.text


def test_text_transcript_is_readable(rasa_url: str, conversation: Any) -> None:
    chat, session = conversation
    reply = requests.get(
        conversation_url(rasa_url, session["session_id"], "/transcript?format=txt"),
        headers=chat.auth,
        timeout=10,
    )
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("text/plain")
    assert "attachment" in reply.headers["Content-Disposition"]
    lines = reply.text.splitlines()
    assert lines[0] == "Chat transcript"
    assert any(re.match(r"^\[\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\] You: hi$", line) for line in lines)
    assert any("] Assistant (bot): " in line for line in lines)
    assert "/session_start" not in reply.text


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ({}, 401),
        ({"Authorization": "Basic abc"}, 401),
        ({"Authorization": "Bearer "}, 401),
        ({"Authorization": "Bearer not-the-token"}, 403),
    ],
)
def test_transcript_and_delete_refuse_without_the_right_token(
    rasa_url: str, sqlite_engine: sa.engine.Engine, conversation: Any, headers: Any, status: int
) -> None:
    _, session = conversation
    cid = session["session_id"]
    before = event_count(sqlite_engine, cid)
    got = requests.get(conversation_url(rasa_url, cid, "/transcript"), headers=headers, timeout=10)
    assert got.status_code == status
    assert "hi" not in got.text.replace("\n", " ").split('"')
    assert "messages" not in got.text
    deleted = requests.delete(conversation_url(rasa_url, cid), headers=headers, timeout=10)
    assert deleted.status_code == status
    assert event_count(sqlite_engine, cid) == before > 0


def test_another_conversations_token_is_refused(rasa_url: str, conversation: Any) -> None:
    _, session = conversation
    with ChatClient(rasa_url) as other:
        other.request_session()
        got = requests.get(
            conversation_url(rasa_url, session["session_id"], "/transcript"),
            headers=other.auth,
            timeout=10,
        )
        assert got.status_code == 403
        deleted = requests.delete(
            conversation_url(rasa_url, session["session_id"]), headers=other.auth, timeout=10
        )
        assert deleted.status_code == 403


def test_bad_format_is_rejected(rasa_url: str, conversation: Any) -> None:
    chat, session = conversation
    got = requests.get(
        conversation_url(rasa_url, session["session_id"], "/transcript?format=html"),
        headers=chat.auth,
        timeout=10,
    )
    assert got.status_code == 400


def test_delete_removes_every_row_and_the_agent_rows(
    rasa_url: str, sqlite_engine: sa.engine.Engine, conversation: Any
) -> None:
    chat, session = conversation
    cid = session["session_id"]
    requests.post(
        f"{rasa_url}/webhooks/webchat/agent/say/{cid}",
        json={"text": "Sam here", "agent_name": "Sam"},
        timeout=10,
    ).raise_for_status()
    events = event_count(sqlite_engine, cid)
    assert events > 0
    assert agent_rows(sqlite_engine, cid) == 1

    reply = requests.delete(conversation_url(rasa_url, cid), headers=chat.auth, timeout=10)
    assert reply.status_code == 200
    assert reply.json() == {
        "conversation_id": cid,
        "deleted": {"events": events, "agent_messages": 1},
    }
    assert chat.wait_for("conversation_deleted") == {"conversation_id": cid}
    assert event_count(sqlite_engine, cid) == 0
    assert agent_rows(sqlite_engine, cid) == 0

    # The deleted conversation's token no longer opens anything (issue 11, point 7).
    transcript = requests.get(
        conversation_url(rasa_url, cid, "/transcript"), headers=chat.auth, timeout=10
    )
    assert transcript.status_code == 403


def test_delete_is_one_transaction(rasa_url: str, sqlite_engine: sa.engine.Engine) -> None:
    """If the extension fails inside the transaction, the tracker events stay too."""
    chat, session = chat_a_little(rasa_url, sqlite_engine, FAIL_DELETE_TEXT)
    try:
        cid = session["session_id"]
        events = event_count(sqlite_engine, cid)
        reply = requests.delete(conversation_url(rasa_url, cid), headers=chat.auth, timeout=10)
        assert reply.status_code == 500
        assert event_count(sqlite_engine, cid) == events > 0
    finally:
        chat.close()


def test_cors_preflight_allows_only_configured_origins(rasa_url: str) -> None:
    url = conversation_url(rasa_url, "0" * 32)
    request_headers = {
        "Access-Control-Request-Method": "DELETE",
        "Access-Control-Request-Headers": "authorization",
    }
    allowed = requests.options(
        url, headers={**request_headers, "Origin": ALLOWED_ORIGIN}, timeout=10
    )
    assert allowed.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    assert "DELETE" in allowed.headers.get("Access-Control-Allow-Methods", "")
    assert "authorization" in allowed.headers.get("Access-Control-Allow-Headers", "").lower()
    foreign = requests.options(
        url, headers={**request_headers, "Origin": "https://evil.example"}, timeout=10
    )
    assert "Access-Control-Allow-Origin" not in foreign.headers


@pytest.mark.postgres
def test_postgres_transcript_and_delete(pg_rasa: dict[str, Any]) -> None:
    base_url, engine = pg_rasa["url"], pg_rasa["engine"]
    chat, session = chat_a_little(base_url, engine, "hi")
    try:
        cid = session["session_id"]
        requests.post(
            f"{base_url}/webhooks/webchat/agent/say/{cid}",
            json={"text": "Sam here", "agent_name": "Sam"},
            timeout=10,
        ).raise_for_status()
        transcript = requests.get(
            conversation_url(base_url, cid, "/transcript"), headers=chat.auth, timeout=10
        ).json()["messages"]
        assert [m["text"] for m in transcript if m["sender"] == "shopper"] == ["hi"]
        assert transcript[-1] == {**transcript[-1], "sender": "agent", "name": "Sam"}
        events = event_count(engine, cid)
        assert events > 0

        refused = requests.delete(
            conversation_url(base_url, cid), headers={"Authorization": "Bearer x"}, timeout=10
        )
        assert refused.status_code == 403
        assert event_count(engine, cid) == events

        reply = requests.delete(conversation_url(base_url, cid), headers=chat.auth, timeout=10)
        assert reply.json()["deleted"] == {"events": events, "agent_messages": 1}
        assert event_count(engine, cid) == 0
        assert agent_rows(engine, cid) == 0
    finally:
        chat.close()
