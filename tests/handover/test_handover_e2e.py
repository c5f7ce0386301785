"""End to end over the running servers: a shopper's socket, the action server, the desk.

shopper asks for a human -> handover form -> position in the queue (conversation paused)
-> agent claims over the desk API -> agent message reaches the shopper's socket -> the
shopper's reply reaches the agent -> agent closes -> the bot is back and answers again.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.servers import (
    find_model,
    start_action_server,
    start_rasa,
    stop,
    write_endpoints,
)
from devkit.waiting import eventually
from tests.support.chat import ChatClient

pytestmark = pytest.mark.e2e

AGENT_TOKEN = "e2e-agent-token-0123456789"
SECRET = "handover-e2e-secret-" + "h" * 32
CREDENTIALS = """\
channels.webchat.WebchatInput:
  extensions: ["handover.desk:AgentDesk"]
"""
ROOT = Path(__file__).resolve().parents[2]


def stack_env(db_url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("WEBCHAT_", "HANDOVER_"))}
    env.update(
        APP_ENV="test",
        WEBCHAT_SECRET=SECRET,
        WEBCHAT_RATE_LIMIT="100/10",  # a test types faster than a shopper
        DATABASE_URL=db_url,
        AGENT_TOKENS=f"Sam:{AGENT_TOKEN}",
        # Always open, so the test does not depend on the day it runs.
        HANDOVER_OPENING_HOURS="mon-sun 00:00-24:00",
        HANDOVER_TIMEZONE="UTC",
        HANDOVER_POSITION_POLL_SECONDS="0.5",
        PYTHONPATH=str(ROOT),
    )
    return env


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    tmp = tmp_path_factory.mktemp("handover-e2e")
    creds = tmp / "credentials.yml"
    creds.write_text(CREDENTIALS)
    db_url = f"sqlite:///{tmp / 'rasa.db'}"
    env = stack_env(db_url)
    model = find_model()
    actions_url, actions = start_action_server(env)
    try:
        endpoints = write_endpoints(tmp / "endpoints.yml", actions_url, db_url)
        rasa_url, rasa = start_rasa(
            model, {**env, "ACTION_SERVER_URL": actions_url}, creds, endpoints_path=endpoints
        )
        try:
            yield {"rasa_url": rasa_url}
        finally:
            stop(rasa)
    finally:
        stop(actions)


class AgentApi:
    def __init__(self, base: str, token: str = AGENT_TOKEN) -> None:
        self.base = f"{base}/webhooks/webchat/agent"
        self.headers = {"Authorization": f"Bearer {token}"}

    def get(self, path: str) -> requests.Response:
        return requests.get(self.base + path, headers=self.headers, timeout=10)

    def post(self, path: str, body: Any = None) -> requests.Response:
        return requests.post(self.base + path, headers=self.headers, json=body or {}, timeout=30)


def bot_text(data: Any) -> str:
    return (data or {}).get("text") or ""


@pytest.mark.parametrize("path", ["/claim", "/requests/1/messages", "/requests/1/close"])
def test_agent_console_may_post_json_to_the_desk_from_the_shop_origin(
    stack: dict[str, Any], path: str
) -> None:
    """The browser's preflight before the console's JSON POSTs (the channel's CORS
    middleware runs on the desk's routes too, and must not narrow what they allow)."""
    reply = requests.options(
        f"{stack['rasa_url']}/webhooks/webchat/agent{path}",
        headers={
            "Origin": "http://localhost:8080",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert reply.headers.get("Access-Control-Allow-Origin") == "http://localhost:8080"
    assert "POST" in reply.headers.get("Access-Control-Allow-Methods", "")
    allowed_headers = reply.headers.get("Access-Control-Allow-Headers", "").lower()
    assert "authorization" in allowed_headers
    assert "content-type" in allowed_headers


def test_shopper_to_agent_and_back(stack: dict[str, Any]) -> None:
    started = time.monotonic()
    agent = AgentApi(stack["rasa_url"])
    assert AgentApi(stack["rasa_url"], token="wrong").get("/queue").status_code == 401

    with ChatClient(stack["rasa_url"]) as shopper:
        session = shopper.request_session()
        conversation_id = session["session_id"]
        shopper.say("I want to talk to a human")
        shopper.wait_for_bot(lambda d: "order number" in bot_text(d), timeout=60)
        shopper.say("40012345")
        shopper.wait_for_bot(lambda d: "email" in bot_text(d).lower())
        shopper.say("anna at example")  # not an address: explained and asked again
        shopper.wait_for_bot(lambda d: "doesn't look like an email" in bot_text(d))
        shopper.say("anna@example.com")
        shopper.wait_for_bot(lambda d: "one line" in bot_text(d))
        shopper.say("The zip of my new jacket broke on the first day")
        shopper.wait_for_bot(lambda d: "number 1 in the queue" in bot_text(d))
        shopper.wait_for(
            "handover_status",
            lambda d: d == {"state": "waiting", "position": 1, "estimated_wait_minutes": 4},
        )

        # A reload (a second socket resuming the conversation) is told where it stands,
        # without waiting for the queue to move: the widget's queue bar comes back.
        with ChatClient(stack["rasa_url"]) as reloaded:
            resumed = reloaded.request_session(conversation_id, session["session_token"])
            assert resumed["resumed"] is True
            reloaded.wait_for(
                "handover_status",
                lambda d: d == {"state": "waiting", "position": 1, "estimated_wait_minutes": 4},
                timeout=5,
            )

        # While paused the bot stays silent, but the agent will see what was written; the
        # first message in the queue hears that once (it got no answer at all before).
        shopper.say("are you there?")
        said = [d for e, d in shopper.drain(2.0) if e == "bot_uttered"]
        assert [(d["sender"], "kept for the agent" in d["text"]) for d in said] == [
            ("system", True)
        ]
        shopper.say("it is the black one")
        assert not [e for e in shopper.drain(2.0) if e[0] == "bot_uttered"]

        queue = agent.get("/queue").json()
        [waiting] = [r for r in queue["waiting"] if r["conversation_id"] == conversation_id]
        assert (waiting["order_number"], waiting["email"], waiting["position"]) == (
            "40012345",
            "anna@example.com",
            1,
        )
        assert waiting["description"] == "The zip of my new jacket broke on the first day"

        claimed = agent.post("/claim", {"request_id": waiting["id"]})
        assert claimed.status_code == 200, claimed.text
        shopper.wait_for(
            "handover_status", lambda d: d.get("state") == "active" and d.get("agent_name") == "Sam"
        )
        shopper.wait_for_bot(lambda d: "has joined" in bot_text(d))
        with ChatClient(stack["rasa_url"]) as reloaded:
            reloaded.request_session(conversation_id, session["session_token"])
            reloaded.wait_for(
                "handover_status",
                lambda d: d == {"state": "active", "agent_name": "Sam"},
                timeout=5,
            )

        detail = agent.get(f"/requests/{waiting['id']}").json()
        assert any("talk to a human" in line["text"] for line in detail["bot_conversation"])
        assert any(m["text"] == "are you there?" for m in detail["messages"])

        sent = agent.post(
            f"/requests/{waiting['id']}/messages",
            {"text": "Hi Anna, I'm Sam. Sorry about the zip!"},
        )
        assert sent.status_code == 201
        got = shopper.wait_for_bot(lambda d: d.get("sender") == "agent")
        assert got.pop("message_id").startswith("x-")  # shown, not votable
        assert got == {
            "text": "Hi Anna, I'm Sam. Sorry about the zip!",
            "sender": "agent",
            "agent_name": "Sam",
        }

        shopper.say("Thanks Sam, can I get a new one?")
        reply = {"sender": "shopper", "text": "Thanks Sam, can I get a new one?"}
        eventually(
            lambda: agent.get(f"/requests/{waiting['id']}").json()["messages"],
            until=lambda messages: any(reply.items() <= m.items() for m in messages),
            timeout=15,
            what="the shopper's reply in the agent's view",
        )
        assert not [e for e in shopper.drain(1.0) if e[0] == "bot_uttered"]

        closed = agent.post(f"/requests/{waiting['id']}/close")
        assert closed.status_code == 200
        shopper.wait_for("handover_status", lambda d: d == {"state": "closed"})
        shopper.wait_for_bot(
            lambda d: "anything else" in bot_text(d) and d.get("sender") != "agent"
        )

        shopper.say("how can I pay?")
        answer = shopper.wait_for_bot(lambda d: d.get("sender") not in ("agent", "system"))
        assert bot_text(answer)

        # The transcript holds the agent's lines too.
        transcript = requests.get(
            f"{stack['rasa_url']}/webhooks/webchat/conversations/{conversation_id}/transcript",
            headers=shopper.auth,
            timeout=10,
        ).json()
        assert any(
            m.get("text") == "Hi Anna, I'm Sam. Sorry about the zip!"
            for m in transcript["messages"]
        )
    print(f"\nhandover e2e took {time.monotonic() - started:.1f}s")


def test_shopper_leaves_the_queue_and_the_bot_resumes(stack: dict[str, Any]) -> None:
    started = time.monotonic()
    agent = AgentApi(stack["rasa_url"])
    with ChatClient(stack["rasa_url"]) as shopper:
        conversation_id = shopper.request_session()["session_id"]
        shopper.say("/human_handoff")  # the button of utter_offer_human
        shopper.wait_for_bot(lambda d: "order number" in bot_text(d), timeout=60)
        shopper.say("/no_order_number")
        shopper.wait_for_bot(lambda d: "email" in bot_text(d).lower())
        shopper.say("ben@example.org")
        shopper.wait_for_bot(lambda d: "one line" in bot_text(d))
        shopper.say("I have a question about gift vouchers")
        shopper.wait_for_bot(lambda d: "in the queue" in bot_text(d))
        queue = agent.get("/queue").json()
        [mine] = [r for r in queue["waiting"] if r["conversation_id"] == conversation_id]
        assert mine["order_number"] is None and mine["email"] == "ben@example.org"

        shopper.sio.emit("leave_queue", {})
        shopper.wait_for("handover_status", lambda d: d == {"state": "left"})
        shopper.wait_for_bot(lambda d: "left the queue" in bot_text(d))
        assert all(
            r["conversation_id"] != conversation_id for r in agent.get("/queue").json()["waiting"]
        )
        shopper.say("how can I pay?")
        answer = shopper.wait_for_bot(lambda d: d.get("sender") not in ("agent", "system"))
        assert bot_text(answer)
    print(f"\nleave-queue e2e took {time.monotonic() - started:.1f}s")
