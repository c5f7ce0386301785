"""Abstract base for the validation actions of the service forms (orders, tracking, products).

Why custom extraction: the domain maps slots from entities, but "1234" is no entity, so
without help the form would reject the turn and the shopper would never hear *why* the
input was wrong. `raw_attempt` hands such text to validation when it looks like an answer
to the question just asked, and leaves anything else (another topic) to the rules.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

ATTEMPTS_SLOT = "invalid_attempts"
MAX_ATTEMPTS = 3
# Intents with which a shopper answers a question; other intents mean a change of topic.
ANSWER_INTENTS = frozenset({"inform", "nlu_fallback"})
# Intents that start one of the service forms; in another form they mean a topic switch.
TOPIC_INTENTS = frozenset({"order_status", "track_parcel", "product_info"})
HAS_DIGIT = re.compile(r"\d")


# "how long does delivery usually take?" right after an order's or a parcel's status is a
# question about delivery in general (the follow-up rules sent it to that order's status
# again): the words that say so, in the four languages.
GENERAL = re.compile(
    r"\b(?:usually|normally|generally|in general|typically|normal(?:ly)?|"
    r"vanligtvis|vanligen|normalt|brukar|oftast|i vanliga fall|"
    r"yleensä|yleensa|tavallisesti|normaalisti|yleisesti|"
    r"vanligvis|pleier|som regel|normalt sett)\b",
    re.IGNORECASE,
)
# After a status, a delivery-options question is about that order only when it asks who
# carries it ("which company delivers it?", "vem kör ut det?", "millä firmalla se tulee?");
# "can it go to a pickup point instead?" and "how much is delivery?" are general (they got
# the order's status, three times in a row).
CARRIER = re.compile(
    r"\b(?:who|which (?:company|carrier|courier|firm)|what (?:company|carrier|courier)|"
    r"carrier|courier|vem|vilket (?:bolag|företag|foretag)|vilken (?:transportör|speditör)|"
    r"transportör|kuka|mikä (?:yhtiö|firma|kuljetusyhtiö)|"
    r"mill(?:ä|a) (?:firmalla|yhtiöllä|yhtiolla)|kuljetusyhtiö|"
    r"hvem|hvilket (?:selskap|firma)|transportør|fraktselskap|"
    r"ups|dhl|dpd|postnord|posti|bring|budbee|instabox)\b",
    re.IGNORECASE,
)


# Right after a status, two follow-ups have answers of their own (blind trials: the whole
# status again): what happens when nobody is home, and what a delay entitles to.
NOT_HOME = re.compile(
    r"\b(?:not (?:be )?(?:at )?home|nobody(?:'s| is)? (?:at )?home|no one(?:'s| is)? "
    r"(?:at )?home|miss(?:ed)? (?:it|(?:the )?deliver\w*|the (?:driver|courier))|"
    r"inte (?:är )?hemma|inte vara hemma|ej hemma|ingen (?:är )?hemma|bortrest|"
    r"en (?:ole|oo) kotona|ei (?:ole|oo)? ?ketään kotona|"
    r"(?:ei kukaan|kukaan ei) (?:ole |oo )?kotona|"
    r"ikke (?:er )?hjemme|ikkje heime|ingen (?:er )?hjemme|bortreist|"
    r"(?:have to|need to|must) be (?:at )?home|be home for it|won'?t be (?:at )?home|"
    r"måste jag vara hemma|behöver jag vara hemma|maste jag vara hemma|"
    r"pitääkö (?:mun|minun) olla kotona|pitääks mun olla kotona|täytyykö olla kotona|"
    r"må jeg være hjemme|trenger jeg å være hjemme|ma jeg vaere hjemme)\b",
    re.IGNORECASE,
)
COMPENSATION = re.compile(
    r"\b(?:compensat\w*|make up for|(?:any|some)thing for (?:the|this|that) (?:delay|wait)|"
    r"(?:något|nåt|noe|noko) for (?:förseningen|forseningen|forsinkelsen|ventetiden)|"
    r"kompens\w*|ersättning\w*|ersattning\w*|gottgör\w*|"
    r"korvau\w*|hyvit\w*|"
    r"erstatning\w*|kompensasjon\w*)",
    re.IGNORECASE,
)
# "where is the pickup point?" right after a status: the order's own (the status names it),
# not the delivery options (a blind trial); "can it go to a pickup point instead?" stays
# general.
PICKUP_WHERE = re.compile(
    r"\b(?:where|which|var|vilket|vilken|missä|missa|hvor|hvilket|hvilken)\b"
    r".*\b(?:pick-?up point|pickup|parcel shop|collection point|ombud\w*|"
    r"utlämnings\w*|utlamnings\w*|paketautomat\w*|noutopiste\w*|nouto\w*|"
    r"pakettiautomaat\w*|hentested\w*|utleveringssted\w*|pakkeautomat\w*|"
    r"post (?:in|i) (?:butikk|butik))",
    re.IGNORECASE,
)
# "which pickup points do you have?" is about the options, even right after a status
OPTIONS_ASKED = re.compile(
    r"\b(?:do you have|have you got|are there|har ni|finns det|onko teillä|onko teilla|"
    r"onks teil|har dere|fins det|finnes det)\b",
    re.IGNORECASE,
)
# what the NLU reads them as ("what if I'm not home?": follow_up 0.85)
FACET_INTENTS = frozenset({"follow_up", "delivery_time", "delivery_methods"})
STATUS_ACTIONS = frozenset({"action_order_status", "action_track_parcel"})
FACET_ANSWERS = (
    (NOT_HOME, "utter_delivery_not_home"),
    (COMPENSATION, "utter_delay_compensation"),
)


def general_question(tracker: Tracker) -> str | None:
    """The general answer for a delivery question asked right after an order's or a
    parcel's status that is not about that order, if it is one (for the actions that the
    follow-up rules run after a status): a time "usually", any option but the carrier,
    what happens when nobody is home, what a delay entitles to."""
    intent = latest_intent(tracker)
    text = str((tracker.latest_message or {}).get("text") or "")
    if intent in FACET_INTENTS and after_status(tracker):
        for pattern, response in FACET_ANSWERS:
            if pattern.search(text):
                return response
    if intent == "delivery_time":
        return "utter_delivery_time" if GENERAL.search(text) else None
    if intent == "delivery_methods":
        own_pickup = PICKUP_WHERE.search(text) and not OPTIONS_ASKED.search(text)
        if CARRIER.search(text) or (own_pickup and after_status(tracker)):
            return None
        return "utter_delivery_methods"
    return None


def after_status(tracker: Tracker) -> bool:
    """Whether the bot's answer before the latest message told an order's or a parcel's
    status."""
    return any(name in STATUS_ACTIONS for name in actions_since_message(tracker, turns_back=1))


def latest_intent(tracker: Tracker) -> str | None:
    """The intent of the shopper's latest message, if it has one."""
    return ((tracker.latest_message or {}).get("intent") or {}).get("name")


