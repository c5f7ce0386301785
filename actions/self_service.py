"""Self-service changes: the shopper proves an order once, confirms, the assistant changes it.

Flow (rules in data/rules/self_service.yml):
  intent (cancel_order, change_address; change_order, invoice and newsletter when
  action_self_service_route finds a request to act on) -> action_change_start ->
  self_service_form (order number + email, skipped when the conversation proved an order
  in the last 30 minutes; only the email for a newsletter unsubscribe) ->
  action_change_confirm (looks the order up, says exactly what will happen) ->
  change_confirmation_form (which item and size for a size change, then Yes / No;
  anything else re-asks once) -> action_change_execute.

Safety: the Idempotency-Key is created when the question is asked and kept in a slot
until the answer, so a retry after a timeout, a double "yes" or the same confirmation from
two tabs reach the service with one key and change the order once. After a timeout or a
broken answer the result is unknown: the assistant says so and offers a person, never
claims success. Slots are never trusted blindly: formats are checked again with
actions/inputs.py and the verification time is checked on every use.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.addresses import corrected_address, corrected_house_number, one_line, parse_address
from actions.calls import ANSWERED, NEEDS_HUMAN, OUTCOME_SLOT, apologise, call, turn_budget
from actions.clients import factory
from actions.clients.changes import Address, ChangeClient, new_idempotency_key
from actions.clients.errors import Conflict, Invalid, NotFound, ServiceError
from actions.clients.orders import Order
from actions.clients.products import Product, ProductClient
from actions.forms import (
    ATTEMPTS_SLOT,
    HAS_DIGIT,
    MAX_ATTEMPTS,
    actions_since_message,
    attempts,
    latest_intent,
)
from actions.inputs import mask_email, normalise_email, normalise_order_number
from actions.orders import ValidateOrderStatusForm, language_of
from actions.returns import FACETS, after_returns_answer, facets_asked
from actions.sizes import (
    Item,
    bare_sizes,
    canonical_size,
    dump_items,
    find_item,
    is_size_request,
    items_of,
    load_items,
    mentioned_articles,
    one_size_named,
    same_size,
    size_answer,
    size_in_request,
)
from actions.verified import VERIFIED_ORDER, remember, verified
from channels import languages

logger = logging.getLogger("actions.self_service")

KIND, KEY, ANSWER, REASKS = "change_kind", "change_key", "change_answer", "change_reasks"
# True while the address question waits for the right address (see WRONG_ADDRESS).
FIX_ASKED = "change_address_asked"
# Set to the change's kind when it went through: counted per day by retention/stats.py.
CHANGE_MARKER = "self_service_change"
# Set to the kind when the result is unknown: the agent console asks the agent to check.
UNKNOWN_MARKER = "self_service_unknown"
# Statuses the order service will refuse a cancellation for, and the reason code it gives:
# checked before asking, so nobody confirms a change that cannot happen.
CANCEL_TOO_LATE = {
    "shipped": "already_shipped",
    "out_for_delivery": "already_shipped",
    "delayed": "already_shipped",
    "delivered": "already_delivered",
    "returned": "already_returned",
    "cancelled": "already_cancelled",
}
KNOWN_REASONS = frozenset(CANCEL_TOO_LATE.values()) | {"already_packed", "out_of_stock"}
# Address changes are refused only once the parcel has left the warehouse.
ADDRESS_TOO_LATE = CANCEL_TOO_LATE
# Items can be changed until the order is packed.
SIZE_TOO_LATE = {**CANCEL_TOO_LATE, "packed": "already_packed"}
TOO_LATE = {"cancel": CANCEL_TOO_LATE, "address": ADDRESS_TOO_LATE, "size": SIZE_TOO_LATE}
KIND_BY_INTENT = {
    "cancel_order": "cancel",
    "change_address": "address",
    "change_order": "size",
    "invoice": "invoice_copy",
    "newsletter": "unsubscribe",
}
KINDS = frozenset(KIND_BY_INTENT.values())
# Changes that need a proven order (an unsubscribe needs only the address to remove).
ORDER_KINDS = KINDS - {"unsubscribe"}
ROUTE = "self_service_route"
# A change whose order was not found waits this many shopper messages for a corrected
# order number or email ("oops, it's ...@example.org", or "no thanks" first).
RETRY, DETAILS_ROUTE = "change_retry", "details_route"
RETRY_TURNS = 2
# Requests to act, among the questions of the intents that are mostly questions.
COPY_REQUEST = re.compile(
    r"\b(cop(?:y|ies)|resend|re-send|duplicate|another invoice|new invoice|"
    r"send (?:\w+ ){0,3}(?:again|over|once more)|"
    r"(?:lost|deleted|can'?t find|cannot find|never got|didn'?t get|didn'?t receive|"
    r"haven'?t (?:got|received)) (?:the|my|an|that) invoice|"
    # Swedish: a copy, send it again, a new invoice, never got / lost / can't find it
    r"kopia\w*|skicka\w* (?:\w+ ){0,2}(?:igen|p(?:å|a) nytt|en g(?:å|a)ng till)|ny faktura|"
    r"(?:inte|aldrig) (?:fått|fatt|fick) (?:\w+ )?faktura\w*|"
    r"(?:tappat|slängt|raderat|hittar inte|hittar ej) (?:\w+ )?faktura\w*|"
    # Finnish: a copy, again, a new invoice, not received / lost / can't find it (also
    # typed without ä and ö: "voitteko lahettaa laskun uudestaan")
    r"kopio\w*|l(?:ä|a)het\w* (?:\w+ ){0,2}(?:uudestaan|uudelleen|uusi)|uusi lasku|uuden laskun|"
    r"(?:en ole|en oo|ei ole|ei oo) (?:\w+ )?(?:saanut|saanu|tullut|tullu) (?:\w+ )?lasku\w*|"
    r"lasku\w* (?:on |oli )?(?:hukassa|h(?:ä|a)vinnyt|kadonnut)|"
    r"en l(?:ö|o)yd(?:ä|a) (?:\w+ )?lasku\w*|"
    # Norwegian: a copy, again, a new invoice, never got / lost / can't find it
    r"kopi\w*|send\w* (?:\w+ ){0,2}(?:igjen|p(?:å|a) nytt|en gang til)|ny faktura|"
    r"(?:ikke|aldri) (?:fått|fatt|fikk) (?:\w+ )?faktura\w*|"
    r"(?:mistet|slettet|finner ikke) (?:\w+ )?faktura\w*)",
    re.IGNORECASE,
)
UNSUBSCRIBE_REQUEST = re.compile(
    r"\b(unsub\w*|opt(?:-| )?out|sign (?:me )?(?:out|off)|remove me|take me off|"
    r"stop (?:sending|the newsletter|your newsletter|the emails|the e-mails|emailing|the mails)|"
    r"no more (?:newsletters?|emails|e-mails|mails|promo|offers|marketing)|"
    r"(?:don'?t|do not) (?:want|need) (?:your|the|any|more) (?:newsletters?|emails|e-mails|mails)|"
    r"cancel (?:the|my) (?:newsletter|subscription)|"
    # Swedish: unsubscribe, end the newsletter, stop sending, take me off, no more mails
    r"avregistrera\w*|avprenumerera\w*|avanmäl\w*|"
    r"(?:avsluta|säga upp|säg upp|stoppa) (?:\w+ )?(?:nyhetsbrev\w*|prenumeration\w*|utskick\w*)|"
    r"sluta (?:\w+ )?skicka|ta bort mig|"
    r"(?:vill inte|vill ej) (?:ha|få) (?:\w+ )?(?:nyhetsbrev|mejl|mail|e-post|utskick|reklam)\w*|"
    # Finnish: cancel / end the newsletter, stop sending, remove me, no more mails
    r"(?:peru\w*|lopet\w*|lopp\w*) (?:\w+ )?uutiskirje\w*|uutiskirje\w* (?:\w+ )?"
    r"(?:peru\w*|lopet\w*|pois)|lakat\w* lähettämästä|lopettakaa|"
    r"poista (?:minut|minua|mut|mua)|"
    r"en (?:halua|tarvitse) (?:\w+ ){0,2}(?:uutiskirje|sähköpost|spostej|mainos|viestej)\w*|"
    # Norwegian: unsubscribe (melde av), end the newsletter, stop sending, remove me
    r"meld\w* (?:meg )?av|avmeld\w*|"
    r"(?:avslutte|avslutt|stoppe|stopp) (?:\w+ )?(?:nyhetsbrev\w*|abonnement\w*)|"
    r"slutt\w* å sende|fjern meg|"
    r"vil ikke (?:ha|få) (?:\w+ )?(?:nyhetsbrev|e-post|eposter|mail|reklame)\w*|"
    # an address to take off the list, in any language: "remove anna@... from your
    # newsletter", "poistakaa olga@... teidän uutiskirjeestä" (a blind trial: the general
    # newsletter answer, after it had been read as an account to erase)
    r"(?:remove|delete|take)\b.{0,80}?\b(?:from|off) (?:the |your |my )?"
    r"(?:newsletter|mailing list|email list)|"
    r"(?:ta bort|radera)\b.{0,80}?\bfrån (?:ert |era |)(?:nyhetsbrev|utskick|mejllist)\w*|"
    r"poist\w*\b.{0,80}?\b(?:uutiskirje|postituslist)\w*|"
    r"(?:fjern|slett)\b.{0,80}?\bfra (?:nyhetsbrev|e-postlist|epostlist)\w*)",
    re.IGNORECASE,
)
# The printed catalogue is not the newsletter: its answer says how to stop it.
CATALOGUE = re.compile(r"\b(?:catalog|katalog|kuvasto|luettelo)", re.IGNORECASE)
NEW_ADDRESS = "new_address"
ITEMS, ITEM, NEW_SIZE = "change_items", "change_item", "new_size"
PAID = frozenset({"credit card", "PayPal", "direct debit"})
SKIP = "skip"  # change_answer when there is nothing to confirm
# A yes changes the order for good: one the NLU is unsure of ("hmm" was read as affirm
# with 0.75 and cancelled an order) is asked again. The buttons' payloads come with 1.0.
MIN_YES_CONFIDENCE = 0.8
# A yes that opens an answer to "Cancel order ...?" and goes on with the cancelling verb,
# in each language; no "not"/"don't"/"inte"/"ei"/"ikke" anywhere after it.
YES_CANCEL = re.compile(
    r"^\s*(?:ok(?:ay)?[\s,!.]+)?(?:yes|yeah|yep|yup|sure|ja|japp|jo|joo|jep|kyllä|kylla)\b"
    r"(?!.*\b(?:not|don'?t|dont|no|inte|ej|ei|älä|ala|ikke)\b)"
    r".*\b(?:cancel|avbryt|avbeställ|avbestall|makulera|peru|peruuta|avbestill|kanseller|annuller)",
    re.IGNORECASE,
)
ADDRESS_FIELDS = frozenset({"street", "postcode", "city", "country", "name"})


def money(order: Order, language: str = "en") -> str:
    """The order's total in the locale of the conversation's language (Babel)."""
    if order.total is None:
        return ""
    return languages.money_text(order.total, order.currency or "EUR", language)


def summary(order: Order, language: str = "en") -> str:
    """'2 items, €79.90': what the shopper checks before saying yes."""
    count = order.item_count
    items = "items_one" if count == 1 else "items_many"
    parts = [languages.say(items, language, count=count)]
    if order.total is not None:
        parts.append(money(order, language))
    return ", ".join(parts)


def log_change(kind: str, outcome: str) -> None:
    """One line per change attempt, no identifiers: what happened, not to whom."""
    logger.info("self-service %s: %s", kind, outcome)


def clear_pending() -> list[EventType]:
    return [
        SlotSet(KIND, None),
        SlotSet(KEY, None),
        SlotSet(ANSWER, None),
        SlotSet(REASKS, 0.0),
        SlotSet(FIX_ASKED, False),
        SlotSet("order_number", None),
        SlotSet("email", None),
        SlotSet(NEW_ADDRESS, None),
        SlotSet(ITEMS, None),
        SlotSet(ITEM, None),
        SlotSet(NEW_SIZE, None),
        # The product form's slot fills from any article number a shopper types (the item
        # buttons send one): left set, a later product question would answer about it.
        SlotSet("article_number", None),
    ]


def requested_kind(intent: str, text: str) -> str | None:
    """The change a message asks for, or None when it is a question to answer.

    cancel_order and change_address are always requests; the other intents are mostly
    questions ("how do I unsubscribe?" is answered by doing it, "can I add an item?" is
    not a change the assistant can make), told apart by what the shopper wants done.
    """
    kind = KIND_BY_INTENT.get(intent)
    if kind == "size":
        return kind if is_size_request(text) else None
    if kind == "invoice_copy":
        return kind if COPY_REQUEST.search(text or "") else None
    if kind == "unsubscribe":
        # the printed catalogue is not the newsletter: its answer says how to stop it
        wanted = UNSUBSCRIBE_REQUEST.search(text or "") and not CATALOGUE.search(text or "")
        return kind if wanted else None
    return kind


def kind_of(tracker: Tracker) -> str:
    kind = tracker.get_slot(KIND)
    return kind if kind in KINDS else "cancel"


class ActionSelfServiceRoute(Action):
    """Tells a request the assistant can carry out from a question it answers.

    Runs for change_order, invoice and newsletter; the rules branch on the featurized
    slot it sets: `change` starts the self-service flow, `answer` gives the topic's answer.
    """

    def name(self) -> str:
        return "action_self_service_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        message = tracker.latest_message or {}
        intent = str((message.get("intent") or {}).get("name"))
        text = str(message.get("text") or "")
        if (
            intent == "change_order"
            and after_returns_answer(tracker)
            and not _names_an_order(message)
            and "exchange" in facets_asked(text)
        ):
            # "can I swap them for a bigger size instead?" right after the returns answer:
            # an exchange of what comes back (it started a size change of a placed order)
            return [SlotSet(ROUTE, "exchange")]
        kind = requested_kind(intent, text)
        if kind:
            return [SlotSet(ROUTE, "change")]
        if intent == "invoice" and invoice_checked(tracker) and not _names_an_order(message):
            if WHEN.search(text) and verified(tracker):
                # "når forfaller den?" right after the invoice's status: its date, from the
                # order service again (a blind trial: the general invoice text)
                return [SlotSet(ROUTE, "lookup")]
            if MORE_TIME.search(text):
                # "can I get more time to pay?", "voiks eräpäivää siirtää" after an invoice's
                # status (blind trials: the whole invoice text again, "tell us before the
                # due date" for an overdue one): a later date or a payment plan, a person
                return [SlotSet(ROUTE, "payment_plan")]
            if LATE_FEE.search(text):
                # "is there a late fee?" after an invoice's status: what paying late costs
                # (a blind trial: the whole invoice text, the fee one clause in it)
                return [SlotSet(ROUTE, "late_fee")]
            # "what's the reference number?" right after an invoice's status: the answer,
            # without the offer to check an order's invoice (it offered the one just told)
            return [SlotSet(ROUTE, "answer_only")]
        if (
            intent == "invoice"
            and verified(tracker)
            and not _names_an_order(message)
            and ABOUT_ONE_INVOICE.search(text)
        ):
            # "and is my invoice paid?" after the order's status: that order's invoice
            # (a blind trial: the general answer and "shall I check an order's invoice?")
            return [SlotSet(ROUTE, "lookup")]
        return [SlotSet(ROUTE, "answer")]


# Asking what still comes after unsubscribing, in the four languages.
STILL_COMES = re.compile(
    r"\b(?:still|anymore|any more|fortfarande|ändå|fortsättningsvis|edelleen|vielä|viela|"
    r"jatkossa|fortsatt|fremdeles|likevel)\b",
    re.IGNORECASE,
)


# Asking for more time to pay, in the four languages.
MORE_TIME = re.compile(
    r"\b(?:more time|extra time|extend\w*|postpone|later (?:date|due)|move the due|"
    r"pay (?:it )?later|in (?:parts|instal+ments)|payment plan|"
    r"mer tid|längre tid|langre tid|skjuta upp|senare förfallo\w*|betala senare|delbetal\w*|"
    r"avbetal\w*|lisäaika\w*|lisaaika\w*|lisää aikaa|lisaa aikaa|siirt\w*|myöhemmin|"
    r"myohemmin|osissa|maksusuunnitelm\w*|erissä|erissa|"
    r"lengre tid|utsett\w*|senere|betale senere|nedbetal\w*|avdrag\w*)\b",
    re.IGNORECASE,
)


# Asking what paying late costs, in the four languages.
LATE_FEE = re.compile(
    r"\b(?:late (?:fee|charge|payment fee)|reminder (?:fee|charge)|fee\w* (?:if|for|when)|"
    r"pay\w*(?: \w+){0,4} (?:late|after the due)|interest|penalt\w*|"
    r"påminnelse\w*|paminnelse\w*|förseningsavgift\w*|forseningsavgift\w*|avgift\w*|"
    r"dröjsmålsränta|drojsmalsranta|ränta|ranta|betala\w* (?:för )?sent|"
    r"muistutus\w*|viivästy\w*|viivasty\w*|korko\w*|maksu\w* (?:jos|kun)|myöhässä|myohassa|"
    r"purre\w*|gebyr\w*|forsinkelse\w*|rente\w*|betale\w* for sent)\b",
    re.IGNORECASE,
)


# Words that make an invoice question about one invoice, the shopper's own ("is my invoice
# paid?", "när ska den betalas?", "onko laskuni maksettu", "når forfaller fakturaen?").
ABOUT_ONE_INVOICE = re.compile(
    r"\b(?:my|mine|it|it'?s|its|this|that|the invoice|"
    r"min|mitt|mina|den|det|fakturan|"
    r"mun|minun|sen|sitä|sita|se|laskuni|laskun|laskusta|"
    r"fakturaen|regningen)\b",
    re.IGNORECASE,
)


def invoice_checked(tracker: Tracker) -> bool:
    """Whether an invoice's status was told in this conversation."""
    return any(
        e.get("event") == "action" and e.get("name") == "action_invoice_status"
        for e in tracker.events
    )


