"""Requests to the action server carry responses only where wanted; replies are checked
against Rasa's schema without re-checking the schema itself."""

from __future__ import annotations

import json
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


def test_loading_the_model_components_installs_the_lighter_request() -> None:
    assert RemoteAction._action_call_format is action_exchange._action_call_format
