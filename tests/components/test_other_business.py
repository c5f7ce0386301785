"""Shop questions about another business become out_of_scope, naming the business; the
lists come from config.yml, as the trained model has them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_RANKING_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message

from components.other_business import OtherBusiness

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def component() -> OtherBusiness:
    config = yaml.safe_load((ROOT / "config.yml").read_text(encoding="utf-8"))
    step = next(
        s for s in config["pipeline"] if s["name"] == "components.other_business.OtherBusiness"
    )
    return OtherBusiness({**OtherBusiness.get_default_config(), **step})


def classified(component: OtherBusiness, text: str, intent: str) -> Message:
    message = Message(
        data={
            TEXT: text,
            INTENT: {"name": intent, "confidence": 0.9},
            INTENT_RANKING_KEY: [
                {"name": intent, "confidence": 0.9},
                {"name": "out_of_scope", "confidence": 0.05},
            ],
            ENTITIES: [],
        }
    )
    return component.process([message])[0]


def named(message: Message) -> list[Any]:
    return [e["value"] for e in message.get(ENTITIES) if e["entity"] == "other_business"]


@pytest.mark.parametrize(
    ("text", "intent", "business"),
    [
        ("my Zalando order hasn't arrived", "order_status", "Zalando"),
        ("miten palautan Booztista tilatut kengät", "returns", "Boozt"),
        ("tilasin zalandosta kengät, voitteko tarkistaa?", "order_status", "Zalando"),
        ("Paketet från Apotea står som levererat", "track_parcel", "Apotea"),
        ("Telian asiakastilin salasana unohtu", "login_problem", "Telia"),
        ("Vodafone charged me twice this month", "payment_issue", "Vodafone"),
        ("Kela ei oo maksanu mun tukia", "payment_issue", "Kela"),
        ("I forgot my Nordea password", "login_problem", "Nordea"),
        ("how do I return something to IKEA?", "returns", "IKEA"),
        ("bestillingen min fra h&m har ikke kommet", "order_status", "H&M"),
        ("can you help me log in to my Amazon account?", "login_problem", "Amazon"),
    ],
)
def test_a_shop_question_about_another_business_is_out_of_scope(component, text, intent, business):
    message = classified(component, text, intent)
    assert message.get(INTENT)["name"] == "out_of_scope"
    assert message.get(INTENT_RANKING_KEY)[0]["name"] == "out_of_scope"
    assert named(message) == [business]


@pytest.mark.parametrize(
    ("text", "intent"),
    [
        # a bank's card at our checkout is our payment problem
        ("my Nordea card was declined at your checkout", "payment_issue"),
        # comparisons keep their intent
        ("is your delivery faster than Zalando's?", "delivery_time"),
        ("er dere billigere enn H&M?", "product_info"),
        # an e-mail address is no mention of its provider
        ("slett kontoen knyttet til maria.eide@telia.no", "delete_account"),
        ("my email is telia.fan@example.com, where is my order?", "order_status"),
        # no name at all, or a word that only starts like one
        ("where is my order?", "order_status"),
        ("I need a new opinion on sizes", "product_info"),
        # social networks and sign-in providers are in no list
        ("can I contact you on Facebook?", "contact"),
        ("I can't log in with my Facebook account", "login_problem"),
        # intents outside the lists: a person, feedback
        ("you are much nicer than the Zalando bot", "feedback"),
        ("I want to talk to someone about my Zalando order", "human_handoff"),
    ],
)
def test_everything_else_keeps_its_intent(component, text, intent):
    message = classified(component, text, intent)
    assert message.get(INTENT)["name"] == intent
    assert named(message) == []
