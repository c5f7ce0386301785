"""Fixtures for action tests: a real domain, a collecting dispatcher and a tracker factory.

Actions are run as rasa-sdk runs them (`await action.run(dispatcher, tracker, domain)`),
with the project's own domain (the domain/ folder, merged by Rasa's own loader) so that a
response name or slot the domain does not know fails the test.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from rasa.shared.core.domain import Domain
from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="session")
def domain() -> dict[str, Any]:
    """The project's domain as the action server receives it: Rasa sends `as_dict()`."""
    return Domain.load(ROOT / "domain").as_dict()


@pytest.fixture()
def dispatcher() -> CollectingDispatcher:
    return CollectingDispatcher()


def _user_event(
    text: str,
    intent: str,
    entities: list[dict[str, Any]],
    confidence: float,
    ranking: list[dict[str, Any]] | None,
) -> dict[str, Any]:
    return {
        "event": "user",
        "timestamp": time.time(),
        "text": text,
        "parse_data": {
            "text": text,
            "intent": {"name": intent, "confidence": confidence},
            "entities": entities,
            "intent_ranking": ranking or [{"name": intent, "confidence": confidence}],
        },
    }


@pytest.fixture()
def make_tracker(domain: dict[str, Any]):  # returns a factory
    """Build a `Tracker` the way the action server would receive it.

    `slots` override the domain's initial values; `text`/`intent`/`entities` describe the
    latest shopper message; `events` are prepended (e.g. earlier user turns);
    `active_loop` names an active form.
    """

    def factory(
        slots: dict[str, Any] | None = None,
        text: str = "",
        intent: str = "inform",
        entities: list[dict[str, Any]] | None = None,
        confidence: float = 0.95,
        intent_ranking: list[dict[str, Any]] | None = None,
        events: list[dict[str, Any]] | None = None,
        active_loop: str | None = None,
        sender_id: str = "test-shopper",
    ) -> Tracker:
        all_slots: dict[str, Any] = {
            name: spec.get("initial_value") for name, spec in domain.get("slots", {}).items()
        }
        all_slots.update(slots or {})
        latest = _user_event(text, intent, entities or [], confidence, intent_ranking)
        history = [*(events or []), latest]
        return Tracker(
            sender_id=sender_id,
            slots=all_slots,
            latest_message=latest["parse_data"] | {"text": text},
            events=history,
            paused=False,
            followup_action=None,
            active_loop={"name": active_loop} if active_loop else {},
            latest_action_name="action_listen",
        )

    return factory


def texts(dispatcher: CollectingDispatcher) -> list[str]:
    """What the shopper would read: the text of each message (responses by name)."""
    return [m.get("text") or m.get("response") or "" for m in dispatcher.messages]
