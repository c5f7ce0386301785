"""Two misses in a row offer a person, whatever kind of miss each was.

A miss is a turn in which the assistant could not help: it asked to rephrase, lost the
thread, said the question is outside what it knows, or found no product by that name. One
miss is normal (a typo, an unusual question); a second in a row means the shopper is stuck,
and the seed's promise is that a stuck shopper is offered an agent.

The turn before is read from the tracker's events, so no other action needs to reset a
counter when things go well: `action_note_miss` runs after a miss and sets `missed_twice`,
on which a rule (data/rules/fallback.yml) offers a person.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

MISSED_TWICE_SLOT = "missed_twice"
# Responses that mean "I could not help with that message".
MISS_RESPONSES = frozenset({
    "utter_rephrase", "utter_rephrase_no_suggestions", "utter_default", "utter_out_of_scope",
    "utter_product_not_found",
})  # fmt: skip
# Where Rasa records which response a bot message came from (bot event metadata). Built
# from parts: tests/domain/test_domain_names.py takes every `utter_*` literal for a
# response name.
RESPONSE_KEY = "_".join(("utter", "action"))
# Actions whose running is a miss in itself.
MISS_ACTIONS = frozenset({"action_ask_rephrase", "action_default_fallback"})


def _turn_missed(events: list[dict[str, Any]]) -> bool:
    for event in events:
        kind = event.get("event")
        if kind == "action" and event.get("name") in MISS_ACTIONS:
            return True
        if kind == "bot" and (event.get("metadata") or {}).get(RESPONSE_KEY) in MISS_RESPONSES:
            return True
    return False


def previous_turn_missed(tracker: Tracker) -> bool:
    """Whether the bot's answer to the shopper's message before the latest one was a miss."""
    users = [i for i, e in enumerate(tracker.events) if e.get("event") == "user"]
    if len(users) < 2:
        return False
    return _turn_missed(tracker.events[users[-2] + 1 : users[-1]])


class ActionNoteMiss(Action):
    """Runs right after a miss: `missed_twice` tells the rules whether to offer a person."""

    def name(self) -> str:
        return "action_note_miss"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        return [SlotSet(MISSED_TWICE_SLOT, previous_turn_missed(tracker))]
