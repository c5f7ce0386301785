"""The answer to a second question asked in the same message.

components/second_question.py marks such a message with an `also_asked` entity naming the
other question's intent; after the first answer, a rule runs this action, which gives the
fixed answer of that intent (`utter_<intent>`) when the domain has one.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

ALSO_ASKED_ENTITY = "also_asked"


class ActionAnswerAlso(Action):
    def name(self) -> str:
        return "action_answer_also"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        intent = next(tracker.get_latest_entity_values(ALSO_ASKED_ENTITY), None)
        response = f"utter_{intent}"
        if intent and response in (domain.get("responses") or {}):
            dispatcher.utter_message(response=response)
        return []
