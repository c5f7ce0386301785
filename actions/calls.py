"""Run blocking client calls off the event loop and turn failures into shopper replies.

Kept in one place so every action treats not-found, unavailable and bad responses the same
way, logs the cause without personal data, and keeps one time budget per turn.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.clients.deadline import within
from actions.clients.errors import BadResponse, ServiceError, ServiceUnavailable
from actions.settings import load_settings

T = TypeVar("T")
logger = logging.getLogger("actions.services")


async def call(func: Callable[..., T], *args: object) -> T:
    """`func(*args)` in a worker thread: requests blocks, the action server must not."""
    return await asyncio.to_thread(func, *args)


@contextmanager
def turn_budget(seconds: float | None = None) -> Iterator[None]:
    """Every service call inside (an order lookup *and* its parcel line) shares one
    deadline, SERVICE_TOTAL_TIMEOUT by default: the shopper hears an answer or the apology
    within it, however many calls the answer takes."""
    with within(load_settings().service_total_timeout if seconds is None else seconds):
        yield


def log_failure(what: str, exc: ServiceError) -> None:
    """One log line with the cause (e.g. 'order lookup failed: timeout'), no identifiers."""
    level = logging.WARNING if isinstance(exc, ServiceUnavailable | BadResponse) else logging.INFO
    logger.log(level, "%s failed: %s (%s)", what, exc.reason, type(exc).__name__)


# The actions report how the request went in this featurized slot; a rule follows
# `needs_human` with the `utter_offer_human` *action*, so the shared rules for "yes"/"no"
# after that offer apply (a message sent from inside an action would not trigger them).
OUTCOME_SLOT = "service_outcome"
ANSWERED: EventType = SlotSet(OUTCOME_SLOT, "answered")
NEEDS_HUMAN: EventType = SlotSet(OUTCOME_SLOT, "needs_human")
# The order number and email are needed (again): a rule starts the order form next. Set
# when details reused from earlier in the chat matched no order, and when a shopper in the
# tracking form has no tracking number and the parcel is found through the order instead.
ASK_ORDER: EventType = SlotSet(OUTCOME_SLOT, "ask_order")


def apologise(dispatcher: CollectingDispatcher) -> EventType:
    """Tell the shopper the service is unavailable or misbehaving; the rule offers a human."""
    dispatcher.utter_message(response="utter_service_unavailable")
    return NEEDS_HUMAN
