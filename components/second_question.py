"""Notice a second question in the same message ("how can I pay, and how long is delivery?").

The classifier gives one intent per message, so the second question used to go unanswered.
Reading that classifier's ranking was not enough: when the first question takes most of the
belief, the second one ranks low and behind look-alikes of the first (a delivery-time
question behind delivery methods), so the ranking named the wrong second question or none.

So the message is split where one question ends and another may start (a question mark or
full stop followed by more text, a semicolon, "and", "also", "plus", "by the way", or a
comma followed by a question word), and each part is classified on its own, with the same
sentence encoder the pipeline uses (all-MiniLM-L6-v2, the featurizer's cached instance)
and a logistic regression trained here on the featurizer's sentence features of the same
training examples (no extra embedding at training time, about a second of fitting).
When the whole message's intent is a question answered by a fixed response and another
part is confidently a different such question, an `also_asked` entity names it. Rules
(data/rules/faq.yml) answer the first question as usual, then `action_answer_also` gives
the second answer.

Cost per turn: nothing unless the message has a break and its intent is one of the
fixed-answer questions; then one encoder pass over the parts (a few ms).
"""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import (
    ENTITIES,
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

logger = logging.getLogger(__name__)

ENTITY = "also_asked"
_ARRAYS = "clauses.npz"
_META = "clauses.json"

_QUESTION_WORDS = (
    r"what|what's|whats|how|when|where|which|who|why|do|does|did|can|could|is|are|will"
    r"|would|should|may|and"
)
# Where a second question may start. "and" etc. must stand alone as words, a question mark
# or full stop must be followed by more text, a comma only counts before a question word.
BREAK = re.compile(
    r"[?!.;]+\s+(?=\S)"
    r"|\s*,?\s*\b(?:and also|and|also|plus|as well as|by the way|btw)\b\s*"
    rf"|\s*,\s*(?=(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")


def clauses(text: str, min_words: int = 2) -> list[str]:
    """The parts of a message that may each be a question; short scraps join their neighbour.

    A part with fewer than ``min_words`` words ("and you?", "plus shipping") cannot be a
    question of its own, so it stays with the part before it.
    """
    parts: list[str] = []
    for piece in BREAK.split(text):
        piece = piece.strip(" ,?!.;")
        if not piece:
            continue
        scrap = len(_WORD.findall(piece)) < min_words
        if parts and (scrap or len(_WORD.findall(parts[-1])) < min_words):
            parts[-1] = f"{parts[-1]} {piece}"
        else:
            parts.append(piece)
    return parts


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=True)
class SecondQuestion(GraphComponent, EntityExtractorMixin):
    """Adds `also_asked` when a part of the message is a second fixed-answer question."""

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Chosen on our own two-question and single-question messages (README)."""
        return {
            # Intents answered by one fixed response: only these are combined.
            "intents": ["payment_methods", "delivery_methods", "delivery_time", "returns"],
            # A part must be this sure to be another question before it is answered.
            "min_confidence": 0.5,
            # The featurizer (alias) whose sentence features train the part classifier.
            "featurizer": "minilm",
            "C": 10.0,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: list[str] | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
    ) -> None:
        """Holds an untrained or loaded part classifier."""
        self._config = {**self.get_default_config(), **config}
        self.intents = frozenset(self._config["intents"])
        self.min_confidence = float(self._config["min_confidence"])
        self._model_storage = model_storage
        self._resource = resource
        self._classes = classes or []
        self._coef = coef
        self._intercept = intercept
        self._encoder: Any = None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SecondQuestion:
        """An untrained component."""
        return cls(config, model_storage, resource)

    # --- training --------------------------------------------------------------------

    def _embedding(self, message: Message) -> np.ndarray | None:
        wanted = str(self._config["featurizer"])
        for feature in message.features:
            sentence = feature.type == FEATURE_TYPE_SENTENCE and feature.attribute == TEXT
            if sentence and wanted in str(feature.origin):
                return np.asarray(feature.features, dtype=np.float32).reshape(-1)
        return None

    def train(self, training_data: TrainingData) -> Resource:
        """Fits a regression on the encoder's sentence features of the intent examples."""
        from components.softmax_regression import fit_softmax_regression

        rows, labels = [], []
        for example in training_data.intent_examples:
            vector = self._embedding(example)
            if vector is not None and example.get(INTENT):
                rows.append(vector)
                labels.append(str(example.get(INTENT)))
        if len(set(labels)) < 2:
            logger.debug("SecondQuestion: no sentence features to train on; stays off.")
            return self._resource
        # sklearn's LogisticRegression(max_iter=1000) objective and optimiser, minus its
        # bookkeeping: about a quarter faster here, predictions the same up to L-BFGS's
        # tolerance (components/sentence_classifier.py). Softmax rows even for two classes.
        self._classes = sorted(set(labels))
        index = {name: i for i, name in enumerate(self._classes)}
        coef, intercept = fit_softmax_regression(
            [np.stack(rows)],
            np.array([index[label] for label in labels]),
            len(self._classes),
            C=float(self._config["C"]),
            max_iter=1000,
            tol=1e-4,
        )
        self._coef = coef.astype(np.float32)
        self._intercept = intercept.astype(np.float32)
        self.persist()
        return self._resource

    def persist(self) -> None:
        """Plain arrays and JSON: loading runs no pickled code."""
        assert self._coef is not None and self._intercept is not None
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / _ARRAYS, coef=self._coef, intercept=self._intercept)
            (directory / _META).write_text(json.dumps({"classes": self._classes}))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SecondQuestion:
        """Restores the part classifier; an inactive component if none was stored."""
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META).read_text())
                with np.load(directory / _ARRAYS, allow_pickle=False) as arrays:
                    coef, intercept = arrays["coef"], arrays["intercept"]
        except (ValueError, FileNotFoundError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, list(meta["classes"]), coef, intercept)

    # --- inference -------------------------------------------------------------------

    def _embed(self, texts: list[str]) -> np.ndarray:
        if self._encoder is None:
            # The featurizer's own instance (lru_cache in load_encoder): same weights, no
            # second copy in memory.
            from components.minilm import MiniLMFeaturizer, default_model_dir, load_encoder

            defaults = MiniLMFeaturizer.get_default_config()
            self._encoder = load_encoder(
                str(Path(default_model_dir()).resolve()),
                int(defaults["max_length"]),
                str(defaults["backend"]),
            )
        return np.asarray(self._encoder.embed(texts), dtype=np.float32)

    def classify(self, texts: list[str]) -> list[tuple[str, float]]:
        """Top intent and its probability for each text, by the part classifier."""
        assert self._coef is not None and self._intercept is not None
        scores = self._embed(texts) @ self._coef.T + self._intercept
        scores -= scores.max(axis=1, keepdims=True)
        probabilities = np.exp(scores)
        probabilities /= probabilities.sum(axis=1, keepdims=True)
        best = probabilities.argmax(axis=1)
        return [(self._classes[i], float(probabilities[row, i])) for row, i in enumerate(best)]

    def questions(self, message: Message) -> tuple[str, str] | None:
        """The message's two fixed-answer questions (first, second), if it asks two.

        Parts that are confidently such questions decide: when two parts are two different
        ones, those two are the answer, even if the whole message's intent named a third
        (its look-alike, e.g. delivery methods for "how long is delivery"); when only one
        part is, it is the second question beside the whole message's intent.
        """
        if self._coef is None:
            return None
        intent = message.get(INTENT) or {}
        top = intent.get(INTENT_NAME_KEY)
        # A whole message the classifier found out of scope or was unsure of may still be
        # two clear questions ("do you take credit cards and how many days until I get my
        # things?"): then only the parts decide, and only when they name two.
        unsure = top == "out_of_scope" or float(intent.get("confidence") or 0.0) < 0.5
        if top not in self.intents and not unsure:
            return None
        parts = clauses(str(message.get(TEXT) or ""))
        if len(parts) < 2:
            return None
        found: list[str] = []
        for name, confidence in self.classify(parts):
            if name in self.intents and confidence >= self.min_confidence and name not in found:
                found.append(name)
        if top not in self.intents:
            return (found[0], found[1]) if len(found) >= 2 else None
        if top in found:
            found.remove(top)
            return (str(top), found[0]) if found else None
        if len(found) >= 2:
            return found[0], found[1]
        return (str(top), found[0]) if found else None

    def process(self, messages: list[Message]) -> list[Message]:
        """Adds the `also_asked` entity to messages that ask a second question."""
        for message in messages:
            pair = self.questions(message)
            if pair is None:
                continue
            first, other = pair
            intent = message.get(INTENT) or {}
            if intent.get(INTENT_NAME_KEY) != first:
                # The parts named both questions and the whole message a look-alike of
                # one (or nothing clear): answer what the parts asked, as sure as a part
                # had to be.
                confidence = max(float(intent.get("confidence") or 0.0), self.min_confidence)
                message.set(
                    INTENT,
                    {**intent, INTENT_NAME_KEY: first, "confidence": confidence},
                    add_to_output=True,
                )
            text = str(message.get(TEXT) or "")
            entity = {
                "entity": ENTITY, "value": other, "start": 0, "end": len(text),
                "extractor": self.__class__.__name__,
            }  # fmt: skip
            message.set(ENTITIES, [*(message.get(ENTITIES) or []), entity], add_to_output=True)
        return messages
