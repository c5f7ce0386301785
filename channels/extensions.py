"""The seam between the web chat channel and features built on it (the agent desk).

An extension is a class named in credentials.yml by import path:

    channels.webchat.WebchatInput:
      extensions: ["handover.desk:AgentDesk"]

The channel creates one instance per channel, `cls(settings)`, when Rasa builds the
channel, and calls the hooks below. Every hook is optional: the channel looks each one up
with `getattr`, so an extension may subclass `WebchatExtension` (no-op defaults) or just
define the hooks it needs. Hooks may be plain functions or coroutines, except
`delete_conversation`, which runs inside a database transaction in a worker thread and
must be synchronous.

Why these hooks:
- `register(blueprint, sio, channel)`: agent routes (under /webhooks/webchat/agent/...)
  and socket handlers live beside the shopper's, in the same process, so an agent's
  message reaches the shopper's room with `await channel.emit_to_conversation(...)`.
- `on_shopper_message(conversation_id, text) -> bool`: called for every accepted shopper
  message before it goes to Rasa, e.g. to relay it to the agent. The message goes to Rasa
  regardless of the result (a paused conversation logs it without answering), so the
  tracker stays the one record of what the shopper wrote; True only means "relayed".
- `on_leave_queue(conversation_id)`: the shopper pressed "Leave queue" in the widget.
- `delete_conversation(connection, conversation_id) -> dict[str, int]`: called inside
  the delete route's transaction (a SQLAlchemy Connection on the tracker store's
  database) so that tracker events and handover rows go together or not at all. Return
  counts such as {"handover_requests": 1, "agent_messages": 4}; they are reported.
- `transcript_extra(conversation_id) -> list[dict]`: messages the tracker does not hold,
  such as `{"sender": "agent", "text": ..., "timestamp": <epoch float or ISO>,
  "name": "Sam"}`, merged into the transcript by time.

Agent messages to the shopper are `bot_uttered` events with
`{"text": ..., "sender": "agent", "agent_name": "Sam"}`; queue state goes out as
`handover_status` with `{"state": "waiting", "position": 3, "estimated_wait_minutes": 6}`,
`{"state": "active", "agent_name": "Sam"}` or `{"state": "closed"}`.
"""

from __future__ import annotations

import importlib
import inspect
import logging
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from channels.settings import WebchatSettings

if TYPE_CHECKING:
    from sanic import Blueprint
    from socketio import AsyncServer
    from sqlalchemy.engine import Connection

    from channels.webchat import WebchatInput

logger = logging.getLogger(__name__)


@runtime_checkable
class WebchatExtensionProtocol(Protocol):
    """What the channel requires of every extension: only the constructor."""

    def __init__(self, settings: WebchatSettings) -> None: ...


class WebchatExtension:
    """Convenience base class: every hook present, doing nothing."""

    def __init__(self, settings: WebchatSettings) -> None:
        self.settings = settings

    def register(self, blueprint: Blueprint, sio: AsyncServer, channel: WebchatInput) -> None:
        """Add routes to `blueprint` or socket handlers to `sio`."""

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        """Return True if the message was relayed somewhere; it goes to Rasa anyway."""
        return False

    async def on_leave_queue(self, conversation_id: str) -> None:
        """The shopper no longer wants to wait for an agent."""

    def delete_conversation(self, connection: Connection, conversation_id: str) -> dict[str, int]:
        """Delete this extension's rows of the conversation; runs inside the transaction."""
        return {}

    def transcript_extra(self, conversation_id: str) -> list[dict[str, Any]]:
        """Messages of the conversation that are not tracker events (agent messages)."""
        return []


class ExtensionError(ValueError):
    """An extension named in credentials.yml cannot be loaded; raised at start-up."""


def load_extension(path: str, settings: WebchatSettings) -> Any:
    """Import "package.module:ClassName" and instantiate it with the settings."""
    module_name, sep, class_name = path.partition(":")
    if not sep or not module_name or not class_name:
        raise ExtensionError(f"extension {path!r} must look like 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        raise ExtensionError(f"cannot load web chat extension {path!r}: {error}") from error
    return cls(settings)


async def call_hook(extension: Any, hook: str, *args: Any) -> Any:
    """Call an optional hook, awaiting it if it is a coroutine; None if it is missing."""
    function = getattr(extension, hook, None)
    if function is None:
        return None
    result = function(*args)
    if inspect.isawaitable(result):
        result = await result
    return result
