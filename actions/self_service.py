"""Self-service changes: the shopper proves an order once, confirms, the assistant changes it.

Flow (rules in data/rules/self_service.yml):
  intent (cancel_order) -> action_change_start -> self_service_form (order number + email,
  skipped when the conversation proved an order in the last 30 minutes) ->
  action_change_confirm (looks the order up, says exactly what will happen) ->
  change_confirmation_form (Yes / No; anything else re-asks once) -> action_change_execute.

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
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.addresses import one_line, parse_address
from actions.calls import ANSWERED, NEEDS_HUMAN, OUTCOME_SLOT, apologise, call, turn_budget
from actions.clients import factory
from actions.clients.changes import Address, ChangeClient, new_idempotency_key
from actions.clients.errors import Conflict, Invalid, NotFound, ServiceError
from actions.clients.orders import Order, OrderClient
from actions.inputs import normalise_email, normalise_order_number
from actions.orders import ValidateOrderStatusForm, language_of
from actions.verified import VERIFIED_ORDER, remember, verified
from channels import languages

logger = logging.getLogger("actions.self_service")

KIND, KEY, ANSWER, REASKS = "change_kind", "change_key", "change_answer", "change_reasks"
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
TOO_LATE = {"cancel": CANCEL_TOO_LATE, "address": ADDRESS_TOO_LATE}
KIND_BY_INTENT = {"cancel_order": "cancel", "change_address": "address"}
NEW_ADDRESS = "new_address"
PAID = frozenset({"credit card", "PayPal", "direct debit"})
SKIP = "skip"  # change_answer when there is nothing to confirm
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
        SlotSet("order_number", None),
        SlotSet("email", None),
        SlotSet(NEW_ADDRESS, None),
    ]


class ActionChangeStart(Action):
    """Remembers which change was asked for and reuses a recently proven order."""

    def name(self) -> str:
        return "action_change_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = str((tracker.latest_message.get("intent") or {}).get("name"))
        kind = KIND_BY_INTENT.get(intent, "cancel")
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
        mentioned = normalise_order_number(tracker.get_slot("order_number"))
        proven = verified(tracker)
        if proven and mentioned in (None, proven[0]):
            return [*events, SlotSet("order_number", proven[0]), SlotSet("email", proven[1])]
        # Another order, or none proven yet: the form asks for what is missing.
        email = normalise_email(tracker.get_slot("email"))
        for name, value in (("order_number", mentioned), ("email", email)):
            if value is not None or tracker.get_slot(name) is not None:
                events.append(SlotSet(name, value))
        if kind in ("cancel", "address"):
            dispatcher.utter_message(response=f"utter_change_start_{kind}")
        return events


class ValidateSelfServiceForm(ValidateOrderStatusForm):
    """Order number and email for a change, by the same rules as the order status form."""

    answer_intents = ValidateOrderStatusForm.answer_intents | set(KIND_BY_INTENT)

    def name(self) -> str:
        return "validate_self_service_form"

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
        return slots

    async def extract_new_address(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != NEW_ADDRESS:
            return {}
        text = (tracker.latest_message.get("text") or "").strip()
        if not text or text.startswith("/"):
            return {}
        return {NEW_ADDRESS: text}

    def validate_new_address(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        address = parse_address(value) if isinstance(value, str) else None
        if address is None:
            return self.invalid(dispatcher, tracker, NEW_ADDRESS, "utter_invalid_address")
        return {NEW_ADDRESS: json.dumps(address.as_json())}


class ActionChangeConfirm(Action):
    """Looks the proven order up and asks for a yes, or says why the change cannot be."""

    def __init__(self, client: OrderClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_change_confirm"

    @property
    def client(self) -> OrderClient:
        if self._client is None:
            self._client = factory.order_client()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        skip = [SlotSet(ANSWER, SKIP), SlotSet(KEY, None)]
        kind = "address" if tracker.get_slot(KIND) == "address" else "cancel"
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        address = _stored_address(tracker) if kind == "address" else None
        if not number or not email or (kind == "address" and address is None):
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*skip, NEEDS_HUMAN]
        with turn_budget():
            try:
                order = await call(self.client.lookup, number, email)
            except NotFound:
                log_change(kind, "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [*skip, SlotSet(VERIFIED_ORDER, None), NEEDS_HUMAN]
            except ServiceError as exc:
                log_change(kind, f"lookup failed ({exc.reason})")
                return [*skip, apologise(dispatcher)]
        events = remember(number, email)
        reason = TOO_LATE[kind].get(order.status)
        if reason:
            log_change(kind, f"refused before asking ({reason})")
            response = f"utter_{'address' if kind == 'address' else 'change'}_refused_{reason}"
            dispatcher.utter_message(response=response, order_ref=number)
            return [*events, *skip, ANSWERED]
        detail = one_line(address) if address else summary(order, language_of(tracker))
        return [
            *events,
            SlotSet(KEY, new_idempotency_key()),
            SlotSet(ANSWER, None),
            SlotSet(REASKS, 0.0),
            SlotSet("change_summary", detail),
        ]


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


class ActionAskChangeAnswer(Action):
    """The Yes / No question, stating exactly what will happen."""

    def name(self) -> str:
        return "action_ask_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = normalise_order_number(tracker.get_slot("order_number")) or ""
        detail = tracker.get_slot("change_summary")
        if float(tracker.get_slot(REASKS) or 0):
            dispatcher.utter_message(response="utter_change_need_yes_no")
        kind = "address" if tracker.get_slot(KIND) == "address" else "cancel"
        dispatcher.utter_message(
            response=f"utter_ask_{kind}_confirmation",
            order_ref=number,
            change_summary=str(detail or "").strip(),
        )
        return []


def _answered_already(tracker: Tracker) -> bool:
    """Whether the latest message was handled before the question was asked.

    Rasa validates when the form activates, with the message that led to the question
    (an email, an address) still the latest one: that message is no answer to it. Any
    action between it and the form (action_change_confirm) shows it was handled.
    """
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            return False
        if event.get("event") == "action" and event.get("name") not in (
            "change_confirmation_form",
            "action_listen",
            "action_extract_slots",
            None,
        ):
            return True
    return False


class ValidateChangeConfirmationForm(FormValidationAction):
    """Reads the answer to the Yes / No question: yes, no, or (after one re-ask) unclear."""

    def name(self) -> str:
        return "validate_change_confirmation_form"

    async def extract_change_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != ANSWER or _answered_already(tracker):
            return {}
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        return {ANSWER: {"affirm": "yes", "deny": "no"}.get(str(intent), "other")}

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
        done = clear_pending()
        if answer == SKIP:  # action_change_confirm already answered
            return [*done, SlotSet(OUTCOME_SLOT, tracker.get_slot(OUTCOME_SLOT) or "answered")]
        proven = verified(tracker)
        number = normalise_order_number(tracker.get_slot("order_number"))
        key = tracker.get_slot(KEY)
        if answer != "yes":
            log_change(
                str(tracker.get_slot(KIND) or "cancel"),
                "declined" if answer == "no" else "unclear answer",
            )
            dispatcher.utter_message(
                response="utter_change_declined" if answer == "no" else "utter_change_unclear",
                order_ref=number or "",
            )
            return [*done, ANSWERED]
        if not proven or proven[0] != number or not isinstance(key, str):
            # the proof expired while the question waited, or the slots were tampered with
            log_change("cancel", "confirmation without a fresh proof")
            dispatcher.utter_message(response="utter_change_expired")
            return [*done, ANSWERED]
        if tracker.get_slot(KIND) == "address":
            address = _stored_address(tracker)
            if address is None:
                dispatcher.utter_message(response="utter_change_expired")
                return [*done, ANSWERED]
            return [*done, *await self._address(dispatcher, proven, key, address)]
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
            response="utter_address_done", order_ref=number, change_summary=one_line(change.address)
        )
        return [SlotSet(CHANGE_MARKER, "address"), ANSWERED]

    def _do_address(self, number: str, email: str, address: Address, key: str) -> Any:
        return self.client.change_address(number, email, address, idempotency_key=key)

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
            payment_method=order.payment_method,
            amount=money(order, language),
        )
        return [SlotSet(CHANGE_MARKER, "cancel"), ANSWERED]

    def _do_cancel(self, number: str, email: str, key: str) -> Order:
        return self.client.cancel(number, email, idempotency_key=key)