def _names_an_order(message: dict[str, Any]) -> bool:
    return any(e.get("entity") in ("order_number", "email") for e in message.get("entities") or [])


def shopper_turns(tracker: Tracker) -> int:
    """How many messages the shopper has sent in this conversation."""
    return sum(1 for e in tracker.events if e.get("event") == "user")


def retry_pending(tracker: Tracker) -> bool:
    """Whether a change whose order was not found, at most RETRY_TURNS shopper messages
    ago, still waits for a corrected order number or email."""
    marker = tracker.get_slot(RETRY)
    if not isinstance(marker, str) or ":" not in marker:
        return False
    kind, _, turn = marker.rpartition(":")
    if kind not in ORDER_KINDS or tracker.get_slot(KIND) != kind or not turn.isdigit():
        return False
    return 0 < shopper_turns(tracker) - int(turn) <= RETRY_TURNS


class ActionDetailsRoute(Action):
    """Where an order number or email typed outside any form goes: back into a change
    whose order was not found just before (the correction is checked with the detail
    already given), else to the order form. The rules branch on `details_route`."""

    def name(self) -> str:
        return "action_details_route"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        if retry_pending(tracker):
            return [
                SlotSet(DETAILS_ROUTE, "change"),
                SlotSet(RETRY, None),
                SlotSet(OUTCOME_SLOT, None),
                SlotSet(REASKS, 0.0),
            ]
        text = str((tracker.latest_message or {}).get("text") or "")
        # A request the NLU read as details alone: "tilasin paidan liian pienenä, 40012364
        # ja ...@... saisko isomman" (a size change; it got the status, then "L" was taken
        # for thanks), "lähettäkää lasku uudestaan tilaukseen 40012354, ..." (a copy)
        kind = "size" if is_size_request(text) else None
        kind = kind or ("invoice_copy" if COPY_REQUEST.search(text) else None)
        if kind and tracker.get_slot("order_number"):
            return [
                SlotSet(DETAILS_ROUTE, "change"),
                *(e for e in clear_pending() if e["name"] not in ("order_number", "email")),
                SlotSet(KIND, kind),
                SlotSet(RETRY, None),
            ]
        events: list[EventType] = [SlotSet(DETAILS_ROUTE, "order")]
        if tracker.get_slot(RETRY):
            # too late for a correction: the change is over
            events += [SlotSet(RETRY, None), SlotSet(KIND, None)]
        return events


