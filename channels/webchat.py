"""The web chat channel: Rasa's socket.io channel with server-issued sessions.

Rasa's `SocketIOInput` trusts whatever `session_id` a client sends, so anyone who learns
an id joins that conversation's room and reads its replies. This channel issues the ids
itself and lets a widget resume one only with the token the server signed for it; an
unknown id, a bad or expired token or a deleted conversation gets a fresh session. It
also awaits `enter_room` when python-socketio makes it a coroutine (RasaHQ/rasa#13027),
limits message size, counts messages and new sessions against budgets a new session
cannot reset (channels/limits.py), lets typed text reach Rasa as an `/intent` only when
it is the payload of a button the bot offered, and adds the shopper's transcript
download and conversation delete routes.

Socket events (client -> server): `session_request {session_id?, session_token?,
language?}` (the page's language: "sv", "sv-SE", "nb-NO"...; anything but our four
languages is ignored, README "Languages"),
`user_uttered {message}`, `leave_queue`. Server -> client: `session_confirm
{session_id, session_token, resumed}`, `bot_uttered {text, quick_replies?, sender?,
agent_name?, notice?, retry_after?, refused?}`, `handover_status {...}`,
`conversation_deleted {}`. A refused new session gets no `session_confirm`, only a
`too_many_sessions` notice with `retry_after` seconds; a message over budget gets a
`too_fast` notice with `retry_after` and the refused text.

Every `bot_uttered` carries a `message_id` (channels/feedback.py says how it is made).

HTTP under /webhooks/webchat/: `GET health`, `GET conversations/<id>/transcript
?format=json|txt`, `DELETE conversations/<id>` and `POST conversations/<id>/feedback`
(a rating or a helpful vote, channels/feedback.py), all with `Authorization: Bearer
<session_token>`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import gc
import inspect
import json
import logging
import math
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from rasa.core.channels.channel import InputChannel, OutputChannel, UserMessage
from rasa.core.channels.socketio import SocketBlueprint, SocketIOInput, SocketIOOutput
from sanic import Blueprint, Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from socketio import AsyncRedisManager, AsyncServer
from sqlalchemy.engine import Engine

from channels import feedback, languages, tombstones, transcript
from channels.extensions import ChannelHandle, WebchatExtension, load_extension
from channels.limits import (
    Budgets,
    MemoryBudgets,
    MemoryButtons,
    OfferedButtons,
    RedisBudgets,
    RedisButtons,
    client_address,
)
from channels.sessions import SessionSigner, TokenCheck
from channels.settings import Rate, WebchatSettings, load_settings
from insights.redact import mask_passwords

logger = logging.getLogger(__name__)

#: The id of the bot answer being sent, from send_response down to the emit.
_MESSAGE_ID: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "webchat_message_id", default=None
)

TOO_LONG = "too_long"
TOO_FAST = "too_fast"
TOO_MANY_SESSIONS = "too_many_sessions"
NO_SESSION = "no_session"
PASSWORD_HIDDEN = "password_hidden"  # noqa: S105 (a notice kind, not a secret)
SESSION_START = "/session_start"
#: Notice kinds and their text in channels/languages.py (in the conversation's language).
NOTICES = {
    TOO_LONG: "notice_too_long",
    TOO_FAST: "notice_too_fast",
    TOO_MANY_SESSIONS: "notice_too_many_sessions",
    NO_SESSION: "notice_no_session",
    PASSWORD_HIDDEN: "notice_password_hidden",
}
#: The one field of a widget's `session_request` besides id and token that is read: the
#: page's language, allow-listed and normalised (channels/languages.py). Nothing else a
#: browser sends reaches Rasa.
LANGUAGE_FIELD = "language"
#: Without a page language: the language the message that may start a session is clearly
#: written in, found here (not sent by the browser), so that the bot's introduction comes
#: in the shopper's language and not in English before an answer in Swedish.
WRITTEN_LANGUAGE_FIELD = "written_language"
#: The conversation's current language, sent with every message for the NLU
#: (components/language.py CURRENT_LANGUAGE_KEY).
CURRENT_LANGUAGE_FIELD = "conversation_language"
#: Sent (true) once the shopper has written in this conversation over this socket a message
#: whose language the detector reads: an English conversation is then English on
#: evidence, not by default, and a street name
#: ("its storgatan 14") no longer turns it Swedish (components/language.py WROTE_BEFORE_KEY).
WROTE_BEFORE_FIELD = "shopper_wrote_before"
#: The socket session's note of the conversation the shopper has written in.
_WROTE_IN = "wrote_in"
# socket.io events that carry data over the wire can never be this large (engine.io
# refuses bigger messages); a larger frame is a malformed one.
MAX_SOCKET_MESSAGE_BYTES = 64 * 1024


def written_language(text: str) -> str | None:
    """The language a message is clearly written in, by the NLU's own rule and detector
    (components/language.py: 2 words of evidence, confidence 0.5), else None."""
    return _language_guess().detect(text)


@functools.cache
def _language_guess() -> Any:
    # The detector is the NLU's (build_detector, one per process): already loaded in a
    # Rasa process that serves our model.
    from components.language import LanguageGuess

    return LanguageGuess()


def as_plain_text(text: str) -> str:
    """The text without the leading slashes that would make Rasa read it as an intent.

    Rasa's RegexMessageHandler treats any message whose stripped text starts with "/"
    as `/intent{"entity": "value"}`, skipping NLU and the forms' validation. What is left
    goes through NLU like anything else typed. A text of slashes only cannot name an
    intent and is kept as it is, so nothing the shopper sent disappears.
    """
    plain = text.strip()
    while plain.startswith("/"):
        plain = plain.lstrip("/").strip()
    return plain or text


class WebchatSocketServer(AsyncServer):
    """python-socketio's server, answering malformed frames with one warning line.

    Unchanged, a frame that is not valid socket.io (bad JSON, an event that is not a
    list headed by a name) raises deep inside the packet decoder and engine.io logs the
    whole traceback, for every such frame anyone cares to send.
    """

    async def _handle_eio_message(self, eio_sid: str, data: Any) -> None:
        try:
            if isinstance(data, (str, bytes)) and len(data) > MAX_SOCKET_MESSAGE_BYTES:
                raise ValueError(f"frame of {len(data)} bytes")
            await super()._handle_eio_message(eio_sid, data)
        except (ValueError, TypeError, KeyError, IndexError, AttributeError) as error:
            logger.warning(
                "web chat: ignored a malformed socket.io frame from %s (%s: %.80s)",
                eio_sid,
                type(error).__name__,
                str(error),
            )

    async def _handle_event(self, eio_sid: str, namespace: Any, id: Any, data: Any) -> None:
        if not isinstance(data, list) or not data or not isinstance(data[0], str):
            raise ValueError("an event must be a list starting with its name")
        await super()._handle_event(eio_sid, namespace, id, data)


class WebchatOutput(SocketIOOutput):
    """Bot replies go to the conversation's room, so every tab of the shopper sees them."""

    def __init__(
        self, sio: AsyncServer, bot_message_evt: str, buttons: OfferedButtons | None = None
    ) -> None:
        super().__init__(sio, bot_message_evt)
        self.buttons = buttons

    @classmethod
    def name(cls) -> str:
        return "webchat"

    async def send_text_with_buttons(
        self, recipient_id: str, text: str, buttons: list[dict[str, Any]], **kwargs: Any
    ) -> None:
        # Remembered before the shopper can see (and press) them: a payload pressed is
        # accepted as an intent only if the bot offered it in this conversation.
        if self.buttons is not None:
            payloads = [str(b["payload"]) for b in buttons if isinstance(b.get("payload"), str)]
            await self.buttons.remember(recipient_id, [p.strip() for p in payloads])
        await super().send_text_with_buttons(recipient_id, text, buttons, **kwargs)

    async def send_response(self, recipient_id: str, message: dict[str, Any]) -> None:
        # Rasa passes the BotUttered event's message, timestamp included: the id the
        # widget gets is the one the transcript derives from the stored event.
        stamp = message.get("timestamp")
        token = _MESSAGE_ID.set(
            feedback.message_id(recipient_id, float(stamp))
            if isinstance(stamp, (int, float))
            else feedback.one_off_id()
        )
        try:
            await super().send_response(recipient_id, message)
        finally:
            _MESSAGE_ID.reset(token)

    async def _send_message(self, socket_id: str, response: Any) -> None:
        if isinstance(response, dict):
            response = {**response, "message_id": _MESSAGE_ID.get() or feedback.one_off_id()}
        await super()._send_message(socket_id, response)

    async def send_custom_json(
        self, recipient_id: str, json_message: dict[str, Any], **kwargs: Any
    ) -> None:
        # Rasa's version passes the dict as keyword arguments to emit(), which fails.
        await self._send_message(recipient_id, {"custom": json_message})


