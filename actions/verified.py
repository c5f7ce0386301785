"""The order a conversation has proven (order number + email that belong together).

Kept for VERIFIED_FOR seconds so "and can you also cancel it?" does not ask again; set by
every successful lookup (order status, self-service) and checked again on every use:
formats by actions/inputs.py, age by the clock. A slot is never trusted blindly.
"""

from __future__ import annotations

import time

from rasa_sdk import Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.inputs import normalise_email, normalise_order_number

VERIFIED_ORDER, VERIFIED_EMAIL, VERIFIED_AT = "verified_order", "verified_email", "verified_at"
VERIFIED_FOR = 30 * 60  # seconds a proven order stays usable in the conversation


def verified(tracker: Tracker, now: float | None = None) -> tuple[str, str] | None:
    """The order this conversation proved within VERIFIED_FOR, formats checked again."""
    number = normalise_order_number(tracker.get_slot(VERIFIED_ORDER))
    email = normalise_email(tracker.get_slot(VERIFIED_EMAIL))
    at = tracker.get_slot(VERIFIED_AT)
    if not number or not email or isinstance(at, bool) or not isinstance(at, int | float):
        return None
    age = (time.time() if now is None else now) - float(at)
    return (number, email) if 0 <= age <= VERIFIED_FOR else None


def reusable(tracker: Tracker) -> tuple[str, str] | None:
    """The proven order, for a form whose order slots hold nothing the shopper gave (a
    number or email in the message is another order, or a correction)."""
    if tracker.get_slot("order_number") or tracker.get_slot("email"):
        return None
    return verified(tracker)


def remember(number: str, email: str) -> list[EventType]:
    """Slots that let the next change in this conversation skip the questions."""
    return [
        SlotSet(VERIFIED_ORDER, number),
        SlotSet(VERIFIED_EMAIL, email),
        SlotSet(VERIFIED_AT, time.time()),
    ]
