"""The extension contract: a misspelt or mistyped hook stops the server instead of doing nothing.

Also the handle extensions get: routes added through it answer the browser's preflight
with the channel's CORS policy, and the channel calls the hooks of the contract.
"""

from __future__ import annotations

import sys
import textwrap
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.channels.channel import UserMessage
from sanic import Sanic, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sanic.touchup import TouchUp

from channels.extensions import (
    HOOKS,
    ChannelHandle,
    ExtensionError,
    WebchatExtension,
    load_extension,
)
from channels.settings import WebchatSettings, load_settings
from channels.webchat import WebchatInput

SHOP = "https://shop.example.com"


@pytest.fixture
def settings() -> WebchatSettings:
    return load_settings({"APP_ENV": "development"})


# --- the contract is checked when the class is defined -----------------------------------


@pytest.mark.parametrize(
    ("name", "hint"),
    [
        ("on_shoper_message", "on_shopper_message"),
        ("on_leave_que", "on_leave_queue"),
        ("transcript_extras", "transcript_extra"),
        ("delete_conversations", "delete_conversation"),
        ("regster", "register"),
        ("on_queue_left", None),  # any on_ name is a hook or a mistake
    ],
)
def test_a_misspelt_hook_is_refused_not_ignored(name: str, hint: str | None) -> None:
    async def hook(self: Any, *args: Any) -> None:
        return None

    with pytest.raises(ExtensionError) as refused:
        type("Misspelt", (WebchatExtension,), {name: hook})
    assert name in str(refused.value)
    if hint:
        assert f"did you mean {hint!r}" in str(refused.value)


def test_a_hook_with_the_wrong_arguments_is_refused() -> None:
    with pytest.raises(ExtensionError, match=r"must take \(self, conversation_id, text\)"):

        class OneArgument(WebchatExtension):
            async def on_shopper_message(self, text: str) -> bool:  # type: ignore[override]
                return True


@pytest.mark.parametrize(
    ("name", "make_async"),
    [("on_shopper_message", False), ("transcript_extra", False), ("delete_conversation", True)],
)
def test_a_hook_of_the_wrong_kind_is_refused(name: str, make_async: bool) -> None:
    """A plain function where the channel awaits would fail per message; a coroutine
    where it runs in the delete transaction would never run at all."""

    def plain(self: Any, *args: Any) -> Any:
        return None

    async def coroutine(self: Any, *args: Any) -> Any:
        return None

    with pytest.raises(ExtensionError, match="must be a"):
        type("WrongKind", (WebchatExtension,), {name: coroutine if make_async else plain})


def test_helpers_that_are_not_hook_like_are_fine() -> None:
    class Desk(WebchatExtension):
        def queue_view(self) -> None: ...

        def _on_private(self) -> None: ...

        async def on_leave_queue(self, conversation_id: str) -> None: ...

    assert Desk(None).settings is None  # type: ignore[arg-type]


def test_every_hook_of_the_base_does_nothing(settings: WebchatSettings) -> None:
    import asyncio

    base = WebchatExtension(settings)
    assert set(HOOKS) == {n for n in vars(WebchatExtension) if not n.startswith("_")}
    assert asyncio.run(base.on_shopper_message("c", "t")) is False
    assert asyncio.run(base.on_leave_queue("c")) is None
    assert asyncio.run(base.transcript_extra("c")) == []
    assert base.delete_conversation(None, "c") == {}  # type: ignore[arg-type]


# --- loading ------------------------------------------------------------------------------


class NotAnExtension:
    def __init__(self, settings: Any) -> None:
        self.settings = settings


@pytest.fixture
def module_dir(tmp_path: Path) -> Iterator[Path]:
    sys.path.insert(0, str(tmp_path))
    yield tmp_path
    sys.path.remove(str(tmp_path))