class ActionChangeStart(Action):
    """Remembers which change was asked for and reuses a recently proven order."""

    def name(self) -> str:
        return "action_change_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = str((tracker.latest_message.get("intent") or {}).get("name"))
        kind = KIND_BY_INTENT.get(intent, "cancel")
        if kind == "unsubscribe":
            return self._unsubscribe(tracker)
        # The form validates every slot set in this turn, and an empty order number, email
        # or address would be answered with "that doesn't look like ..." before the shopper
        # typed any: only what this changes is set.
        events: list[EventType] = [
            e
            for e in clear_pending()
            if e["name"] not in ("order_number", "email")
            and (e["name"] in (KIND, KEY, ANSWER, REASKS) or tracker.get_slot(e["name"]))
        ]
        events.append(SlotSet(KIND, kind))
        if tracker.get_slot(RETRY):
            events.append(SlotSet(RETRY, None))
        mentioned = normalise_order_number(tracker.get_slot("order_number"))
        proven = verified(tracker)
        if proven and mentioned in (None, proven[0]):
            return [*events, SlotSet("order_number", proven[0]), SlotSet("email", proven[1])]
        # Another order, or none proven yet: the form asks for what is missing.
        email = normalise_email(tracker.get_slot("email"))
        for name, value in (("order_number", mentioned), ("email", email)):
            if value is not None or tracker.get_slot(name) is not None:
                events.append(SlotSet(name, value))
        dispatcher.utter_message(response=f"utter_change_start_{kind}")
        return events

    def _unsubscribe(self, tracker: Tracker) -> list[EventType]:
        """Only an email is needed: the one in this message, else the form asks for it.

        An address remembered from earlier in the conversation is not reused: whoever
        asks may want another address removed, and the question costs one turn.
        """
        given = next(tracker.get_latest_entity_values("email"), None)
        email = normalise_email(given) if isinstance(given, str) else None
        events: list[EventType] = [
            e
            for e in clear_pending()
            if e["name"] in (KIND, KEY, ANSWER, REASKS) or tracker.get_slot(e["name"])
        ]
        events.append(SlotSet(KIND, "unsubscribe"))
        if email:
            events.append(SlotSet("email", email))
        return events


# Messages at the address question that the self-service form's rules answer (a shop
# question, "never mind", bye, a person: data/rules/leaving_forms.yml, self_service.yml)
# when they hold no digit, so cannot be an address with a house number or postcode.
NOT_AN_ADDRESS = frozenset({
    "payment_methods", "delivery_methods", "delivery_time", "returns", "contact", "privacy",
    "bot_challenge", "greet", "goodbye", "thank", "stop", "deny", "human_handoff", "insult",
    "order_status", "track_parcel", "product_info",
})  # fmt: skip


class ValidateSelfServiceForm(factory.UsesOrderService, ValidateOrderStatusForm):
    """Order number and email for a change, by the same rules as the order status form."""

    answer_intents = ValidateOrderStatusForm.answer_intents | set(KIND_BY_INTENT)

    def name(self) -> str:
        return "validate_self_service_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """Before the new address is asked for, the order is looked up: a parcel that has
        left, or an order that is not found, ends the form, and action_change_confirm says
        why (nobody types an address for a change that cannot happen). "So it still goes
        to the old address?" right after a no ends it too: action_change_confirm says that
        nothing changed."""
        if tracker.get_slot("requested_slot") is None and asks_if_unchanged(tracker):
            return [SlotSet("requested_slot", None)]
        events = await super().run(dispatcher, tracker, domain)
        asks = [e for e in events if e.get("name") == "requested_slot"]
        if (
            kind_of(tracker) != "address"
            or not asks
            or asks[-1].get("value") != NEW_ADDRESS
            or tracker.get_slot("requested_slot") == NEW_ADDRESS
            or not await self._address_cannot_change(tracker)
        ):
            return events
        return [e for e in events if e.get("name") != "requested_slot"] + [
            SlotSet("requested_slot", None)
        ]

    async def _address_cannot_change(self, tracker: Tracker) -> bool:
        """Whether the order just given is unknown or past an address change. A service
        that fails says nothing: the address is asked for and the lookup tried again."""
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        if not number or not email:
            return False
        with turn_budget():
            try:
                order = await call(self.client.lookup, number, email)
            except NotFound:
                return True
            except ServiceError:
                return False
        return order.status in ADDRESS_TOO_LATE

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        slots = await super().required_slots(domain_slots, dispatcher, tracker, domain)
        if slots and tracker.get_slot(KIND) == "address":
            return [*slots, NEW_ADDRESS]
        if slots and tracker.get_slot(KIND) == "unsubscribe":
            return [s for s in slots if s != "order_number"]
        return slots

    async def extract_email(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        text = str((tracker.latest_message or {}).get("text") or "")
        if latest_intent(tracker) == "newsletter" and "@" not in text:
            # "and stop sending me the catalogue too" while the address to unsubscribe is
            # asked: a question for the newsletter answer (a rule), not a malformed address
            return {}
        return await super().extract_email(dispatcher, tracker, domain)

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != NEW_ADDRESS:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}
        if not HAS_DIGIT.search(text) and latest_intent(tracker) in NOT_AN_ADDRESS:
            return {}  # "how long does delivery take?": the form rejects it, a rule answers
        if not HAS_DIGIT.search(text) and _cost_question(text):
            # "will it cost extra to change the address?" (a blind trial: "I couldn't read
            # that as an address"): free, and the address is asked for again
            dispatcher.utter_message(response="utter_change_free")
            return {NEW_ADDRESS: None}
        return {NEW_ADDRESS: text}

    def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:  # a cost question, answered by extract_new_address
            return {}
        address = parse_address(value, language_of(tracker)) if isinstance(value, str) else None
        if address is None:
            return self.invalid(dispatcher, tracker, NEW_ADDRESS, "utter_invalid_address")
        return {NEW_ADDRESS: json.dumps(address.as_json())}


class ActionChangeConfirm(factory.UsesOrderService, Action):
    """Looks the proven order up and asks for a yes, or says why the change cannot be."""

    def name(self) -> str:
        return "action_change_confirm"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        kind = kind_of(tracker)
        email = normalise_email(tracker.get_slot("email"))
        if kind == "unsubscribe":
            if not email:
                dispatcher.utter_message(response="utter_too_many_attempts")
                return [*SKIPPED, NEEDS_HUMAN]
            # Nothing to look up: the service answers the same for any address.
            return [*fresh_question(), SlotSet("change_summary", email)]
        number = normalise_order_number(tracker.get_slot("order_number"))
        if not number or not email:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*SKIPPED, NEEDS_HUMAN]
        if asks_if_unchanged(tracker):
            # "so it still goes to the old address, right?" right after a "no" (blind
            # trials, twice: read as change_address, the change started again)
            dispatcher.utter_message(response="utter_change_nothing_changed", order_ref=number)
            return [*SKIPPED, ANSWERED]
        return await confirmation_events(self.client, dispatcher, tracker, number, email)


# Asking whether all stays as it was: "so it still goes to the old address?", "så den
# kommer fortfarande till gamla adressen?", "eli se menee vanhaan osoitteeseen?".
UNCHANGED = re.compile(
    r"\b(?:still|old address|unchanged|as before|same address|as it was|"
    r"fortfarande|gamla adressen|som förut|som forut|samma adress|oförändrad|oforandrad|"
    r"edelleen|vieläkin|vielakin|vanhaan osoitteeseen|vanha osoite|ennallaan|sama osoite|"
    r"fortsatt|fremdeles|gamle adressen|som før|som for|samme adresse|uendret)\b",
    re.IGNORECASE,
)


def asks_if_unchanged(tracker: Tracker) -> bool:
    """Whether the latest message, right after the shopper said no to a change, asks if
    all stays as it was (and gives nothing new: no digit, no address)."""
    text = str((tracker.latest_message or {}).get("text") or "")
    if not UNCHANGED.search(text) or re.search(r"\d", text):
        return False
    return declined_just_before(tracker)


def declined_just_before(tracker: Tracker) -> bool:
    """Whether the shopper's message before the latest one said no to a change."""
    messages = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            messages += 1
            if messages == 2:
                return False
            continue
        if (
            messages == 1
            and event.get("event") == "slot"
            and event.get("name") == ANSWER
            and event.get("value") == "no"
        ):
            return True
    return False


