"""The rule lookup finds exactly the rules Rasa's own finds: on every state of our stories
and rules, in training (the same lookup, contradictions removed alike) and by hand-made rules
for the cases the buckets must get right."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from rasa.core.policies.rule_policy import RULES, RULES_FOR_LOOP_UNHAPPY_PATH, RulePolicy
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.constants import SHOULD_NOT_BE_SET
from rasa.shared.core.domain import Domain
from rasa.shared.core.generator import TrackerWithCachedStates, TrainingDataGenerator
from rasa.shared.importers.importer import TrainingDataImporter

import components.minilm  # noqa: F401 - loading the model's components installs the lookup
from components import rule_lookup
from tests.support.speedups import rasas_own

ROOT = Path(__file__).resolve().parents[2]


def _policy(tmp_path: Path) -> RulePolicy:
    config = {
        **RulePolicy.get_default_config(),
        "core_fallback_threshold": 0.3,
        "core_fallback_action_name": "action_default_fallback",
        "enable_fallback_prediction": True,
    }  # as in config.yml
    return RulePolicy(
        config,
        LocalModelStorage(tmp_path),
        Resource("rules"),
        ExecutionContext(GraphSchema({}), "test"),
    )


@pytest.fixture(scope="module")
def project() -> tuple[Domain, list[TrackerWithCachedStates]]:
    """Our domain and the trackers Rasa trains its policies on (rules and stories)."""
    importer = TrainingDataImporter.load_from_config(
        str(ROOT / "config.yml"), str(ROOT / "domain"), [str(ROOT / "data")]
    )
    domain = importer.get_domain()
    trackers = TrainingDataGenerator(importer.get_stories(), domain, augmentation_factor=0)
    return domain, trackers.generate()


@pytest.fixture(scope="module")
def trained(
    project: tuple[Domain, list[TrackerWithCachedStates]], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[RulePolicy, RulePolicy]]:
    """The policy trained with Rasa's lookup, and with ours."""
    domain, trackers = project
    with rasas_own(rule_lookup):
        rasas = _policy(tmp_path_factory.mktemp("rasa"))
        rasas.train(trackers, domain)
    ours = _policy(tmp_path_factory.mktemp("ours"))
    ours.train(trackers, domain)
    yield rasas, ours


def test_loading_the_model_components_installs_the_lookup() -> None:
    assert RulePolicy._get_possible_keys is rule_lookup.get_possible_keys


def test_training_learns_the_same_rules(trained: tuple[RulePolicy, RulePolicy]) -> None:
    rasas, ours = trained
    assert len(rasas.lookup[RULES]) > 500  # our rules, not an empty lookup
    assert ours.lookup == rasas.lookup


def test_every_state_of_our_stories_and_rules_finds_rasas_keys(
    project: tuple[Domain, list[TrackerWithCachedStates]], trained: tuple[RulePolicy, RulePolicy]
) -> None:
    domain, trackers = project
    policy = trained[0]
    compared = matched = 0
    for tracker in trackers:
        for prior, _hidden in tracker.generate_all_prior_trackers():
            for use_text in (False, True):
                states = policy._prediction_states(
                    prior, domain, use_text, rule_only_data=policy._get_rule_only_data()
                )
                for name in (RULES, RULES_FOR_LOOP_UNHAPPY_PATH):
                    lookup = policy.lookup[name]
                    expected = rule_lookup._rasa_get_possible_keys(policy, lookup, states)
                    found = rule_lookup.get_possible_keys(policy, lookup, states)
                    # the same keys in the same order: Rasa takes the first longest one
                    assert list(found) == list(expected)
                    compared += 1
                    matched += bool(expected)
    assert compared > 5000 and matched > 1000  # real conversations, most of them matching


def _key(*states: dict[str, Any]) -> str:
    return json.dumps(list(states))


LISTEN = {"action_name": "action_listen"}
START_RULE = _key({}, {"prev_action": LISTEN, "user": {"intent": "greet"}})
GREET = _key({"prev_action": LISTEN, "user": {"intent": "greet"}})
ANY_INTENT_AFTER_LISTEN = _key({"prev_action": LISTEN})
NOT_IN_FORM = _key(
    {"prev_action": LISTEN, "user": {"intent": "greet"}, "active_loop": {"name": SHOULD_NOT_BE_SET}}
)
AFTER_ASK = _key(
    {"prev_action": {"action_name": "utter_ask"}},
    {"prev_action": LISTEN, "user": {"intent": "affirm"}},
)
BY_TEXT = _key({"prev_action": LISTEN, "user": {"text": "hello"}})
CONVERSATION_START = _key({})


@pytest.mark.parametrize(
    "states",
    [
        [{}],
        [{}, {"prev_action": LISTEN, "user": {"intent": "greet"}}],
        [{"prev_action": LISTEN, "user": {"intent": "greet"}}],
        [{"prev_action": LISTEN, "user": {"intent": "greet"}, "active_loop": {"name": "f"}}],
        [
            {"prev_action": {"action_name": "utter_ask"}},
            {"prev_action": LISTEN, "user": {"intent": "affirm"}},
        ],
        [
            {"prev_action": {"action_name": "utter_other"}},
            {"prev_action": LISTEN, "user": {"intent": "affirm"}},
        ],
        [{"prev_action": LISTEN, "user": {"text": "hello"}}],
        [{"prev_action": {"action_text": "hi there"}, "user": {"intent": "greet"}}],
        [{"prev_action": LISTEN}],
        [],
    ],
)
def test_hand_made_rules_match_as_in_rasa(tmp_path: Path, states: list[dict[str, Any]]) -> None:
    policy = _policy(tmp_path)
    lookup = {
        key: "utter_x"
        for key in (
            START_RULE,
            GREET,
            ANY_INTENT_AFTER_LISTEN,
            NOT_IN_FORM,
            AFTER_ASK,
            BY_TEXT,
            CONVERSATION_START,
        )
    }
    expected = rule_lookup._rasa_get_possible_keys(policy, lookup, states)
    assert list(rule_lookup.get_possible_keys(policy, lookup, states)) == list(expected)


def test_a_rule_removed_from_the_lookup_is_no_longer_found(tmp_path: Path) -> None:
    policy = _policy(tmp_path)
    lookup = {GREET: "utter_greet", ANY_INTENT_AFTER_LISTEN: "action_x"}
    states = [{"prev_action": LISTEN, "user": {"intent": "greet"}}]
    assert rule_lookup.get_possible_keys(policy, lookup, states) == {GREET, ANY_INTENT_AFTER_LISTEN}
    lookup.pop(GREET)  # as training does with a contradicted rule
    assert rule_lookup.get_possible_keys(policy, lookup, states) == {ANY_INTENT_AFTER_LISTEN}
    lookup[AFTER_ASK] = "utter_y"
    after_ask = [
        {"prev_action": {"action_name": "utter_ask"}},
        {"prev_action": LISTEN, "user": {"intent": "affirm"}},
    ]
    assert rule_lookup.get_possible_keys(policy, lookup, after_ask) == {
        AFTER_ASK,
        ANY_INTENT_AFTER_LISTEN,
    }
