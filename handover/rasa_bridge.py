"""The desk's bridge to the running Rasa agent: resuming a paused conversation, reading it.

The desk runs inside the Rasa server, so it drives the agent directly instead of through
Rasa's HTTP API (which would need `--enable-api` and a token): closing a chat un-pauses
the conversation under its lock and lets the bot speak; an agent opening a request sees
what the shopper and the bot said before.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from channels.extensions import ChannelHandle

logger = logging.getLogger(__name__)

#: Responses the bot says when it takes the conversation back (domain, handover block).
RESUME_AFTER_CLOSE = "utter_handover_closed"
RESUME_AFTER_LEAVE = "utter_queue_left"
#: The latest lines of the bot conversation an agent sees; older ones are in the transcript.
BOT_HISTORY_LIMIT = 60

#: Slots the self-service actions set (actions/self_service.py): a change done, a change
#: whose result is unknown, and the order the conversation proved.
CHANGE_DONE_SLOT = "self_service_change"
CHANGE_UNKNOWN_SLOT = "self_service_unknown"
PROVEN_ORDER_SLOT = "verified_order"
CHANGE_LABELS = {
    "cancel": "Cancelled order",
    "address": "Changed the delivery address of order",
    "size": "Changed a size in order",
    "invoice_copy": "Sent an invoice copy for order",
    "unsubscribe": "Unsubscribed the shopper from the newsletter",
}


def assistant_actions(events: Any, before: float | None = None) -> list[dict[str, Any]]:
    """What the assistant changed in this conversation, for the agent: one line per change
    done, and a warning per change whose result is unknown (the agent should check it)."""
    order: str | None = None
    done: list[dict[str, Any]] = []
    for event in events:
        if getattr(event, "type_name", "") != "slot":
            continue
        if before is not None and event.timestamp > before + 1:
            break
        name, value = getattr(event, "key", None), getattr(event, "value", None)
        if name == PROVEN_ORDER_SLOT:
            order = value if isinstance(value, str) else order
        elif name in (CHANGE_DONE_SLOT, CHANGE_UNKNOWN_SLOT) and value in CHANGE_LABELS:
            label = CHANGE_LABELS[value]
            text = label if value == "unsubscribe" else f"{label} {order or '(unknown)'}"
            if name == CHANGE_UNKNOWN_SLOT:
                text = f"Tried: {text[0].lower()}{text[1:]}; the result is unknown, please check"
            done.append(
                {
                    "kind": value,
                    "result": "done" if name == CHANGE_DONE_SLOT else "unknown",
                    "order_number": order,
                    "text": text,
                    "timestamp": event.timestamp,
                }
            )
    return done


#: Stands in for the agent in tests: (conversation_id, response name).
Resumer = Callable[[str, str], Awaitable[None]]


class RasaBridge:
    def __init__(self, channel: ChannelHandle | None, resumer: Resumer | None = None) -> None:
        self._channel = channel
        self._resumer = resumer

    async def resume(self, conversation_id: str, response_name: str) -> None:
        """Give the conversation back to the bot and let it say so.

        Failures are logged, not raised: the chat is closed in the queue either way, and
        the shopper's next message is answered because the conversation is resumed first.
        """
        try:
            if self._resumer is not None:
                await self._resumer(conversation_id, response_name)
            elif self._channel is not None and self._channel.agent is not None:
                await resume_rasa_conversation(
                    self._channel.agent,
                    conversation_id,
                    response_name,
                    self._channel.output_channel(),
                )
        except Exception:
            logger.exception("could not resume conversation after handover")

    async def assistant_did(
        self, conversation_id: str, before: float | None = None
    ) -> list[dict[str, Any]]:
        """The changes the assistant made (or tried) before the handover."""
        agent = self._channel.agent if self._channel is not None else None
        if agent is None:
            return []
        tracker = await agent.tracker_store.retrieve(conversation_id)
        return [] if tracker is None else assistant_actions(tracker.events, before)

    async def bot_conversation(
        self, conversation_id: str, before: float | None = None
    ) -> list[dict[str, Any]]:
        """What the shopper and the bot said (up to `before`), from the tracker store."""
        agent = self._channel.agent if self._channel is not None else None
        if agent is None:
            return []
        tracker = await agent.tracker_store.retrieve(conversation_id)
        if tracker is None:
            return []
        return bot_lines(tracker.events, before)[-BOT_HISTORY_LIMIT:]


def bot_lines(events: Any, before: float | None = None) -> list[dict[str, Any]]:
    """The shopper's and the bot's messages for the agent, oldest first.

    A button the shopper pressed arrives as its payload ("/human_handoff"): the line says
    the button's title as the shopper read it, from the latest bot message that offered
    that payload, and keeps the payload for the console to label when no title is known.
    """
    titles: dict[str, str] = {}
    lines: list[dict[str, Any]] = []
    for event in events:
        kind = getattr(event, "type_name", "")
        text = getattr(event, "text", None)
        if kind == "bot":
            for button in (getattr(event, "data", None) or {}).get("buttons") or []:
                if isinstance(button, dict) and button.get("payload") and button.get("title"):
                    titles[str(button["payload"]).strip()] = str(button["title"])
        if kind not in ("user", "bot") or not text:
            continue
        if before is not None and event.timestamp > before + 1:
            continue
        line = {
            "sender": "shopper" if kind == "user" else "bot",
            "text": text,
            "timestamp": event.timestamp,
        }
        if kind == "user" and text.strip().startswith("/"):
            line.update(payload=text.strip(), text=titles.get(text.strip(), text))
        lines.append(line)
    return lines


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
