"""Lighter calls to the action server: requests without the responses, replies checked once.

Requests. Rasa 3.6 puts the whole domain into every request to the action server
(``RemoteAction._action_call_format``), and ours is 176 kB of JSON, 167 kB of it the
responses in four languages. A form turn calls the action server once or twice, so on
every turn Rasa encoded and the action server decoded that text again (~2.5 ms each
side here, more than the rest of the request). Only two actions read responses: the
session start renders the introduction itself, and the second-question action looks
up whether an intent has a fixed answer. They are flagged ``send_domain: true`` in the
domain (Rasa's own flag); every other action gets the domain without ``responses``:
intents, entities, slots, forms and actions, everything form validation reads. Rasa's
``enable_selective_domain`` is no help here: it sends everything to the form
validation actions, the ones called most, and nothing at all to the rest. The session
start, which runs at the start of every conversation, reads a single response, the
introduction: it gets the domain with that response alone (``RESPONSES_READ``), 12 kB
instead of 214 kB.

Replies. Rasa 3.6 checks every reply with ``jsonschema.validate(response, spec)``. That
function first checks the *schema itself* against its meta-schema, on every call; with
jsonschema 4.17 the meta-schema is draft 2020-12 and that check costs several
milliseconds of CPU, more than everything else Rasa does for the action. Here the reply
is validated against a validator built once. Even so, a reply of ten events took 2.4 ms:
each event is one of 23 kinds (``oneOf``), and ``oneOf`` tries every kind on every event
to be sure that exactly one fits. Each kind fixes the event's name (``"event": {"const":
"slot"}``), and the name is required, so only the kind of that name can fit: the check
goes straight to it, which is the same verdict for every reply (``ReplyValidator``; its
tests compare both on valid and broken replies). A valid reply is accepted exactly as
before; an invalid one goes to Rasa's own method, so the error raised and its message are
Rasa's.

``install()`` replaces both methods of ``RemoteAction``; ``components/speedups.py`` calls
it in every Rasa process that loads our model.
"""

from __future__ import annotations

import copy
import functools
import json
from typing import TYPE_CHECKING, Any

from jsonschema.protocols import Validator
from jsonschema.validators import validator_for
from rasa.core.actions.action import RemoteAction
from rasa.shared.core.domain import KEY_RESPONSES

if TYPE_CHECKING:
    from rasa.shared.core.domain import Domain
    from rasa.shared.core.trackers import DialogueStateTracker

_rasa_validate = RemoteAction._validate_action_result
_rasa_call_format = RemoteAction._action_call_format
# The domain of the last request and its copy without responses: one domain per model,
# so this is computed once per model load, not per request.
_slim: tuple[Domain, dict[str, Any]] | None = None
# The responses read by an action flagged send_domain, where it reads only a few (the other
# flagged actions get them all); and the domains built with them, for the domain in _slim.
RESPONSES_READ = {"action_session_start": ("utter_intro",)}
_few: dict[tuple[str, ...], dict[str, Any]] = {}


class ReplyValidator:
    """Rasa's response schema, with each event checked against its own kind only.

    Where the schema is not of that shape (every ``oneOf`` branch of an event naming a
    different event, the name required), the whole schema is checked as it is.
    """

    def __init__(self, spec: dict[str, Any]) -> None:
        cls = validator_for(spec)
        cls.check_schema(spec)  # once, as ``jsonschema.validate`` does on every call
        self.whole: Validator = cls(spec)
        self.outer: Validator | None = None
        self.kinds: dict[str, Validator] = {}
        event = spec.get("properties", {}).get("events", {}).get("items", {})
        branches = event.get("oneOf", [])
        names = [b.get("properties", {}).get("event", {}).get("const") for b in branches]
        if (
            branches
            and "event" in event.get("required", [])
            and event.get("properties", {}).get("event", {}).get("type") == "string"
            and all(isinstance(n, str) for n in names)
            and len(set(names)) == len(names)
            and "$ref" not in json.dumps(spec)
        ):
            outer = copy.deepcopy(spec)
            del outer["properties"]["events"]["items"]["oneOf"]
            self.outer = cls(outer)
            self.kinds = {name: cls(branch) for name, branch in zip(names, branches, strict=True)}

    def is_valid(self, reply: Any) -> bool:
        if self.outer is None:
            return bool(self.whole.is_valid(reply))
        if not self.outer.is_valid(reply):
            return False
        # The outer schema has checked that every event is an object with a string name.
        events = reply.get("events") if isinstance(reply, dict) else None
        for event in events if isinstance(events, list) else ():
            kind = self.kinds.get(event["event"])
            if kind is None or not kind.is_valid(event):
                return False
        return True


@functools.lru_cache(maxsize=1)
def response_validator() -> ReplyValidator:
    """The validator of Rasa's response schema, built once per process."""
    return ReplyValidator(RemoteAction.action_response_format_spec())


def _validate_action_result(self: RemoteAction, result: dict[str, Any]) -> bool:
    if response_validator().is_valid(result):
        return True
    return _rasa_validate(self, result)  # raises Rasa's ValidationError with Rasa's message


def wants_responses(domain: Domain, action_name: str) -> bool:
    """Whether the domain flags this action ``send_domain: true``.

    Rasa's own test also counts every ``validate_*`` action as needing the domain; they
    read forms and slots, which the request without responses keeps.
    """
    return not action_name.startswith(
        "validate_"
    ) and domain.does_custom_action_explicitly_need_domain(action_name)


def domain_without_responses(domain: Domain) -> dict[str, Any]:
    """``domain.as_dict()`` minus ``responses``, built once per domain."""
    global _slim
    if _slim is None or _slim[0] is not domain:
        _slim = (domain, {k: v for k, v in domain.as_dict().items() if k != KEY_RESPONSES})
        _few.clear()
    return _slim[1]


def domain_with_responses(domain: Domain, names: tuple[str, ...]) -> dict[str, Any]:
    """The domain without responses but the named ones, built once per domain."""
    slim = domain_without_responses(domain)
    if names not in _few:
        responses = domain.as_dict().get(KEY_RESPONSES, {})
        _few[names] = {**slim, KEY_RESPONSES: {n: responses[n] for n in names if n in responses}}
    return _few[names]


def _action_call_format(
    self: RemoteAction, tracker: DialogueStateTracker, domain: Domain
) -> dict[str, Any]:
    result = _rasa_call_format(self, tracker, domain)
    if "domain" not in result:
        return result
    name = self.name()
    if not wants_responses(domain, name):
        result["domain"] = domain_without_responses(domain)
    elif name in RESPONSES_READ:
        result["domain"] = domain_with_responses(domain, RESPONSES_READ[name])
    return result


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    RemoteAction._validate_action_result = _validate_action_result  # type: ignore[method-assign]
    RemoteAction._action_call_format = _action_call_format  # type: ignore[method-assign]