# The confirmation is not needed (said why already): no answer to wait for, no key.
SKIPPED: tuple[EventType, ...] = (SlotSet(ANSWER, SKIP), SlotSet(KEY, None))


def fresh_question() -> list[EventType]:
    """A fresh question: a new key, no answer yet."""
    return [SlotSet(KEY, new_idempotency_key()), SlotSet(ANSWER, None), SlotSet(REASKS, 0.0)]


async def confirmation_events(
    client: Any,
    dispatcher: CollectingDispatcher,
    tracker: Tracker,
    number: str,
    email: str,
) -> list[EventType]:
    """Looks the order up and sets up the question about it (its summary, a fresh key),
    or says why the change cannot be and skips the question. For action_change_confirm,
    and for the confirmation form when the shopper names another order at the question."""
    kind = kind_of(tracker)
    with turn_budget():
        try:
            order = await call(client.lookup, number, email)
        except NotFound:
            log_change(kind, "not_found")
            dispatcher.utter_message(response="utter_order_not_found")
            # the change and its details stay for a correction (action_details_route)
            retry = SlotSet(RETRY, f"{kind}:{shopper_turns(tracker)}")
            return [*SKIPPED, SlotSet(VERIFIED_ORDER, None), retry, NEEDS_HUMAN]
        except ServiceError as exc:
            log_change(kind, f"lookup failed ({exc.reason})")
            return [*SKIPPED, apologise(dispatcher)]
    events = [SlotSet("order_number", number), SlotSet("email", email), *remember(number, email)]
    reason = TOO_LATE.get(kind, {}).get(order.status)
    if reason:
        log_change(kind, f"refused before asking ({reason})")
        prefix = {"address": "address", "size": "size"}.get(kind, "change")
        dispatcher.utter_message(response=f"utter_{prefix}_refused_{reason}", order_ref=number)
        return [*events, *SKIPPED, ANSWERED]
    if kind == "size":
        return [*events, *_size_question(tracker, order)]
    address = _stored_address(tracker) if kind == "address" else None
    if kind == "address" and address is None:
        # the form gave up on the address (three unreadable ones)
        dispatcher.utter_message(response="utter_too_many_attempts")
        return [*events, *SKIPPED, NEEDS_HUMAN]
    language = language_of(tracker)
    detail = one_line(address, language) if address else summary(order, language)
    return [*events, *fresh_question(), SlotSet("change_summary", detail)]


def _size_question(tracker: Tracker, order: Order) -> list[EventType]:
    """The order's items for the item question, and what the request already named
    (the confirmation form checks both, and asks for what is missing)."""
    items = items_of(order)
    text = _request_text(tracker)
    # Without a name: the order's only item, or its only item that comes in sizes (a top
    # and a one-size scarf: the top; it asked which item)
    sized = [i for i in items if (i.size or "").strip().lower() not in ("", "one size")]
    item = (
        find_item(text, items)
        or (items[0] if len(items) == 1 else None)
        or (sized[0] if len(sized) == 1 else None)
    )
    size = size_in_request(text) if item else None
    if item and size is None:
        # "the trainers 40 are too small, can I get 41 instead?": the last size of the
        # item's kind (a number for a number) that is not the one it has
        numeric = (item.size or "").isdigit()
        others = [
            s for s in bare_sizes(text)
            if s.isdigit() == numeric and not same_size(s, item.size)
        ]  # fmt: skip
        size = others[-1] if others else None
    return [
        SlotSet(ITEMS, dump_items(items)),
        SlotSet(ITEM, item.article_number if item else None),
        SlotSet(NEW_SIZE, size),
        SlotSet(KEY, None),
        SlotSet(ANSWER, None),
        SlotSet(REASKS, 0.0),
        SlotSet(ATTEMPTS_SLOT, 0.0),
    ]


def _request_text(tracker: Tracker) -> str:
    """The shopper's message that asked for the change (the one before action_change_start,
    or before action_details_route for a request that came with the order's details):
    it may name the item and the size, even when the order questions came in between."""
    started = via_details = False
    for event in reversed(tracker.events):
        if event.get("event") == "action" and event.get("name") == "action_change_start":
            started, via_details = True, False
        elif event.get("event") == "action" and event.get("name") == "action_details_route":
            started, via_details = True, True
        elif started and event.get("event") == "user":
            text = str(event.get("text") or "")[:300]
            if not via_details or is_size_request(text):
                return text
            started = False  # details only (a correction): the request came before
    return ""


def _stored_address(tracker: Tracker) -> Address | None:
    """The parsed address the form stored (JSON), checked again: slots are not trusted."""
    raw = tracker.get_slot(NEW_ADDRESS)
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    if not isinstance(data, dict) or not all(
        isinstance(data.get(k), str) and 0 < len(data[k]) <= 100
        for k in ("street", "postcode", "city", "country")
    ):
        return None
    name = data.get("name")
    return Address(
        street=data["street"],
        postcode=data["postcode"],
        city=data["city"],
        country=data["country"],
        name=name if isinstance(name, str) else None,
    )


def chosen_item(tracker: Tracker) -> Item | None:
    """The item the size change is about: one of the looked-up order's items."""
    article = tracker.get_slot(ITEM)
    return next(
        (i for i in load_items(tracker.get_slot(ITEMS)) if i.article_number == article), None
    )


class ActionAskChangeAnswer(Action):
    """The Yes / No question, stating exactly what will happen."""

    def name(self) -> str:
        return "action_ask_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = normalise_order_number(tracker.get_slot("order_number")) or ""
        detail = str(tracker.get_slot("change_summary") or "").strip()
        if kind_of(tracker) == "address" and tracker.get_slot(FIX_ASKED):
            # "no wait, wrong house number": the right one first, then the question again
            dispatcher.utter_message(response="utter_ask_corrected_address")
            return []
        if float(tracker.get_slot(REASKS) or 0) and latest_intent(tracker) not in QUESTION_INTENTS:
            # not after a shop question the rules just answered: that was no unclear answer
            dispatcher.utter_message(response="utter_change_need_yes_no")
        kind = kind_of(tracker)
        if kind == "size":
            item = chosen_item(tracker)
            dispatcher.utter_message(
                response="utter_ask_size_confirmation",
                order_ref=number,
                item=item.name if item else "",
                article=item.article_number if item else "",
                old_size=(item.size if item else None) or "-",
                new_size=str(tracker.get_slot(NEW_SIZE) or ""),
            )
            return []
        if kind == "unsubscribe":
            dispatcher.utter_message(
                response="utter_ask_unsubscribe_confirmation", change_summary=detail
            )
            return []
        # The address an invoice copy goes to, masked: "which email will it go to?" was
        # asked at the question (a blind trial, twice)
        email = normalise_email(tracker.get_slot("email"))
        dispatcher.utter_message(
            response=f"utter_ask_{kind}_confirmation",
            order_ref=number,
            change_summary=detail,
            masked_email=mask_email(email) if email else "",
        )
        return []


