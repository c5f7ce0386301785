"""Notice a second question in the same message ("how can I pay, and how long is delivery?").

The classifier gives one intent per message, so the second question used to go unanswered.
When the message joins two clauses (an "and"/"also"/"plus", or text after a question
mark) and both the top intent and another highly ranked one are questions answered by a
fixed response, this adds an `also_asked` entity whose value is the other intent. Rules
(data/rules/faq.yml) answer the first question as usual and then run
`action_answer_also`, which gives the second answer. Nothing is trained: it reads the
ranking the classifier already made, so it costs microseconds per message.
"""

from __future__ import annotations

import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message

ENTITY = "also_asked"
JOINED = re.compile(r"\b(and|also|plus)\b|\?\s*\w", re.IGNORECASE)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class SecondQuestion(GraphComponent, EntityExtractorMixin):
    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # Intents answered by one fixed response: only these are combined.
            "intents": ["payment_methods", "delivery_methods", "delivery_time", "returns"],
            # The second intent must reach this share of the classifier's belief.
            "min_confidence": 0.15,
        }

    def __init__(self, config: dict[str, Any]) -> None:
        self.intents = frozenset(config["intents"])
        self.min_confidence = float(config["min_confidence"])

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecondQuestion:
        return cls(config)

    def second_intent(self, message: Message) -> str | None:
        text = str(message.get(TEXT) or "")
        top = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
        if top not in self.intents or not JOINED.search(text):
            return None
        for ranked in (message.get(INTENT_RANKING_KEY) or [])[1:]:
            name = ranked.get(INTENT_NAME_KEY)
            if name in self.intents and name != top:
                confident = (ranked.get(PREDICTED_CONFIDENCE_KEY) or 0) >= self.min_confidence
                return str(name) if confident else None
        return None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            other = self.second_intent(message)
            if other is None:
                continue
            text = str(message.get(TEXT) or "")
            entity = {
                "entity": ENTITY, "value": other, "start": 0, "end": len(text),
                "extractor": self.__class__.__name__,
            }  # fmt: skip
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
