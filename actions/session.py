"""Session start: every conversation opens with the bot introducing itself.

The shopper must know from the first message that they talk to a bot, that a person is
available at any time, and where the privacy notice is (utter_intro). Rasa's default
session start only carries slots over; ours also says hello, sets the conversation's
language, and sets the shop facts that differ by language: the opening hours that answers
quote (from the same settings the agent queue uses, in the language) and the phone number
and privacy page of the language when the shop configured them (actions/settings.py).

The language is, in this order: the page's language the widget sent with its session
request (Rasa hands it over as the `session_started_metadata` slot, channels/webchat.py),
the language the message that starts the session is clearly written in (the channel finds
it with the NLU's detector), the language the previous session ended in, English.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActionExecuted, EventType, SessionStarted, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.settings import Settings, load_settings
from channels import languages
from handover.hours import OpeningHours
from handover.settings import load_handover_settings

METADATA_SLOT = "session_started_metadata"
LANGUAGE_SLOT = "language"
# channels/webchat.py's WRITTEN_LANGUAGE_FIELD (the action server does not import the channel)
WRITTEN_LANGUAGE = "written_language"
# The only response this action reads: Rasa sends it no other (RESPONSES_READ in
# components/action_exchange.py).
INTRO = "utter_intro"


class _Blank(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return ""


def render_response(domain: DomainDict, name: str, slots: dict[str, Any]) -> str | None:
    """The text of response `name` as Rasa would choose it with these slot values: the
    first variation whose slot conditions all hold, else the first without conditions;
    `{slot}` placeholders filled. None if the domain has no such text response."""
    chosen: dict[str, Any] | None = None
    default: dict[str, Any] | None = None
    for variation in domain.get("responses", {}).get(name, []):
        conditions = variation.get("condition") or []
        if not conditions:
            default = default or variation
        elif chosen is None and all(
            c.get("type") == "slot" and slots.get(c.get("name")) == c.get("value")
            for c in conditions
        ):
            chosen = variation
    text = (chosen or default or {}).get("text")
    if not isinstance(text, str):
        return None
    values = _Blank({k: "" if v is None else v for k, v in slots.items()})
    return text.format_map(values)


def session_language(tracker: Tracker) -> str:
    """The page's hint if it is one of ours, else the language the shopper's first
    message is clearly written in (found by the channel), else the previous session's."""
    metadata: Any = tracker.get_slot(METADATA_SLOT) or {}
    if not isinstance(metadata, dict):
        metadata = {}
    hint = languages.normalise(metadata.get(LANGUAGE_SLOT))
    written = languages.normalise(metadata.get(WRITTEN_LANGUAGE))
    return hint or written or languages.language_or_default(tracker.get_slot(LANGUAGE_SLOT))


class ActionSessionStart(Action):
    def __init__(
        self, opening_hours: OpeningHours | None = None, settings: Settings | None = None
    ) -> None:
        self._opening_hours = opening_hours
        self._settings = settings

    def name(self) -> str:
        return "action_session_start"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        hours = self._opening_hours or load_handover_settings().opening_hours
        settings = self._settings or load_settings()
        language = session_language(tracker)
        facts = settings.shop_facts.get(language, {})
        # Rasa would render `response="utter_intro"` with the slots as they were before
        # this action, i.e. in English: the variation of the new language is picked and
        # filled here, with the slots the session starts with.
        slots = {
            **{name: spec.get("initial_value") for name, spec in domain.get("slots", {}).items()},
            **facts,
            LANGUAGE_SLOT: language,
        }
        intro = render_response(domain, INTRO, slots)
        if intro is None:
            dispatcher.utter_message(response=INTRO)
        else:
            dispatcher.utter_message(text=intro, utter_action=INTRO)
        # SessionStarted resets slots to their initial values, so the language and the
        # facts come after it; action_listen must come last so that the message that
        # started the session is then handled as usual.
        return [
            SessionStarted(),
            SlotSet(LANGUAGE_SLOT, language),
            SlotSet("opening_hours", hours.describe(language)),
            *(SlotSet(name, value) for name, value in sorted(facts.items())),
            ActionExecuted("action_listen"),
        ]
