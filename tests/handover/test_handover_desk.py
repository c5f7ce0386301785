"""The agent desk's HTTP routes, in process: authorisation, the chat cycle, CORS, bad input.

The desk is mounted in the real web chat channel, as Rasa mounts it, and called through
Sanic's ASGI test client; the channel records what it pushes to shoppers' rooms.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sanic.touchup import TouchUp

from handover.desk import RESUME_AFTER_CLOSE, RESUME_AFTER_LEAVE, AgentDesk
from handover.models import ACTIVE, AGENT, CLOSED, WAITING
from handover.settings import HandoverSettings
from handover.store import MAX_TEXT_CHARS, HandoverStore, make_engine
from tests.handover.helpers import RecordingWebchat, webchat_app

TOKEN = "sam-token-0123456789abcdef"
OTHER = "kim-token-0123456789abcdef"
SHOP = "https://shop.example.com"
HUGE_ID = "9" * 30


class Desk:
    def __init__(
        self,
        app: Any,
        store: HandoverStore,
        channel: RecordingWebchat,
        resumed: list[tuple[str, str]],
        desk: AgentDesk,
    ) -> None:
        self.app, self.store, self.channel, self.resumed, self.desk = (
            app,
            store,
            channel,
            resumed,
            desk,
        )

    async def raw(
        self,
        method: str,
        path: str,
        token: str | None = TOKEN,
        json: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Any:
        sent = {"Authorization": f"Bearer {token}"} if token else {}
        sent.update(headers or {})
        kwargs: dict[str, Any] = {"headers": sent}
        if json is not None:
            kwargs["json"] = json
        _, resp = await self.app.asgi_client.request(
            method.lower(), f"/webhooks/webchat/agent{path}", **kwargs
        )
        return resp

    async def call(
        self, method: str, path: str, token: str | None = TOKEN, json: Any = None
    ) -> tuple[int, Any]:
        resp = await self.raw(method, path, token, json)
        return resp.status, (resp.json if resp.content else None)

    @property
    def emitted(self) -> list[tuple[str, str, Any]]:
        return self.channel.emitted


@pytest.fixture(autouse=True)
def _fast_startup(monkeypatch: pytest.MonkeyPatch) -> None:
    """The ASGI client starts the app for every request, and Sanic's start-up rewrites
    its own methods from their source each time (0.4 s a request): once per test will do,
    as every app here has the same signals."""
    touch_up = TouchUp.run
    done: list[bool] = []

    def once(app: Any) -> None:
        if not done:
            touch_up(app)
            done.append(True)

    monkeypatch.setattr(TouchUp, "run", once)


@pytest.fixture()
async def desk(tmp_path: Path) -> AsyncIterator[Desk]:
    store = HandoverStore(make_engine(f"sqlite:///{tmp_path / 'rasa.db'}"))
    settings = HandoverSettings(
        agent_tokens={TOKEN: "Sam", OTHER: "Kim"}, position_poll_seconds=0.2
    )
    resumed: list[tuple[str, str]] = []

    async def resumer(conversation_id: str, response: str) -> None:
        resumed.append((conversation_id, response))

    agent_desk = AgentDesk(None, store=store, settings=settings, resumer=resumer)
    app, channel = webchat_app(agent_desk, origins=(SHOP,))
    store.create_schema()
    try:
        yield Desk(app, store, channel, resumed, agent_desk)
    finally:
        await agent_desk.pushes.stop()
        store.engine.dispose()


ROUTES = [
    ("GET", "/me", None),
    ("GET", "/queue", None),
    ("GET", "/requests/{id}", None),
    ("POST", "/claim", {}),
    ("POST", "/claim", {"request_id": "{id}"}),
    ("POST", "/requests/{id}/messages", {"text": "hello"}),
    ("POST", "/requests/{id}/close", None),
]


@pytest.mark.parametrize("token", [None, "wrong-token", TOKEN[:-1], TOKEN + "x", "Basic x"])
async def test_missing_or_wrong_token_gets_401_and_changes_nothing(
    desk: Desk, token: str | None
) -> None:
    waiting = desk.store.join("shopper", email="a@example.com").request
    active = desk.store.join("served", email="b@example.com").request
    desk.store.claim("Kim", active.id)
    before = (desk.store.queue(), desk.store.messages(active.id))
    for method, path, body in ROUTES:
        for rid in (waiting.id, active.id):
            payload = (
                {k: (rid if v == "{id}" else v) for k, v in body.items()}
                if body is not None
                else None
            )
            status, data = await desk.call(method, path.format(id=rid), token=token, json=payload)
            assert status == 401, (method, path, token)
            assert "queue" not in str(data)
    assert (desk.store.queue(), desk.store.messages(active.id)) == before
    assert all(event == "handover_status" for _, event, _ in desk.emitted)
    assert desk.resumed == []


async def test_claim_chat_and_close(desk: Desk) -> None:
    first = desk.store.join(
        "first",
        email="a@example.com",
        order_number="40012345",
        topic="order_status",
        description="late parcel",
    ).request
    desk.store.join("second", email="b@example.com")
    assert await desk.call("GET", "/me") == (200, {"agent": "Sam"})

    status, queue = await desk.call("GET", "/queue")
    assert status == 200
    assert [
        (r["conversation_id"], r["position"], r["order_number"], r["email"], r["topic"])
        for r in queue["waiting"]
    ] == [
        ("first", 1, "40012345", "a@example.com", "order_status"),
        ("second", 2, None, "b@example.com", None),
    ]

    status, claimed = await desk.call("POST", "/claim", json={})
    assert status == 200 and claimed["request"]["id"] == first.id
    assert claimed["request"]["status"] == ACTIVE and claimed["request"]["agent"] == "Sam"
    assert ("first", "handover_status", {"state": "active", "agent_name": "Sam"}) in desk.emitted
    assert (
        "second",
        "handover_status",
        {"state": "waiting", "position": 1, "estimated_wait_minutes": 4},
    ) in desk.emitted

    # Another agent can neither write in nor close Sam's chat.
    assert (
        await desk.call("POST", f"/requests/{first.id}/messages", token=OTHER, json={"text": "hi"})
    )[0] == 409
    assert (await desk.call("POST", f"/requests/{first.id}/close", token=OTHER))[0] == 409
    assert (await desk.call("POST", "/claim", json={"request_id": first.id}))[0] == 409
    assert (await desk.call("POST", "/claim", json={"request_id": "x"}))[0] == 400
    assert (await desk.call("GET", "/requests/99999"))[0] == 404

    status, _ = await desk.call(
        "POST", f"/requests/{first.id}/messages", json={"text": "Hi, I'm Sam. Let me check."}
    )
    assert status == 201
    assert (
        "first",
        "bot_uttered",
        {"text": "Hi, I'm Sam. Let me check.", "sender": "agent", "agent_name": "Sam"},
    ) in desk.emitted
    assert await desk.desk.on_shopper_message("first", "thank you!")

    status, detail = await desk.call("GET", f"/requests/{first.id}")
    assert status == 200
    assert [(m["sender"], m["text"]) for m in detail["messages"]][-2:] == [
        ("agent", "Hi, I'm Sam. Let me check."),
        ("shopper", "thank you!"),
    ]

    status, closed = await desk.call("POST", f"/requests/{first.id}/close")
    assert status == 200 and closed["request"]["status"] == CLOSED
    assert ("first", "handover_status", {"state": "closed"}) in desk.emitted
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
    assert ("first", "handover_status", {"state": "left"}) in desk.emitted
    assert ("first", "handover_status", {"state": "closed"}) not in desk.emitted
    await desk.desk.on_leave_queue("nobody")  # harmless
    assert desk.resumed == [("first", RESUME_AFTER_LEAVE)]
    assert (await desk.call("POST", "/claim", json={}))[1]["request"]["id"] == second.id
    assert desk.store.get(second.id).status == ACTIVE
    assert desk.store.queue()[0].status != WAITING


# --- CORS: the channel's policy, and only the channel's ---------------------------------


@pytest.mark.parametrize("path", ["/me", "/claim", "/requests/1/messages", "/requests/1/close"])
async def test_the_console_origin_may_preflight_and_read_every_desk_route(
    desk: Desk, path: str
) -> None:
    preflight = await desk.raw(
        "OPTIONS",
        path,
        token=None,
        headers={
            "Origin": SHOP,
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
    )
    assert preflight.status in (200, 204)
    assert preflight.headers.get("access-control-allow-origin") == SHOP
    assert "POST" in preflight.headers.get("access-control-allow-methods", "")
    allowed = preflight.headers.get("access-control-allow-headers", "").lower()
    assert "authorization" in allowed and "content-type" in allowed
    # A refusal must be readable by the console too, or it could not say "token wrong".
    refused = await desk.raw("GET", "/me", token="wrong", headers={"Origin": SHOP})
    assert refused.status == 401
    assert refused.headers.get("access-control-allow-origin") == SHOP


async def test_origins_the_channel_does_not_allow_get_no_cors_headers(desk: Desk) -> None:
    """Before, the desk kept its own copy of the default origins (localhost:8080) and
    answered them even when the shop's WEBCHAT_ALLOWED_ORIGINS did not list them."""
    for origin in ("http://localhost:8080", "https://evil.example"):
        reply = await desk.raw("GET", "/me", headers={"Origin": origin})
        assert reply.status == 200
        assert "access-control-allow-origin" not in reply.headers
        preflight = await desk.raw(
            "OPTIONS",
            "/claim",
            token=None,
            headers={"Origin": origin, "Access-Control-Request-Method": "POST"},
        )
        assert "access-control-allow-origin" not in preflight.headers
    assert (await desk.raw("GET", "/queue")).headers.get("cache-control") == "no-store"


