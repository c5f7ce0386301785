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

from actions.orders import language_of

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

#: The same titles in the other conversation languages (README "Languages");
#: tests/channels/test_languages.py checks that every suggestion has all of them.
TRANSLATED_SUGGESTIONS: dict[str, dict[str, str]] = {
    "sv": {
        "order_status": "Var är min beställning?",
        "track_parcel": "Spåra mitt paket",
        "payment_methods": "Hur kan jag betala?",
        "delivery_methods": "Leveransalternativ",
        "delivery_time": "Hur lång är leveranstiden?",
        "returns": "Returer och återbetalningar",
        "cancel_order": "Avbryta en beställning",
        "change_address": "Ändra min leveransadress",
        "product_info": "Storlekar och priser",
        "contact": "Kontakta kundtjänst",
        "human_handoff": "Prata med en person",
        "privacy": "Hur används mina uppgifter?",
        "invoice": "Min faktura",
        "payment_issue": "Problem med en betalning",
        "complaint": "Göra en reklamation",
        "cancellation_fee": "Kostar det något att avbryta?",
        "change_order": "Ändra min beställning",
        "place_order": "Hur beställer jag?",
        "create_account": "Skapa ett konto",
        "edit_account": "Ändra mina kontouppgifter",
        "login_problem": "Jag kan inte logga in",
        "delete_account": "Radera mitt kundkonto",
        "newsletter": "Nyhetsbrev",
        "feedback": "Lämna synpunkter",
    },
    "fi": {
        "order_status": "Missä tilaukseni on?",
        "track_parcel": "Seuraa pakettiani",
        "payment_methods": "Miten voin maksaa?",
        "delivery_methods": "Toimitustavat",
        "delivery_time": "Kauanko toimitus kestää?",
        "returns": "Palautukset ja hyvitykset",
        "cancel_order": "Peru tilaus",
        "change_address": "Muuta toimitusosoitetta",
        "product_info": "Tuotteiden koot ja hinnat",
        "contact": "Ota yhteyttä asiakaspalveluun",
        "human_handoff": "Puhu ihmisen kanssa",
        "privacy": "Miten tietojani käytetään?",
        "invoice": "Laskuni",
        "payment_issue": "Ongelma maksussa",
        "complaint": "Tee reklamaatio",
        "cancellation_fee": "Maksaako peruminen jotain?",
        "change_order": "Muuta tilaustani",
        "place_order": "Miten tilaan?",
        "create_account": "Luo tili",
        "edit_account": "Muuta tilini tietoja",
        "login_problem": "En pääse kirjautumaan",
        "delete_account": "Poista asiakastilini",
        "newsletter": "Uutiskirje",
        "feedback": "Anna palautetta",
    },
    "nb": {
        "order_status": "Hvor er bestillingen min?",
        "track_parcel": "Spor pakken min",
        "payment_methods": "Hvordan kan jeg betale?",
        "delivery_methods": "Leveringsalternativer",
        "delivery_time": "Hvor lang er leveringstiden?",
        "returns": "Retur og refusjon",
        "cancel_order": "Kansellere en bestilling",
        "change_address": "Endre leveringsadressen min",
        "product_info": "Størrelser og priser",
        "contact": "Kontakt kundeservice",
        "human_handoff": "Snakk med en person",
        "privacy": "Hvordan brukes dataene mine?",
        "invoice": "Fakturaen min",
        "payment_issue": "Et problem med en betaling",
        "complaint": "Klage på en vare",
        "cancellation_fee": "Koster det noe å kansellere?",
        "change_order": "Endre bestillingen min",
        "place_order": "Hvordan bestiller jeg?",
        "create_account": "Opprett en konto",
        "edit_account": "Endre kontoopplysningene mine",
        "login_problem": "Jeg får ikke logget inn",
        "delete_account": "Slett kundekontoen min",
        "newsletter": "Nyhetsbrev",
        "feedback": "Gi tilbakemelding",
    },
}


def suggestion_title(intent: str, language: str) -> str:
    """The button title of a suggested topic in the conversation's language."""
    return TRANSLATED_SUGGESTIONS.get(language, {}).get(intent) or SUGGESTIONS[intent]


MAX_SUGGESTIONS = 3
# Below this confidence a topic is a guess too wild to show.
MIN_SUGGESTION_CONFIDENCE = 0.05


def suggestions(parse_data: dict[str, Any], language: str = "en") -> list[dict[str, str]]:
    """Buttons for the best-ranked known topics of the message that was not understood."""
    buttons: list[dict[str, str]] = []
    for ranked in parse_data.get("intent_ranking") or []:
        name = ranked.get("name")
        if name in SUGGESTIONS and (ranked.get("confidence") or 0) >= MIN_SUGGESTION_CONFIDENCE:
            buttons.append({"title": suggestion_title(name, language), "payload": f"/{name}"})
        if len(buttons) == MAX_SUGGESTIONS:
            break
    return buttons


class ActionAskRephrase(Action):
    def name(self) -> str:
        return "action_ask_rephrase"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        buttons = suggestions(tracker.latest_message or {}, language_of(tracker))
        if buttons:
            dispatcher.utter_message(response="utter_rephrase", buttons=buttons)
        else:
            dispatcher.utter_message(response="utter_rephrase_no_suggestions")
        return []
