"""Responses with the shop's facts in the conversation's current language.

Rasa fills a response's `{slot}` placeholders with the slot values as they are. Some shop
facts (domain/shared.yml) are not words but figures: amounts ("5.95 EUR") and lengths of
time ("3 years"), which each language writes differently ('€5.95' and '5,95 €'; '3 years'
and '3 vuotta'). Others depend on the language and were set for the one the session
started in: the opening hours and the phone number and privacy page a shop may configure
per language (SUPPORT_PHONE_FI ...). A shopper can switch language in the middle of a
session, so this generator formats them when a response is rendered, for the language
the conversation is in at that moment. Everything else is Rasa's own templated generator.

endpoints.yml selects it (`nlg: type: channels.nlg.LocalisedResponses`).
"""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from typing import Any

from rasa.core.nlg.response import TemplatedNaturalLanguageGenerator
from rasa.shared.core.domain import Domain
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.utils.endpoints import EndpointConfig

from actions.settings import shop_facts_from_env
from channels import languages
from envsettings import Env
from handover.settings import load_handover_settings

LANGUAGE_SLOT = "language"
OPENING_HOURS_SLOT = "opening_hours"


@lru_cache(maxsize=1)
def configured_facts() -> dict[str, dict[str, str]]:
    """The per-language facts the shop configured in the environment (actions/settings.py)."""
    return shop_facts_from_env(Env(os.environ))


def localised(value: object, language: str) -> object:
    """`languages.fact_text`, remembered for text values: Babel takes ~0.07 ms a figure,
    and the same few values are rendered in four languages over and over."""
    return _localised_text(value, language) if isinstance(value, str) else value


@lru_cache(maxsize=4096)
def _localised_text(value: str, language: str) -> object:
    return languages.fact_text(value, language)


class LocalisedResponses(TemplatedNaturalLanguageGenerator):
    """Rasa's generator with the shop facts formatted for the current language."""

    def __init__(
        self, endpoint_config: EndpointConfig | None = None, domain: Domain | None = None
    ) -> None:
        # Rasa creates its generator before it loads the model and hands it the domain's
        # responses afterwards (`Agent.load_model`); the slots come with each tracker.
        super().__init__((domain or Domain.empty()).responses)

    @staticmethod
    def figures(tracker: DialogueStateTracker) -> list[str]:
        """The facts to format: slots whose value in the domain is an amount or a length
        of time (channels/languages.py `fact_text`)."""
        return [
            name
            for name, slot in tracker.slots.items()
            if languages.is_localised_fact(slot.initial_value)
        ]

    def facts_in(
        self, language: str, slots: dict[str, Any], figures: list[str], template: str = ""
    ) -> dict[str, Any]:
        """The values that replace the slots' own in responses rendered in `language`;
        with a `template`, only those it has a placeholder for."""

        def wanted(name: str) -> bool:
            return not template or f"{{{name}}}" in template

        facts: dict[str, Any] = {
            name: localised(slots.get(name), language) for name in figures if wanted(name)
        }
        if OPENING_HOURS_SLOT in slots and wanted(OPENING_HOURS_SLOT):
            facts[OPENING_HOURS_SLOT] = load_handover_settings().opening_hours.describe(language)
        facts.update({k: v for k, v in configured_facts().get(language, {}).items() if wanted(k)})
        return facts

    async def generate(
        self,
        utter_action: str,
        tracker: DialogueStateTracker,
        output_channel: str,
        **kwargs: Any,
    ) -> dict[str, Any] | None:
        slots = tracker.current_slot_values()
        # Variations are still chosen on the real slots; only the values filled in change.
        # Arguments an action passes (kwargs) win, as in Rasa.
        response = self._random_response_for(utter_action, output_channel, slots)
        if response is None:
            return None
        # Facts appear in texts; most responses have no placeholder at all.
        template = str(response.get("text") or "")
        if "{" in template:
            language = languages.language_or_default(slots.get(LANGUAGE_SLOT))
            facts = self.facts_in(language, slots, self.figures(tracker), template)
            slots = {**slots, **facts}
        return self._fill_response(copy.deepcopy(response), slots, **kwargs)
