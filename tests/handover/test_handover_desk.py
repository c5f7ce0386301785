"""The agent desk's HTTP routes on a real Sanic server: authorisation and the chat cycle."""

from __future__ import annotations

import socket
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from sanic import Blueprint, Sanic

from handover.desk import RESUME_AFTER_CLOSE, RESUME_AFTER_LEAVE, AgentDesk
from handover.models import ACTIVE, CLOSED, WAITING
from handover.settings import HandoverSettings
from handover.store import HandoverStore, make_engine
from tests.handover.helpers import RecordingChannel

TOKEN = "sam-token-0123456789abcdef"
OTHER = "kim-token-0123456789abcdef"




def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Desk:
    def __init__(self, base: str, store: HandoverStore, channel: RecordingChannel,
                 resumed: list[tuple[str, str]], desk: AgentDesk) -> None:
        self.base, self.store, self.channel, self.resumed, self.desk = (
            base, store, channel, resumed, desk)

    async def call(self, method: str, path: str, token: str | None = TOKEN,
                   json: Any = None) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        async with aiohttp.ClientSession() as http, http.request(
            method, f"{self.base}/webhooks/webchat/agent{path}", headers=headers, json=json
        ) as resp:
            return resp.status, await resp.json(content_type=None)


@pytest.fixture()
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = HandoverStore(make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"))
    settings = HandoverSettings(agent_tokens={TOKEN: "Sam", OTHER: "Kim"},
                                position_poll_seconds=0.2)
    channel = RecordingChannel()
    resumed: list[tuple[str, str]] = []

    async def resumer(conversation_id: str, response: str) -> None:
        resumed.append((conversation_id, response))

    agent_desk = AgentDesk(None, store=store, settings=settings, resumer=resumer)
    Sanic.test_mode = True  # lets several apps start in one process (as sanic-testing does)
    app = Sanic(f"desk_test_{uuid.uuid4().hex[:8]}")
    bp = Blueprint("webchat_webhook", url_prefix="/webhooks/webchat")
    agent_desk.register(bp, None, channel)  # type: ignore[arg-type]
    app.blueprint(bp)
    port = free_port()
    server = await app.create_server(host="127.0.0.1", port=port,
                                     return_asyncio_server=True, access_log=False)
    assert server is not None
    await server.startup()
    await server.after_start()
    try:
        yield Desk(f"http://127.0.0.1:{port}", store, channel, resumed, agent_desk)
    finally:
        await server.before_stop()
        server.close()
        await server.wait_closed()
        store.engine.dispose()


ROUTES = [
    ("GET", "/me", None), ("GET", "/queue", None), ("GET", "/requests/{id}", None),
    ("POST", "/claim", {}), ("POST", "/claim", {"request_id": "{id}"}),
    ("POST", "/requests/{id}/messages", {"text": "hello"}),
    ("POST", "/requests/{id}/close", None),
]


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN[:-1], TOKEN + "x", "Basic x"])
async def test_missing_or_wrong_token_gets_401_and_changes_nothing(desk: Desk,
                                                                   token: str | None) -> None:
    waiting = desk.store.join("shopper", email="a@example.com").request
    active = desk.store.join("served", email="b@example.com").request
    desk.store.claim("Kim", active.id)
    before = (desk.store.queue(), desk.store.messages(active.id))
    for method, path, body in ROUTES:
        for rid in (waiting.id, active.id):
            payload = ({k: (rid if v == "{id}" else v) for k, v in body.items()}
                       if body is not None else None)
            status, data = await desk.call(method, path.format(id=rid), token=token,
                                           json=payload)
            assert status == 401, (method, path, token)
            assert "queue" not in str(data)
    assert (desk.store.queue(), desk.store.messages(active.id)) == before
    assert desk.channel.emitted == [] or all(e[1] == "handover_status" for e in
                                             desk.channel.emitted)
    assert desk.resumed == []