def test_load_extension(settings: WebchatSettings, module_dir: Path) -> None:
    loaded = load_extension("tests.channels.fake_extension:FakeDesk", settings)
    assert loaded.settings is settings
    for bad in ("nocolon", "no.such.module:Thing", "channels.extensions:NoSuchClass"):
        with pytest.raises(ExtensionError):
            load_extension(bad, settings)
    with pytest.raises(ExtensionError, match="must subclass"):
        load_extension(f"{__name__}:NotAnExtension", settings)

    # What an operator sees when credentials.yml names an extension with a misspelt hook.
    name = f"typo_{uuid.uuid4().hex[:8]}"
    (module_dir / f"{name}.py").write_text(
        textwrap.dedent("""
        from channels.extensions import WebchatExtension

        class Desk(WebchatExtension):
            async def on_shopper_mesage(self, conversation_id, text):
                return True
    """)
    )
    with pytest.raises(ExtensionError, match="did you mean 'on_shopper_message'"):
        load_extension(f"{name}:Desk", settings)


# --- the handle: routes under the channel's prefix and CORS, pushes -----------------------


class Greeter(WebchatExtension):
    """Adds one JSON route through the handle and records what the channel hands it."""

    def __init__(self, settings: WebchatSettings) -> None:
        super().__init__(settings)
        self.seen: list[str] = []
        self.handle: ChannelHandle | None = None

    def register(self, blueprint: Any, sio: Any, channel: ChannelHandle) -> None:
        self.handle = channel

        async def greet(request: Request, name: str) -> HTTPResponse:
            self.seen.append(request.method)
            await channel.emit_to_conversation(name, "bot_uttered", {"text": "hi"})
            return response.json({"hello": name})

        channel.add_route(greet, "/greeter/<name>", ["POST"])

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        self.seen.append(text)
        return True


@pytest.fixture
def greeter_app(monkeypatch: pytest.MonkeyPatch) -> tuple[Sanic, Greeter, list[Any]]:
    touch_up = TouchUp.run
    done: list[bool] = []

    def once(app: Any) -> None:  # Sanic re-parses its source per test request otherwise
        if not done:
            touch_up(app)
            done.append(True)

    monkeypatch.setattr(TouchUp, "run", once)
    emitted: list[Any] = []

    class Recording(WebchatInput):
        async def emit_to_conversation(self, conversation_id: str, event: str, data: Any) -> None:
            emitted.append((conversation_id, event, data))

    async def on_new_message(message: UserMessage) -> None:
        return None

    Sanic.test_mode = True
    greeter = Greeter(WebchatSettings(secret="s" * 40, allowed_origins=(SHOP,)))
    channel = Recording(greeter.settings, [greeter])
    app = Sanic(f"extension_test_{uuid.uuid4().hex[:8]}")
    app.blueprint(channel.blueprint(on_new_message), url_prefix="/webhooks/webchat")
    return app, greeter, emitted


async def test_routes_added_through_the_handle_get_the_channels_cors(
    greeter_app: tuple[Sanic, Greeter, list[Any]],
) -> None:
    app, greeter, emitted = greeter_app
    url = "/webhooks/webchat/greeter/anna"
    _, preflight = await app.asgi_client.options(
        url, headers={"Origin": SHOP, "Access-Control-Request-Method": "POST"}
    )
    assert preflight.status in (200, 204)
    assert preflight.headers["access-control-allow-origin"] == SHOP
    assert "POST" in preflight.headers["access-control-allow-methods"]
    assert greeter.seen == []  # the extension never sees a preflight

    _, reply = await app.asgi_client.post(url, json={}, headers={"Origin": SHOP})
    assert reply.json == {"hello": "anna"}
    assert reply.headers["access-control-allow-origin"] == SHOP
    assert emitted == [("anna", "bot_uttered", {"text": "hi"})]

    _, foreign = await app.asgi_client.post(url, json={}, headers={"Origin": "https://x.test"})
    assert "access-control-allow-origin" not in foreign.headers
    assert greeter.handle is not None and greeter.handle.agent is None  # no Rasa here
