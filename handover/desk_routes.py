"""The agent desk's HTTP routes: who the agent is, and what they may do with the queue.

Agents authenticate with bearer tokens from the settings (AGENT_TOKENS), each compared in
constant time; nothing here trusts the browser. The routes are added through the
channel's handle, so they share the channel's prefix and CORS policy (the console is
served from another origin and POSTs JSON with the token) and have none of their own.

Routes (prefix /webhooks/webchat):
  GET  /agent/me                        the agent's name (checks a token)
  GET  /agent/queue                     waiting and active requests
  GET  /agent/requests/<id>             one request, its chat and the bot conversation
  POST /agent/claim                     {"request_id": n} or {} for the longest waiting
  POST /agent/requests/<id>/messages    {"text": "..."}
  POST /agent/requests/<id>/close
  GET  /agent/ratings                   the agent's own ratings of the last 30 days
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels import languages
from handover.models import ACTIVE, AGENT, SYSTEM, WAITING
from handover.pushes import ShopperPushes
from handover.rasa_bridge import RESUME_AFTER_CLOSE, RasaBridge
from handover.ratings import RATING_DAYS, agent_ratings
from handover.store import (
    MAX_TEXT_CHARS,
    Clock,
    Conflict,
    HandoverError,
    HandoverStore,
    NotFound,
    RequestView,
)

if TYPE_CHECKING:
    from channels.extensions import ChannelHandle

#: Request ids are 32-bit integers in every database the store supports; a larger one
#: (a typo or a probe) cannot exist, and must not reach the driver, which would fail.
MAX_REQUEST_ID = 2**31 - 1

AgentHandler = Callable[..., Awaitable[HTTPResponse]]


def agent_for(tokens: Mapping[str, str], header: str | None) -> str | None:
    """The agent's name for an `Authorization: Bearer` header, or None.

    Every configured token is compared, each in constant time, so neither the
    comparison nor the number of comparisons tells how close a guess was.
    """
    scheme, _, given = (header or "").partition(" ")
    given = given.strip()
    if scheme.lower() != "bearer" or not given:
        return None
    found: str | None = None
    for token, name in tokens.items():
        if hmac.compare_digest(token.encode(), given.encode()):
            found = name
    return found


def _check_id(request_id: int) -> int:
    if not 1 <= request_id <= MAX_REQUEST_ID:
        raise NotFound(f"no request {request_id}")
    return request_id


def _json_body(request: Request) -> dict[str, Any]:
    body = request.json
    return body if isinstance(body, dict) else {}


def shopper_language(store: HandoverStore, conversation_id: str) -> str:
    """The conversation's language (en/sv/fi/nb), from the tracker store's latest
    `language` slot event (the queue lives in the same database); English if none."""
    found = languages.conversation_language(store.engine, conversation_id)
    return languages.language_or_default(found)


class DeskRoutes:
    """The handlers; each runs only for a known agent and answers errors as JSON."""

    def __init__(
        self,
        store: HandoverStore,
        tokens: Mapping[str, str],
        pushes: ShopperPushes,
        bridge: RasaBridge,
        clock: Clock,
    ) -> None:
        self.store = store
        self.tokens = tokens
        self.pushes = pushes
        self.bridge = bridge
        self.clock = clock

    def add_to(self, channel: ChannelHandle) -> None:
        guard = self._guarded
        channel.add_route(guard(self.me), "/agent/me", ["GET"])
        channel.add_route(guard(self.queue), "/agent/queue", ["GET"])
        channel.add_route(guard(self.detail), "/agent/requests/<request_id:int>", ["GET"])
        channel.add_route(guard(self.claim), "/agent/claim", ["POST"])
        channel.add_route(guard(self.send), "/agent/requests/<request_id:int>/messages", ["POST"])
        channel.add_route(guard(self.close), "/agent/requests/<request_id:int>/close", ["POST"])
        channel.add_route(guard(self.ratings), "/agent/ratings", ["GET"])

    def _guarded(self, handler: AgentHandler) -> AgentHandler:
        async def route(request: Request, **kwargs: Any) -> HTTPResponse:
            # Queue data is personal and changes by the second: no cache may keep it.
            no_store = {"Cache-Control": "no-store"}
            agent = agent_for(self.tokens, request.headers.get("authorization"))
            if agent is None:
                return response.json(
                    {"error": "agent token missing or wrong"},
                    status=401,
                    headers={**no_store, "WWW-Authenticate": "Bearer"},
                )
            try:
                if "request_id" in kwargs:
                    _check_id(kwargs["request_id"])
                result = await handler(request, agent, **kwargs)
            except NotFound as exc:
                result = response.json({"error": str(exc)}, status=404)
            except Conflict as exc:
                result = response.json({"error": str(exc)}, status=409)
            except HandoverError as exc:
                result = response.json({"error": str(exc)}, status=400)
            result.headers.update(no_store)
            return result

        route.__name__ = f"agent_{handler.__name__}"
        return route

    async def me(self, request: Request, agent: str) -> HTTPResponse:
        return response.json({"agent": agent})

    async def queue(self, request: Request, agent: str) -> HTTPResponse:
        return response.json(await asyncio.to_thread(self.queue_view, agent))

    async def detail(self, request: Request, agent: str, request_id: int) -> HTTPResponse:
        req = await asyncio.to_thread(self.store.get, request_id)
        messages = await asyncio.to_thread(self.store.messages, request_id)
        bot = await self.bridge.bot_conversation(req.conversation_id, before=req.created_at)
        did = await self.bridge.assistant_did(req.conversation_id, before=req.created_at)
        view = self.request_view(req, self.clock())
        view["language"] = await asyncio.to_thread(self.language, req.conversation_id)
        return response.json(
            {
                "request": view,
                "messages": [m.as_dict() for m in messages],
                "bot_conversation": bot,
                "assistant_did": did,
            }
        )

    async def claim(self, request: Request, agent: str) -> HTTPResponse:
        raw_id = _json_body(request).get("request_id")
        if raw_id is not None and (not isinstance(raw_id, int) or isinstance(raw_id, bool)):
            return response.json({"error": "request_id must be a number"}, status=400)
        claimed = await asyncio.to_thread(
            self.store.claim, agent, None if raw_id is None else _check_id(raw_id)
        )
        if claimed is None:
            return response.json({"error": "nobody is waiting"}, status=404)
        # Said to the shopper, so in the conversation's language.
        language = await asyncio.to_thread(self.language, claimed.conversation_id)
        text = languages.say("agent_joined", language, agent=claimed.agent)
        await asyncio.to_thread(self.store.add_message, claimed.id, SYSTEM, text)
        await self.pushes.agent_joined(claimed, text)
        return response.json({"request": self.request_view(claimed, self.clock())})

    async def send(self, request: Request, agent: str, request_id: int) -> HTTPResponse:
        text = _json_body(request).get("text")
        if not isinstance(text, str) or not text.strip():
            return response.json({"error": "text is required"}, status=400)
        length = len(text.strip())
        if length > MAX_TEXT_CHARS:
            # Refused whole, never cut: the agent keeps the text and can split it.
            return response.json(
                {
                    "error": f"The message is too long ({length} characters, at most "
                    f"{MAX_TEXT_CHARS}). Please shorten it or send it in parts.",
                    "max_chars": MAX_TEXT_CHARS,
                },
                status=413,
            )
        message = await asyncio.to_thread(self.store.add_message, request_id, AGENT, text, agent)
        await self.pushes.agent_message(message.conversation_id, message.text, agent)
        return response.json({"message": message.as_dict()}, status=201)

    async def close(self, request: Request, agent: str, request_id: int) -> HTTPResponse:
        closed = await asyncio.to_thread(self.store.close, request_id, agent, "agent")
        await self.pushes.closed(closed.conversation_id)
        await self.bridge.resume(closed.conversation_id, RESUME_AFTER_CLOSE)
        return response.json({"request": self.request_view(closed, self.clock())})

    async def ratings(self, request: Request, agent: str) -> HTTPResponse:
        summary = await asyncio.to_thread(
            agent_ratings, self.store.engine, agent, self.clock(), RATING_DAYS
        )
        return response.json(summary)

    # ------------------------------------------------------------------ views

    def language(self, conversation_id: str) -> str:
        return shopper_language(self.store, conversation_id)

    def request_view(self, req: RequestView, now: float) -> dict[str, Any]:
        data = req.as_dict()
        data["waiting_seconds"] = round(max(0.0, (req.claimed_at or now) - req.created_at))
        return data

    def queue_view(self, agent: str) -> dict[str, Any]:
        now = self.clock()
        open_requests = self.store.queue()
        positions = self.store.waiting_positions()
        waiting, active = [], []
        for req in open_requests:
            view = self.request_view(req, now)
            view["language"] = self.language(req.conversation_id)
            if req.status == WAITING:
                view["position"] = positions.get(req.conversation_id, (None, None))[0]
                waiting.append(view)
            elif req.status == ACTIVE:
                view["mine"] = req.agent == agent
                active.append(view)
        return {
            "agent": agent,
            "waiting": waiting,
            "active": active,
            "offline": [self.request_view(r, now) for r in self.store.offline_requests()],
        }