def actions_since_message(tracker: Tracker, turns_back: int = 0) -> list[str]:
    """The actions run since the shopper's latest message, newest first, without Rasa's
    own bookkeeping (action_listen, action_extract_slots); with `turns_back` 1, those run
    after the message before it (the bot's previous answer), and so on."""
    names: list[str] = []
    messages = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            if messages == turns_back:
                break
            messages += 1
            continue
        name = event.get("name")
        if (
            messages == turns_back
            and kind == "action"
            and name
            not in (
                "action_listen",
                "action_extract_slots",
                None,
            )
        ):
            names.append(str(name))
    return names


def attempts(tracker: Tracker) -> int:
    value = tracker.get_slot(ATTEMPTS_SLOT)
    try:
        return int(value or 0)
    except (TypeError, ValueError):
        return 0


class ServiceFormValidation(FormValidationAction, ABC):
    """Counts invalid answers across the form and ends it after `MAX_ATTEMPTS`.

    Ending works by returning no required slots, which makes rasa-sdk set `requested_slot`
    to None: the form deactivates and the submit action offers a human agent.
    """

    # Intents that count as an answer to the form's question even without a recognisable
    # value; subclasses add the intent that started their form ("where is my order?" again).
    answer_intents: frozenset[str] = ANSWER_INTENTS

    @abstractmethod
    def name(self) -> str:
        """Concrete forms name themselves; abstract so rasa-sdk does not register the base."""

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if attempts(tracker) >= MAX_ATTEMPTS:
            return []
        return domain_slots

    def raw_attempt(
        self, tracker: Tracker, domain: DomainDict, slot: str, looks_like: re.Pattern[str]
    ) -> dict[str, Any]:
        """`{slot: text}` if the latest message answers the question for `slot`, else {}."""
        if tracker.get_slot("requested_slot") != slot:
            return {}
        if self._resumed_after_interruption(tracker):
            return {}  # that message was answered by another action already
        set_this_turn = tracker.slots_to_validate()
        if any(set_this_turn.get(s) is not None for s in self.domain_slots(domain)):
            return {}  # an entity already filled a slot of this form: nothing to guess
        message = tracker.latest_message or {}
        text = (message.get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}  # empty, or a button payload for another intent
        intent = (message.get("intent") or {}).get("name")
        if intent in TOPIC_INTENTS - self.answer_intents:
            return {}  # the shopper switched to another service topic: rules take over
        if intent in self.answer_intents or looks_like.search(text):
            return {slot: text}
        return {}

    def _resumed_after_interruption(self, tracker: Tracker) -> bool:
        """Whether another action ran since the shopper's latest message.

        Rasa calls the validation action with a tracker that ends in an `action` event for
        the form itself (so `latest_action_name` is always the form); any other action
        between the message and that marker means the form is being resumed after an
        interruption was answered.
        """
        return any(name != self.form_name() for name in actions_since_message(tracker))

    def invalid(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, slot: str, hint: str
    ) -> dict[str, Any]:
        """Reject a value: explain the format, or stay silent when giving up (the submit
        action then apologises and offers a human agent)."""
        count = attempts(tracker) + 1
        if count < MAX_ATTEMPTS:
            dispatcher.utter_message(response=hint)
        return {slot: None, ATTEMPTS_SLOT: float(count)}
