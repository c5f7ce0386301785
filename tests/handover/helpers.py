"""Helpers shared by the handover tests (a module, so test files can import it)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from rasa.core.channels.channel import UserMessage
from sanic import Sanic

from channels.extensions import WebchatExtension
from channels.settings import WebchatSettings
from channels.webchat import WebchatInput

SECRET = "handover-test-secret-" + "x" * 32


class FakeClock:
    """A clock the test moves by hand: joins get distinct, known timestamps."""

    def __init__(self, start: float = 1_750_000_000.0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> float:
        self.now += seconds
        return self.now


class RecordingWebchat(WebchatInput):
    """The real web chat channel, also recording what it pushes into shoppers' rooms."""

    def __init__(self, settings: WebchatSettings, extensions: Sequence[WebchatExtension]) -> None:
        super().__init__(settings, list(extensions))
        self.emitted: list[tuple[str, str, Any]] = []

    async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
        self.emitted.append((conversation_id, event, data))
        await super().emit_to_conversation(conversation_id, event, data)


def webchat_app(
    extension: WebchatExtension, origins: Sequence[str] = ("http://localhost:8080",)
) -> tuple[Sanic, RecordingWebchat]:
    """A Sanic app with the channel and one extension, mounted where Rasa mounts them.

    The shoppers' messages go nowhere (no Rasa agent): these tests are about the routes
    the channel serves and what it pushes.
    """

    async def on_new_message(message: UserMessage) -> None:
        return None

    Sanic.test_mode = True  # lets several apps start in one process
    settings = WebchatSettings(secret=SECRET, allowed_origins=tuple(origins))
    channel = RecordingWebchat(settings, [extension])
    app = Sanic(f"handover_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
    return app, channel
