"""What the desk pushes into shoppers' widgets: agent messages, queue state and positions.

Every push goes through the channel's `emit_to_conversation`, so it reaches the shopper's
room from whichever worker runs the desk. A push that fails is logged and dropped: the
agent's action (the message stored, the chat closed) has happened, and the widget catches
up on its next update; failing the agent's request would only make them retry it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import TYPE_CHECKING, Any

from handover.models import ACTIVE, WAITING
from handover.store import HandoverStore, RequestView

if TYPE_CHECKING:
    from channels.extensions import ChannelHandle

logger = logging.getLogger(__name__)


class ShopperPushes:
    """Socket events to shoppers, and the poller that notices joins made elsewhere."""

    def __init__(
        self, channel: ChannelHandle | None, store: HandoverStore, poll_seconds: float
    ) -> None:
        self._channel = channel
        self._store = store
        self._poll_seconds = poll_seconds
        self._last_positions: dict[str, tuple[int, int]] = {}
        self._poller: asyncio.Task[None] | None = None

    async def emit(self, conversation_id: str, event: str, data: Any) -> None:
        if self._channel is None:
            return
        try:
            await self._channel.emit_to_conversation(conversation_id, event, data)
        except Exception:
            logger.exception("could not reach the shopper's widget")

    async def _active(self, conversation_id: str, agent: str | None) -> None:
        await self.emit(
            conversation_id, "handover_status", {"state": "active", "agent_name": agent}
        )

    async def _waiting(self, conversation_id: str, position: int, minutes: int) -> None:
        await self.emit(
            conversation_id,
            "handover_status",
            {"state": "waiting", "position": position, "estimated_wait_minutes": minutes},
        )

    async def agent_joined(self, claimed: RequestView, text: str) -> None:
        await self._active(claimed.conversation_id, claimed.agent)
        await self.system_line(claimed.conversation_id, text)
        await self.broadcast_positions()

    async def system_line(self, conversation_id: str, text: str) -> None:
        await self.emit(conversation_id, "bot_uttered", {"text": text, "sender": "system"})

    async def agent_message(self, conversation_id: str, text: str, agent: str) -> None:
        await self.emit(
            conversation_id, "bot_uttered", {"text": text, "sender": "agent", "agent_name": agent}
        )

    async def closed(self, conversation_id: str) -> None:
        await self.emit(conversation_id, "handover_status", {"state": "closed"})

    async def left(self, conversation_id: str) -> None:
        """The shopper left the queue: no agent was there, so nothing to rate or to say
        about an agent leaving (the widget told "The agent has left the chat" before)."""
        await self.emit(conversation_id, "handover_status", {"state": "left"})

    async def current_state(self, conversation_id: str) -> None:
        """The conversation's open request as the widget shows it, sent to it again."""
        request = await asyncio.to_thread(self._store.open_request, conversation_id)
        if request is None:
            return
        if request.status == ACTIVE:
            await self._active(conversation_id, request.agent)
            return
        if request.status == WAITING:
            positions = await asyncio.to_thread(self._store.waiting_positions)
            if conversation_id not in positions:
                return  # claimed meanwhile: the join push is on its way
            await self._waiting(conversation_id, *positions[conversation_id])

    async def broadcast_positions(self) -> None:
        """Tell every waiting shopper whose position or estimate changed."""
        positions = await asyncio.to_thread(self._store.waiting_positions)
        for conversation_id, (position, minutes) in positions.items():
            if self._last_positions.get(conversation_id) != (position, minutes):
                await self._waiting(conversation_id, position, minutes)
        self._last_positions = positions

    def start(self) -> None:
        """Poll in the background: joins happen in the action server, not here."""
        self._poller = asyncio.create_task(self._poll())

    async def stop(self) -> None:
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None

    async def _poll(self) -> None:
        while True:
            try:
                await self.broadcast_positions()
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.exception("handover position update failed")
            await asyncio.sleep(self._poll_seconds)
