"""Settings, session tokens, the rate limiter and the transcript helpers, without servers."""

from __future__ import annotations

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
from channels.sessions import RateLimiter, SessionSigner  # noqa: E402
from channels.settings import DEMO_SECRET, SettingsError, load_settings  # noqa: E402

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


def test_rate_limiter_slides() -> None:
    limiter = RateLimiter(2, 10)
    assert limiter.allow("a", now=0) and limiter.allow("a", now=1)
    assert not limiter.allow("a", now=2)
    assert limiter.allow("b", now=2)
    assert limiter.allow("a", now=10.5)
    limiter.forget("a")
    assert limiter.allow("a", now=10.6) and limiter.allow("a", now=10.7)


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