class ActionAskSelfServiceEmail(Action):
    """The email question: the order's, or (for an unsubscribe) the address to remove."""

    def name(self) -> str:
        return "action_ask_self_service_form_email"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        unsubscribe = tracker.get_slot(KIND) == "unsubscribe"
        dispatcher.utter_message(
            response="utter_ask_unsubscribe_email" if unsubscribe else "utter_ask_email"
        )
        return []


class ActionAskChangeItem(Action):
    """Which item of the order: one button per item (its article number is the answer)."""

    def name(self) -> str:
        return "action_ask_change_item"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        items = load_items(tracker.get_slot(ITEMS))
        language = language_of(tracker)
        buttons = [{"title": i.label(language), "payload": i.article_number} for i in items]
        dispatcher.utter_message(
            response="utter_ask_change_item",
            order_ref=normalise_order_number(tracker.get_slot("order_number")) or "",
            buttons=buttons,
        )
        return []


class ActionAskNewSize(Action):
    """Which size instead: the sizes in stock as buttons (none when the service is down;
    the shopper types the size and the order service decides)."""

    def __init__(self, products: ProductClient | None = None) -> None:
        self._products = products

    def name(self) -> str:
        return "action_ask_new_size"

    @property
    def products(self) -> ProductClient:
        if self._products is None:
            self._products = factory.product_client()
        return self._products

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        item = chosen_item(tracker)
        if item is None:
            return []
        product = await _product(self.products, item.article_number)
        choices = (
            [s for s in product.sizes_in_stock if not same_size(s, item.size)] if product else []
        )
        dispatcher.utter_message(
            response="utter_ask_new_size" if choices else "utter_ask_new_size_no_list",
            item=item.name,
            old_size=item.size or "-",
            sizes=", ".join(choices),
            buttons=[{"title": s, "payload": s} for s in choices],
        )
        return []


async def _product(client: ProductClient, article: str) -> Product | None:
    """The product with its stock per size, or None when the service cannot tell now."""
    with turn_budget():
        try:
            return await call(client.product, article)
        except ServiceError as exc:
            log_change("size", f"product lookup failed ({exc.reason})")
            return None


def _answered_already(tracker: Tracker) -> bool:
    """Whether the latest message was handled before the question was asked.

    Rasa validates when the form activates, with the message that led to the question
    (an email, an address) still the latest one: that message is no answer to it. Any
    action between it and the form (action_change_confirm) shows it was handled.
    """
    return any(name != "change_confirmation_form" for name in actions_since_message(tracker))


# Intents that mean "leave it" while the item or size question waits.
LEAVE_INTENTS = frozenset({"deny", "stop"})
# Words that leave the order as it is whatever else the message says ("no, actually forget
# it, I'll exchange it when it comes" read as a returns question: the answer came, then
# the same Yes / No again; "nei forresten, glem det" at the size question likewise).
LEAVE_IT = re.compile(
    r"\b(?:forget it|never ?mind|leave it(?: as it is)?|keep it(?: as it is)?|don'?t bother|"
    r"glöm det|glom det|strunta i det|struntsamma|låt den vara|lat den vara|behåll den|"
    r"glem det|bry deg ikke|la den være|la den vaere|behold den|"
    r"unohda (?:se|koko juttu)|anna olla|antaa olla|anna sen olla|pidä se|pida se)\b",
    re.IGNORECASE,
)
# The address about to be confirmed is wrong, without the right one: "no wait, wrong house
# number", "nei vent, feil husnummer" (a walk-through: taken as a plain no, the change
# ended; in English the opening hours were answered). The right address is asked for.
WRONG_ADDRESS = re.compile(
    r"\b(?:wrong|incorrect|not the right|not my)\s+(?:house\s*|street\s*|door\s*)?"
    r"(?:number|no\.?|nr\.?|street|address|postcode|post code|zip(?: code)?|city|town)|"
    r"\btypo in the (?:address|street|number)|"
    r"\bfel\s*(?:hus|gatu|port|post)?(?:nummer|numret|nr)|\bfel (?:adress|gata|gatan|ort)|"
    r"\bfelstavad|"
    r"\bfeil\s*(?:hus|gate|post)?(?:nummer|nummeret|nr)|\bfeil (?:adresse|gate|gata|sted)|"
    r"\bväär(?:ä|in|a)\s*(?:talo|kadun|posti)?(?:numero|osoite|katu|postinumero)|"
    r"\b(?:house ?number|number|street|address|post ?code|zip(?: code)?|husnumret|numret|"
    r"adressen|gatan|postnumret|husnummeret|nummeret|adressa|gata|postnummeret)"
    r"\s+(?:is|was|are|är|var|er)\s+(?:wrong|incorrect|fel|feil)|"
    r"\b(?:osoite|numero|talonumero|postinumero) (?:on |oli )?väärin",
    re.IGNORECASE,
)
# The whole order cancelled instead of the change waiting for its Yes / No: "actually, just
# cancel the whole order instead", "avbeställ hela ordern istället" (a walk-through: "I need a
# clear yes or no", and the shopper had to say no and ask again). A cancelling verb and the
# order (or "instead"); "no, cancel" alone is a no to the change.
CANCEL_INSTEAD = re.compile(
    r"\b(?:cancel|avbryt|avbeställ|avbestall|makulera|peru|peruuta|perukaa|avbestill|kanseller)"
    r"\w*\b.{0,40}?\b(?:order|orders|beställning\w*|bestallning\w*|ordern|tilau\w*|ordre\w*|"
    r"bestilling\w*|instead|istället|istallet|i stedet|sen sijaan|koko|hela|hele|whole)",
    re.IGNORECASE,
)
# A yes before the right address, once it was asked for ("yes it's 14").
YES_FIRST = re.compile(
    r"^\s*(?:yes|yeah|yep|ok(?:ay)?|ja|jo|joo|jep|kyllä|kylla)\b[\s,.!:-]*", re.IGNORECASE
)
# Shop questions that the rules answer while a change waits for its Yes / No, item or size
# (data/rules/leaving_forms.yml); the question is asked again after the answer.
QUESTION_INTENTS = frozenset({
    "payment_methods", "delivery_methods", "delivery_time", "returns", "contact", "privacy",
    "cancellation_fee", "bot_challenge",
})  # fmt: skip
# What a correction of the address at its confirmation is read as ("its storgatan 14").
CORRECTION_INTENTS = frozenset({"inform", "change_address", "nlu_fallback", "out_of_scope", "deny"})


