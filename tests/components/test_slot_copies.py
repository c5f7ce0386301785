"""A tracker's slots are copies as ``copy.copy`` makes them: same class, same attributes,
independent of the domain's slots."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
from rasa.shared.core.domain import Domain
from rasa.shared.core.slots import Slot
from rasa.shared.core.trackers import DialogueStateTracker

import components.minilm  # noqa: F401 - loading the model's components installs the copy
from components import slot_copies
from tests.support.speedups import rasas_own

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def domain() -> Domain:
    return Domain.load(str(ROOT / "domain"))


def test_loading_the_model_components_installs_the_copy() -> None:
    assert vars(Slot)["__copy__"] is slot_copies.shallow_copy


def test_every_slot_of_our_domain_is_copied_as_copy_copy_does(domain: Domain) -> None:
    assert len(domain.slots) > 50
    for slot in domain.slots:
        ours = copy.copy(slot)
        with rasas_own(slot_copies):
            pythons = copy.copy(slot)
        assert type(ours) is type(pythons) is type(slot)
        assert ours is not slot
        assert vars(ours) == vars(pythons) == vars(slot)
        # shallow, as copy.copy: the attributes are the same objects
        assert all(vars(ours)[name] is value for name, value in vars(slot).items())


def test_a_trackers_slot_values_do_not_reach_the_domain_or_other_trackers(domain: Domain) -> None:
    first = DialogueStateTracker("first", domain.slots)
    second = DialogueStateTracker("second", domain.slots)
    first.slots["email"].value = "kim@example.org"
    assert second.slots["email"].value is None
    assert next(s for s in domain.slots if s.name == "email").value is None
    copied = first.copy()
    assert copied.slots["email"] is not first.slots["email"]
