"""Session start: every conversation opens with the bot introducing itself.

The shopper must know from the first message that they talk to a bot, that a person is
available at any time, and where the privacy notice is (utter_intro). Rasa's default
session start only carries slots over; ours also says hello, and sets the opening hours
that answers quote from the same settings the agent queue uses.
"""

from __future__ import annotations

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from handover.hours import OpeningHours
from handover.settings import load_handover_settings


class ActionSessionStart(Action):
    def __init__(self, opening_hours: OpeningHours | None = None) -> None:
        self._opening_hours = opening_hours

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hours = self._opening_hours or load_handover_settings().opening_hours
        dispatcher.utter_message(response="utter_intro")
        # SessionStarted resets slots to their initial values, so the hours come after
        # it; action_listen must come last so that the message that started the session
        # is then handled as usual.
        return [
            SessionStarted(),
            SlotSet("opening_hours", hours.describe()),
            ActionExecuted("action_listen"),
        ]
