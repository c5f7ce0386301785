"""The agent desk: agent routes and shopper hooks inside the web chat channel.

It runs in the Rasa server's process, beside the socket.io server, so an agent's message
reaches the shopper's room at once (`channel.emit_to_conversation`) and closing a chat
can resume the paused Rasa conversation directly through the running agent, under the
conversation's lock. Agents authenticate with bearer tokens from the settings, compared
in constant time; nothing here trusts the browser.

Routes (prefix /webhooks/webchat):
  GET  /agent/me                        the agent's name (checks a token)
  GET  /agent/queue                     waiting and active requests
  GET  /agent/requests/<id>             one request, its chat and the bot conversation
  POST /agent/claim                     {"request_id": n} or {} for the longest waiting
  POST /agent/requests/<id>/messages    {"text": "..."}
  POST /agent/requests/<id>/close
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any, Protocol

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from handover.models import ACTIVE, AGENT, SHOPPER, SYSTEM, WAITING
from handover.settings import HandoverSettings, load_handover_settings
from handover.store import (
    Clock,
    Conflict,
    HandoverError,
    HandoverStore,
    NotFound,
    RequestView,
    delete_conversation,
    make_engine,
)

if TYPE_CHECKING:
    from sanic import Blueprint, Sanic
    from socketio import AsyncServer
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

#: Responses the bot says when it takes the conversation back (domain.yml, handover block).
RESUME_AFTER_CLOSE = "utter_handover_closed"
RESUME_AFTER_LEAVE = "utter_queue_left"
BOT_HISTORY_LIMIT = 60
DEFAULT_ORIGINS = ("http://localhost:8080", "http://127.0.0.1:8080")


class Channel(Protocol):
    """What the desk needs of the web chat channel."""

    async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
        ...

    def get_output_channel(self) -> Any: ...


Resumer = Callable[[str, str], Awaitable[None]]


class AgentDesk:
    """Web chat extension (credentials.yml: `extensions: ["handover.desk:AgentDesk"]`)."""

    def __init__(
        self,
        webchat_settings: Any = None,
        *,
        store: HandoverStore | None = None,
        settings: HandoverSettings | None = None,
        clock: Clock | None = None,
        resumer: Resumer | None = None,
    ) -> None:
        self.webchat_settings = webchat_settings
        self._settings = settings
        self._store = store
        self._clock = clock or time.time
        self._resumer = resumer
        self._channel: Channel | None = None
        self._app: Sanic | None = None
        self._poller: asyncio.Task[None] | None = None
        self._last_positions: dict[str, tuple[int, int]] = {}

    # ------------------------------------------------------------------ dependencies

    @property
    def settings(self) -> HandoverSettings:
        if self._settings is None:
            self._settings = load_handover_settings()
        return self._settings

    @property
    def store(self) -> HandoverStore:
        if self._store is None:
            s = self.settings
            self._store = HandoverStore(
                make_engine(s.database_url), clock=self._clock,
                default_handling_minutes=s.default_handling_minutes,
                median_window=s.median_window,
            )
        return self._store

    def agent_for(self, header: str | None) -> str | None:
        """The agent's name for an `Authorization: Bearer` header, or None.

        Every configured token is compared, each in constant time, so neither the
        comparison nor the number of comparisons tells how close a guess was.
        """
        scheme, _, given = (header or "").partition(" ")
        given = given.strip()
        if scheme.lower() != "bearer" or not given:
            return None
        found: str | None = None
        for token, name in self.settings.agent_tokens.items():
            if hmac.compare_digest(token.encode(), given.encode()):
                found = name
        return found

    # ------------------------------------------------------------------ extension hooks

    def register(self, blueprint: Blueprint, sio: AsyncServer, channel: Any) -> None:
        self._channel = channel
        self.settings  # noqa: B018 - fail at start-up on a bad setting, not on first use
        self._register_routes(blueprint)

        @blueprint.listener("after_server_start")
        async def _start(app: Sanic, _loop: Any) -> None:
            self._app = app
            await asyncio.to_thread(self.store.create_schema)
            self._poller = asyncio.create_task(self._poll_positions())

        @blueprint.listener("before_server_stop")
        async def _stop(app: Sanic, _loop: Any) -> None:
            if self._poller is not None:
                self._poller.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._poller

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        message = await asyncio.to_thread(self.store.add_shopper_message, conversation_id, text)
        return message is not None

    async def on_leave_queue(self, conversation_id: str) -> None:
        request = await asyncio.to_thread(self.store.leave, conversation_id)
        if request is None:
            return
        await self._emit(conversation_id, "handover_status", {"state": "closed"})
        await self.resume(conversation_id, RESUME_AFTER_LEAVE)
        await self.broadcast_positions()

    def delete_conversation(self, connection: Connection, conversation_id: str
                            ) -> dict[str, int]:
        return delete_conversation(connection, conversation_id)

    async def transcript_extra(self, conversation_id: str) -> list[dict[str, Any]]:
        """Agent and shopper lines of the agent chat; the bot's are in the tracker."""
        messages = await asyncio.to_thread(self.store.conversation_messages, conversation_id)
        agents: dict[int, str | None] = {}
        extra: list[dict[str, Any]] = []
        for m in messages:
            if m.sender == SHOPPER:
                continue  # also sent to Rasa, so the tracker has them already
            if m.sender == AGENT and m.request_id not in agents:
                agents[m.request_id] = (await asyncio.to_thread(self.store.get, m.request_id)
                                        ).agent
            extra.append({
                "sender": m.sender, "text": m.text, "timestamp": m.created_at,
                **({"name": agents[m.request_id]} if m.sender == AGENT else {}),
            })
        return extra

    # ------------------------------------------------------------------ shopper side

    async def _emit(self, conversation_id: str, event: str, data: Any) -> None:
        if self._channel is None:
            return
        try:
            await self._channel.emit_to_conversation(conversation_id, event, data)
        except Exception:
            logger.exception("could not reach the shopper's widget")

    async def broadcast_positions(self) -> None:
        """Tell every waiting shopper whose position or estimate changed."""
        positions = await asyncio.to_thread(self.store.waiting_positions)
        for conversation_id, (position, minutes) in positions.items():
            if self._last_positions.get(conversation_id) != (position, minutes):
                await self._emit(conversation_id, "handover_status", {
                    "state": "waiting", "position": position,
                    "estimated_wait_minutes": minutes,
                })
        self._last_positions = positions

    async def _poll_positions(self) -> None:
        """Joins happen in the action server, so the desk notices them by polling."""
        while True:
            try:
                await self.broadcast_positions()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handover position update failed")
            await asyncio.sleep(self.settings.position_poll_seconds)

    async def resume(self, conversation_id: str, response_name: str) -> None:
        """Give the conversation back to the bot and let it say so."""
        try:
            if self._resumer is not None:
                await self._resumer(conversation_id, response_name)
            elif self._app is not None and self._channel is not None:
                await resume_rasa_conversation(
                    self._app.ctx.agent, conversation_id, response_name,
                    self._channel.get_output_channel(),
                )
        except Exception:
            logger.exception("could not resume conversation after handover")

    # ------------------------------------------------------------------ agent routes

    def _register_routes(self, blueprint: Blueprint) -> None:
        desk = self

        Handler = Callable[..., Coroutine[Any, Any, HTTPResponse]]

        def guarded(handler: Handler) -> Handler:
            async def wrapper(request: Request, **kwargs: Any) -> HTTPResponse:
                cors = desk.cors_headers(request)
                if request.method == "OPTIONS":
                    return response.empty(headers=cors)
                agent = desk.agent_for(request.headers.get("authorization"))
                if agent is None:
                    return response.json(
                        {"error": "agent token missing or wrong"}, status=401,
                        headers={**cors, "WWW-Authenticate": "Bearer"},
                    )
                try:
                    result = await handler(request, agent, **kwargs)
                except NotFound as exc:
                    result = response.json({"error": str(exc)}, status=404)
                except Conflict as exc:
                    result = response.json({"error": str(exc)}, status=409)
                except HandoverError as exc:
                    result = response.json({"error": str(exc)}, status=400)
                result.headers.update(cors)
                return result

            wrapper.__name__ = f"agent_{handler.__name__}"
            return wrapper

        async def me(request: Request, agent: str) -> HTTPResponse:
            return response.json({"agent": agent})

        async def queue(request: Request, agent: str) -> HTTPResponse:
            return response.json(await asyncio.to_thread(desk.queue_view, agent))

        async def detail(request: Request, agent: str, request_id: int) -> HTTPResponse:
            req = await asyncio.to_thread(desk.store.get, request_id)
            messages = await asyncio.to_thread(desk.store.messages, request_id)
            bot = await desk.bot_conversation(req.conversation_id, before=req.created_at)
            return response.json({
                "request": desk.request_view(req, desk._clock()),
                "messages": [m.as_dict() for m in messages],
                "bot_conversation": bot,
            })

        async def claim(request: Request, agent: str) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            raw_id = body.get("request_id")
            if raw_id is not None and (not isinstance(raw_id, int) or isinstance(raw_id, bool)):
                return response.json({"error": "request_id must be a number"}, status=400)
            claimed = await asyncio.to_thread(desk.store.claim, agent, raw_id)
            if claimed is None:
                return response.json({"error": "nobody is waiting"}, status=404)
            await desk.on_claimed(claimed)
            return response.json({"request": desk.request_view(claimed, desk._clock())})

        async def send(request: Request, agent: str, request_id: int) -> HTTPResponse:
            body = request.json if isinstance(request.json, dict) else {}
            text = body.get("text")
            if not isinstance(text, str) or not text.strip():
                return response.json({"error": "text is required"}, status=400)
            message = await asyncio.to_thread(
                desk.store.add_message, request_id, AGENT, text, agent)
            await desk._emit(message.conversation_id, "bot_uttered", {
                "text": message.text, "sender": "agent", "agent_name": agent,
            })
            return response.json({"message": message.as_dict()}, status=201)

        async def close(request: Request, agent: str, request_id: int) -> HTTPResponse:
            closed = await asyncio.to_thread(desk.store.close, request_id, agent, "agent")
            await desk._emit(closed.conversation_id, "handover_status", {"state": "closed"})
            await desk.resume(closed.conversation_id, RESUME_AFTER_CLOSE)
            return response.json({"request": desk.request_view(closed, desk._clock())})

        prefix = "/agent"
        blueprint.add_route(guarded(me), f"{prefix}/me", methods=["GET", "OPTIONS"])
        blueprint.add_route(guarded(queue), f"{prefix}/queue", methods=["GET", "OPTIONS"])
        blueprint.add_route(guarded(detail), f"{prefix}/requests/<request_id:int>",
                            methods=["GET", "OPTIONS"])
        blueprint.add_route(guarded(claim), f"{prefix}/claim", methods=["POST", "OPTIONS"])
        blueprint.add_route(guarded(send), f"{prefix}/requests/<request_id:int>/messages",
                            methods=["POST", "OPTIONS"])
        blueprint.add_route(guarded(close), f"{prefix}/requests/<request_id:int>/close",
                            methods=["POST", "OPTIONS"])

    def cors_headers(self, request: Request) -> dict[str, str]:
        """The agent console is served from the static site (another origin)."""
        origin = request.headers.get("origin", "")
        allowed = getattr(self.webchat_settings, "allowed_origins", DEFAULT_ORIGINS)
        headers = {"Cache-Control": "no-store"}
        if origin and origin in allowed:
            headers.update({
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": "GET, POST, OPTIONS",
                "Access-Control-Allow-Headers": "Authorization, Content-Type",
                "Access-Control-Max-Age": "600",
                "Vary": "Origin",
            })
        return headers

    async def on_claimed(self, claimed: RequestView) -> None:
        text = f"{claimed.agent} from our customer service has joined the chat."
        await asyncio.to_thread(self.store.add_message, claimed.id, SYSTEM, text)
        await self._emit(claimed.conversation_id, "handover_status",
                         {"state": "active", "agent_name": claimed.agent})
        await self._emit(claimed.conversation_id, "bot_uttered",
                         {"text": text, "sender": "system"})
        await self.broadcast_positions()

    # ------------------------------------------------------------------ views

    def request_view(self, req: RequestView, now: float) -> dict[str, Any]:
        data = req.as_dict()
        data["waiting_seconds"] = round(max(0.0, (req.claimed_at or now) - req.created_at))
        return data

    def queue_view(self, agent: str) -> dict[str, Any]:
        now = self._clock()
        open_requests = self.store.queue()
        positions = self.store.waiting_positions()
        waiting, active = [], []
        for req in open_requests:
            view = self.request_view(req, now)
            if req.status == WAITING:
                view["position"] = positions.get(req.conversation_id, (None, None))[0]
                waiting.append(view)
            elif req.status == ACTIVE:
                view["mine"] = req.agent == agent
                active.append(view)
        return {"agent": agent, "waiting": waiting, "active": active,
                "offline": [self.request_view(r, now) for r in self.store.offline_requests()]}

    async def bot_conversation(self, conversation_id: str, before: float | None = None
                               ) -> list[dict[str, Any]]:
        """What the shopper and the bot said, from the tracker store of the running agent."""
        agent = getattr(self._app.ctx, "agent", None) if self._app is not None else None
        if agent is None:
            return []
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return []
        lines: list[dict[str, Any]] = []
        for event in tracker.events:
            kind = getattr(event, "type_name", "")
            text = getattr(event, "text", None)
            if kind not in ("user", "bot") or not text:
                continue
            if before is not None and event.timestamp > before + 1:
                continue
            lines.append({"sender": "shopper" if kind == "user" else "bot", "text": text,
                          "timestamp": event.timestamp})
        return lines[-BOT_HISTORY_LIMIT:]


async def resume_rasa_conversation(
    agent: Any, conversation_id: str, response_name: str, output_channel: Any
) -> None:
    """Un-pause a conversation and run one bot response, under the conversation's lock.

    An action is executed rather than an intent triggered so that the statistics don't
    count a shopper message the shopper never wrote.
    """
    from rasa.shared.core.events import ConversationResumed

    async with agent.lock_store.lock(conversation_id):
        processor = agent.processor
        tracker = await processor.get_tracker(conversation_id)
        if tracker.is_paused():
            tracker.update(ConversationResumed())
            await processor.save_tracker(tracker)
        await agent.execute_action(conversation_id, response_name, output_channel, None, None)
        # Rules expect every shopper turn to follow action_listen; without it the next
        # message would not match them.
        await agent.execute_action(conversation_id, "action_listen", output_channel, None, None)
