"""Rasa checks action-server responses against its schema; ours must not re-check the schema."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.utils.endpoints import EndpointConfig

import components.minilm  # noqa: F401 - loading the model's components installs the check
from components import action_responses

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
    assert RemoteAction._validate_action_result is action_responses._validate_action_result


def test_valid_responses_are_accepted_without_rechecking_the_schema(
    action: RemoteAction, schema_checks: list[Any]
) -> None:
    action_responses.response_validator()  # built (and its schema checked) once per process
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