async def test_claim_chat_and_close(desk: Desk) -> None:
    first = desk.store.join("first", email="a@example.com", order_number="40012345",
                            topic="order_status", description="late parcel").request
    desk.store.join("second", email="b@example.com")
    assert await desk.call("GET", "/me") == (200, {"agent": "Sam"})

    status, queue = await desk.call("GET", "/queue")
    assert status == 200
    assert [(r["conversation_id"], r["position"], r["order_number"], r["email"], r["topic"])
            for r in queue["waiting"]] == [
        ("first", 1, "40012345", "a@example.com", "order_status"),
        ("second", 2, None, "b@example.com", None)]

    status, claimed = await desk.call("POST", "/claim", json={})
    assert status == 200 and claimed["request"]["id"] == first.id
    assert claimed["request"]["status"] == ACTIVE and claimed["request"]["agent"] == "Sam"
    assert ("first", "handover_status", {"state": "active", "agent_name": "Sam"}
            ) in desk.channel.emitted
    assert ("second", "handover_status",
            {"state": "waiting", "position": 1, "estimated_wait_minutes": 4}
            ) in desk.channel.emitted

    # Another agent can neither write in nor close Sam's chat.
    assert (await desk.call("POST", f"/requests/{first.id}/messages", token=OTHER,
                            json={"text": "hi"}))[0] == 409
    assert (await desk.call("POST", f"/requests/{first.id}/close", token=OTHER))[0] == 409
    assert (await desk.call("POST", "/claim", json={"request_id": first.id}))[0] == 409
    assert (await desk.call("POST", "/claim", json={"request_id": "x"}))[0] == 400
    assert (await desk.call("GET", "/requests/99999"))[0] == 404

    status, _ = await desk.call("POST", f"/requests/{first.id}/messages",
                                   json={"text": "Hi, I'm Sam. Let me check."})
    assert status == 201
    assert ("first", "bot_uttered", {"text": "Hi, I'm Sam. Let me check.", "sender": "agent",
                                     "agent_name": "Sam"}) in desk.channel.emitted
    assert await desk.desk.on_shopper_message("first", "thank you!")

    status, detail = await desk.call("GET", f"/requests/{first.id}")
    assert status == 200
    assert [(m["sender"], m["text"]) for m in detail["messages"]][-2:] == [
        ("agent", "Hi, I'm Sam. Let me check."), ("shopper", "thank you!")]

    status, closed = await desk.call("POST", f"/requests/{first.id}/close")
    assert status == 200 and closed["request"]["status"] == CLOSED
    assert ("first", "handover_status", {"state": "closed"}) in desk.channel.emitted
    assert desk.resumed == [("first", RESUME_AFTER_CLOSE)]
    extra = await desk.desk.transcript_extra("first")
    assert {"sender": "agent", "text": "Hi, I'm Sam. Let me check."}.items() <= extra[1].items()
    assert extra[1]["name"] == "Sam"


async def test_leaving_the_queue_resumes_the_bot_and_moves_others_up(desk: Desk) -> None:
    desk.store.join("first")
    second = desk.store.join("second").request
    await desk.desk.on_leave_queue("first")
    assert desk.resumed == [("first", RESUME_AFTER_LEAVE)]
    assert desk.store.position(second.id) == 1
    assert ("first", "handover_status", {"state": "closed"}) in desk.channel.emitted
    await desk.desk.on_leave_queue("nobody")  # harmless
    assert desk.resumed == [("first", RESUME_AFTER_LEAVE)]
    assert (await desk.call("POST", "/claim", json={}))[1]["request"]["id"] == second.id
    assert desk.store.get(second.id).status == ACTIVE
    assert desk.store.queue()[0].status != WAITING


async def test_resume_unpauses_under_the_lock_then_speaks_and_listens() -> None:
    from contextlib import asynccontextmanager

    from rasa.shared.core.events import ConversationPaused, ConversationResumed
    from rasa.shared.core.trackers import DialogueStateTracker

    from handover.desk import resume_rasa_conversation

    calls: list[Any] = []
    tracker = DialogueStateTracker.from_events("c1", [ConversationPaused()])

    class Locks:
        @asynccontextmanager
        async def lock(self, conversation_id: str):
            calls.append(("lock", conversation_id))
            yield
            calls.append(("unlock", conversation_id))

    class Processor:
        async def get_tracker(self, conversation_id: str) -> DialogueStateTracker:
            return tracker

        async def save_tracker(self, t: DialogueStateTracker) -> None:
            calls.append(("save", t.is_paused()))

    class FakeAgent:
        lock_store = Locks()
        processor = Processor()

        async def execute_action(self, cid: str, action: str, *args: Any) -> None:
            calls.append(("execute", action))

    await resume_rasa_conversation(FakeAgent(), "c1", RESUME_AFTER_CLOSE, None)
    assert isinstance(tracker.events[-1], ConversationResumed)
    assert calls == [("lock", "c1"), ("save", False), ("execute", RESUME_AFTER_CLOSE),
                     ("execute", "action_listen"), ("unlock", "c1")]