class WebchatInput(SocketIOInput):
    """Socket.io input channel for the shop's chat widget."""

    @classmethod
    def name(cls) -> str:
        return "webchat"

    @classmethod
    def from_credentials(cls, credentials: dict[str, Any] | None) -> InputChannel:
        credentials = credentials or {}
        extensions = credentials.get("extensions") or []
        if not isinstance(extensions, list) or not all(isinstance(e, str) for e in extensions):
            raise ValueError("webchat `extensions` must be a list of 'module:Class' strings")
        return cls(
            settings=load_settings(),
            extensions=extensions,
            socketio_path=credentials.get("socketio_path", "/socket.io"),
        )

    def __init__(
        self,
        settings: WebchatSettings,
        extensions: Sequence[str | WebchatExtension] | None = None,
        socketio_path: str = "/socket.io",
    ) -> None:
        super().__init__(
            user_message_evt="user_uttered",
            bot_message_evt="bot_uttered",
            namespace=None,
            session_persistence=True,
            socketio_path=socketio_path,
        )
        self.settings = settings
        self.signer = SessionSigner(settings.secret, settings.session_max_age_days * 86400)
        self.budgets: Budgets
        self.buttons: OfferedButtons
        if settings.redis_url:
            redis_budgets = RedisBudgets(settings.redis_url, settings.redis_prefix)
            self.budgets = redis_budgets
            self.buttons = RedisButtons(redis_budgets, settings.redis_prefix)
        else:
            self.budgets, self.buttons = MemoryBudgets(), MemoryButtons()
        # Import paths from credentials.yml; tests may pass ready-made instances.
        self.extensions: list[WebchatExtension] = [
            e if isinstance(e, WebchatExtension) else load_extension(e, settings)
            for e in extensions or []
        ]
        self._app: Sanic | None = None

    def get_output_channel(self) -> OutputChannel | None:
        if self.sio is None:
            return None
        return WebchatOutput(self.sio, self.bot_message_evt, self.buttons)

    async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
        """Push an event to every socket of a conversation, from anywhere in this process.

        This is how an agent's message or a queue update reaches the shopper.
        """
        if self.sio is None:
            raise RuntimeError("the web chat channel has not been started")
        if event == self.bot_message_evt and isinstance(data, dict) and "message_id" not in data:
            data = {**data, "message_id": feedback.one_off_id()}
        await self.sio.emit(event, data, room=conversation_id)

    # --- socket.io ---------------------------------------------------------------------

    async def _conversation_language(self, conversation_id: str) -> str | None:
        """The conversation's `language` slot in the tracker store, if there is one."""
        engine = _engine_of(getattr(getattr(self._app, "ctx", None), "agent", None))
        if engine is None:
            return None
        return await asyncio.to_thread(languages.conversation_language, engine, conversation_id)

    async def _language(self, sid: str) -> str:
        """The language of the socket's conversation: its `language` slot in the tracker
        store if the conversation has one (it may have switched since the page loaded),
        else the page's hint of the session request, else English."""
        assert self.sio is not None
        session = await self.sio.get_session(sid)
        conversation_id = session.get("conversation_id")
        if conversation_id:
            current = await self._conversation_language(str(conversation_id))
            if current is not None:
                return current
        return languages.language_or_default(session.get(LANGUAGE_FIELD))

    async def _notice(self, sid: str, kind: str, **extra: Any) -> None:
        assert self.sio is not None
        wait = float(extra.get("retry_after", 0))
        language = await self._language(sid)
        text = languages.say(
            NOTICES[kind],
            language,
            limit=self.settings.max_message_chars,
            wait=languages.wait_phrase(wait, language),
        )
        await self.sio.emit(
            self.bot_message_evt,
            {
                "text": text,
                "sender": "system",
                "notice": kind,
                "message_id": feedback.one_off_id(),
                **extra,
            },
            to=sid,
        )

    async def _address(self, sid: str) -> str:
        assert self.sio is not None
        return str((await self.sio.get_session(sid)).get("address", "unknown"))

    async def _take_message_budget(self, sid: str, conversation_id: str) -> float:
        """0 if the message may go on, else the seconds until it could."""
        settings = self.settings
        return await self.budgets.take(
            [
                (f"msg:conv:{conversation_id}", settings.conversation_rate_limit),
                *_windows(f"msg:sock:{sid}", settings.socket_rate_limit),
                *_windows(f"msg:addr:{await self._address(sid)}", settings.address_rate_limit),
            ]
        )

    async def _was_deleted(self, conversation_id: str) -> bool:
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        engine = _engine_of(agent)
        if engine is None:
            return False
        return await asyncio.to_thread(tombstones.was_deleted, engine, conversation_id)

    async def _shopper_text(self, conversation_id: str, text: str) -> str:
        """What goes to Rasa: an intent payload only if the bot offered it as a button."""
        stripped = text.strip()
        if not stripped.startswith("/") or stripped == SESSION_START:
            return text
        if await self.buttons.offered(conversation_id, stripped):
            return stripped
        return as_plain_text(text)

    async def _join(self, sid: str, conversation_id: str) -> None:
        assert self.sio is not None
        old = (await self.sio.get_session(sid)).get("conversation_id")
        # python-socketio >= 5.10 made enter_room and leave_room coroutines; 5.9 returns None.
        if old and old != conversation_id:
            left = self.sio.leave_room(sid, old)
            if inspect.isawaitable(left):
                await left
        entered = self.sio.enter_room(sid, conversation_id)
        if inspect.isawaitable(entered):
            await entered
        session = await self.sio.get_session(sid)
        await self.sio.save_session(sid, {**session, "conversation_id": conversation_id})

    async def _start_session(
        self,
        conversation_id: str,
        output: OutputChannel,
        text: str,
        on_new_message: Callable[[UserMessage], Awaitable[Any]],
        metadata: dict[str, Any] | None = None,
    ) -> None:
        """Run the session start (the bot's introduction) without a user message.

        A widget opening a new session sends "/session_start" to get the introduction
        before the shopper types. Passed on to Rasa, that message would start the session
        twice on a new tracker (once because the tracker is new, once by the built-in rule
        for the session_start intent): two introductions. Rasa's own session update runs
        it once for a new or expired session and not at all otherwise.
        """
        agent = getattr(getattr(self._app, "ctx", None), "agent", None)
        if agent is None or agent.processor is None:
            await on_new_message(
                UserMessage(
                    text, output, conversation_id, input_channel=self.name(), metadata=metadata
                )
            )
            return
        async with agent.lock_store.lock(conversation_id):
            # The metadata becomes the `session_started_metadata` slot that
            # action_session_start reads the page's language from.
            tracker = await agent.processor.fetch_tracker_and_update_session(
                conversation_id, output, metadata
            )
            await agent.processor.save_tracker(tracker)

    def _register_socket_handlers(
        self, sio: AsyncServer, on_new_message: Callable[[UserMessage], Awaitable[Any]]
    ) -> None:
        @sio.on("connect")
        async def connect(sid: str, environ: dict[str, Any], auth: Any = None) -> bool:
            # engine.io's Sanic driver writes 127.0.0.1 as REMOTE_ADDR for everyone; the
            # real peer is on the Sanic request.
            request = environ.get("sanic.request")
            peer = str(getattr(request, "ip", "") or environ.get("REMOTE_ADDR", ""))
            address = client_address(
                peer, environ.get("HTTP_X_FORWARDED_FOR"), self.settings.trusted_proxies
            )
            await sio.save_session(sid, {"address": address})
            return True

        @sio.on("session_request")
        async def session_request(sid: str, data: Any = None, *_ignored: Any) -> None:
            data = data if isinstance(data, dict) else {}
            claimed_id, token = data.get("session_id"), data.get("session_token")
            # The page's language, kept with the socket: notices before the session exists
            # (too many sessions) and the session start use it.
            hint = languages.normalise(data.get(LANGUAGE_FIELD))
            session = await sio.get_session(sid)
            await sio.save_session(sid, {**session, LANGUAGE_FIELD: hint})
            check = self.signer.check(claimed_id, token)
            if check is TokenCheck.VALID and await self._was_deleted(str(claimed_id)):
                logger.info("web chat: refused a resume of a deleted conversation")
                check = TokenCheck.INVALID
            resumed = check is TokenCheck.VALID
            if resumed:
                session_id, session_token = str(claimed_id), str(token)
            else:
                if check is TokenCheck.EXPIRED:
                    logger.info("web chat: refused a resume with an expired token")
                elif claimed_id:
                    logger.info("web chat: refused a resume without a valid token")
                address = await self._address(sid)
                wait = await self.budgets.take(
                    [
                        *_windows(f"new:sock:{sid}", self.settings.socket_session_limit),
                        *_windows(f"new:addr:{address}", self.settings.address_session_limit),
                    ]
                )
                if wait > 0:
                    # Nothing is confirmed: the socket stays where it was (if anywhere)
                    # and the widget asks again after `retry_after` seconds.
                    await self._notice(sid, TOO_MANY_SESSIONS, retry_after=math.ceil(wait))
                    return
                issued = self.signer.issue()
                session_id, session_token = issued.session_id, issued.session_token
            await self._join(sid, session_id)
            await sio.emit(
                "session_confirm",
                {"session_id": session_id, "session_token": session_token, "resumed": resumed},
                to=sid,
            )
            if resumed:
                for extension in self.extensions:
                    try:
                        await extension.on_session_resumed(session_id)
                    except Exception:
                        logger.exception("web chat extension failed in on_session_resumed")

        @sio.on(self.user_message_evt)
        async def handle_message(sid: str, data: Any = None, *_ignored: Any) -> None:
            # read once: nothing before the message is passed on changes these fields
            session = await sio.get_session(sid)
            conversation_id = session.get("conversation_id")
            if not conversation_id:
                await self._notice(sid, NO_SESSION)
                return
            text = data.get("message") if isinstance(data, dict) else None
            if not isinstance(text, str) or not text.strip():
                return
            if len(text) > self.settings.max_message_chars:
                await self._notice(sid, TOO_LONG)
                return
            wait = await self._take_message_budget(sid, conversation_id)
            if wait > 0:
                # The refused text goes back with the notice, so the widget can offer it
                # again instead of the shopper losing what they typed.
                await self._notice(sid, TOO_FAST, retry_after=math.ceil(wait), refused=text)
                return
            output = WebchatOutput(sio, self.bot_message_evt, self.buttons)
            # The page's language (allow-listed in session_request) is the only metadata
            # passed on; Rasa reads it only when this message starts a session.
            hint = session.get(LANGUAGE_FIELD)
            metadata = {LANGUAGE_FIELD: hint} if hint else None
            written = None
            if not hint and text.strip() != SESSION_START:
                written = written_language(text)
                metadata = {WRITTEN_LANGUAGE_FIELD: written} if written else None
            if text.strip() != SESSION_START:
                # The NLU leaves a settled language only on strong evidence (LanguageRecognizer).
                current = await self._conversation_language(conversation_id)
                if current is not None:
                    metadata = {**(metadata or {}), CURRENT_LANGUAGE_FIELD: current}
                    if session.get(_WROTE_IN) == conversation_id:
                        metadata[WROTE_BEFORE_FIELD] = True
            if text.strip() == SESSION_START:
                await self._start_session(conversation_id, output, text, on_new_message, metadata)
                return
            text = await self._shopper_text(conversation_id, text)
            # A password typed into the chat ("my password is Sommar2024!") is never stored:
            # Rasa, the tracker store and the agents get the placeholder, the shopper a
            # notice (the export masked it already, but the tracker kept it for 90 days).
            masked = mask_passwords(text)
            if masked != text:
                await self._notice(sid, PASSWORD_HIDDEN)
                text = masked
            for extension in self.extensions:
                try:
                    await extension.on_shopper_message(conversation_id, text)
                except Exception:
                    logger.exception("web chat extension failed in on_shopper_message")
            # Client metadata is not passed on: nothing a browser says is trusted, except
            # the allow-listed page language above.
            await on_new_message(
                UserMessage(
                    text, output, conversation_id, input_channel=self.name(), metadata=metadata
                )
            )
            if session.get(_WROTE_IN) != conversation_id and (hint or written):
                # Only a message with evidence of its language settles the conversation's:
                # "toimituskulut?" (one word, answered in English by default) kept the next,
                # clearly Finnish messages in English (a blind trial, four chats).
                # read again: the turn may have saved the session meanwhile
                current_session = await sio.get_session(sid)
                await sio.save_session(sid, {**current_session, _WROTE_IN: conversation_id})

        @sio.on("leave_queue")
        async def leave_queue(sid: str, data: Any = None, *_ignored: Any) -> None:
            conversation_id = (await sio.get_session(sid)).get("conversation_id")
            if not conversation_id:
                return
            for extension in self.extensions:
                try:
                    await extension.on_leave_queue(conversation_id)
                except Exception:
                    logger.exception("web chat extension failed in on_leave_queue")

    async def _take_feedback_budget(self, request: Request, conversation_id: str) -> float:
        """Feedback has budgets of its own, as large as the message budgets of the
        conversation and the address: a vote never costs the shopper a chat message,
        and a script posting feedback is held back like one sending messages."""
        address = client_address(
            str(request.ip or ""),
            request.headers.get("x-forwarded-for"),
            self.settings.trusted_proxies,
        )
        return await self.budgets.take(
            [
                (f"fb:conv:{conversation_id}", self.settings.conversation_rate_limit),
                *_windows(f"fb:addr:{address}", self.settings.address_rate_limit),
            ]
        )

    async def _store_feedback(
        self, agent: Any, conversation_id: str, item: feedback.Rating | feedback.Vote
    ) -> dict[str, Any] | None:
        """Append the feedback to the conversation's tracker, under its lock (as Rasa
        does for a turn), so it cannot interleave with a turn being saved. None when
        a vote names no bot answer of this conversation."""
        from rasa.shared.core.events import AgentUttered

        async with agent.lock_store.lock(conversation_id):
            tracker = await agent.tracker_store.retrieve(conversation_id)
            if tracker is None:
                return None  # nothing was said: nothing to rate
            if isinstance(item, feedback.Vote):
                # The answer may be from an earlier session of this conversation.
                full = await agent.tracker_store.retrieve_full_tracker(conversation_id)
                data = feedback.vote_data(conversation_id, item, full.events)
                if data is None:
                    return None
            else:
                data = item.data()
            tracker.update(AgentUttered(text=None, data=data))
            await agent.tracker_store.save(tracker)
        return data

    # --- HTTP ----------------------------------------------------------------------------

    def _cors_headers(self, request: Request) -> dict[str, str]:
        """The one CORS policy of every route on this blueprint, extensions' included
        (the agent console POSTs JSON to the desk's routes)."""
        origin = request.headers.get("origin", "")
        if origin not in self.settings.allowed_origins:
            return {}
        return {
            "Access-Control-Allow-Origin": origin,
            "Access-Control-Allow-Methods": "GET, POST, DELETE, OPTIONS",
            "Access-Control-Allow-Headers": "Authorization, Content-Type",
            "Access-Control-Expose-Headers": "Content-Disposition",
            "Access-Control-Max-Age": "600",
            "Vary": "Origin",
        }

    def _authorise(self, request: Request, conversation_id: str) -> HTTPResponse | None:
        """None if the bearer token is the one signed for this id, else the refusal."""
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        cors = self._cors_headers(request)
        if scheme.lower() != "bearer" or not token.strip():
            return response.json(
                {"error": "missing bearer token"},
                status=401,
                headers={**cors, "WWW-Authenticate": "Bearer"},
            )
        if not self.signer.verify(conversation_id, token.strip()):
            return response.json({"error": "forbidden"}, status=403, headers=cors)
        return None

    def _register_routes(self, blueprint: Blueprint) -> None:
        # Rasa installs sanic_cors on the whole app with the origins of `--cors` (none by
        # default); it answers every preflight itself, so our headers are added here,
        # after it, for the routes of this blueprint only.
        @blueprint.middleware("response")
        async def add_cors_headers(request: Request, reply: HTTPResponse) -> None:
            for name, value in self._cors_headers(request).items():
                reply.headers[name] = value

        @blueprint.route("/health", methods=["GET"])
        async def health(request: Request) -> HTTPResponse:
            agent = getattr(request.app.ctx, "agent", None)
            if agent is None or not agent.is_ready():
                return response.json({"status": "loading"}, status=503)
            return response.json({"status": "ok"})

        @blueprint.route("/conversations/<conversation_id>/transcript", methods=["GET", "OPTIONS"])
        async def get_transcript(request: Request, conversation_id: str) -> HTTPResponse:
            if request.method == "OPTIONS":
                return response.empty(headers=self._cors_headers(request))
            refusal = self._authorise(request, conversation_id)
            if refusal is not None:
                return refusal
            if await self._was_deleted(conversation_id):
                return response.json(
                    {"error": "forbidden"}, status=403, headers=self._cors_headers(request)
                )
            fmt = request.args.get("format", "json")
            if fmt not in ("json", "txt"):
                return response.json(
                    {"error": "format must be json or txt"},
                    status=400,
                    headers=self._cors_headers(request),
                )
            engine = _sql_engine(request)
            language = languages.language_or_default(
                await asyncio.to_thread(languages.conversation_language, engine, conversation_id)
            )
            messages = await asyncio.to_thread(_read, engine, conversation_id, language)
            extra: list[dict[str, Any]] = []
            for extension in self.extensions:
                extra.extend(await extension.transcript_extra(conversation_id))
            messages = transcript.merge_extra(messages, extra)
            now = datetime.now(timezone.utc).isoformat(timespec="seconds")
            filename = f"conversation-{conversation_id[:8]}.{fmt}"
            headers = {
                **self._cors_headers(request),
                "Content-Disposition": f'attachment; filename="{filename}"',
                "Cache-Control": "no-store",
            }
            if fmt == "txt":
                body = transcript.render_text(conversation_id, messages, now, language)
                return response.text(body, headers=headers)
            return response.json(
                {"conversation_id": conversation_id, "generated_at": now, "messages": messages},
                headers=headers,
            )

        @blueprint.route("/conversations/<conversation_id>", methods=["DELETE", "OPTIONS"])
        async def delete_conversation(request: Request, conversation_id: str) -> HTTPResponse:
            if request.method == "OPTIONS":
                return response.empty(headers=self._cors_headers(request))
            refusal = self._authorise(request, conversation_id)
            if refusal is not None:
                return refusal
            agent = request.app.ctx.agent
            engine = _sql_engine(request)
            # The lock keeps Rasa from writing this conversation while its rows go.
            try:
                async with agent.lock_store.lock(conversation_id):
                    keep = self.signer.max_age_seconds
                    extensions = list(self.extensions)
                    deleted = await asyncio.to_thread(
                        _delete, engine, conversation_id, extensions, keep
                    )
            except Exception:
                # Nothing was deleted (one transaction); the shopper may simply try again.
                logger.exception("web chat: deleting a conversation failed")
                return response.json({"error": "the conversation could not be deleted"}, status=500)
            await self.emit_to_conversation(
                conversation_id, "conversation_deleted", {"conversation_id": conversation_id}
            )
            return response.json(
                {"conversation_id": conversation_id, "deleted": deleted},
                headers={**self._cors_headers(request), "Cache-Control": "no-store"},
            )

        @blueprint.route("/conversations/<conversation_id>/feedback", methods=["POST", "OPTIONS"])
        async def post_feedback(request: Request, conversation_id: str) -> HTTPResponse:
            cors = self._cors_headers(request)
            if request.method == "OPTIONS":
                return response.empty(headers=cors)
            refusal = self._authorise(request, conversation_id)
            if refusal is not None:
                return refusal
            if await self._was_deleted(conversation_id):
                return response.json({"error": "forbidden"}, status=403, headers=cors)
            try:
                item = feedback.parse(json.loads(request.body or b"null"))
            except (ValueError, UnicodeDecodeError) as error:
                reason = str(error) if isinstance(error, feedback.InvalidFeedback) else None
                return response.json(
                    {"error": reason or "the body must be JSON"}, status=400, headers=cors
                )
            wait = await self._take_feedback_budget(request, conversation_id)
            if wait > 0:
                retry = math.ceil(wait)
                return response.json(
                    {"error": "too many requests", "retry_after": retry},
                    status=429,
                    headers={**cors, "Retry-After": str(retry)},
                )
            stored = await self._store_feedback(request.app.ctx.agent, conversation_id, item)
            if stored is None:
                return response.json(
                    {
                        "error": "no bot answer of that message_id in this conversation"
                        if isinstance(item, feedback.Vote)
                        else "the conversation has no messages"
                    },
                    status=400,
                    headers=cors,
                )
            return response.json(
                {"conversation_id": conversation_id, "stored": stored},
                headers={**cors, "Cache-Control": "no-store"},
            )

    def blueprint(self, on_new_message: Callable[[UserMessage], Awaitable[Any]]) -> Blueprint:
        # The Redis manager is created here, not at import or in __init__, and connects
        # lazily on the first emit or connection, inside the worker's event loop.
        manager = AsyncRedisManager(self.settings.redis_url) if self.settings.redis_url else None
        sio = WebchatSocketServer(
            async_mode="sanic",
            cors_allowed_origins=list(self.settings.allowed_origins),
            max_http_buffer_size=64 * 1024,
            client_manager=manager,
        )
        self.sio = sio
        blueprint = WebchatBlueprint(
            sio,
            self.socketio_path,
            "webchat_webhook",
            __name__,
            max_request_bytes=self.settings.max_request_bytes,
        )

        @blueprint.listener("after_server_start")
        async def keep_app(app: Sanic, _loop: Any) -> None:
            # Socket handlers have no request; the agent is on the app (app.ctx.agent).
            self._app = app
            if isinstance(sio.manager, AsyncRedisManager):
                # Sanic forks its workers after this manager was made: give each worker
                # its own id, or cross-worker emit callbacks would go to every worker.
                sio.manager.host_id = uuid.uuid4().hex
            freeze_loaded_objects()

        self._register_socket_handlers(sio, on_new_message)
        self._register_routes(blueprint)
        handle = ChannelHandle(
            blueprint,
            emit=self.emit_to_conversation,
            output_channel=self.get_output_channel,
            agent=lambda: getattr(getattr(self._app, "ctx", None), "agent", None),
        )
        for extension in self.extensions:
            extension.register(blueprint, sio, handle)
        return blueprint


