"""Questions about another company's order, parcel, account or bill are out of scope.

"my Zalando order hasn't arrived", "miten palautan Booztista tilatut kengät", "I can't log
in to my Telia account" read like our own order, return and login questions, and the
classifier (sentence meaning plus character n-grams) gives them those intents with high
confidence: the shopper was asked for an order number, or sent our password-reset page.
Training examples did not separate them (the company's name is one word in a sentence
that otherwise is exactly a shop question).

So this component looks for the names of other businesses in the message and, when the
intent is one that only makes sense for this shop, makes it `out_of_scope` with an
`other_business` entity that names the company; a rule answers that we can only see our
own orders and accounts, and whom to ask instead (data/rules/smalltalk.yml).

The names come in three lists, because what a name rules out depends on the business:
- `retailers` (other shops and marketplaces): every question about orders, parcels,
  returns, payments, invoices, accounts, products and contact details;
- `services` (telecoms, apps, authorities, utilities): accounts, logins, bills, payment
  problems and contact details ("Vodafone charged me twice");
- `banks`: accounts, logins and contact details only ("my Nordea card was declined at your
  checkout" is a payment problem with us).
Carriers and payment providers the shop itself uses are in none of the lists. A message
that compares ("cheaper than H&M", "snabbare än Zalando") keeps its intent.
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

ENTITY = "other_business"
OUT_OF_SCOPE = "out_of_scope"

_ACCOUNT_INTENTS = ("login_problem", "create_account", "edit_account", "delete_account", "contact")
_SERVICE_INTENTS = (*_ACCOUNT_INTENTS, "payment_issue", "invoice", "privacy")
_RETAIL_INTENTS = (
    *_SERVICE_INTENTS,
    "order_status", "track_parcel", "returns", "cancel_order", "cancellation_fee",
    "change_order", "change_address", "complaint", "delivery_time", "delivery_methods",
    "place_order", "product_info", "newsletter", "payment_methods",
)  # fmt: skip
# What each list rules out (see the module's docstring).
RULED_OUT_BY_LIST = {
    "retailers": _RETAIL_INTENTS,
    "services": _SERVICE_INTENTS,
    "banks": _ACCOUNT_INTENTS,
}
# "cheaper than H&M", "billigare än Zalando", "halvempi kuin Zalandossa", "enn Zalando"
COMPARISON = re.compile(
    r"\b(?:than|compared|än|jämfört|enn|sammenlignet|kuin|verrattuna)\b", re.IGNORECASE
)
# An e-mail address is no mention of its provider ("maria@telia.com", "telia.fan@gmail.com").
EMAIL = re.compile(r"\S+@\S+")
# A name may carry an ending: "Zalandon", "Zalandosta", "Booztista", "ASOS's", "Telias".
_ENDING = r"(?:['\u2019:]?[^\W\d_]{0,4})"


def name_pattern(names: list[str]) -> re.Pattern[str] | None:
    """One pattern for a list of names. Names of three characters or less ("H&M", "OP",
    "DNA") must stand alone; longer ones may carry a short ending (Finnish cases, a
    possessive)."""
    if not names:
        return None
    parts = []
    for name in sorted(names, key=len, reverse=True):
        escaped = re.escape(name).replace(r"\ ", r"\s+")
        parts.append(escaped if len(name) <= 3 else f"{escaped}{_ENDING}")
    return re.compile(rf"(?<![\w&])(?:{'|'.join(parts)})(?![\w&])", re.IGNORECASE)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class OtherBusiness(GraphComponent, EntityExtractorMixin):
    """Sends shop questions about another business to `out_of_scope`, naming it."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {"retailers": [], "services": [], "banks": []}

    def __init__(self, config: dict[str, Any]) -> None:
        self.lists: list[tuple[re.Pattern[str], frozenset[str], dict[str, str]]] = []
        for key, intents in RULED_OUT_BY_LIST.items():
            names = [str(n) for n in config.get(key) or []]
            pattern = name_pattern(names)
            if pattern is not None:
                canonical = {n.lower(): n for n in names}
                self.lists.append((pattern, frozenset(intents), canonical))

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> OtherBusiness:
        return cls(config)

    def named(self, text: str, intent: str | None) -> tuple[str, int, int] | None:
        """The business a shop question `text` (classified as `intent`) is about, if any."""
        if not intent or COMPARISON.search(text):
            return None
        text = EMAIL.sub(lambda m: " " * len(m.group(0)), text)  # same offsets
        for pattern, intents, canonical in self.lists:
            if intent not in intents:
                continue
            found = pattern.search(text)
            if found:
                return self._canonical(found.group(0), canonical), found.start(), found.end()
        return None

    @staticmethod
    def _canonical(matched: str, canonical: dict[str, str]) -> str:
        """'Zalando' for "zalandosta": the longest listed name the match starts with."""
        word = " ".join(matched.split()).lower()
        best = max((n for n in canonical if word.startswith(n)), key=len, default=None)
        return canonical[best] if best else matched

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            intent = message.get(INTENT) or {}
            found = self.named(str(message.get(TEXT) or ""), intent.get(INTENT_NAME_KEY))
            if found is None:
                continue
            name, start, end = found
            confidence = float(intent.get(PREDICTED_CONFIDENCE_KEY) or 0.0)
            message.set(
                INTENT,
                {INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: confidence},
                add_to_output=True,
            )
            ranking = [
                r for r in message.get(INTENT_RANKING_KEY) or [] if r.get("name") != OUT_OF_SCOPE
            ]
            message.set(
                INTENT_RANKING_KEY,
                [{INTENT_NAME_KEY: OUT_OF_SCOPE, PREDICTED_CONFIDENCE_KEY: confidence}, *ranking],
                add_to_output=True,
            )
            entity = {
                "entity": ENTITY,
                "value": name,
                "start": start,
                "end": end,
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, [*message.get(ENTITIES, []), entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        return training_data
