"""Rasa 3.6's rule lookup, finding the same rules without testing every one of them.

``RulePolicy`` predicts by matching its rules against the conversation's states, newest
first. ``_get_possible_keys`` tests every rule key (682 in our model, 97 more for the
unhappy paths of forms) against the newest state, then the survivors against the state
before it, and so on back to the start of the conversation, though no rule is longer than
a few states. It runs two to four times a prediction and two or three predictions a turn:
about a tenth of the Rasa server's time under load (README "Measurements").

Two facts make most of that work unnecessary, and change nothing about which rules match:

- A rule whose newest state names a previous action, or an intent, matches only a state
  with that same action or intent (``RulePolicy._does_rule_match_state``: a value the
  rule sets must be equal in the conversation). The rules are put in buckets by those two
  names once, and only the buckets that can match the newest state are tested, with
  Rasa's own ``_is_rule_applicable``. A rule whose newest state has no previous action
  (a conversation start) matches only a state without one, and the other way round.
- A rule shorter than the states looked at so far matches whatever comes before it
  (``_is_rule_applicable`` returns True past its length), so it is not tested again.

Everything else (which states, the comparison itself, the choice among several matches)
is Rasa's. The buckets depend only on the keys of a lookup, so an index is kept per
lookup and rebuilt when its keys change (training removes contradicted rules from a
lookup while it analyses them). ``tests/components/test_rule_lookup.py`` checks that the
keys found are Rasa's, state for state, over every tracker of our stories and rules.

``install()`` replaces the method of ``RulePolicy``; ``components/speedups.py`` calls it
in every Rasa process that loads our model, training included.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from rasa.core.policies.rule_policy import RulePolicy
from rasa.shared.core.constants import PREVIOUS_ACTION, SHOULD_NOT_BE_SET, USER
from rasa.shared.core.domain import State
from rasa.shared.nlu.constants import ACTION_NAME, INTENT

_rasa_get_possible_keys = RulePolicy._get_possible_keys

# The bucket of rules whose newest state sets no value for a name: they stay candidates
# whatever the conversation's value is.
ANY = None
# The bucket of rules whose newest state has no previous action: a conversation start.
START = "\0start"


def _required(sub_state: Any, key: str) -> Any:
    """The value a rule's sub-state requires for `key`, or ANY if it requires none.

    Mirrors ``_does_rule_match_state``: a falsy value or SHOULD_NOT_BE_SET is no
    requirement of equality (the latter only asks for the value to be unset, which
    Rasa's own test checks on the candidates).
    """
    if not isinstance(sub_state, dict):
        return ANY
    value = sub_state.get(key)
    if not value or value == SHOULD_NOT_BE_SET or not isinstance(value, str):
        return ANY
    return value


def _names(state: State) -> tuple[Any, Any]:
    """(previous action, intent) bucket names of a state; START if it has no previous action."""
    previous = state.get(PREVIOUS_ACTION)
    if not previous:
        return START, _required(state.get(USER), INTENT)
    return _required(previous, ACTION_NAME), _required(state.get(USER), INTENT)


@dataclass
class _Index:
    """The keys of one lookup, bucketed by their newest state, and their lengths."""

    keys: frozenset[str]
    buckets: dict[tuple[Any, Any], list[str]] = field(default_factory=dict)
    lengths: dict[str, int] = field(default_factory=dict)

    @classmethod
    def build(cls, keys: Iterable[str]) -> _Index:
        index = cls(frozenset(keys))
        for key in index.keys:
            states = RulePolicy._rule_key_to_state(key)
            index.lengths[key] = len(states)
            if states:
                index.buckets.setdefault(_names(states[-1]), []).append(key)
            else:  # an empty rule matches everything
                index.buckets.setdefault((ANY, ANY), []).append(key)
        return index

    def candidates(self, newest: State) -> list[str]:
        """Every key that could match the newest conversation state (a superset)."""
        previous = newest.get(PREVIOUS_ACTION)
        user = newest.get(USER)
        intent = user.get(INTENT) if user else None
        if not previous:
            # Only rules that also start a conversation, or have no states at all.
            actions: tuple[Any, ...] = (START,)
        else:
            actions = (previous.get(ACTION_NAME), ANY)
        intents = (intent, ANY) if intent else (ANY,)
        found: list[str] = list(self.buckets.get((ANY, ANY), ()))
        for action in actions:
            for wanted in intents:
                if (action, wanted) != (ANY, ANY):
                    found.extend(self.buckets.get((action, wanted), ()))
        return found


def _index_of(policy: RulePolicy, lookup: dict[str, Any]) -> _Index:
    indexes: dict[int, tuple[dict[str, Any], _Index]] = policy.__dict__.setdefault(
        "_rule_lookup_indexes", {}
    )
    held = indexes.get(id(lookup))
    if held is None or held[0] is not lookup or lookup.keys() != held[1].keys:
        held = (lookup, _Index.build(lookup.keys()))
        indexes[id(lookup)] = held
    return held[1]


def get_possible_keys(self: RulePolicy, lookup: dict[str, Any], states: list[State]) -> set[str]:
    """The keys of `lookup` whose rules match `states`: exactly Rasa's, found faster.

    Rasa picks the longest key of the set it returns, and among keys of equal length the
    first in the set's order; so the set is built as Rasa builds it, step by step from the
    same sets in the same order, and iterates in the same order (the tests compare the
    order too). Only the tests are skipped whose answer is known.
    """
    possible = set(lookup.keys())
    if not states:
        return possible
    index = _index_of(self, lookup)
    newest = states[-1]
    matching = {key for key in index.candidates(newest) if self._is_rule_applicable(key, 0, newest)}
    # set(generator), as Rasa builds set(filter(...)): the same insertions, the same order
    possible = set(key for key in possible if key in matching)
    lengths = index.lengths
    for turn, state in enumerate(reversed(states[:-1]), start=1):
        # A rule no longer than `turn` states matches whatever came before it.
        possible = set(
            key
            for key in possible
            if lengths[key] <= turn or self._is_rule_applicable(key, turn, state)
        )
    return possible


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    RulePolicy._get_possible_keys = get_possible_keys  # type: ignore[method-assign]


def uninstall() -> None:
    """Rasa's own method again (the tests compare both)."""
    RulePolicy._get_possible_keys = _rasa_get_possible_keys  # type: ignore[method-assign]
