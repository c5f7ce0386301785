"""Session start: every conversation opens with the bot introducing itself.

The shopper must know from the first message that they talk to a bot, that a person is
available at any time, and where the privacy notice is (utter_intro). Rasa's default
session start only carries slots over; ours also says hello.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict


class ActionSessionStart(Action):
    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        dispatcher.utter_message(response="utter_intro")
        # action_listen must come last so that the message that started the session is
        # then handled as usual.
        events: list[dict[str, Any]] = [SessionStarted(), ActionExecuted("action_listen")]
        return events
