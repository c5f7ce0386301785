"""The contract between the web chat channel and the features built on it (the agent desk).

An extension subclasses `WebchatExtension` and is named in credentials.yml by import path:

    channels.webchat.WebchatInput:
      extensions: ["handover.desk:AgentDesk"]

The channel creates one instance per channel, `cls(settings)`, when Rasa builds the
channel, and calls every hook of the base class; an extension overrides the ones it needs
(the others do nothing). Because the channel calls hooks by their names, a misspelt hook
would simply never run. So the base class checks each subclass when Python defines it: a
public method that looks like a hook but is none (`on_shoper_message`, `on_queue_left`,
`transcript_extras`: any `on_` name or a near miss of a hook's name), a hook taking
other arguments than the contract's, or a coroutine where the contract has a plain
function (or the other way round) raises `ExtensionError`, which stops the server at
start-up. mypy checks the overrides' types against the base class.

Extensions reach the channel only through the `ChannelHandle` that `register` gets, never
by importing `channels.webchat`: that keeps the channel free to change its insides.

Why these hooks:
- `register(blueprint, sio, channel)`: add HTTP routes with `channel.add_route` (they live
  under /webhooks/webchat/ and get the channel's CORS policy, preflight included) and
  socket handlers on `sio`, in the Rasa server's process, so that an agent's message
  reaches the shopper's room at once (`await channel.emit_to_conversation(...)`). The
  blueprint is there for start and stop listeners.
- `on_shopper_message(conversation_id, text) -> bool`: called for every accepted shopper
  message before it goes to Rasa, e.g. to relay it to the agent. The message goes to Rasa
  regardless of the result (a paused conversation logs it without answering), so the
  tracker stays the one record of what the shopper wrote; True only means "relayed".
- `on_leave_queue(conversation_id)`: the shopper pressed "Leave queue" in the widget.
- `on_session_resumed(conversation_id)`: a widget came back to its conversation (a reload,
  a new tab, a dropped connection), after `session_confirm`; e.g. to tell it again where it
  stands in the queue, which it otherwise hears only when something changes.
- `delete_conversation(connection, conversation_id) -> dict[str, int]`: called inside
  the delete route's transaction (a SQLAlchemy Connection on the tracker store's
  database, in a worker thread, hence synchronous) so that tracker events and the
  extension's rows go together or not at all. Return counts such as
  {"handover_requests": 1, "agent_messages": 4}; they are reported to the shopper.
- `transcript_extra(conversation_id) -> list[dict]`: messages the tracker does not hold,
  such as `{"sender": "agent", "text": ..., "timestamp": <epoch float or ISO>,
  "name": "Sam"}`, merged into the transcript by time.

Agent messages to the shopper are `bot_uttered` events with
`{"text": ..., "sender": "agent", "agent_name": "Sam"}`; queue state goes out as
`handover_status` with `{"state": "waiting", "position": 3, "estimated_wait_minutes": 6}`,
`{"state": "active", "agent_name": "Sam"}`, `{"state": "closed"}` (the agent closed the chat)
or `{"state": "left"}` (the shopper left the queue before an agent came).
"""

from __future__ import annotations

import difflib
import importlib
import inspect
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any

from sanic import response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.settings import WebchatSettings

if TYPE_CHECKING:
    from rasa.core.agent import Agent
    from rasa.core.channels.channel import OutputChannel
    from sanic import Blueprint
    from socketio import AsyncServer
    from sqlalchemy.engine import Connection

logger = logging.getLogger(__name__)

Emit = Callable[[str, str, Any], Awaitable[None]]
RouteHandler = Callable[..., Awaitable[HTTPResponse]]


#: Every hook of the contract, in the order the README lists them.
HOOKS: tuple[str, ...] = (
    "register",
    "on_shopper_message",
    "on_leave_queue",
    "on_session_resumed",
    "delete_conversation",
    "transcript_extra",
)


class ExtensionError(ValueError):
    """An extension named in credentials.yml cannot be loaded; raised at start-up."""


