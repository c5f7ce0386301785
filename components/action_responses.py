"""Check action-server responses against Rasa's schema without re-checking the schema.

Rasa 3.6 checks every action-server response with ``jsonschema.validate(response,
spec)``. That function first checks the *schema itself* against its meta-schema, on
every call; with jsonschema 4.17 the meta-schema is draft 2020-12 and that check costs
several milliseconds of CPU, more than everything else Rasa does for the action. An
order-status conversation calls the action server five times or more (session start,
form validation, the lookup), so in a loaded Rasa process half the CPU went there
(py-spy, README "Measurements").

``install()`` replaces ``RemoteAction._validate_action_result`` with one that validates
against a validator built once. A valid response is accepted exactly as before; an
invalid one goes to Rasa's own method, so the error raised and its message are Rasa's.
Every Rasa process that loads our model imports this module (components/minilm.py
calls ``install()``), so `rasa run`, `rasa shell` and the benchmarks all get it.
"""

from __future__ import annotations

import functools
from typing import Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction

_rasa_validate = RemoteAction._validate_action_result


@functools.lru_cache(maxsize=1)
def response_validator() -> Validator:
    """A validator for Rasa's response schema, the schema checked once (as ``validate`` does)."""
    spec = RemoteAction.action_response_format_spec()
    cls = validator_for(spec)
    cls.check_schema(spec)
    return cls(spec)


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if response_validator().is_valid(result):
        return True
    return _rasa_validate(self, result)  # raises Rasa's ValidationError with Rasa's message


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
