"""Invoice status: the shopper verifies an order as for its status (order number and
email, the same form validation), then hears what that order's invoice says.

Only the order service knows the invoice; it answers with the order (404 when number and
email do not belong together), so the invoice is never told to someone who could not
also see the order. Amounts are formatted with their currency, dates as people say them.
"""

from __future__ import annotations

import logging
from datetime import date

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.calls import ANSWERED, NEEDS_HUMAN, apologise, call, log_failure, turn_budget
from actions.clients import factory
from actions.clients.errors import NotFound, ServiceError
from actions.clients.orders import Invoice, OrderClient
from actions.forms import ANSWER_INTENTS, ATTEMPTS_SLOT
from actions.inputs import mask_email, normalise_email, normalise_order_number
from actions.orders import ValidateOrderStatusForm, friendly_date, language_of
from actions.verified import remember
from channels import languages

logger = logging.getLogger(__name__)


def format_amount(invoice: Invoice, language: str = "en") -> str:
    """'€128.90' (en_GB), '128,90 €' (fi_FI): the amount as the shopper reads it, in the
    locale of the conversation's language (Babel)."""
    return languages.money_text(invoice.amount, invoice.currency, language)


class ValidateInvoiceForm(ValidateOrderStatusForm):
    """The order form's extraction and validation (an order proven in the chat is used:
    "when do I pay the invoice?" + "yes" after an order status answer asked for the order
    again); "my invoice" again counts as an answer."""

    answer_intents = ANSWER_INTENTS | {"invoice"}

    def name(self) -> str:
        return "validate_invoice_form"


class ActionInvoiceStatus(factory.UsesOrderService, Action):
    """Looks the order up and tells its invoice: paid, unpaid (amount, due date), overdue,
    or that the order was paid at checkout and has no invoice."""

    def __init__(self, client: OrderClient | None = None, today: date | None = None) -> None:
        super().__init__(client)
        self._today = today

    def name(self) -> str:
        return "action_invoice_status"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet("order_number", None),
            SlotSet("email", None),
            SlotSet(ATTEMPTS_SLOT, 0.0),
        ]
        number = normalise_order_number(tracker.get_slot("order_number"))
        email = normalise_email(tracker.get_slot("email"))
        if not number or not email:
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*reset, NEEDS_HUMAN]
        with turn_budget():
            try:
                order = await call(self.client.lookup, number, email)
            except NotFound as exc:
                log_failure("invoice lookup", exc)
                dispatcher.utter_message(response="utter_order_not_found")
                return [*reset, NEEDS_HUMAN]
            except ServiceError as exc:
                log_failure("invoice lookup", exc)
                return [*reset, apologise(dispatcher)]
        # a proven order: a copy of this invoice or a person asked for next needs no questions
        reset = [*reset, *remember(number, email)]
        details = {"order_ref": order.order_number, "masked_email": mask_email(email)}
        invoice = order.invoice
        if invoice is None:
            dispatcher.utter_message(
                response="utter_invoice_none",
                payment_method=languages.payment_method_text(
                    order.payment_method, language_of(tracker)
                ),
                **details,
            )
            return [*reset, ANSWERED]
        dispatcher.utter_message(
            response=f"utter_invoice_{invoice.status}",
            amount=format_amount(invoice, language_of(tracker)),
            due_date=friendly_date(
                invoice.due_date, today=self._today, on=True, language=language_of(tracker)
            ),
            **details,
        )
        # An overdue invoice is worth a person: a payment plan or a paid one not yet booked.
        return [*reset, NEEDS_HUMAN if invoice.status == "overdue" else ANSWERED]
