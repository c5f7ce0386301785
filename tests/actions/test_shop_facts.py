"""The answers of the topic files quote shop facts that exist and have a value.

Rasa fills `{name}` in a response from the slot of that name; an unknown name reaches the
shopper as the raw placeholder, and a fact slot without an initial value as "None". These
answers are said by rules alone (no action passes values), so every placeholder must be a
shop fact with an initial value in domain/shared.yml.
"""

from __future__ import annotations

import re
import string
from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]

# Topic files whose answers are said straight from a rule.
RULE_ANSWER_TOPICS = [
    "account",
    "complaints",
    "feedback",
    "invoices",
    "newsletter",
    "order_changes",
    "ordering",
    "payment_problems",
]


# Responses of these topics that an action says, with the values the action passes
# (tests/actions/test_<topic>.py check that they are filled); the other placeholders of
# these responses must still be shop facts.
ACTION_VALUES: dict[str, set[str]] = {
    "utter_invoice_unpaid": {"order_ref", "masked_email", "amount", "due_date"},
    "utter_invoice_overdue": {"order_ref", "masked_email", "amount", "due_date"},
    "utter_invoice_paid": {"order_ref", "masked_email", "amount", "due_date"},
    "utter_invoice_none": {"order_ref", "masked_email", "payment_method"},
    "utter_complaint_queued": {"position", "minutes"},
    "utter_complaint_left": {"masked_email", "next_opening"},
    "utter_erasure_registered": {"masked_email"},
}


def _responses(topic: str) -> dict[str, list[dict[str, Any]]]:
    with open(ROOT / "domain" / f"{topic}.yml", encoding="utf-8") as handle:
        return yaml.safe_load(handle)["responses"]


def _placeholders(text: str) -> set[str]:
    return {field for _, field, _, _ in string.Formatter().parse(text) if field}


@pytest.mark.parametrize("topic", RULE_ANSWER_TOPICS)
def test_every_placeholder_is_a_shop_fact_with_a_value(topic: str, domain: dict[str, Any]) -> None:
    slots = domain["slots"]
    for name, variants in _responses(topic).items():
        for variant in variants:
            for field in _placeholders(variant["text"]) - ACTION_VALUES.get(name, set()):
                assert field in slots, f"{name}: {{{field}}} is no slot"
                assert slots[field].get("initial_value") not in (None, ""), (
                    f"{name}: shop fact {field} has no value"
                )


# Actions a topic's rule may run before its answer: they decide which answer (or flow).
ROUTERS = frozenset({"action_self_service_route"})


@pytest.mark.parametrize("topic", RULE_ANSWER_TOPICS)
def test_each_topic_intent_has_an_answer_in_its_file(topic: str, domain: dict[str, Any]) -> None:
    """A new intent without a rule and answer would fall to action_default_fallback."""
    with open(ROOT / "domain" / f"{topic}.yml", encoding="utf-8") as handle:
        intents = yaml.safe_load(handle)["intents"]
    with open(ROOT / "data" / "rules" / f"{topic}.yml", encoding="utf-8") as handle:
        rules = yaml.safe_load(handle)["rules"]
    answered = {
        rule["steps"][0]["intent"]: [s["action"] for s in rule["steps"][1:] if "action" in s]
        for rule in rules
        if "intent" in rule["steps"][0]  # not the follow-up rules of a form
    }
    for intent in intents:
        assert intent in domain["intents"]
        assert answered.get(intent), f"no rule answers {intent}"
        assert all(
            action in domain["responses"] or action in domain["forms"] or action in ROUTERS
            for action in answered[intent]
        )


def test_deleting_the_account_is_not_deleting_the_chat(domain: dict[str, Any]) -> None:
    """The account answer is the privacy request; the gear menu (this chat) comes only in
    the confirmation, so nobody takes it for the way to delete the account."""
    account = domain["responses"]["utter_delete_account"][0]["text"]
    chat = domain["responses"]["utter_delete_conversation"][0]["text"]
    assert account != chat
    assert "{privacy_url}" in account and "gear" not in account
    assert "{support_email}" in domain["responses"]["utter_erasure_unavailable"][0]["text"]
    assert "gear menu" in domain["responses"]["utter_erasure_registered"][0]["text"]


def test_login_answer_points_to_the_reset_page_and_never_asks_for_a_password(
    domain: dict[str, Any],
) -> None:
    text = domain["responses"]["utter_login_problem"][0]["text"]
    assert "{password_reset_url}" in text
    assert not re.search(r"(what|tell me|send me|give me)[^.?]*password", text, re.I)
