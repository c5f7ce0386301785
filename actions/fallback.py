"""First NLU miss: ask the shopper to rephrase, offering the likeliest topics as buttons.

A second miss in a row is handled by a rule (data/rules/fallback.yml) that offers a
person, so the shopper is never stuck in a loop of "sorry?".
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

# Intents worth suggesting, with the button title the shopper reads. Small talk and
# form answers are left out: "Did you mean: hello?" helps nobody.
SUGGESTIONS: dict[str, str] = {
    "order_status": "Where is my order?",
    "track_parcel": "Track my parcel",
    "payment_methods": "How can I pay?",
    "delivery_methods": "Delivery options",
    "delivery_time": "How long does delivery take?",
    "returns": "Returns and refunds",
    "cancel_order": "Cancel an order",
    "change_address": "Change my delivery address",
    "product_info": "Product sizes and prices",
    "contact": "Contact customer service",
    "human_handoff": "Talk to a person",
    "privacy": "How is my data used?",
    "invoice": "My invoice",
    "payment_issue": "A problem with a payment",
    "complaint": "Make a complaint",
    "cancellation_fee": "Does cancelling cost anything?",
    "change_order": "Change my order",
    "place_order": "How do I order?",
    "create_account": "Create an account",
    "edit_account": "Change my account details",
    "login_problem": "I can't log in",
    "delete_account": "Delete my customer account",
    "newsletter": "Newsletter",
    "feedback": "Give feedback",
}

MAX_SUGGESTIONS = 3
# Below this confidence a topic is a guess too wild to show.
MIN_SUGGESTION_CONFIDENCE = 0.05


def suggestions(parse_data: dict[str, Any]) -> list[dict[str, str]]:
    """Buttons for the best-ranked known topics of the message that was not understood."""
    buttons: list[dict[str, str]] = []
    for ranked in parse_data.get("intent_ranking") or []:
        name = ranked.get("name")
        if name in SUGGESTIONS and (ranked.get("confidence") or 0) >= MIN_SUGGESTION_CONFIDENCE:
            buttons.append({"title": SUGGESTIONS[name], "payload": f"/{name}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


class ActionAskRephrase(Action):
    def name(self) -> str:
        return "action_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = suggestions(tracker.latest_message or {})
        if buttons:
            dispatcher.utter_message(response="utter_rephrase", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_rephrase_no_suggestions")
        return []
