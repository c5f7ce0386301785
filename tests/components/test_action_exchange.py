"""Requests to the action server carry responses only where wanted; replies are checked
against Rasa's schema without re-checking the schema itself."""

from __future__ import annotations

import copy
import json
import random
from datetime import datetime
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

import components.minilm  # noqa: F401 - loading the model's components installs the check
from components import action_exchange

ROOT = Path(__file__).resolve().parents[2]
VALID = {
    "events": [{"event": "slot", "name": "email", "value": None, "timestamp": None}],
    "responses": [{"response": "utter_order_shipped", "order_ref": "LW-100001"}],
}


@pytest.fixture()
def action() -> RemoteAction:
    return RemoteAction("action_order_status", EndpointConfig("http://127.0.0.1:1/webhook"))


@pytest.fixture()
def schema_checks(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    """Counts checks of the schema itself (jsonschema.validate does one on every call)."""
    checks: list[Any] = []
    cls = validator_for(RemoteAction.action_response_format_spec())
    original = cls.check_schema

    def counting_check_schema(c: Any, schema: Any, *args: Any, **kwargs: Any) -> Any:
        checks.append(schema)
        return original(schema, *args, **kwargs)

    monkeypatch.setattr(cls, "check_schema", classmethod(counting_check_schema))
    return checks


def test_loading_the_model_components_installs_the_check() -> None:
    assert RemoteAction._validate_action_result is action_exchange._validate_action_result


def test_valid_responses_are_accepted_without_rechecking_the_schema(
    action: RemoteAction, schema_checks: list[Any]
) -> None:
    action_exchange.response_validator()  # built (and its schema checked) once per process
    schema_checks.clear()
    for _ in range(3):
        assert action._validate_action_result(VALID) is True
        assert action._validate_action_result({}) is True
    assert schema_checks == []


@pytest.mark.parametrize(
    "response",
    [
        {"events": {"event": "slot"}},  # events must be a list
        {"events": [{"event": "no_such_event"}]},
        {"responses": "utter_greet"},  # responses must be a list of objects
    ],
)
def test_invalid_responses_still_fail_with_rasas_message(
    action: RemoteAction, response: dict[str, Any]
) -> None:
    with pytest.raises(jsonschema.ValidationError, match="Failed to validate Action server"):
        action._validate_action_result(response)


def _replies() -> list[Any]:
    """Replies as our actions send them (rasa-sdk's events), and one of every event kind."""
    from rasa_sdk import events as sdk

    made = [
        sdk.SessionStarted(),
        sdk.SlotSet("language", "sv"),
        sdk.SlotSet("order_number", None),
        sdk.ActionExecuted("action_listen"),
        sdk.FollowupAction("utter_ask_email"),
        sdk.ActiveLoop("order_status_form"),
        sdk.ActiveLoop(None),
        sdk.AllSlotsReset(),
        sdk.ConversationPaused(),
        sdk.ConversationResumed(),
        sdk.Restarted(),
        sdk.UserUtteranceReverted(),
        sdk.ActionReverted(),
        sdk.BotUttered("Hej", {"b": 1}),
        sdk.LoopInterrupted(True),
        sdk.ActionExecutionRejected("order_status_form"),
        sdk.ReminderScheduled("EXTERNAL_x", datetime(2026, 1, 1), name="r"),
        sdk.ReminderCancelled(name="r"),
        sdk.AgentUttered("hi"),
        sdk.UserUttered(
            "where is 40012345",
            {
                "intent": {"name": "order_status", "confidence": 0.9},
                "entities": [
                    {"entity": "order_number", "value": "40012345", "start": 9, "end": 17}
                ],
            },
        ),
        {"event": "user_featurization", "use_text_for_featurization": False},
        {"event": "entities", "entities": [{"entity": "email", "value": "a@b.se"}]},
        {"event": "form", "name": "order_status_form"},
        {"event": "form_validation", "validate": False},
        {"event": "export"},
    ]
    one_of_each = {"events": made, "responses": [{"text": "Hej!", "buttons": []}]}
    return [VALID, {}, {"events": []}, one_of_each] + [{"events": [e]} for e in made]


def _broken(reply: Any, rng: random.Random) -> Any:
    """The reply with one value somewhere in it deleted or replaced by another type."""
    reply = copy.deepcopy(reply)
    parents: list[tuple[Any, Any]] = []

    def walk(node: Any) -> None:
        keys = node.keys() if isinstance(node, dict) else range(len(node))
        for key in keys:
            parents.append((node, key))
            if isinstance(node[key], (dict, list)):
                walk(node[key])

    if isinstance(reply, (dict, list)):
        walk(reply)
    if not parents:
        return rng.choice([[], "x", {"events": 1}])
    node, key = rng.choice(parents)
    if isinstance(node, dict) and rng.random() < 0.3:
        del node[key]
    else:
        node[key] = rng.choice([None, 7, 1.5, "text", "slot", "user", [], {}, [{}], True])
    return reply


def test_checking_each_event_against_its_own_kind_gives_rasas_verdict() -> None:
    """The verdict of the whole schema (oneOf over all 23 kinds), for valid replies and
    for thousands of broken ones."""
    spec = RemoteAction.action_response_format_spec()
    whole = validator_for(spec)(spec)
    ours = action_exchange.response_validator()
    assert ours.outer is not None and len(ours.kinds) >= 20  # the fast path is taken
    rng = random.Random(11)
    verdicts = {True: 0, False: 0}
    for reply in _replies():
        assert ours.is_valid(reply) is True == whole.is_valid(reply)
        for _ in range(150):
            broken = _broken(reply, rng)
            verdict = whole.is_valid(broken)
            assert ours.is_valid(broken) is verdict, broken
            verdicts[verdict] += 1
    assert verdicts[True] > 500 and verdicts[False] > 500  # both kinds really tested


def test_a_schema_of_another_shape_is_checked_whole() -> None:
    spec = {
        "type": "object",
        "properties": {
            "events": {
                "type": "array",
                "items": {"type": "object", "oneOf": [{"required": ["a"]}, {"required": ["b"]}]},
            }
        },
    }
    validator = action_exchange.ReplyValidator(spec)
    assert validator.outer is None
    assert validator.is_valid({"events": [{"a": 1}]})
    assert not validator.is_valid({"events": [{"a": 1, "b": 2}]})


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(ROOT / "domain")


def request_domain(name: str, domain: Domain) -> dict[str, Any] | None:
    action = RemoteAction(name, EndpointConfig("http://127.0.0.1:1/webhook"))
    tracker = DialogueStateTracker.from_events("shopper", [], domain.slots)
    body = action._action_call_format(tracker, domain)
    assert json.loads(json.dumps(body)) == body  # what goes over the wire
    return body.get("domain")


def test_form_validation_gets_forms_and_slots_but_not_the_responses(domain: Domain) -> None:
    sent = request_domain("validate_order_status_form", domain)
    assert sent is not None
    assert "responses" not in sent
    assert sent["forms"]["order_status_form"]["required_slots"] == ["order_number", "email"]
    assert "order_number" in sent["slots"] and "order_status" in sent["intents"]
    assert len(json.dumps(sent)) < len(json.dumps(domain.as_dict())) / 10


def test_an_action_gets_no_responses_unless_the_domain_flags_it(domain: Domain) -> None:
    assert "responses" not in (request_domain("action_order_status", domain) or {})
    for flagged in ("action_session_start", "action_answer_also"):  # send_domain: true
        sent = request_domain(flagged, domain)
        assert sent is not None
        assert sent["responses"]["utter_intro"] == domain.as_dict()["responses"]["utter_intro"]
        assert sent["slots"] == domain.as_dict()["slots"]


def test_the_session_start_gets_the_introduction_alone(domain: Domain) -> None:
    """It runs at the start of every conversation and renders nothing else; the
    second-question action looks up any intent's answer, so it gets them all."""
    start = request_domain("action_session_start", domain) or {}
    assert list(start["responses"]) == ["utter_intro"]
    assert len(start["responses"]["utter_intro"]) >= 4  # a variation per language
    assert len(json.dumps(start)) < len(json.dumps(domain.as_dict())) / 10
    also = request_domain("action_answer_also", domain) or {}
    assert also["responses"] == domain.as_dict()["responses"]


def test_loading_the_model_components_installs_the_lighter_request() -> None:
    assert RemoteAction._action_call_format is action_exchange._action_call_format
