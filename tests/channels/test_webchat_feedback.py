"""Feedback route: every status code, against a running Rasa server and its SQLite store.

A shopper rates a conversation and votes on an answer by the `message_id` the widget got
with it; the feedback is an event of the conversation, so the transcript shows it.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from tests.channels.conftest import ALLOWED_ORIGIN
from tests.channels.test_webchat_transcript import chat_a_little, conversation_url
from tests.support.chat import ChatClient

pytestmark = pytest.mark.e2e


def post(base_url: str, conversation_id: str, body: Any, headers: dict[str, str]) -> Any:
    data = body if isinstance(body, str) else json.dumps(body)
    return requests.post(
        conversation_url(base_url, conversation_id, "/feedback"),
        data=data,
        headers={"Content-Type": "application/json", **headers},
        timeout=10,
    )


def transcript(base_url: str, chat: ChatClient, conversation_id: str) -> list[dict[str, Any]]:
    reply = requests.get(
        conversation_url(base_url, conversation_id, "/transcript"), headers=chat.auth, timeout=10
    )
    assert reply.status_code == 200
    return list(reply.json()["messages"])


def feedback_rows(engine: sa.engine.Engine, conversation_id: str) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'agent'"),
            {"s": conversation_id},
        )
        return [json.loads(data)["data"] for (data,) in rows]


@pytest.fixture
def chat(rasa_url: str, sqlite_engine: sa.engine.Engine) -> Any:
    client, session = chat_a_little(rasa_url, sqlite_engine, "hi")
    yield client, session
    client.close()


def bot_ids(chat: ChatClient) -> list[str]:
    chat.drain(0.3)
    return [data["message_id"] for event, data in chat.seen if event == "bot_uttered"]


def test_every_bot_answer_has_the_message_id_the_transcript_shows(rasa_url: str, chat: Any) -> None:
    client, session = chat
    ids = bot_ids(client)
    assert ids and all(i.startswith("m-") for i in ids)
    shown = [
        m["message_id"]
        for m in transcript(rasa_url, client, session["session_id"])
        if m["sender"] == "bot"
    ]
    assert shown == ids


def test_a_rating_and_a_changed_vote_are_stored_and_shown(
    rasa_url: str, sqlite_engine: sa.engine.Engine, chat: Any
) -> None:
    client, session = chat
    cid = session["session_id"]
    answer = bot_ids(client)[-1]
    reply = post(rasa_url, cid, {"message_id": answer, "helpful": False}, client.auth)
    assert reply.status_code == 200, reply.text
    assert reply.json()["stored"]["helpful"] is False
    assert reply.json()["stored"]["response"].startswith("utter_")
    reply = post(rasa_url, cid, {"message_id": answer, "helpful": True}, client.auth)
    assert reply.status_code == 200
    reply = post(rasa_url, cid, {"rating": 4, "comment": "quick, thanks"}, client.auth)
    assert reply.status_code == 200
    stored = feedback_rows(sqlite_engine, cid)
    assert [row["feedback"] for row in stored] == ["vote", "vote", "rating"]
    lines = [m for m in transcript(rasa_url, client, cid) if "feedback" in m]
    assert [m["feedback"] for m in lines] == [
        {"message_id": answer, "helpful": False},
        {"message_id": answer, "helpful": True},
        {"rating": 4, "comment": "quick, thanks"},
    ]
    assert lines[-1]["text"] == "Rated the conversation 4 of 5: quick, thanks"
    # The bot still answers after feedback: it changed nothing the policies see.
    client.say("what are your opening hours")
    client.wait_for_bot()


@pytest.mark.parametrize(
    "body",
    [
        {"rating": 9},
        {"rating": 0},
        {"rating": 4.5},
        {"rating": "5"},
        {"rating": True},
        {"rating": 3, "comment": "x" * 1001},
        {"rating": 3, "comment": 7},
        {"rating": 3, "extra": 1},
        {"message_id": "m-unknown", "helpful": "yes"},
        {"message_id": 5, "helpful": True},
        {"message_id": "m-1", "helpful": True, "rating": 3},
        {},
        [],
        "not json",
    ],
)
def test_anything_else_is_refused_with_400(rasa_url: str, chat: Any, body: Any) -> None:
    client, session = chat
    reply = post(rasa_url, session["session_id"], body, client.auth)
    assert reply.status_code == 400
    assert reply.json()["error"]


def test_a_vote_on_an_unknown_message_is_400_and_stores_nothing(
    rasa_url: str, sqlite_engine: sa.engine.Engine, chat: Any
) -> None:
    client, session = chat
    cid = session["session_id"]
    reply = post(
        rasa_url, cid, {"message_id": "m-00000000000000000000", "helpful": True}, client.auth
    )
    assert reply.status_code == 400
    assert "message_id" in reply.json()["error"]
    assert feedback_rows(sqlite_engine, cid) == []


def test_a_comment_of_1000_characters_is_accepted(rasa_url: str, chat: Any) -> None:
    client, session = chat
    reply = post(rasa_url, session["session_id"], {"rating": 2, "comment": "y" * 1000}, client.auth)
    assert reply.status_code == 200


def test_without_a_token_401_and_with_another_conversations_token_403(
    rasa_url: str, sqlite_engine: sa.engine.Engine, chat: Any
) -> None:
    _client, session = chat
    cid = session["session_id"]
    assert post(rasa_url, cid, {"rating": 5}, {}).status_code == 401
    assert post(rasa_url, cid, {"rating": 5}, {"Authorization": "Basic abc"}).status_code == 401
    with ChatClient(rasa_url) as other:
        other.request_session()
        reply = post(rasa_url, cid, {"rating": 1}, other.auth)
    assert reply.status_code == 403
    assert feedback_rows(sqlite_engine, cid) == []


def test_feedback_is_rate_limited_like_messages(rasa_url: str, chat: Any) -> None:
    client, session = chat
    statuses = [
        post(rasa_url, session["session_id"], {"rating": 3}, client.auth).status_code
        for _ in range(6)
    ]
    assert statuses == [200] * 5 + [429]  # WEBCHAT_RATE_LIMIT=5/10, as for messages
    refused = post(rasa_url, session["session_id"], {"rating": 3}, client.auth)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    # Feedback has its own budget: the shopper can still chat.
    client.say("what are your opening hours")
    reply = client.wait_for_bot()
    assert reply.get("notice") is None


def test_preflight_and_answers_carry_the_channels_cors_policy(rasa_url: str, chat: Any) -> None:
    client, session = chat
    url = conversation_url(rasa_url, session["session_id"], "/feedback")
    preflight = requests.options(
        url,
        headers={"Origin": ALLOWED_ORIGIN, "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers.get("Access-Control-Allow-Origin") == ALLOWED_ORIGIN
    reply = post(
        rasa_url,
        session["session_id"],
        {"rating": 5},
        {**client.auth, "Origin": "https://evil.example"},
    )
    assert reply.status_code == 200
    assert "Access-Control-Allow-Origin" not in reply.headers


def test_delete_removes_the_feedback_and_then_refuses_more(
    rasa_url: str, sqlite_engine: sa.engine.Engine, chat: Any
) -> None:
    client, session = chat
    cid = session["session_id"]
    answer = bot_ids(client)[-1]
    assert post(rasa_url, cid, {"message_id": answer, "helpful": True}, client.auth).ok
    assert post(rasa_url, cid, {"rating": 5, "comment": "mail me: a@b.de"}, client.auth).ok
    assert len(feedback_rows(sqlite_engine, cid)) == 2
    deleted = requests.delete(conversation_url(rasa_url, cid), headers=client.auth, timeout=10)
    assert deleted.status_code == 200
    assert feedback_rows(sqlite_engine, cid) == []
    with sqlite_engine.connect() as connection:
        left = connection.execute(
            sa.text("SELECT COUNT(*) FROM events WHERE sender_id = :s"), {"s": cid}
        ).scalar_one()
    assert left == 0
    assert post(rasa_url, cid, {"rating": 5}, client.auth).status_code == 403
