"""Every intent and slot name the actions hold as a constant exists in the domain.

A renamed intent would otherwise silently stop matching: a form would take a topic switch
for an answer, or the fallback would stop suggesting a topic.
"""

from __future__ import annotations

from typing import Any

import pytest

from actions import fallback, forms, handover, orders, products, tracking
from actions.calls import OUTCOME_SLOT

# nlu_fallback is Rasa's own intent (FallbackClassifier), not declared in the domain.
RASA_INTENTS = {"nlu_fallback"}

INTENT_CONSTANTS = {
    "forms.ANSWER_INTENTS": forms.ANSWER_INTENTS,
    "forms.TOPIC_INTENTS": forms.TOPIC_INTENTS,
    "handover.NOT_AN_ANSWER": handover.NOT_AN_ANSWER,
    "handover.EMAIL_ANSWER_INTENTS": handover.EMAIL_ANSWER_INTENTS,
    "handover.NO_TOPIC": handover.NO_TOPIC,
    "orders answer_intents": orders.ValidateOrderStatusForm.answer_intents,
    "tracking answer_intents": tracking.ValidateTrackingForm.answer_intents,
    "products answer_intents": products.ValidateProductForm.answer_intents,
    "fallback.SUGGESTIONS": set(fallback.SUGGESTIONS),
}


def intent_names(domain: dict[str, Any]) -> set[str]:
    return {i if isinstance(i, str) else next(iter(i)) for i in domain["intents"]}


@pytest.mark.parametrize("where", sorted(INTENT_CONSTANTS))
def test_intent_constants_name_domain_intents(where: str, domain: dict[str, Any]) -> None:
    unknown = set(INTENT_CONSTANTS[where]) - intent_names(domain) - RASA_INTENTS
    assert not unknown, f"{where} names intents the domain lacks: {sorted(unknown)}"


@pytest.mark.parametrize("slot", [forms.ATTEMPTS_SLOT, OUTCOME_SLOT])
def test_slot_constants_name_domain_slots(slot: str, domain: dict[str, Any]) -> None:
    assert slot in domain["slots"]