class ChannelHandle:
    """What an extension may use of the channel, and nothing more."""

    def __init__(
        self,
        blueprint: Blueprint,
        emit: Emit,
        output_channel: Callable[[], OutputChannel | None] = lambda: None,
        agent: Callable[[], Agent | None] = lambda: None,
    ) -> None:
        self._blueprint = blueprint
        self._emit = emit
        self._output_channel = output_channel
        self._agent = agent

    async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
        """Push an event to every socket of a conversation, from any worker of the server."""
        await self._emit(conversation_id, event, data)

    def output_channel(self) -> OutputChannel | None:
        """Where bot messages of actions the extension runs itself should go."""
        return self._output_channel()

    @property
    def agent(self) -> Agent | None:
        """The running Rasa agent (tracker store, lock store, processor); None before start."""
        return self._agent()

    def add_route(self, handler: RouteHandler, uri: str, methods: Sequence[str]) -> None:
        """Add an HTTP route under the channel's prefix, covered by the channel's CORS policy.

        Browsers send a preflight (OPTIONS) before a JSON POST or an Authorization header
        from another origin; the channel answers it here, so the handler never sees one
        and the extension needs no CORS code of its own.
        """

        async def route(request: Request, **kwargs: Any) -> HTTPResponse:
            if request.method == "OPTIONS":
                return response.empty()  # the channel's response middleware adds CORS
            return await handler(request, **kwargs)

        route.__name__ = handler.__name__
        self._blueprint.add_route(route, uri, methods=[*methods, "OPTIONS"])


class WebchatExtension:
    """Base class of every extension: the hooks of the contract, each doing nothing."""

    def __init__(self, settings: WebchatSettings) -> None:
        self.settings = settings

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for name, member in vars(cls).items():
            if name.startswith("_") or not inspect.isfunction(member):
                continue
            if name in HOOKS:
                _check_hook(cls, name, member)
                continue
            near = difflib.get_close_matches(name, HOOKS, n=1, cutoff=0.75)
            if name.startswith("on_") or near:
                hint = f"; did you mean {near[0]!r}?" if near else ""
                raise ExtensionError(
                    f"{cls.__module__}.{cls.__qualname__}.{name} is not a web chat extension "
                    f"hook{hint} The hooks are: {', '.join(HOOKS)} (names starting with "
                    "'on_' are reserved for hooks)."
                )

    def register(self, blueprint: Blueprint, sio: AsyncServer, channel: ChannelHandle) -> None:
        """Add routes with `channel.add_route`, socket handlers to `sio`, listeners."""

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        """Return True if the message was relayed somewhere; it goes to Rasa anyway."""
        return False

    async def on_leave_queue(self, conversation_id: str) -> None:
        """The shopper no longer wants to wait for an agent."""

    async def on_session_resumed(self, conversation_id: str) -> None:
        """A widget resumed this conversation (reload, new tab, reconnect)."""

    def delete_conversation(self, connection: Connection, conversation_id: str) -> dict[str, int]:
        """Delete this extension's rows of the conversation; runs inside the transaction."""
        return {}

    async def transcript_extra(self, conversation_id: str) -> list[dict[str, Any]]:
        """Messages of the conversation that are not tracker events (agent messages)."""
        return []


def _check_hook(cls: type, name: str, member: Callable[..., Any]) -> None:
    """An override must take the contract's arguments and be async exactly where it is."""
    contract = getattr(WebchatExtension, name)
    where = f"{cls.__module__}.{cls.__qualname__}.{name}"
    if inspect.iscoroutinefunction(member) != inspect.iscoroutinefunction(contract):
        kind = "a coroutine (async def)" if inspect.iscoroutinefunction(contract) else "a plain def"
        raise ExtensionError(f"{where} must be {kind}, as in WebchatExtension")
    arguments = list(inspect.signature(contract).parameters)
    try:
        inspect.signature(member).bind(*arguments)
    except TypeError:
        raise ExtensionError(
            f"{where} must take ({', '.join(arguments)}), as in WebchatExtension"
        ) from None


def load_extension(path: str, settings: WebchatSettings) -> WebchatExtension:
    """Import "package.module:ClassName" and instantiate it with the settings."""
    module_name, sep, class_name = path.partition(":")
    if not sep or not module_name or not class_name:
        raise ExtensionError(f"extension {path!r} must look like 'package.module:ClassName'")
    try:
        module = importlib.import_module(module_name)
        cls = getattr(module, class_name)
    except (ImportError, AttributeError) as error:
        raise ExtensionError(f"cannot load web chat extension {path!r}: {error}") from error
    if not (isinstance(cls, type) and issubclass(cls, WebchatExtension)):
        raise ExtensionError(
            f"web chat extension {path!r} must subclass channels.extensions.WebchatExtension"
        )
    return cls(settings)
