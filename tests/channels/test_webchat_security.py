"""What an attacker tried against the web chat (issue 11), against a running Rasa server.

A new session per message must not reset the rate limit; typed `/intent{...}` must not
reach Rasa as an intent; malformed socket.io frames and huge bodies must not cost more
than a warning line and a quick refusal; old and deleted conversations' tokens must not
resume them.
"""

from __future__ import annotations

import json
import socket
import time
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa
import websocket

from tests.channels.conftest import ALLOWED_ORIGIN
from tests.channels.test_webchat_protocol import expected_token, user_texts
from tests.support.chat import ChatClient

pytestmark = pytest.mark.e2e

FLOOD = 30


def _wait_for_texts(
    engine: sa.engine.Engine, conversation_ids: list[str], settle: float = 4.0
) -> list[str]:
    """Every stored shopper text of these conversations, once no more arrive."""
    stored: list[str] = []
    quiet_since = time.monotonic()
    deadline = time.monotonic() + 60
    while time.monotonic() - quiet_since < settle and time.monotonic() < deadline:
        now = [t for cid in conversation_ids for t in user_texts(engine, cid)]
        if now != stored:
            stored, quiet_since = now, time.monotonic()
        time.sleep(0.3)
    return stored


def test_a_new_session_per_message_does_not_escape_the_rate_limit(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as chat:
        started = time.monotonic()
        for n in range(FLOOD):
            chat.sio.emit("session_request", {})
            chat.sio.emit("user_uttered", {"message": f"flood {n}"})
            time.sleep(4.5 / FLOOD)
        assert time.monotonic() - started < 5.0
        events = chat.drain(8.0)
    sessions = [data["session_id"] for name, data in events if name == "session_confirm"]
    notices = [data for name, data in events if name == "bot_uttered" and data.get("notice")]
    through = [t for t in _wait_for_texts(sqlite_engine, sessions) if t.startswith("flood")]

    assert len(through) <= 15, through
    assert len(sessions) <= 3  # WEBCHAT_SOCKET_SESSION_LIMIT's default: 3 a minute
    # Nothing is dropped silently: every message either got through or got a notice.
    refused = [n for n in notices if n["notice"] in ("too_fast", "no_session")]
    assert len(through) + len(refused) == FLOOD
    too_fast = [n for n in notices if n["notice"] == "too_fast"]
    assert too_fast and all(n["retry_after"] >= 1 and "wait" in n["text"] for n in too_fast)
    assert {n["refused"] for n in too_fast} <= {f"flood {n}" for n in range(FLOOD)}
    assert any(n["notice"] == "too_many_sessions" for n in notices)


def test_typed_intent_syntax_reaches_rasa_as_plain_text(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    forged = '/order_status{"order_number": "12345678", "email": "victim@example.com"}'
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say(forged)
        chat.wait_for_bot()
        chat.say("/deny")  # a real payload, but no button offered it yet
        chat.wait_for_bot()
    texts = _wait_for_texts(sqlite_engine, [session["session_id"]], settle=2.0)
    assert texts == [forged[1:], "deny"]
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'user'"),
            {"s": session["session_id"]},
        ).fetchall()
    for (data,) in rows:
        parsed = json.loads(data)["parse_data"]
        # RegexMessageHandler answers a "/intent" text with certainty and its own entities.
        assert parsed["intent"]["confidence"] < 1.0 or parsed["intent"]["name"] != "order_status"
        assert all(e.get("extractor") != "RegexMessageHandler" for e in parsed["entities"])


def test_a_payload_of_an_offered_button_is_an_intent(
    rasa_url: str, sqlite_engine: sa.engine.Engine
) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("how can I contact you?")
        offer = chat.wait_for_bot(lambda d: bool(d.get("quick_replies")))
        payloads = [b["payload"] for b in offer["quick_replies"]]
        assert "/deny" in payloads
        chat.say("/deny")
        chat.wait_for_bot()
    with sqlite_engine.connect() as connection:
        rows = connection.execute(
            sa.text(
                "SELECT intent_name, data FROM events WHERE sender_id = :s "
                "AND type_name = 'user' ORDER BY id"
            ),
            {"s": session["session_id"]},
        ).fetchall()
    last_intent, last_data = rows[-1]
    assert json.loads(last_data)["text"] == "/deny"
    assert last_intent == "deny"


def _engineio_socket(rasa_url: str) -> websocket.WebSocket:
    """A raw socket.io connection, to send frames no well-behaved client would."""
    ws = websocket.create_connection(
        rasa_url.replace("http", "ws", 1) + "/socket.io/?EIO=4&transport=websocket",
        timeout=10,
        origin=ALLOWED_ORIGIN,
    )
    assert str(ws.recv()).startswith("0")  # engine.io open
    ws.send("40")
    assert str(ws.recv()).startswith("40")  # socket.io connected
    return ws


def test_malformed_frames_log_one_warning_line_each_and_break_nothing(
    rasa_server: tuple[str, Path],
) -> None:
    rasa_url, log = rasa_server
    before = log.read_text(errors="replace")
    frames = [
        '42["user_uttered", {"message": ',  # cut-off JSON
        "42{not json at all",
        '42{"event": "user_uttered"}',  # not a list
        "42[]",
        "42[17, 18]",  # the event name is not a string
        '42[{"a": 1}]',
        '42["user_uttered", 12345]',  # wrong type of data
        '42["session_request", "x", "y", "z"]',  # more arguments than the handler takes
        "49zz",
        '42["user_uttered", {"message": "' + "x" * 200_000 + '"}]',  # huge
    ]
    # One connection per frame: the server may hang up after a bad frame, and frames sent
    # into a connection it has dropped would never be read.
    for frame in frames:
        ws = _engineio_socket(rasa_url)
        try:
            ws.send(frame)
            time.sleep(0.1)
        except (websocket.WebSocketException, OSError):
            pass
        finally:
            ws.close()

    with ChatClient(rasa_url) as chat:  # everyone else is served as before
        chat.request_session()
        chat.say("hello")
        assert "notice" not in chat.wait_for_bot()
    time.sleep(1.0)
    added = log.read_text(errors="replace")[len(before) :]
    assert "Traceback" not in added, added[-3000:]
    assert "handler error" not in added
    warnings = [line for line in added.splitlines() if "malformed socket.io frame" in line]
    assert len(warnings) >= 5, added[-3000:]


def test_a_huge_request_body_is_refused_quickly(rasa_url: str) -> None:
    host, port = rasa_url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as conn:
        started = time.monotonic()
        conn.sendall(
            b"POST /webhooks/webchat/agent/status/0123 HTTP/1.1\r\n"
            b"Host: localhost\r\nContent-Type: application/json\r\n"
            b"Content-Length: 5000000\r\n\r\n" + b"{" * 1024
        )
        conn.settimeout(3.0)
        answer = conn.recv(4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert time.monotonic() - started < 3.0
    small = requests.post(
        f"{rasa_url}/webhooks/webchat/agent/status/{'0' * 32}", json={"state": "x"}, timeout=10
    )
    assert small.status_code != 413


def test_an_expired_token_gets_a_fresh_session(rasa_url: str) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("hi")
        chat.wait_for_bot()
    ninety_one_days_ago = int(time.time()) - 91 * 86400
    old_token = expected_token(session["session_id"], ninety_one_days_ago)
    with ChatClient(rasa_url) as again:
        got = again.request_session(session["session_id"], old_token)
        assert got["resumed"] is False
        assert got["session_id"] != session["session_id"]
    url = f"{rasa_url}/webhooks/webchat/conversations/{session['session_id']}/transcript"
    reply = requests.get(url, headers={"Authorization": f"Bearer {old_token}"}, timeout=10)
    assert reply.status_code == 403
    # Eighty-nine days old is still good.
    recent = expected_token(session["session_id"], int(time.time()) - 89 * 86400)
    with ChatClient(rasa_url) as later:
        assert later.request_session(session["session_id"], recent)["resumed"] is True


def test_a_deleted_conversations_token_no_longer_resumes_it(rasa_url: str) -> None:
    with ChatClient(rasa_url) as chat:
        session = chat.request_session()
        chat.say("hi")
        chat.wait_for_bot()
        cid = session["session_id"]
        deleted = requests.delete(
            f"{rasa_url}/webhooks/webchat/conversations/{cid}", headers=chat.auth, timeout=10
        )
        assert deleted.status_code == 200
        chat.wait_for("conversation_deleted")
    with ChatClient(rasa_url) as again:
        got = again.request_session(cid, session["session_token"])
        assert got["resumed"] is False
        assert got["session_id"] != cid
        again.say("hello")  # the fresh session works
        assert "notice" not in again.wait_for_bot()
    transcript = requests.get(
        f"{rasa_url}/webhooks/webchat/conversations/{cid}/transcript",
        headers={"Authorization": f"Bearer {session['session_token']}"},
        timeout=10,
    )
    assert transcript.status_code == 403
