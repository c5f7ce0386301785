"""Settings, session tokens, the rate limiter and the transcript helpers, without servers."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from channels import transcript  # noqa: E402
from channels.limits import MemoryBudgets, MemoryButtons, client_address  # noqa: E402
from channels.sessions import SessionSigner, TokenCheck  # noqa: E402
from channels.settings import DEMO_SECRET, Rate, SettingsError, load_settings  # noqa: E402
from channels.webchat import as_plain_text  # noqa: E402

GOOD_SECRET = "k" * 40


# --- settings ---------------------------------------------------------------------------


def test_development_may_use_the_demo_secret() -> None:
    settings = load_settings({"APP_ENV": "development"})
    assert settings.secret == DEMO_SECRET
    assert settings.allowed_origins == ("http://localhost:8080", "http://127.0.0.1:8080")
    assert (settings.max_message_chars, settings.rate_limit_messages) == (2000, 5)


@pytest.mark.parametrize(
    "env",
    [
        {},
        {"APP_ENV": "production"},
        {"APP_ENV": "production", "WEBCHAT_SECRET": DEMO_SECRET},
        {"APP_ENV": "staging", "WEBCHAT_SECRET": DEMO_SECRET},
        {"APP_ENV": "development", "WEBCHAT_SECRET": "short"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_ALLOWED_ORIGINS": "localhost:8080"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_ALLOWED_ORIGINS": "https://a.example/path"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_RATE_LIMIT": "five"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_RATE_LIMIT": "0/10"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_MAX_MESSAGE_CHARS": "0"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_SOCKET_SESSION_LIMIT": "3"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_ADDRESS_RATE_LIMIT": "10/0"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_ADDRESS_SESSION_LIMIT": "10/60,20"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_TRUSTED_PROXIES": "10.0.0.0/8, proxy.local"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_SESSION_MAX_AGE_DAYS": "0"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_MAX_REQUEST_KB": "0.5"},
        {"WEBCHAT_SECRET": GOOD_SECRET, "WEBCHAT_REDIS_PREFIX": "a b"},
    ],
)
def test_bad_settings_refuse_to_start(env: dict[str, str]) -> None:
    with pytest.raises(SettingsError):
        load_settings(env)


def test_production_settings() -> None:
    settings = load_settings(
        {
            "WEBCHAT_SECRET": GOOD_SECRET,
            "WEBCHAT_ALLOWED_ORIGINS": "https://shop.example.com, https://www.shop.example.com/",
            "WEBCHAT_RATE_LIMIT": "3/5",
            "WEBCHAT_MAX_MESSAGE_CHARS": "500",
        }
    )
    assert settings.app_env == "production"
    assert settings.allowed_origins == ("https://shop.example.com", "https://www.shop.example.com")
    assert (settings.rate_limit_messages, settings.rate_limit_window_seconds) == (3, 5.0)
    assert settings.max_message_chars == 500


def test_budget_defaults_and_settings() -> None:
    defaults = load_settings({"WEBCHAT_SECRET": GOOD_SECRET})
    assert defaults.socket_session_limit == (Rate(3, 60.0),)
    assert defaults.address_session_limit == (Rate(10, 60.0), Rate(20, 600.0))
    assert defaults.socket_rate_limit == (Rate(10, 10.0),)
    assert defaults.address_rate_limit == (Rate(60, 60.0),)
    assert defaults.trusted_proxies == ()
    assert defaults.session_max_age_days == 90
    assert defaults.max_request_bytes == 256 * 1024
    custom = load_settings(
        {
            "WEBCHAT_SECRET": GOOD_SECRET,
            "WEBCHAT_SOCKET_SESSION_LIMIT": "2/30",
            "WEBCHAT_ADDRESS_SESSION_LIMIT": "100/3600",
            "WEBCHAT_ADDRESS_RATE_LIMIT": "30/60, 200/3600",
            "WEBCHAT_TRUSTED_PROXIES": "10.0.0.0/8, 192.0.2.7, fd00::/8",
            "WEBCHAT_SESSION_MAX_AGE_DAYS": "30",
            "WEBCHAT_MAX_REQUEST_KB": "64",
        }
    )
    assert custom.socket_session_limit == (Rate(2, 30.0),)
    assert custom.address_session_limit == (Rate(100, 3600.0),)
    assert custom.address_rate_limit == (Rate(30, 60.0), Rate(200, 3600.0))
    assert [str(n) for n in custom.trusted_proxies] == ["10.0.0.0/8", "192.0.2.7/32", "fd00::/8"]
    assert custom.session_max_age_days == 30
    assert custom.max_request_bytes == 64 * 1024


# --- sessions ---------------------------------------------------------------------------


def test_tokens_verify_only_for_their_own_id_and_secret() -> None:
    signer = SessionSigner(GOOD_SECRET)
    one, two = signer.issue(), signer.issue()
    assert one.session_id != two.session_id
    assert signer.verify(one.session_id, one.session_token)
    assert not signer.verify(one.session_id, two.session_token)
    assert not signer.verify(one.session_id, "")
    assert not signer.verify(one.session_id, None)
    assert not signer.verify(None, one.session_token)
    assert not signer.verify("../" + one.session_id, one.session_token)
    assert not SessionSigner("x" * 40).verify(one.session_id, one.session_token)


class FakeClock:
    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def test_tokens_expire_after_the_maximum_age() -> None:
    clock = FakeClock()
    signer = SessionSigner(GOOD_SECRET, max_age_seconds=90 * 86400, clock=clock)
    session = signer.issue()
    clock.now += 89 * 86400
    assert signer.check(session.session_id, session.session_token) is TokenCheck.VALID
    clock.now += 86400
    assert signer.check(session.session_id, session.session_token) is TokenCheck.EXPIRED
    assert not signer.verify(session.session_id, session.session_token)


def test_the_issue_time_is_under_the_signature() -> None:
    clock = FakeClock()
    signer = SessionSigner(GOOD_SECRET, max_age_seconds=86400, clock=clock)
    session = signer.issue()
    clock.now += 2 * 86400
    _issued, _, mac = session.session_token.partition(".")
    younger = f"{int(clock.now)}.{mac}"  # a later issue time with the old signature
    assert signer.check(session.session_id, younger) is TokenCheck.INVALID


def test_tokens_without_an_issue_time_are_refused() -> None:
    import base64
    import hashlib
    import hmac

    signer = SessionSigner(GOOD_SECRET)
    session_id = signer.issue().session_id
    digest = hmac.new(GOOD_SECRET.encode(), session_id.encode(), hashlib.sha256).digest()
    old_style = base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert signer.check(session_id, old_style) is TokenCheck.INVALID


def test_budgets_slide_and_a_refusal_is_counted_nowhere() -> None:
    clock = FakeClock(0.0)
    budgets = MemoryBudgets(clock=clock)
    two, five = Rate(2, 10), Rate(5, 60)

    def take(*keys: str) -> float:
        return asyncio.run(
            budgets.take([(key, rate) for key, rate in zip(keys, (two, five), strict=False)])
        )

    assert take("sock:a", "addr:x") == 0
    clock.now = 1
    assert take("sock:a", "addr:x") == 0
    clock.now = 2
    assert take("sock:a", "addr:x") == 8  # sock:a is full until its first stamp is 10 s old
    assert take("sock:b", "addr:x") == 0  # the refusal above did not use addr:x's room
    assert take("sock:c", "addr:x") == 0
    assert take("sock:d", "addr:x") == 0
    assert take("sock:e", "addr:x") == 58  # the address is full, whatever the socket
    clock.now = 10.5
    assert take("sock:a") == 0


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", None, (), "203.0.113.9"),
        ("203.0.113.9", "198.51.100.1", (), "203.0.113.9"),  # untrusted peer: header ignored
        ("10.0.0.2", "198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),
        # a client's own made-up entries sit left of the one the proxy appended
        ("10.0.0.2", "1.2.3.4, 198.51.100.1", ("10.0.0.0/8",), "198.51.100.1"),
        ("10.0.0.2", "198.51.100.1, 10.0.0.3", ("10.0.0.0/8",), "198.51.100.1"),
        ("10.0.0.2", "garbage", ("10.0.0.0/8",), "10.0.0.2"),
        ("2001:db8:1:2:3:4:5:6", None, (), "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", None, (), "203.0.113.9"),
    ],
)
def test_client_address(
    peer: str, forwarded: str | None, trusted: tuple[str, ...], expected: str
) -> None:
    import ipaddress

    networks = [ipaddress.ip_network(t) for t in trusted]
    assert client_address(peer, forwarded, networks) == expected


@pytest.mark.parametrize(
    ("typed", "sent"),
    [
        (
            '/order_status{"order_number": "123456", "email": "a@b.c"}',
            'order_status{"order_number": "123456", "email": "a@b.c"}',
        ),
        ("  //affirm", "affirm"),
        ("/ /affirm", "affirm"),
        ("/", "/"),
        ("hello /affirm", "hello /affirm"),
    ],
)
def test_typed_intents_become_plain_text(typed: str, sent: str) -> None:
    assert as_plain_text(typed) == sent
    assert not as_plain_text(typed).strip().startswith("/") or sent == "/"


def test_offered_buttons_are_per_conversation() -> None:
    buttons = MemoryButtons()
    asyncio.run(buttons.remember("c1", ["/affirm", "/deny"]))
    assert asyncio.run(buttons.offered("c1", "/affirm"))
    assert not asyncio.run(buttons.offered("c2", "/affirm"))
    assert not asyncio.run(buttons.offered("c1", "/human_handoff"))


# --- transcript -------------------------------------------------------------------------


@pytest.fixture
def events_db() -> sa.engine.Engine:
    engine = sa.create_engine("sqlite://")
    with engine.begin() as connection:
        connection.execute(
            sa.text(
                "CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, "
                "timestamp FLOAT, intent_name TEXT, action_name TEXT, data TEXT)"
            )
        )
        rows: list[tuple[str, str, float, dict[str, Any]]] = [
            ("c1", "action", 1.0, {"event": "action", "name": "action_session_start"}),
            ("c1", "bot", 2.0, {"event": "bot", "text": "Hi, I'm a bot."}),
            ("c1", "user", 3.0, {"event": "user", "text": "/session_start"}),
            ("c1", "slot", 3.5, {"event": "slot", "name": "email", "value": "a@b.c"}),
            ("c1", "user", 4.0, {"event": "user", "text": "<script>x</script>"}),
            (
                "c1",
                "bot",
                5.0,
                {
                    "event": "bot",
                    "text": "Anything else?",
                    "data": {"buttons": [{"title": "Yes please", "payload": "/affirm"}]},
                },
            ),
            ("c1", "user", 6.0, {"event": "user", "text": "/affirm"}),
            ("c1", "user", 7.0, {"event": "user", "text": "/deny"}),
            ("c2", "user", 8.0, {"event": "user", "text": "other conversation"}),
        ]
        for sender, kind, ts, data in rows:
            connection.execute(
                sa.text(
                    "INSERT INTO events (sender_id, type_name, timestamp, data) "
                    "VALUES (:s, :k, :t, :d)"
                ),
                {"s": sender, "k": kind, "t": ts, "d": json.dumps(data)},
            )
    return engine


def test_read_messages_shows_what_the_shopper_saw(events_db: sa.engine.Engine) -> None:
    with events_db.connect() as connection:
        messages = transcript.read_messages(connection, "c1")
    shown = [(m["sender"], m["text"]) for m in messages]
    assert shown == [
        ("bot", "Hi, I'm a bot."),
        ("shopper", "<script>x</script>"),
        ("bot", "Anything else?"),
        ("shopper", "Yes please"),  # a button press shows the button's title
    ]
    assert messages[0]["timestamp"] == "1970-01-01T00:00:02+00:00"


def test_merge_and_render(events_db: sa.engine.Engine) -> None:
    with events_db.connect() as connection:
        messages = transcript.read_messages(connection, "c1")
    merged = transcript.merge_extra(
        messages,
        [
            {
                "sender": "agent",
                "text": "Sam here",
                "timestamp": "1970-01-01T00:00:04.500Z",
                "name": "Sam",
            }
        ],
    )
    assert [m["text"] for m in merged][2:4] == ["Sam here", "Anything else?"]
    assert all("_epoch" not in m for m in merged)
    text = transcript.render_text("c1", merged, "2026-01-01T00:00:00+00:00")
    assert "[1970-01-01 00:00:04] Agent Sam: Sam here" in text
    assert "[1970-01-01 00:00:04] You: <script>x</script>" in text
    assert transcript.render_text("c1", [], "now").rstrip().endswith("(no messages)")


def test_delete_events_only_touches_one_conversation(events_db: sa.engine.Engine) -> None:
    with events_db.begin() as connection:
        assert transcript.delete_events(connection, "c1") == 8
    with events_db.connect() as connection:
        assert transcript.read_messages(connection, "c1") == []
        assert len(transcript.read_messages(connection, "c2")) == 1


def test_repository_credentials_build_the_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    import yaml

    from channels.webchat import WebchatInput

    credentials = yaml.safe_load((ROOT / "credentials.yml").read_text())
    block = credentials["channels.webchat.WebchatInput"]
    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("WEBCHAT_SECRET", raising=False)
    channel = WebchatInput.from_credentials(block)
    assert isinstance(channel, WebchatInput)
    assert channel.url_prefix() == "webchat"
    monkeypatch.setenv("APP_ENV", "production")
    with pytest.raises(SettingsError):
        WebchatInput.from_credentials(block)


def test_deleted_conversations_are_remembered_as_long_as_a_token_lives() -> None:
    from channels import tombstones

    engine = sa.create_engine("sqlite://")
    assert not tombstones.was_deleted(engine, "c1")  # no table yet: nothing deleted
    day = 86400.0
    with engine.begin() as connection:
        tombstones.record(connection, "c1", now=0.0, keep_seconds=90 * day)
    assert tombstones.was_deleted(engine, "c1")
    assert not tombstones.was_deleted(engine, "c2")
    with engine.begin() as connection:  # 91 days later every token of c1 has expired
        tombstones.record(connection, "c2", now=91 * day, keep_seconds=90 * day)
    assert not tombstones.was_deleted(engine, "c1")
    assert tombstones.was_deleted(engine, "c2")


def test_once_started_the_loaded_objects_are_left_out_of_full_collections(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """What Rasa loaded before the server started (the model) is never walked again by
    the collector's full collections, which paused every conversation for ~0.4 s."""
    import gc
    from types import SimpleNamespace

    from channels.webchat import WebchatInput

    monkeypatch.setenv("APP_ENV", "development")
    monkeypatch.delenv("WEBCHAT_REDIS_URL", raising=False)
    channel = WebchatInput.from_credentials({"socketio_path": "/socket.io"})

    async def on_new_message(_message: Any) -> None:
        return None

    blueprint = channel.blueprint(on_new_message)
    started = [f.listener for f in blueprint._future_listeners if f.event == "after_server_start"]
    loaded_model = [{"weights": [0.5] * 3}]
    assert any(o is loaded_model for o in gc.get_objects())
    for listener in started:
        asyncio.run(listener(SimpleNamespace(ctx=SimpleNamespace()), None))
    assert not any(o is loaded_model for o in gc.get_objects())
    made_later = [{"turn": 1}]
    assert any(o is made_later for o in gc.get_objects())  # still collected as usual