class ValidateChangeConfirmationForm(factory.UsesOrderService, FormValidationAction):
    """Reads the answers of the confirmation: for a size change the item and the size
    first, then yes, no, or (after one re-ask) unclear."""

    def __init__(self, products: ProductClient | None = None, client: Any = None) -> None:
        super().__init__(client)
        self._products = products

    def name(self) -> str:
        return "validate_change_confirmation_form"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        """A corrected address at the confirmation replaces the address, and the question
        is asked again about it with a new key (it was re-asked as if nothing was said).
        Another order named at the question ("no, order 40012365, can you cancel that
        one?") is looked up, with the e-mail of the message or the one already proven,
        and the question starts again about it (it was asked with the new number and the
        old order's items and total). The form returns only its own slots, so these
        events are added here."""
        other = _other_order(tracker)
        if other is not None:
            return await confirmation_events(self.client, dispatcher, tracker, *other)
        proven = _cancel_instead(tracker)
        if proven is not None:
            # the cancellation's own question about the same order (a fresh key)
            tracker.slots[KIND] = "cancel"
            events = await confirmation_events(self.client, dispatcher, tracker, *proven)
            return [
                SlotSet(KIND, "cancel"),
                SlotSet(NEW_ADDRESS, None),
                SlotSet(FIX_ASKED, False),
                *events,
            ]
        elsewhere = _copy_elsewhere(tracker)
        if elsewhere is not None:
            # "can you send it to my work email instead?": only the order's address gets
            # it (the copy always went there; the shopper heard the opening hours)
            dispatcher.utter_message(response="utter_invoice_copy_order_address_only")
            return [SlotSet("email", elsewhere), SlotSet(REASKS, 0.0)]
        corrected = _address_correction(tracker)
        wrong = _wrong_address(tracker)
        events = await super().run(dispatcher, tracker, domain)
        if wrong:
            # the form returns only its own slots: the flag that asks for the address
            return [*events, SlotSet(FIX_ASKED, True)]
        if corrected is None:
            return events
        language = language_of(tracker)
        return [
            *events,
            SlotSet(NEW_ADDRESS, json.dumps(corrected.as_json())),
            SlotSet("change_summary", one_line(corrected, language)),
            SlotSet(KEY, new_idempotency_key()),
            SlotSet(REASKS, 0.0),
            SlotSet(FIX_ASKED, False),
        ]

    @property
    def products(self) -> ProductClient:
        if self._products is None:
            self._products = factory.product_client()
        return self._products

    async def required_slots(
        self,
        domain_slots: list[str],
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> list[str]:
        if kind_of(tracker) == "size" and tracker.get_slot(ANSWER) is None:
            return [ITEM, NEW_SIZE, *domain_slots]
        return domain_slots

    @staticmethod
    def _cost_asked(dispatcher: CollectingDispatcher, tracker: Tracker, slot: str) -> bool:
        """Whether the latest message asks what the change costs, at the question for
        `slot`, whatever the NLU read ("koster det noe å bytte størrelse?" was returns);
        if so, it is answered."""
        if tracker.get_slot("requested_slot") != slot or _answered_already(tracker):
            return False
        text = str(tracker.latest_message.get("text") or "")
        intent = latest_intent(tracker)
        if (
            kind_of(tracker) == "cancel"
            and intent in REFUND_ON_CANCEL_INTENTS
            and _short_question(text, "refund")
        ):
            # "will I get my money back if I cancel?" (a blind trial: the returns text)
            dispatcher.utter_message(response="utter_cancel_refund")
            return True
        if intent not in COST_OF_CHANGE_INTENTS or not _cost_question(text):
            return False  # a question about cancelling, delivery or payment: a rule answers
        if intent == "returns" and RETURN_WORDS.search(text):
            return False  # "is returning it free?"
        _answer_cost(dispatcher, tracker)
        return True

    def _answer_text(self, tracker: Tracker, slot: str) -> str | None:
        """The latest message as an answer to the question for `slot`, if it is one."""
        if tracker.get_slot("requested_slot") != slot or _answered_already(tracker):
            return None
        if latest_intent(tracker) == "human_handoff":
            return None  # the form rejects it and a rule hands over (data/rules/self_service.yml)
        if LEAVE_IT.search(str(tracker.latest_message.get("text") or "")):
            return str(tracker.latest_message.get("text") or "")
        if latest_intent(tracker) in QUESTION_INTENTS:
            return None  # the form rejects the message and a rule answers it
        return str(tracker.latest_message.get("text") or "").strip()

    async def extract_change_item(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if self._cost_asked(dispatcher, tracker, ITEM):
            return {ITEM: None}  # answered; the form asks again
        text = self._answer_text(tracker, ITEM)
        if text is None:
            return {}
        # An item named is the answer whatever the intent: "den første" was read as a no
        # (deny 0.49) and ended the change.
        named_item = find_item(text, load_items(tracker.get_slot(ITEMS)))
        if LEAVE_IT.search(text) or (latest_intent(tracker) in LEAVE_INTENTS and not named_item):
            return {ANSWER: "no"}
        return {ITEM: text} if text and not text.startswith("/") else {}

    def validate_change_item(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:
            return {}
        items = load_items(tracker.get_slot(ITEMS))
        item = find_item(str(value), items)
        if item is not None:
            return {ITEM: item.article_number}
        others = [
            a for a in mentioned_articles(str(value)) if a not in {i.article_number for i in items}
        ]
        number = normalise_order_number(tracker.get_slot("order_number")) or ""
        if others:
            dispatcher.utter_message(
                response="utter_size_item_not_in_order", article=others[0], order_ref=number
            )
        else:
            dispatcher.utter_message(response="utter_size_which_item", order_ref=number)
        return self._retry(tracker, ITEM)

    async def extract_new_size(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if self._cost_asked(dispatcher, tracker, NEW_SIZE):
            return {NEW_SIZE: None}  # answered; the form asks again
        text = self._answer_text(tracker, NEW_SIZE)
        if text is None:
            # A size the request itself named ("... to 43?", set by action_change_start)
            # has not been checked yet (stock, the ordered size) and has no confirmation
            # key: validate_new_size checks it like a typed answer. Without this a yes
            # met "I need to check it again".
            named = tracker.get_slot(NEW_SIZE)
            if named and tracker.get_slot(KEY) is None and tracker.get_slot(ANSWER) is None:
                return {NEW_SIZE: named}
            return {}
        if latest_intent(tracker) in LEAVE_INTENTS or LEAVE_IT.search(text):
            return {ANSWER: "no"}
        return {NEW_SIZE: text} if text and not text.startswith("/") else {}

    async def validate_new_size(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        """The size exists for the article, is in stock and differs from the ordered one.

        When the product service cannot tell, the size is taken as typed: the order
        service checks it again and its 422 / 409 is explained after the yes.
        """
        item = chosen_item(tracker)
        if value is None or item is None:
            return {}
        text = str(value)
        size = size_answer(text) or size_in_request(text)
        product = await _product(self.products, item.article_number)
        stock = {s.size.lower(): s for s in product.sizes} if product is not None else {}
        if stock and (size is None or size.lower() not in stock):
            # "42 then", "nei vent, ta heller 43", "ok XL": one word of the answer is one
            # of the article's sizes (it used to be "we don't make it in size 42 then").
            size = one_size_named(text, stock) or size
        if size is None and len(text) <= 12 and re.search(r"\w", text):
            size = canonical_size(text)
        if size is None:
            dispatcher.utter_message(response="utter_size_not_understood", item=item.name)
            return self._retry(tracker, NEW_SIZE)
        if product is not None:
            known = stock.get(size.lower())
            in_stock = ", ".join(product.sizes_in_stock) or "-"
            if known is None:
                dispatcher.utter_message(
                    response="utter_size_unknown",
                    item=item.name,
                    new_size=size,
                    sizes=", ".join(s.size for s in product.sizes),
                )
                return self._retry(tracker, NEW_SIZE)
            size = known.size
            if not same_size(size, item.size) and known.stock <= 0:
                dispatcher.utter_message(
                    response="utter_size_sold_out", item=item.name, new_size=size, sizes=in_stock
                )
                return self._retry(tracker, NEW_SIZE)
        if same_size(size, item.size):
            dispatcher.utter_message(response="utter_size_same", item=item.name, new_size=size)
            return self._retry(tracker, NEW_SIZE)
        # What will be confirmed is known now: the confirmation's key goes with it.
        return {NEW_SIZE: size, KEY: new_idempotency_key(), ATTEMPTS_SLOT: 0.0}

    def _retry(self, tracker: Tracker, slot: str) -> dict[str, Any]:
        """Ask again; after MAX_ATTEMPTS leave the order as it is (answer 'unclear')."""
        count = attempts(tracker) + 1
        if count >= MAX_ATTEMPTS:
            return {slot: None, ATTEMPTS_SLOT: 0.0, ANSWER: "unclear"}
        return {slot: None, ATTEMPTS_SLOT: float(count)}

    async def extract_change_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != ANSWER or _answered_already(tracker):
            return {}
        intent = tracker.latest_message.get("intent") or {}
        name = str(intent.get("name"))
        if name == "human_handoff":
            # "can I talk to a real person before I say yes?": no answer; the form rejects
            # the message and a rule hands over (it was "I need a clear yes or no")
            return {}
        if self._cost_asked(dispatcher, tracker, ANSWER):
            return {ANSWER: None}  # answered; the form asks again
        text = str(tracker.latest_message.get("text") or "")
        if (
            kind_of(tracker) == "unsubscribe"
            and STILL_COMES.search(text)
            and "?" in text
            and not _answered_already(tracker)
        ):
            # "will I still get discount codes?", "får jag fortfarande orderbekräftelser
            # då?" (blind trials: the returns text, "I need a clear yes or no")
            dispatcher.utter_message(response="utter_unsubscribe_what_stays")
            return {ANSWER: None}
        other_size = _size_correction(tracker, text)
        if other_size:
            # "actually make it 43", "no wait, S instead": validate_new_size checks the
            # size (stock, the ordered one) and gives the new question its own key
            return {NEW_SIZE: other_size, ANSWER: None}
        if _wrong_address(tracker):
            return {ANSWER: None}  # not an answer: run() has the right address asked for
        if LEAVE_IT.search(text):
            return {ANSWER: "no"}
        if name in QUESTION_INTENTS:
            # "wait, does cancelling cost anything?": no answer, so the form rejects the
            # message, a rule answers it (data/rules/leaving_forms.yml) and asks again
            return {}
        if (
            kind_of(tracker) == "cancel"
            and name in ("cancel_order", "stop")
            and YES_CANCEL.match(text)
        ):
            # "yes cancel it", "ja avbryt den", "joo peru vaan": the NLU reads the verb
            # ("cancel" as stop: 0.51), the shopper said yes to the cancellation.
            return {ANSWER: "yes"}
        if _address_correction(tracker):
            return {ANSWER: None}  # no answer yet: run() sets the corrected address
        if tracker.get_slot(FIX_ASKED) and kind_of(tracker) == "address" and name == "affirm":
            # a yes to "what's the right address?" would send the order to the wrong one
            return {ANSWER: "other"}
        if name == "affirm" and float(intent.get("confidence") or 0) < MIN_YES_CONFIDENCE:
            return {ANSWER: "other"}
        answer = {"affirm": "yes", "deny": "no", "stop": "no"}.get(name, "other")
        if answer == "other" and NO_FIRST.match(text):
            # "hmm no actually keep the order", "nej vänta, jag behåller den gamla adressen"
            # (a blind trial: "I need a clear yes or no", for the words of the No button)
            return {ANSWER: "no"}
        return {ANSWER: answer}

    def validate_change_answer(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if value is None:  # cleared by action_change_confirm: not an answer
            return {}
        if value in ("yes", "no", SKIP, "unclear"):
            return {ANSWER: value}
        if float(tracker.get_slot(REASKS) or 0) < 1:
            return {ANSWER: None, REASKS: 1.0}  # the form asks once more
        return {ANSWER: "unclear"}


_NORMALISE = {"order_number": normalise_order_number, "email": normalise_email}


# "is that free to change?", "vänta, kostar det nåt extra?" at a change's question: the
# cost, then the question again (it was "I need a clear yes or no" or the item question).
_YES_OR_NO_FIRST = re.compile(
    r"^\s*(?:yes|yeah|no|nope|ja|jo|joo|nej|nei|ei|kyllä|kylla)\b", re.IGNORECASE
)
# A no that goes on with other words, whatever the NLU read the rest as; another size or
# address after it was taken as a correction above.
NO_FIRST = re.compile(
    r"^\s*(?:(?:hmm+|hm|oh|ah|well|uh|öh|äh|no niin)[\s,.]+)?"
    r"(?:no|nope|nah|nej|nä|näe|ei|eiku|nei|neida)\b(?![\s,.!]*(?:yes|ja|joo|kyllä)\b)",
    re.IGNORECASE,
)
MAX_COST_QUESTION_WORDS = 12
# What the NLU reads such a question as ("koster det noe å bytte størrelse?": returns).
COST_OF_CHANGE_INTENTS = frozenset({
    "follow_up", "returns", "inform", "nlu_fallback", "out_of_scope", "change_order",
    "change_address",
})  # fmt: skip
RETURN_WORDS = re.compile(r"\b(return\w*|retur\w*|palaut\w*)", re.IGNORECASE)


# "milloin se pitää maksaa?" asks when to pay, not what the change costs ("maksaa" is both).
WHEN = re.compile(r"\b(?:when|när|nar|når|milloin|koska|mihin aikaan)\b", re.IGNORECASE)


def _short_question(text: str, facet: str) -> bool:
    """A short question about a facet of the change (what it costs, the money back), not
    an answer to the change's question."""
    words = len(text.split())
    return (
        bool(FACETS[facet].search(text))
        and not (facet == "cost" and WHEN.search(text))
        and ("?" in text or words <= MAX_COST_QUESTION_WORDS // 2)
        and words <= MAX_COST_QUESTION_WORDS
        and not _YES_OR_NO_FIRST.match(text)
    )


def _cost_question(text: str) -> bool:
    return _short_question(text, "cost")


# What the NLU reads a refund question at a cancellation's question as ("how fast do I get
# my money back if I cancel?": returns 0.89).
REFUND_ON_CANCEL_INTENTS = COST_OF_CHANGE_INTENTS | {"cancellation_fee", "cancel_order"}


def _answer_cost(dispatcher: CollectingDispatcher, tracker: Tracker) -> None:
    """What this change costs: cancelling has its own answer, the others are free."""
    cancel = kind_of(tracker) == "cancel"
    dispatcher.utter_message(response="utter_cancellation_fee" if cancel else "utter_change_free")


def _named(tracker: Tracker, entity: str) -> list[str]:
    """The well-formed values of `entity` in the latest message, in order (normalised)."""
    entities = (tracker.latest_message or {}).get("entities") or []
    values = (_NORMALISE[entity](e.get("value")) for e in entities if e.get("entity") == entity)
    return [v for v in values if v]


def _other_order(tracker: Tracker) -> tuple[str, str] | None:
    """Another order than the one waiting for its confirmation, named in the message (the
    slot mapping has already put its number in `order_number`), with the e-mail to look
    it up with: the message's, else the one proven with the first order."""
    proven = verified(tracker)
    if proven is None or kind_of(tracker) == "unsubscribe" or _answered_already(tracker):
        return None
    others = [n for n in _named(tracker, "order_number") if n != proven[0]]
    if not others:
        return None
    emails = _named(tracker, "email")
    return others[-1], emails[-1] if emails else proven[1]


def _copy_elsewhere(tracker: Tracker) -> str | None:
    """The proven e-mail, when the answer to an invoice copy's question names another
    address for it (the slot mapping has put that one in `email`)."""
    proven = verified(tracker)
    if proven is None or kind_of(tracker) != "invoice_copy" or _answered_already(tracker):
        return None
    return proven[1] if set(_named(tracker, "email")) - {proven[1]} else None


def _address_correction(tracker: Tracker) -> Address | None:
    """The corrected address in the answer to an address confirmation ("its storgatan
    14"), if that is what the answer is."""
    asked = bool(tracker.get_slot(FIX_ASKED))
    if kind_of(tracker) != "address":
        return None
    if latest_intent(tracker) not in CORRECTION_INTENTS and not asked:
        return None
    if tracker.get_slot("requested_slot") != ANSWER or _answered_already(tracker):
        return None
    previous = _stored_address(tracker)
    if previous is None:
        return None
    text = str(tracker.latest_message.get("text") or "")
    if asked:
        text = YES_FIRST.sub("", text, count=1)  # "yes it's 14", "ja, Storgata 14"
    address = corrected_address(text, previous, language_of(tracker))
    if address is None and asked:
        address = corrected_house_number(text, previous)  # "14", once asked for
    return address if address != previous else None


def _cancel_instead(tracker: Tracker) -> tuple[str, str] | None:
    """The proven order, when the answer to another change's question asks to cancel the
    whole order instead."""
    proven = verified(tracker)
    if proven is None or kind_of(tracker) in ("cancel", "unsubscribe"):
        return None
    if tracker.get_slot("requested_slot") != ANSWER or _answered_already(tracker):
        return None
    text = str(tracker.latest_message.get("text") or "")
    if latest_intent(tracker) != "cancel_order" or not CANCEL_INSTEAD.search(text):
        return None
    return proven


def _wrong_address(tracker: Tracker) -> bool:
    """The answer to an address confirmation says the address is wrong without giving
    the right one ("no wait, wrong house number")."""
    if kind_of(tracker) != "address" or tracker.get_slot("requested_slot") != ANSWER:
        return False
    text = str(tracker.latest_message.get("text") or "")
    return (
        not _answered_already(tracker)
        and bool(WRONG_ADDRESS.search(text))
        and _address_correction(tracker) is None
    )


def _size_correction(tracker: Tracker, text: str) -> str | None:
    """Another size than the one waiting for its yes, named in the answer to the size
    change's confirmation: the last size that stands alone in it."""
    if kind_of(tracker) != "size" or text.startswith("/"):
        return None
    size = size_answer(text) or size_in_request(text) or next(reversed(bare_sizes(text)), None)
    if size is None or same_size(size, tracker.get_slot(NEW_SIZE)):
        return None
    item = chosen_item(tracker)
    # "no, keep the 40" names the size the item has: that is a no, not another size
    return None if item is not None and same_size(size, item.size) else size


class ActionChangeExecute(Action):
    """Carries out a confirmed change with the key of its confirmation."""

    def __init__(self, client: ChangeClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_change_execute"

    @property
    def client(self) -> ChangeClient:
        if self._client is None:
            self._client = factory.change_client()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        answer = tracker.get_slot(ANSWER)
        done = [*clear_pending(), SlotSet(ATTEMPTS_SLOT, 0.0)]
        if answer == SKIP:  # action_change_confirm already answered
            if tracker.get_slot(RETRY):
                # the order was not found: the change waits for a corrected detail
                done = [SlotSet(KEY, None), SlotSet(ANSWER, None), SlotSet(ATTEMPTS_SLOT, 0.0)]
            return [*done, SlotSet(OUTCOME_SLOT, tracker.get_slot(OUTCOME_SLOT) or "answered")]
        kind = kind_of(tracker)
        proven = verified(tracker)
        number = normalise_order_number(tracker.get_slot("order_number"))
        key = tracker.get_slot(KEY)
        if answer != "yes":
            log_change(kind, "declined" if answer == "no" else "unclear answer")
            if kind == "unsubscribe":
                response = (
                    "utter_unsubscribe_declined" if answer == "no" else "utter_change_unclear_other"
                )
            elif kind == "invoice_copy":
                response = (
                    "utter_invoice_copy_declined"
                    if answer == "no"
                    else "utter_change_unclear_other"
                )
            else:
                response = "utter_change_declined" if answer == "no" else "utter_change_unclear"
            dispatcher.utter_message(response=response, order_ref=number or "")
            return [*done, ANSWERED]
        if not isinstance(key, str):
            log_change(kind, "confirmation without a key")
            dispatcher.utter_message(response="utter_change_expired")
            return [*done, ANSWERED]
        if kind == "unsubscribe":
            email = normalise_email(tracker.get_slot("email"))
            if email is None:
                dispatcher.utter_message(response="utter_change_expired")
                return [*done, ANSWERED]
            return [*done, *await self._unsubscribe(dispatcher, email, key)]
        if not proven or proven[0] != number:
            # the proof expired while the question waited, or the slots were tampered with
            log_change(kind, "confirmation without a fresh proof")
            dispatcher.utter_message(response="utter_change_expired")
            return [*done, ANSWERED]
        if kind == "address":
            address = _stored_address(tracker)
            if address is None:
                dispatcher.utter_message(response="utter_change_expired")
                return [*done, ANSWERED]
            return [
                *done,
                *await self._address(dispatcher, proven, key, address, language_of(tracker)),
            ]
        if kind == "size":
            item, size = chosen_item(tracker), tracker.get_slot(NEW_SIZE)
            if item is None or not isinstance(size, str) or not size:
                dispatcher.utter_message(response="utter_change_expired")
                return [*done, ANSWERED]
            return [*done, *await self._size(dispatcher, proven, key, item, size)]
        if kind == "invoice_copy":
            return [*done, *await self._invoice_copy(dispatcher, proven, key)]
        return [
            *done,
            *await self._cancel(dispatcher, proven[0], proven[1], key, language_of(tracker)),
        ]

    async def _address(
        self,
        dispatcher: CollectingDispatcher,
        proven: tuple[str, str],
        key: str,
        address: Address,
        language: str = "en",
    ) -> list[EventType]:
        number, email = proven
        with turn_budget():
            try:
                change = await call(self._do_address, number, email, address, key)
            except Invalid as exc:
                # the service's field errors, in our words; then the form asks again
                log_change("address", "invalid " + ",".join(f.field for f in exc.fields))
                fields = {f.field for f in exc.fields} & ADDRESS_FIELDS or {"address"}
                for field in sorted(fields):
                    dispatcher.utter_message(response=f"utter_address_invalid_{field}")
                return [
                    SlotSet(KIND, "address"),
                    SlotSet("order_number", number),
                    SlotSet("email", email),
                    FollowupAction("self_service_form"),
                ]
            except Conflict as exc:
                code = exc.code if exc.code in KNOWN_REASONS else "unknown"
                log_change("address", f"refused ({code})")
                prefix = "address" if code in CANCEL_TOO_LATE.values() else "change"
                dispatcher.utter_message(
                    response=f"utter_{prefix}_refused_{code}", order_ref=number
                )
                return [ANSWERED]
            except NotFound:
                log_change("address", "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [NEEDS_HUMAN]
            except ServiceError as exc:
                log_change("address", f"result unknown ({exc.reason})")
                dispatcher.utter_message(response="utter_address_unknown", order_ref=number)
                return [SlotSet(UNKNOWN_MARKER, "address"), NEEDS_HUMAN]
        log_change("address", "done")
        dispatcher.utter_message(
            response="utter_address_done",
            order_ref=number,
            change_summary=one_line(change.address, language),
        )
        return [SlotSet(CHANGE_MARKER, "address"), ANSWERED]

    def _do_address(self, number: str, email: str, address: Address, key: str) -> Any:
        return self.client.change_address(number, email, address, idempotency_key=key)

    async def _size(
        self,
        dispatcher: CollectingDispatcher,
        proven: tuple[str, str],
        key: str,
        item: Item,
        size: str,
    ) -> list[EventType]:
        number, email = proven
        about = {"order_ref": number, "item": item.name, "new_size": size}
        with turn_budget():
            try:
                await call(self._do_size, number, email, item.article_number, size, key)
            except Conflict as exc:
                code = exc.code if exc.code in KNOWN_REASONS else "unknown"
                log_change("size", f"refused ({code})")
                prefix = "change" if code == "unknown" else "size"
                dispatcher.utter_message(response=f"utter_{prefix}_refused_{code}", **about)
                return [ANSWERED]
            except Invalid as exc:
                # checked before asking, so the order or the shop changed in between
                codes = {f.code for f in exc.fields}
                log_change("size", "invalid " + ",".join(sorted(codes)))
                code = next(
                    (c for c in ("not_in_order", "same_size", "unknown_size") if c in codes),
                    "unknown_size",
                )
                dispatcher.utter_message(response=f"utter_size_invalid_{code}", **about)
                return [ANSWERED]
            except NotFound:
                log_change("size", "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [NEEDS_HUMAN]
            except ServiceError as exc:
                log_change("size", f"result unknown ({exc.reason})")
                dispatcher.utter_message(response="utter_size_unknown_result", **about)
                return [SlotSet(UNKNOWN_MARKER, "size"), NEEDS_HUMAN]
        log_change("size", "done")
        dispatcher.utter_message(response="utter_size_done", **about)
        return [SlotSet(CHANGE_MARKER, "size"), ANSWERED]

    def _do_size(self, number: str, email: str, article: str, size: str, key: str) -> Order:
        return self.client.change_size(number, email, article, size, idempotency_key=key)

    async def _invoice_copy(
        self, dispatcher: CollectingDispatcher, proven: tuple[str, str], key: str
    ) -> list[EventType]:
        number, email = proven
        with turn_budget():
            try:
                await call(self._do_invoice_copy, number, email, key)
            except NotFound:
                log_change("invoice_copy", "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [NEEDS_HUMAN]
            except (Conflict, Invalid) as exc:
                log_change("invoice_copy", f"refused ({exc.reason})")
                dispatcher.utter_message(response="utter_change_refused_unknown", order_ref=number)
                return [NEEDS_HUMAN]
            except ServiceError as exc:
                log_change("invoice_copy", f"result unknown ({exc.reason})")
                dispatcher.utter_message(response="utter_invoice_copy_unknown", order_ref=number)
                return [SlotSet(UNKNOWN_MARKER, "invoice_copy"), NEEDS_HUMAN]
        log_change("invoice_copy", "done")
        # Only "the email address of the order": never an address the shopper typed.
        dispatcher.utter_message(response="utter_invoice_copy_sent", order_ref=number)
        return [SlotSet(CHANGE_MARKER, "invoice_copy"), ANSWERED]

    def _do_invoice_copy(self, number: str, email: str, key: str) -> None:
        self.client.invoice_copy(number, email, idempotency_key=key)

    async def _unsubscribe(
        self, dispatcher: CollectingDispatcher, email: str, key: str
    ) -> list[EventType]:
        with turn_budget():
            try:
                await call(self._do_unsubscribe, email, key)
            except Invalid:
                log_change("unsubscribe", "invalid email")
                dispatcher.utter_message(response="utter_invalid_email")
                return [ANSWERED]
            except ServiceError as exc:
                log_change("unsubscribe", f"result unknown ({exc.reason})")
                dispatcher.utter_message(response="utter_unsubscribe_unknown")
                return [SlotSet(UNKNOWN_MARKER, "unsubscribe"), NEEDS_HUMAN]
        log_change("unsubscribe", "done")
        # The same words whether or not the address was subscribed: nothing is revealed.
        dispatcher.utter_message(response="utter_unsubscribe_done", change_summary=email)
        return [SlotSet(CHANGE_MARKER, "unsubscribe"), ANSWERED]

    def _do_unsubscribe(self, email: str, key: str) -> None:
        self.client.unsubscribe(email, idempotency_key=key)

    async def _cancel(
        self,
        dispatcher: CollectingDispatcher,
        number: str,
        email: str,
        key: str,
        language: str = "en",
    ) -> list[EventType]:
        with turn_budget():
            try:
                order = await call(self._do_cancel, number, email, key)
            except Conflict as exc:
                code = exc.code if exc.code in KNOWN_REASONS else "unknown"
                log_change("cancel", f"refused ({code})")
                dispatcher.utter_message(response=f"utter_change_refused_{code}", order_ref=number)
                return [ANSWERED]
            except NotFound:
                log_change("cancel", "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [NEEDS_HUMAN]
            except ServiceError as exc:
                # the service may have cancelled before the answer was lost
                log_change("cancel", f"result unknown ({exc.reason})")
                dispatcher.utter_message(response="utter_change_unknown", order_ref=number)
                return [SlotSet(UNKNOWN_MARKER, "cancel"), NEEDS_HUMAN]
        log_change("cancel", "done")
        paid = order.payment_method in PAID
        dispatcher.utter_message(
            response="utter_cancel_done_paid" if paid else "utter_cancel_done_invoice",
            order_ref=number,
            payment_method=languages.payment_method_text(order.payment_method, language),
            amount=money(order, language),
        )
        return [SlotSet(CHANGE_MARKER, "cancel"), ANSWERED]

    def _do_cancel(self, number: str, email: str, key: str) -> Order:
        return self.client.cancel(number, email, idempotency_key=key)
