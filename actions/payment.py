"""Short answers to payment questions that follow the payment methods answer.

"Is it free?" and "is there interest on part payment?" right after the payment methods got
the whole list again, once for each question (a walk-through). The list says how to pay,
not what it costs or when the money is taken. `action_payment_detail` answers the fact a
message asks about, and the whole list when it names none.
"""

from __future__ import annotations

import re

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.returns import answer_details

# Fact -> words that ask for it, in English, Swedish, Finnish and Norwegian (also as typed
# without å, ä, ö, ø).
FACTS: dict[str, re.Pattern[str]] = {
    # what paying costs: fees, interest, "is it free?"
    "cost": re.compile(
        r"\b(free|fee\w*|cost\w*|extra|charge for|interest|expensive|cheap\w*|"
        r"gratis|avgift\w*|kost\w*|ränt\w*|rant[ao]\w*|dyr\w*|billig\w*|"
        r"ilmai\w*|maksaa(?:ko)? (?:mitään|mitaan|jotain)|kulu\w*|korko\w*|koro\w*|"
        r"hinta\w*|kallis\w*|halv\w*|"
        r"gebyr\w*|rente\w*)",
        re.IGNORECASE,
    ),
    # when the money is taken
    "charged": re.compile(
        r"\b(when (?:is|will|do|does) (?:my|the|you|it|i)\b.*\b(?:charged?|debited|taken|take|"
        r"pay|leaves?)|charged|debited|"
        r"när (?:dras|debiteras|tas)|dras pengarna|debiteras|"
        r"milloin (?:rahat|veloitetaan|maksu)|veloitetaan|veloitus\w*|"
        r"når (?:trekkes|blir .* trukket|belastes)|trekkes|belastes)",
        re.IGNORECASE,
    ),
}


def facts_asked(text: str) -> list[str]:
    """The payment facts `text` asks about, in FACTS' order."""
    return [name for name, pattern in FACTS.items() if pattern.search(text or "")]


class ActionPaymentDetail(Action):
    """The fact a payment follow-up asks about, else the whole payment methods answer."""

    def name(self) -> str:
        return "action_payment_detail"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        text = str((tracker.latest_message or {}).get("text") or "")
        answer_details(dispatcher, facts_asked(text), "utter_payment_", "utter_payment_methods")
        return []
