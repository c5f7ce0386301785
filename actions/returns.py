"""Short answers to returns questions that follow the returns answer.

"is it free?", "how long until I get my money back?", "can I swap it for a bigger size?"
right after the returns answer got the whole paragraph again, every time (three blind
trials, all four languages). The answer is in it, but a shopper expects the one fact
asked for. `action_returns_detail` answers the facets a message asks about, in the order
a returns conversation usually goes, and the whole paragraph when it names none.
"""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.forms import actions_since_message

# Facet -> words that ask for it, in English, Swedish, Finnish and Norwegian (also as
# typed without å, ä, ö, ø). "how long" alone is the return window; with money words it
# is the refund.
FACETS: dict[str, re.Pattern[str]] = {
    "refund": re.compile(
        r"\b(refund\w*|money|paid back|pay me back|"
        r"återbetal\w*|aterbetal\w*|pengar\w*|"
        r"rah(?:a|o)\w*|hyvit\w*|"
        r"tilbakebetal\w*|penge\w*|refusjon\w*)",
        re.IGNORECASE,
    ),
    "window": re.compile(
        r"\b(how long do i have|how many days|deadline|until when|time limit|"
        r"hur länge har jag|hur lange har jag|hur många dagar|hur manga dagar|"
        r"kuinka (?:kauan|pitkään|pitkaan) (?:on|mulla|minulla) aikaa|"
        r"montako päivää|montako paivaa|"
        r"hvor lenge har jeg|hvor mange dager|frist\w*)",
        re.IGNORECASE,
    ),
    "cost": re.compile(
        r"\b(free|cost\w*|charge\w*|pay for|postage|fee|"
        r"gratis|kost\w*|avgift\w*|betala\w*|porto|frakt\w*|"
        r"ilmai\w*|ilmanen|ilmasta|maksa\w*|maksu\w*|postikulu\w*|posti(?:t|mak\w*)|"
        r"koste\w*|gebyr\w*|betale\w*|returfrakt\w*)",
        re.IGNORECASE,
    ),
    "exchange": re.compile(
        r"\b(exchange\w*|swap\w*|another size|other size|bigger|smaller|another colou?r|"
        r"byt\w*|annan storlek|större|storre|mindre|annan färg|annan farg|"
        r"vaihd\w*|vaihto\w*|isompa\w*|pienempä\w*|pienempa\w*|toinen koko|eri koko|"
        r"bytt\w*|annen størrelse|annen storrelse|annen farge)",
        re.IGNORECASE,
    ),
    "label": re.compile(
        r"\b(label|slip|where do i (?:drop|send|take|leave)|drop (?:it|them) off|"
        r"etikett\w*|retursedel\w*|var lämnar|var lamnar|"
        r"lipuke\w*|lappu\w*|minne (?:vien|viedään|viedaan)|"
        r"returlapp\w*|hvor leverer|hvor sender)",
        re.IGNORECASE,
    ),
    # "can I return sale items too?" (a blind trial: the whole returns text, which does not
    # say)
    "sale": re.compile(
        r"\b(sale|reduced|discounted|outlet|rea|reavar\w*|nedsatt\w*|"
        r"ale\w*|alennus\w*|alennet\w*|tarjous\w*|salg\w*|tilbud\w*)\b",
        re.IGNORECASE,
    ),
}


def facets_asked(text: str) -> list[str]:
    """The facets `text` asks about, in FACETS' order; the return window and the refund
    both answer "how long", so the window only counts without money words."""
    found = [name for name, pattern in FACETS.items() if pattern.search(text or "")]
    if "refund" in found and "window" in found:
        found.remove("window")
    return found


RETURNS_ANSWERS = frozenset({"utter_returns", "action_returns_detail"})


def after_returns_answer(tracker: Tracker) -> bool:
    """Whether the bot's last answer, before the latest message, was about returns."""
    previous = actions_since_message(tracker, turns_back=1)
    return bool(previous) and previous[0] in RETURNS_ANSWERS


def answer_details(
    dispatcher: CollectingDispatcher, asked: list[str], prefix: str, whole: str
) -> None:
    """The answer of each detail asked (`{prefix}{detail}`), or the whole answer when the
    message asks for none (returns here, payment in actions/payment.py)."""
    for detail in asked:
        dispatcher.utter_message(response=f"{prefix}{detail}")
    if not asked:
        dispatcher.utter_message(response=whole)


class ActionReturnsDetail(Action):
    """The facets of returns a follow-up asks about, else the whole returns answer."""

    def name(self) -> str:
        return "action_returns_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        answer_details(dispatcher, facets_asked(text), "utter_returns_", "utter_returns")
        return []


# The bot's confirmations of a cancellation, by how the order was paid (actions/self_service.py).
CANCEL_CONFIRMATIONS = {"utter_cancel_done_paid": "paid", "utter_cancel_done_invoice": "invoice"}


def cancellation_just_told(tracker: Tracker) -> tuple[str, str | None] | None:
    """How the order was paid, and its number, when the bot's answer to the message before
    the latest one confirmed a cancellation; else None."""
    messages = 0
    for event in reversed(tracker.events):
        kind = event.get("event")
        if kind == "user":
            messages += 1
            if messages == 2:
                break
        elif kind == "bot" and messages == 1:
            metadata = event.get("metadata") or {}
            paid = CANCEL_CONFIRMATIONS.get(str(metadata.get("utter_action")))
            if paid:
                return paid, metadata.get("order_ref") or tracker.get_slot("order_number")
    return None


class ActionRefundAfterChange(Action):
    """A returns question right after a change was done (a rule after
    action_change_execute). "When do I get my money back?" after a cancellation got the
    returns text, the refund of a returned parcel (a walk-through): it is about the order
    just cancelled, paid (the money goes back within 5 working days) or on invoice (nothing
    was taken). Any other returns question gets what `action_returns_detail` gives."""

    def name(self) -> str:
        return "action_refund_after_change"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        cancelled = cancellation_just_told(tracker)
        if cancelled and {"refund", "cost"} & set(facets_asked(text)):
            paid, order = cancelled
            dispatcher.utter_message(response=f"utter_cancel_refund_{paid}", order_ref=order or "")
            return []
        return await ActionReturnsDetail().run(dispatcher, tracker, domain)