# --- hostile and oversized input --------------------------------------------------------


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("GET", f"/requests/{HUGE_ID}", None),
        ("GET", f"/requests/-{HUGE_ID}", None),
        ("POST", f"/requests/{HUGE_ID}/messages", {"text": "hello"}),
        ("POST", f"/requests/{HUGE_ID}/close", None),
        ("POST", "/claim", {"request_id": int(HUGE_ID)}),
        ("POST", "/claim", {"request_id": 2**63}),
        ("GET", "/requests/0", None),
    ],
)
async def test_request_ids_beyond_what_a_database_holds_are_not_found(
    desk: Desk, method: str, path: str, body: Any
) -> None:
    desk.store.join("shopper")
    status, data = await desk.call(method, path, json=body)
    assert status == 404, data
    assert "error" in data


async def test_an_agent_message_over_the_limit_is_refused_whole_not_cut(desk: Desk) -> None:
    request = desk.store.join("shopper").request
    await desk.call("POST", "/claim", json={"request_id": request.id})
    sent_before = len(desk.emitted)
    too_long = "x" * (MAX_TEXT_CHARS + 1)
    status, data = await desk.call(
        "POST", f"/requests/{request.id}/messages", json={"text": too_long}
    )
    assert status == 413
    assert f"at most {MAX_TEXT_CHARS}" in data["error"]
    assert f"{MAX_TEXT_CHARS + 1} characters" in data["error"]
    assert [m for m in desk.store.messages(request.id) if m.sender == AGENT] == []
    assert len(desk.emitted) == sent_before  # the shopper saw nothing

    longest = "y" * MAX_TEXT_CHARS
    status, _ = await desk.call(
        "POST", f"/requests/{request.id}/messages", json={"text": f"  {longest}\n"}
    )
    assert status == 201
    assert [m.text for m in desk.store.messages(request.id) if m.sender == AGENT] == [longest]


# --- the bridge to Rasa -----------------------------------------------------------------


async def test_resume_unpauses_under_the_lock_then_speaks_and_listens() -> None:
    from contextlib import asynccontextmanager

    from rasa.shared.core.events import ConversationPaused, ConversationResumed
    from rasa.shared.core.trackers import DialogueStateTracker

    from handover.rasa_bridge import resume_rasa_conversation

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
    assert calls == [
        ("lock", "c1"),
        ("save", False),
        ("execute", RESUME_AFTER_CLOSE),
        ("execute", "action_listen"),
        ("unlock", "c1"),
    ]
