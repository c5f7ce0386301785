"""The socket.io protocol of the web chat channel, against a running Rasa server.

What matters most: a session is only ever resumed with the token the server signed for
it, so nobody joins someone else's conversation by presenting its id.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time

import pytest
import requests
import socketio
import sqlalchemy as sa

from devkit.waiting import eventually
from tests.channels.conftest import ALLOWED_ORIGIN, SECRET
from tests.support.chat import ChatClient

pytestmark = pytest.mark.e2e


def expected_token(session_id: str, issued: int | None = None) -> str:
    """The token the server signs: `<issue time>.<HMAC of id and issue time>`."""
    issued = int(time.time()) if issued is None else issued
    message = f"{session_id}.{issued}".encode()
    digest = hmac.new(SECRET.encode(), message, hashlib.sha256).digest()
    return f"{issued}." + base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def user_texts(engine: sa.engine.Engine, conversation_id: str) -> list[str]:
    with engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT data FROM events WHERE sender_id = :s AND type_name = 'user' ORDER BY id"
            ),
            {"s": conversation_id},
        ).fetchall()
    return [json.loads(row[0]).get("text") for row in rows]


def test_server_issues_a_signed_session(rasa_url: str) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
    assert re.fullmatch(r"[0-9a-f]{32}", session["session_id"])
    issued = int(session["session_token"].partition(".")[0])
    assert abs(issued - time.time()) < 60
    assert session["session_token"] == expected_token(session["session_id"], issued)
    assert session["resumed"] is False


def test_a_client_chosen_id_is_not_accepted(rasa_url: str) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session("f" * 32)
    assert session["session_id"] != "f" * 32
    assert session["resumed"] is False


def test_session_start_gets_the_bot_introduction_once(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("/session_start")
        intro = chat.wait_for_bot()
        assert "bot" in intro["text"].lower()
        chat.say("/session_start")  # a reconnecting widget may ask again: no second intro
        assert [e for e in chat.drain(3.0) if e[0] == "bot_uttered"] == []
    # The session start is not a message of the shopper's, so it is not logged as one.
    assert user_texts(sqlite_engine, session["session_id"]) == []


def test_resume_with_token_continues_the_conversation(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as first:
        session = first.request_session()
        first.say("hi")
        first.wait_for_bot()
    with ChatClient(rasa_url) as again:
        resumed = again.request_session(session["session_id"], session["session_token"])
        assert resumed == {**session, "resumed": True}
        again.say("thanks")
        again.wait_for_bot()
    eventually(
        lambda: user_texts(sqlite_engine, session["session_id"]),
        until=lambda texts: texts == ["hi", "thanks"],
        what="both messages in the tracker store",
    )


@pytest.mark.parametrize("attack", ["no token", "wrong token", "token of another session"])
def test_hijack_attempt_gets_a_fresh_session_and_sees_nothing(rasa_url: str, attack: str) -> None:
    with ChatClient(rasa_url) as victim, ChatClient(rasa_url) as attacker:
        session = victim.request_session()
        victim.say("my order number is 123456 and my email is victim@example.com")
        victim.wait_for_bot()

        other = ChatClient(rasa_url).connect()
        other_session = other.request_session()
        other.close()
        token = {
            "no token": None,
            "wrong token": expected_token(session["session_id"])[:-2] + "AA",
            "token of another session": other_session["session_token"],
        }[attack]
        got = attacker.request_session(session["session_id"], token)
        assert got["session_id"] != session["session_id"]
        assert got["resumed"] is False

        victim.say("hello again")
        victim.wait_for_bot()
        leaked = [e for e in attacker.drain(2.0) if e[0] == "bot_uttered"]
        assert leaked == []

        # ... nor through the transcript route with the attacker's own token.
        url = f"{rasa_url}/webhooks/webchat/conversations/{session['session_id']}/transcript"
        reply = requests.get(url, headers=attacker.auth, timeout=10)
        assert reply.status_code == 403
        assert "victim@example.com" not in reply.text


def test_message_over_the_size_limit_is_refused_and_not_processed(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("x" * 2001)
        notice = chat.wait_for_bot()
        assert notice["notice"] == "too_long"
        assert "too long" in notice["text"]
        chat.say("y" * 2000)  # exactly at the limit: accepted
        reply = chat.wait_for_bot()
        assert "notice" not in reply
    assert "x" * 2001 not in user_texts(sqlite_engine, session["session_id"])


def test_a_password_typed_into_the_chat_is_never_stored(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    """It was stored with the conversation for 90 days and read by the NLU; now Rasa gets
    a placeholder and the shopper a notice."""
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("my password is Sommar2024! and it still doesn't work")
        events = [data for name, data in chat.drain(6.0) if name == "bot_uttered"]
    notices = [e for e in events if e.get("notice") == "password_hidden"]
    assert len(notices) == 1 and "never type a password" in notices[0]["text"]
    assert any("notice" not in e for e in events)  # the bot still answers the message
    eventually(
        lambda: user_texts(sqlite_engine, session["session_id"]),
        until=lambda texts: texts == ["my password is [PASSWORD]! and it still doesn't work"],
        timeout=20,
    )
    # an ordinary sentence about a password is left as it is
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("my password is wrong")
        events = [data for name, data in chat.drain(6.0) if name == "bot_uttered"]
    assert not [e for e in events if e.get("notice") == "password_hidden"]


def test_messages_faster_than_the_rate_limit_are_refused(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        for n in range(7):  # the test server allows 5 per 10 seconds
            chat.say(f"message {n}")
        notices = [
            data
            for name, data in chat.drain(8.0)
            if name == "bot_uttered" and data.get("notice") == "too_fast"
        ]
    assert len(notices) == 2
    expected = [f"message {n}" for n in range(5)]
    eventually(
        lambda: sorted(user_texts(sqlite_engine, session["session_id"])),
        until=lambda texts: texts == expected,
        timeout=20,
        what="the accepted messages in the tracker store",
    )


def test_rate_limit_is_per_conversation_not_per_socket(rasa_url: str) -> None:
    with ChatClient(rasa_url) as first:
        session = first.request_session()
        for n in range(5):
            first.say(f"one {n}")
        with ChatClient(rasa_url) as second_tab:
            second_tab.request_session(session["session_id"], session["session_token"])
            second_tab.say("from another tab")
            notice = second_tab.wait_for_bot(lambda d: d.get("notice") == "too_fast")
    assert "wait" in notice["text"]


def test_message_before_session_is_refused(rasa_url: str) -> None:
    with ChatClient(rasa_url) as chat:
        chat.say("hi")
        notice = chat.wait_for_bot()
    assert notice["notice"] == "no_session"


def test_foreign_origin_cannot_connect(rasa_url: str) -> None:
    with pytest.raises(socketio.exceptions.ConnectionError):
        ChatClient(rasa_url, origin="https://evil.example").connect()
    with ChatClient(rasa_url, origin=ALLOWED_ORIGIN) as chat:
        assert chat.request_session()["session_id"]


def test_rasa_http_api_is_off(rasa_url: str) -> None:
    assert requests.get(f"{rasa_url}/status", timeout=10).status_code == 404
    some_id = "0" * 32
    tracker = requests.get(f"{rasa_url}/conversations/{some_id}/tracker", timeout=10)
    assert tracker.status_code == 404


def test_extension_seam(rasa_url: str) -> None:
    """The fake agent desk: relay, emit into the room, leave queue, transcript merge."""
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        cid = session["session_id"]
        chat.say("I want to talk to a person")
        # the turn's last message (the introduction comes first): a reply still on its way
        # would be stored after the agent's message below and end the transcript
        chat.wait_for_bot(lambda d: "is this about an order?" in str(d.get("text")))

        seen = requests.get(f"{rasa_url}/webhooks/webchat/agent/seen/{cid}", timeout=10).json()
        assert seen["relayed"] == ["I want to talk to a person"]

        status = {"state": "waiting", "position": 3, "estimated_wait_minutes": 6}
        requests.post(f"{rasa_url}/webhooks/webchat/agent/status/{cid}", json=status, timeout=10)
        assert chat.wait_for("handover_status") == status
        chat.sio.emit("leave_queue", {})
        seen_url = f"{rasa_url}/webhooks/webchat/agent/seen/{cid}"
        eventually(
            lambda: requests.get(seen_url, timeout=10).json(),
            until=lambda seen: bool(seen["left_queue"]),
            what="the desk seeing the shopper leave the queue",
        )

        requests.post(
            f"{rasa_url}/webhooks/webchat/agent/say/{cid}",
            json={"text": "Hi, Sam here. How can I help?", "agent_name": "Sam"},
            timeout=10,
        )
        agent = chat.wait_for_bot(lambda d: d.get("sender") == "agent")
        assert agent.pop("message_id").startswith("x-")  # every bot_uttered has an id
        assert agent == {
            "text": "Hi, Sam here. How can I help?",
            "sender": "agent",
            "agent_name": "Sam",
        }
        transcript = requests.get(
            f"{rasa_url}/webhooks/webchat/conversations/{cid}/transcript",
            headers=chat.auth,
            timeout=10,
        ).json()
    last = transcript["messages"][-1]
    assert last["sender"] == "agent"
    assert last["name"] == "Sam"
    assert last["text"] == "Hi, Sam here. How can I help?"
