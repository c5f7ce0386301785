"""The agent desk: a web chat extension that wires the handover parts into the channel.

It runs in the Rasa server's process, beside the socket.io server, so an agent's message
reaches the shopper's room at once and closing a chat resumes the paused Rasa
conversation directly through the running agent. The parts, one job each:

- `handover.desk_routes`: the agents' HTTP routes and their bearer-token check;
- `handover.pushes`: socket events to shoppers, and the poller for queue positions;
- `handover.rasa_bridge`: resuming and reading the conversation in Rasa.

This module only builds them from the settings, starts and stops them with the server,
and answers the channel's hooks. CORS is the channel's (`ChannelHandle.add_route`).
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

from channels import languages
from channels.extensions import ChannelHandle, WebchatExtension
from channels.settings import WebchatSettings
from handover.desk_routes import DeskRoutes, shopper_language
from handover.models import AGENT, SHOPPER, WAITING
from handover.pushes import ShopperPushes
from handover.rasa_bridge import (
    RESUME_AFTER_CLOSE,
    RESUME_AFTER_LEAVE,
    RasaBridge,
    Resumer,
    resume_rasa_conversation,
)
from handover.settings import HandoverSettings, load_handover_settings
from handover.store import Clock, HandoverStore, delete_conversation, make_engine

if TYPE_CHECKING:
    from sanic import Blueprint, Sanic
    from socketio import AsyncServer
    from sqlalchemy.engine import Connection

__all__ = ["RESUME_AFTER_CLOSE", "RESUME_AFTER_LEAVE", "AgentDesk", "resume_rasa_conversation"]


class AgentDesk(WebchatExtension):
    """Web chat extension (credentials.yml: `extensions: ["handover.desk:AgentDesk"]`).

    The keyword arguments exist for tests; Rasa creates it with the channel's settings
    only, and everything else comes from the environment when the channel registers it.
    """

    def __init__(
        self,
        webchat_settings: WebchatSettings | None = None,
        *,
        store: HandoverStore | None = None,
        settings: HandoverSettings | None = None,
        clock: Clock | None = None,
        resumer: Resumer | None = None,
    ) -> None:
        super().__init__(webchat_settings)  # type: ignore[arg-type]
        self._settings = settings
        self._store = store
        self._clock = clock or time.time
        self._resumer = resumer
        self._pushes: ShopperPushes | None = None
        self._bridge = RasaBridge(None, resumer)

    @property
    def handover_settings(self) -> HandoverSettings:
        if self._settings is None:
            self._settings = load_handover_settings()
        return self._settings

    @property
    def store(self) -> HandoverStore:
        # Built on first use (at the latest when the channel registers the desk), not at
        # import: tests and tools may import the desk without a database.
        if self._store is None:
            s = self.handover_settings
            self._store = HandoverStore(
                make_engine(s.database_url),
                clock=self._clock,
                default_handling_minutes=s.default_handling_minutes,
                median_window=s.median_window,
            )
        return self._store

    @property
    def pushes(self) -> ShopperPushes:
        """Pushes reach no widget until the channel registers the desk."""
        if self._pushes is None:
            self._pushes = ShopperPushes(
                None, self.store, self.handover_settings.position_poll_seconds
            )
        return self._pushes

    # ------------------------------------------------------------------ hooks

    def register(self, blueprint: Blueprint, sio: AsyncServer, channel: ChannelHandle) -> None:
        settings = self.handover_settings  # a bad setting stops the server here
        self._pushes = ShopperPushes(channel, self.store, settings.position_poll_seconds)
        self._bridge = RasaBridge(channel, self._resumer)
        routes = DeskRoutes(
            self.store, settings.agent_tokens, self._pushes, self._bridge, self._clock
        )
        routes.add_to(channel)

        @blueprint.listener("after_server_start")
        async def start(app: Sanic, _loop: Any) -> None:
            await asyncio.to_thread(self.store.create_schema)
            self.pushes.start()

        @blueprint.listener("before_server_stop")
        async def stop(app: Sanic, _loop: Any) -> None:
            await self.pushes.stop()

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        message = await asyncio.to_thread(self.store.add_shopper_message, conversation_id, text)
        if message is None:
            return False
        if await asyncio.to_thread(self._first_words_in_queue, message.request_id):
            # The bot is silent while the shopper waits: without this line their first
            # message got no answer at all. Kept with the chat, so the agent reads it too.
            language = await asyncio.to_thread(shopper_language, self.store, conversation_id)
            said = languages.say("queue_message_kept", language)
            await asyncio.to_thread(self.store.add_system_message, message.request_id, said)
            await self.pushes.system_line(conversation_id, said)
        return True

    def _first_words_in_queue(self, request_id: int) -> bool:
        """The request still waits and this is the first thing the shopper wrote in it."""
        if self.store.get(request_id).status != WAITING:
            return False
        return [m.sender for m in self.store.messages(request_id)].count(SHOPPER) == 1

    async def on_leave_queue(self, conversation_id: str) -> None:
        request = await asyncio.to_thread(self.store.leave, conversation_id)
        if request is None:
            return
        await self.pushes.left(conversation_id)
        await self._bridge.resume(conversation_id, RESUME_AFTER_LEAVE)
        await self.pushes.broadcast_positions()

    async def on_session_resumed(self, conversation_id: str) -> None:
        """A reloaded widget hears where it stands: position and wait, or its agent (the
        pushes only go out when something changes, so after a reload the queue bar and
        its Leave queue button were gone while the shopper still waited)."""
        await self.pushes.current_state(conversation_id)

    def delete_conversation(self, connection: Connection, conversation_id: str) -> dict[str, int]:
        return delete_conversation(connection, conversation_id)

    async def transcript_extra(self, conversation_id: str) -> list[dict[str, Any]]:
        """Agent and system lines of the agent chat; the shopper's are in the tracker."""
        messages = await asyncio.to_thread(self.store.conversation_messages, conversation_id)
        agents: dict[int, str | None] = {}
        extra: list[dict[str, Any]] = []
        for m in messages:
            if m.sender == SHOPPER:
                continue  # also sent to Rasa, so the tracker has them already
            if m.sender == AGENT and m.request_id not in agents:
                request = await asyncio.to_thread(self.store.get, m.request_id)
                agents[m.request_id] = request.agent
            extra.append(
                {
                    "sender": m.sender,
                    "text": m.text,
                    "timestamp": m.created_at,
                    **({"name": agents[m.request_id]} if m.sender == AGENT else {}),
                }
            )
        return extra
