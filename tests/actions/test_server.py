"""The action server runs nothing for a caller without the shared secret (issue 11, point 2).

Before, a direct POST to :5055/webhook put an HTML "order number" into the handover queue
for a conversation of the caller's choosing. The server here is the real one, started as
the Procfile starts it (`python -m actions.server`), with a real SQLite handover queue.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from actions.server import create_app, is_authorised
from actions.settings import DEMO_ACTION_SERVER_TOKEN
from devkit.servers import ACTION_SERVER_TOKEN, ROOT, start_action_server, stop
from handover.store import HandoverStore, make_engine

pytestmark = pytest.mark.e2e


def join_queue_call(sender: str) -> dict[str, Any]:
    """What Rasa would post to run action_join_queue, with hostile slot values."""
    slots = {
        "order_number": '<img src=x onerror="alert(1)">',
        "email": "anna@example.com",
        "handover_description": "<script>steal()</script>",
    }
    return {
        "next_action": "action_join_queue",
        "sender_id": sender,
        "version": "3.6.2",
        "domain": {},
        "tracker": {
            "sender_id": sender,
            "slots": slots,
            "latest_message": {"text": "hi"},
            "events": [],
            "paused": False,
            "followup_action": None,
            "active_loop": {},
            "latest_action_name": "action_listen",
        },
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, HandoverStore]]:
    db_url = f"sqlite:///{tmp_path_factory.mktemp('actions') / 'rasa.db'}"
    env = {**os.environ, "APP_ENV": "production", "DATABASE_URL": db_url}
    url, proc = start_action_server(env)
    store = HandoverStore(make_engine(db_url))
    try:
        yield url, store
    finally:
        stop(proc)
        store.engine.dispose()


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer wrong-token-of-the-right-length-0123456789"},
        {"Authorization": ACTION_SERVER_TOKEN},
        {"X-Token": ACTION_SERVER_TOKEN},
    ],
    ids=["none", "wrong", "no-scheme", "other-header"],
)
def test_calls_without_the_token_get_401_and_run_nothing(server, headers) -> None:
    url, store = server
    answer = requests.post(url, json=join_queue_call("victim"), headers=headers, timeout=10)
    assert answer.status_code == 401
    assert answer.json() == {"error": "unauthorized"}
    assert store.open_request("victim") is None  # nothing landed in the handover queue
    listing = requests.get(url.replace("/webhook", "/actions"), headers=headers, timeout=10)
    assert listing.status_code == 401


def test_the_token_in_a_query_parameter_is_not_enough(server) -> None:
    url, store = server
    answer = requests.post(
        url, params={"token": ACTION_SERVER_TOKEN}, json=join_queue_call("victim"), timeout=10
    )
    assert answer.status_code == 401
    assert store.open_request("victim") is None


def test_rasa_with_the_token_gets_its_action_run_with_checked_slots(server) -> None:
    url, store = server
    answer = requests.post(
        url,
        json=join_queue_call("shopper"),
        timeout=10,
        headers={"Authorization": f"Bearer {ACTION_SERVER_TOKEN}"},
    )
    assert answer.status_code == 200
    request = store.open_request("shopper")
    assert request is not None
    assert request.order_number is None  # the markup never reaches an agent
    assert request.email == "anna@example.com"


def test_health_needs_no_token(server) -> None:
    url, _ = server
    assert requests.get(url.replace("/webhook", "/health"), timeout=10).status_code == 200


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"APP_ENV": "production"}, "ACTION_SERVER_TOKEN is not set"),
        ({"APP_ENV": "production", "ACTION_SERVER_TOKEN": DEMO_ACTION_SERVER_TOKEN}, "demo value"),
        ({"APP_ENV": "development", "ACTION_SERVER_TOKEN": "short"}, "at least 32"),
    ],
    ids=["unset", "demo-in-production", "too-short"],
)
def test_the_server_refuses_to_start_without_a_usable_token(env, message) -> None:
    clean = {k: v for k, v in os.environ.items() if k != "ACTION_SERVER_TOKEN"}
    proc = subprocess.run(
        [sys.executable, "-m", "actions.server", "--port", "9"],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 2
    assert message in proc.stderr


def test_the_demo_token_is_accepted_in_development() -> None:
    from actions.settings import server_settings_from_env

    settings = server_settings_from_env({"APP_ENV": "development"})
    assert settings.token == DEMO_ACTION_SERVER_TOKEN
    assert DEMO_ACTION_SERVER_TOKEN in (ROOT / "Makefile").read_text()  # make run sends it


@pytest.mark.parametrize(
    ("header", "ok"),
    [
        (f"Bearer {ACTION_SERVER_TOKEN}", True),
        (f"bearer {ACTION_SERVER_TOKEN}", True),
        (f"Bearer {ACTION_SERVER_TOKEN}x", False),
        (f"Basic {ACTION_SERVER_TOKEN}", False),
        ("Bearer ", False),
        (None, False),
    ],
)
def test_header_check(header: str | None, ok: bool) -> None:
    assert is_authorised(header, ACTION_SERVER_TOKEN) is ok


def test_rasa_sends_the_header_from_endpoints_yml(monkeypatch) -> None:
    """The repository's endpoints.yml, read by Rasa's own reader, sends the token."""
    from rasa.utils.endpoints import read_endpoint_config

    endpoints = Path(ROOT, "endpoints.yml")
    for name in re.findall(r"\$\{(\w+)\}", endpoints.read_text()):
        monkeypatch.setenv(name, "1")  # Rasa refuses a file naming an unset variable
    monkeypatch.setenv("ACTION_SERVER_TOKEN", ACTION_SERVER_TOKEN)
    endpoint = read_endpoint_config(str(endpoints), "action_endpoint")
    assert endpoint is not None
    assert endpoint.headers == {"Authorization": f"Bearer {ACTION_SERVER_TOKEN}"}


def test_once_started_the_loaded_actions_are_left_out_of_full_collections() -> None:
    """Full collections walked everything the server loaded, up to 86 ms of its loop."""
    import asyncio
    import gc

    app = create_app("t" * 40)
    started: list[Any] = [
        f.listener for f in app._future_listeners if f.event == "after_server_start"
    ]
    loaded = [{"settings": "loaded at start"}]
    assert any(o is loaded for o in gc.get_objects())
    for listener in started:
        asyncio.run(listener(app, None))
    assert not any(o is loaded for o in gc.get_objects())
