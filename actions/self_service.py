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

import logging
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.forms import FormValidationAction
from rasa_sdk.types import DomainDict

from actions.calls import ANSWERED, NEEDS_HUMAN, OUTCOME_SLOT, apologise, call, turn_budget
from actions.clients import factory
from actions.clients.changes import ChangeClient, new_idempotency_key
from actions.clients.errors import Conflict, NotFound, ServiceError
from actions.clients.orders import Order, OrderClient
from actions.inputs import normalise_email, normalise_order_number
from actions.orders import ValidateOrderStatusForm
from actions.verified import VERIFIED_ORDER, remember, verified

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
PAID = frozenset({"credit card", "PayPal", "direct debit"})
SKIP = "skip"  # change_answer when there is nothing to confirm


def money(order: Order) -> str:
    if order.total is None:
        return ""
    symbol = {"EUR": "€", "SEK": "SEK ", "GBP": "£"}.get(order.currency or "EUR", "")
    return f"{symbol}{order.total:.2f}"


def summary(order: Order) -> str:
    """'2 items, €79.90': what the shopper checks before saying yes."""
    count = order.item_count
    parts = [f"{count} item{'s' if count != 1 else ''}"]
    if order.total is not None:
        parts.append(money(order))
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
    ]


class ActionChangeStart(Action):
    """Remembers which change was asked for and reuses a recently proven order."""

    def name(self) -> str:
        return "action_change_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = (tracker.latest_message.get("intent") or {}).get("name")
        events: list[EventType] = [*clear_pending(), SlotSet(KIND, "cancel")]
        if intent != "cancel_order":
            logger.info("self-service started by unexpected intent")
        mentioned = normalise_order_number(tracker.get_slot("order_number"))
        proven = verified(tracker)
        if proven and mentioned in (None, proven[0]):
            events += [SlotSet("order_number", proven[0]), SlotSet("email", proven[1])]
        else:  # another order (or none proven yet): the form asks what is missing
            email = normalise_email(tracker.get_slot("email"))
            events += [SlotSet("order_number", mentioned), SlotSet("email", email)]
        return events


class ValidateSelfServiceForm(ValidateOrderStatusForm):
    """Order number and email for a change, by the same rules as the order status form."""

    answer_intents = ValidateOrderStatusForm.answer_intents | {"cancel_order"}

    def name(self) -> str:
        return "validate_self_service_form"


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
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        if not number or not email:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*skip, NEEDS_HUMAN]
        with turn_budget():
            try:
                order = await call(self.client.lookup, number, email)
            except NotFound:
                log_change("cancel", "not_found")
                dispatcher.utter_message(response="utter_order_not_found")
                return [*skip, SlotSet(VERIFIED_ORDER, None), NEEDS_HUMAN]
            except ServiceError as exc:
                log_change("cancel", f"lookup failed ({exc.reason})")
                return [*skip, apologise(dispatcher)]
        events = remember(number, email)
        reason = CANCEL_TOO_LATE.get(order.status)
        if reason:
            log_change("cancel", f"refused before asking ({reason})")
            dispatcher.utter_message(response=f"utter_change_refused_{reason}", order_ref=number)
            return [*events, *skip, ANSWERED]
        return [
            *events,
            SlotSet(KEY, new_idempotency_key()),
            SlotSet(ANSWER, None),
            SlotSet(REASKS, 0.0),
            SlotSet("change_summary", summary(order)),
        ]


class ActionAskChangeAnswer(Action):
    """The Yes / No question, stating exactly what will happen."""

    def name(self) -> str:
        return "action_ask_change_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        number = normalise_order_number(tracker.get_slot("order_number")) or ""
        detail = tracker.get_slot("change_summary")
        response = (
            "utter_ask_change_answer_again"
            if float(tracker.get_slot(REASKS) or 0)
            else "utter_ask_cancel_confirmation"
        )
        dispatcher.utter_message(
            response=response, order_ref=number, change_summary=str(detail or "").strip()
        )
        return []


class ValidateChangeConfirmationForm(FormValidationAction):
    """Reads the answer to the Yes / No question: yes, no, or (after one re-ask) unclear."""

    def name(self) -> str:
        return "validate_change_confirmation_form"

    async def extract_change_answer(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        if tracker.get_slot("requested_slot") != ANSWER:
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
            log_change("cancel", "declined" if answer == "no" else "unclear answer")
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
        return [*done, *await self._cancel(dispatcher, proven[0], proven[1], key)]

    async def _cancel(
        self, dispatcher: CollectingDispatcher, number: str, email: str, key: str
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
            amount=money(order),
        )
        return [SlotSet(CHANGE_MARKER, "cancel"), ANSWERED]

    def _do_cancel(self, number: str, email: str, key: str) -> Order:
        return self.client.cancel(number, email, idempotency_key=key)