def freeze_loaded_objects() -> None:
    """Keep the objects the server started with out of Python's full collections.

    Rasa has loaded the model by now (a `before_server_start` listener): millions of
    objects that live as long as the process. Python's cyclic garbage collector walks all
    of them in every full collection, which it starts on its own every few seconds under
    load, and each took 350-420 ms of the event loop here, a pause for every conversation
    on the worker (README "Measurements": it was most of the slowest 5 % of turns).
    `gc.freeze()` moves them to a generation the collector never walks; objects made later
    are collected as before. A model loaded later through Rasa's HTTP API is not frozen,
    and the frozen model it replaces is freed only as far as reference counting frees it.
    """
    gc.collect()
    gc.freeze()


class WebchatBlueprint(SocketBlueprint):
    """Rasa's socket.io blueprint, also capping the size of every request body.

    Sanic accepts bodies up to 100 MB by default and reads them whole before a route
    runs. Nothing sent to this server is near the cap (chat messages are at most a few
    kilobytes, socket.io polling frames 64 KB), so a larger body is refused with 413 as
    soon as its Content-Length is read. The cap is the server's: Sanic has no per-route
    one that refuses before reading.
    """

    def __init__(self, *args: Any, max_request_bytes: int, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.ctx.max_request_bytes = max_request_bytes

    def register(self, app: Sanic, options: dict[str, Any]) -> None:
        ours = int(self.ctx.max_request_bytes)
        app.config.REQUEST_MAX_SIZE = min(int(app.config.get("REQUEST_MAX_SIZE") or ours), ours)
        super().register(app, options)


def _windows(key: str, rates: tuple[Rate, ...]) -> list[tuple[str, Rate]]:
    """One budget key per window, so that "10/60,20/600" keeps two logs."""
    return [(f"{key}:{rate.seconds:g}s", rate) for rate in rates]


def _engine_of(agent: Any) -> Engine | None:
    """The SQL engine of the agent's tracker store, under Rasa's wrappers, if it has one."""
    store: Any = getattr(agent, "tracker_store", None)
    while not hasattr(store, "engine") and hasattr(store, "_tracker_store"):
        store = store._tracker_store
    engine = getattr(store, "engine", None)
    return engine if isinstance(engine, Engine) else None


def _sql_engine(request: Request) -> Engine:
    """The SQL engine of the running agent's tracker store, under Rasa's wrappers."""
    engine = _engine_of(request.app.ctx.agent)
    if engine is None:
        raise RuntimeError("the web chat transcript and delete routes need the SQL tracker store")
    return engine


def _read(engine: Engine, conversation_id: str, language: str = "en") -> list[dict[str, Any]]:
    with engine.connect() as connection:
        return transcript.read_messages(connection, conversation_id, language)


def _delete(
    engine: Engine,
    conversation_id: str,
    extensions: list[WebchatExtension],
    keep_tombstone: float,
) -> dict[str, int]:
    """One transaction: tracker events and every extension's rows, or nothing; the
    conversation's id is kept so that its token no longer resumes it."""
    with engine.begin() as connection:
        counts = {"events": transcript.delete_events(connection, conversation_id)}
        tombstones.record(connection, conversation_id, time.time(), keep_tombstone)
        for extension in extensions:
            counts.update(extension.delete_conversation(connection, conversation_id))
    return counts
