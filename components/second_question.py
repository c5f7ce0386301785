"""Notice a second question in the same message ("how can I pay, and how long is delivery?").

The classifier gives one intent per message, so the second question used to go unanswered.
Reading that classifier's ranking was not enough: when the first question takes most of the
belief, the second one ranks low and behind look-alikes of the first (a delivery-time
question behind delivery methods), so the ranking named the wrong second question or none.

So the message is split where one question ends and another may start (a question mark or
full stop followed by more text, a semicolon, "and", "also", "plus", "by the way" and their
Swedish, Finnish and Norwegian counterparts, or a comma followed by a question word), and
each part is classified on its own, with a sentence encoder the pipeline already uses and
a logistic regression trained here on that featurizer's sentence features of the same
training examples (no extra embedding at training time, a few seconds of fitting):
all-MiniLM-L6-v2 for a message the language router sent to the English head, and
multilingual-e5-small for everything else (MiniLM is English-only: with its head alone, the
Swedish and Finnish two-question tests fail).
When the whole message's intent is a question answered by a fixed response and another
part is confidently a different such question, an `also_asked` entity names it. Rules
(data/rules/faq.yml) answer the first question as usual, then `action_answer_also` gives
the second answer.

Cost per turn: nothing unless the message has a break and its intent is one of the
fixed-answer questions; then one encoder pass over the parts (a few ms; e5 about 6 ms a
part).
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

from components.language import LANGUAGE_ROUTE

logger = logging.getLogger(__name__)

ENTITY = "also_asked"
_ARRAYS = "clauses.npz"
_META = "clauses.json"

# Words that start a question, after a comma: English, Swedish, Finnish (its question
# words and the -ko/-kö verbs shoppers open with), Norwegian.
_QUESTION_WORDS = (
    r"what|what's|whats|how|when|where|which|who|why|do|does|did|can|could|is|are|will"
    r"|would|should|may|and"
    r"|vad|hur|när|nar|var|vilken|vilka|kan|går|gar|har|finns|är|ar"
    r"|mitä|mita|miten|kuinka|milloin|missä|missa|mikä|mika|kauanko|paljonko|\w+(?:ko|kö)"
    r"|hva|hvordan|når|hvor|hvilke|hvilken|finnes|er"
)
# Words that join a second question to the first: "and", "also", "by the way" in each
# language ("och", "ja", "og"; "också", "myös", "også"; "förresten", "muuten", "forresten").
_JOINERS = (
    r"and also|and|also|plus|as well as|by the way|btw"
    r"|och även|och också|och|också|samt|dessutom|förresten|forresten"
    r"|ja myös|ja|sekä|lisäksi|muuten"
    r"|og også|og|også|dessuten"
)
# Where a second question may start. A joiner must stand alone as a word, a question mark
# or full stop must be followed by more text, a comma only counts before a question word.
BREAK = re.compile(
    r"[?!.;]+\s+(?=\S)"
    rf"|\s*,?\s*\b(?:{_JOINERS})\b\s*"
    rf"|\s*,\s*(?=(?:{_QUESTION_WORDS})\b)",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")
# A greeting or courtesy that opens a message ("hej!", "hi,", "moi moi", "ok thanks,")
# asks nothing: joined to the question after it, it made that question read as a
# greeting ("hej vilka betalsätt har ni" -> greet), so it is left out of the first part.
_GREETING = (
    r"hi|hiya|hello|hey|heya|hej|hejsan|hejhej|tja|tjena|hallå|halla|hallo|moi|moikka|hei"
    r"|heippa|heissan|terve|moro|morjens|morn|god\s+(?:morgon|morgen|dag|kväll|kveld)"
    r"|good\s+(?:morning|afternoon|evening|day)|(?:hyvää\s+)?(?:huomenta|päivää|iltaa)"
    r"|ok(?:ay)?|okej|okei|thanks|thank\s+you|tack|takk|kiitos|sorry|förlåt|anteeksi|unnskyld"
)
_OPENER = re.compile(
    rf"^(?:(?:{_GREETING})(?:\s+(?:there|all|everyone|again|igen|igjen|taas))?\b[\s,!.:-]*)+",
    re.IGNORECASE,
)


def clauses(text: str, min_words: int = 2) -> list[str]:
    """The parts of a message that may each be a question; short scraps join their neighbour.

    A part with fewer than ``min_words`` words ("and you?", "plus shipping") cannot be a
    question of its own, so it stays with the part before it. A greeting that opens the
    message ("hej!", "hi there,") is left out: it would make its neighbour read as one.
    """
    parts: list[str] = []
    for piece in BREAK.split(text):
        piece = piece.strip(" ,?!.;")
        if not parts:
            piece = _OPENER.sub("", piece)
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
            # The featurizer (alias) whose sentence features train the part classifier for
            # messages the language router sent to the English head ...
            "featurizer": "minilm",
            # ... and the one for all other messages (None: `featurizer` for all). Must be
            # components.e5.E5Featurizer's alias: its encoder embeds the parts.
            "multilingual_featurizer": "e5",
            "C": 10.0,
            "max_iter": 1000,
            # e5's vectors lie close together and need a weaker penalty: on 40 question
            # parts of our own in the four languages, C 10 was sure (0.5) of 24 of the
            # first 27, C 30 of 37 of 40 with the final data, C 100 of 39 (the 40th,
            # "milloin tilaus saapuu", is fairly an order question), at 100 iterations as
            # at 200 (2.1 s of training); none of 18 parts that are no such question
            # passed 0.4 with any of them. 0.4 leaves a margin below 0.5.
            "multilingual_C": 100.0,
            "multilingual_max_iter": 100,
            "multilingual_min_confidence": 0.4,
            "random_seed": 42,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        classes: list[str] | None = None,
        heads: dict[str, tuple[np.ndarray, np.ndarray]] | None = None,
    ) -> None:
        """Holds untrained or loaded part classifiers: a head ("coef", "intercept") per
        featurizer alias."""
        self._config = {**self.get_default_config(), **config}
        self.intents = frozenset(self._config["intents"])
        self.min_confidence = float(self._config["min_confidence"])
        self._model_storage = model_storage
        self._resource = resource
        self._classes = classes or []
        self._heads: dict[str, tuple[np.ndarray, np.ndarray]] = dict(heads or {})
        self._minilm: Any = None

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

    def _aliases(self) -> list[str]:
        english = str(self._config["featurizer"])
        other = self._config.get("multilingual_featurizer")
        return [english] if not other or str(other) == english else [english, str(other)]

    def _setting(self, alias: str, name: str) -> Any:
        """A head's setting: `name` for the English head, `multilingual_<name>` for the
        other one."""
        english = alias == str(self._config["featurizer"])
        return self._config[name if english else f"multilingual_{name}"]

    @staticmethod
    def _embedding(message: Message, wanted: str) -> np.ndarray | None:
        for feature in message.features:
            sentence = feature.type == FEATURE_TYPE_SENTENCE and feature.attribute == TEXT
            if sentence and wanted in str(feature.origin):
                return np.asarray(feature.features, dtype=np.float32).reshape(-1)
        return None

    def train(self, training_data: TrainingData) -> Resource:
        """Fits a regression on each featurizer's sentence features of the intent examples."""
        from components.softmax_regression import fit_softmax_regression

        examples = [e for e in training_data.intent_examples if e.get(INTENT)]
        self._classes = sorted({str(e.get(INTENT)) for e in examples})
        index = {name: i for i, name in enumerate(self._classes)}
        english = str(self._config["featurizer"])
        routed = [e for e in examples if e.get(LANGUAGE_ROUTE) == "en"]
        aliases = self._aliases()
        for alias in aliases:
            # With a multilingual head for the rest, the English head learns only from the
            # examples the router sends to English, as it only reads such messages
            # (MiniLM's vectors of Swedish, Finnish and Norwegian texts are noise to it; our
            # 24 English two-question messages: 22 both answered when it learnt from all).
            own = routed if alias == english and len(aliases) > 1 and routed else examples
            rows, labels = [], []
            for example in own:
                vector = self._embedding(example, alias)
                if vector is not None:
                    rows.append(vector)
                    labels.append(index[str(example.get(INTENT))])
            if len(set(labels)) < 2:
                # e.g. e5 on a CPU without AVX2: that head stays off
                logger.debug("SecondQuestion: no %s sentence features to train on.", alias)
                continue
            # sklearn's LogisticRegression objective and optimiser, minus its bookkeeping:
            # about a quarter faster here, predictions the same up to L-BFGS's tolerance
            # (components/sentence_classifier.py). Softmax rows even for two classes.
            # Classes without a row keep zero weights.
            coef, intercept = fit_softmax_regression(
                [np.stack(rows)],
                np.array(labels),
                len(self._classes),
                C=float(self._setting(alias, "C")),
                max_iter=int(self._setting(alias, "max_iter")),
                tol=1e-4,
            )
            self._heads[alias] = (coef.astype(np.float32), intercept.astype(np.float32))
        if self._heads:
            self.persist()
        return self._resource

    def persist(self) -> None:
        """Plain arrays and JSON: loading runs no pickled code."""
        arrays = {}
        for alias, (coef, intercept) in self._heads.items():
            arrays[f"{alias}.coef"], arrays[f"{alias}.intercept"] = coef, intercept
        with self._model_storage.write_to(self._resource) as directory:
            np.savez(directory / _ARRAYS, **arrays)
            meta = {"classes": self._classes, "heads": sorted(self._heads)}
            (directory / _META).write_text(json.dumps(meta))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SecondQuestion:
        """Restores the part classifiers; an inactive component if none was stored."""
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META).read_text())
                with np.load(directory / _ARRAYS, allow_pickle=False) as arrays:
                    if "heads" in meta:
                        heads = {
                            alias: (arrays[f"{alias}.coef"], arrays[f"{alias}.intercept"])
                            for alias in meta["heads"]
                        }
                    else:  # a model from before the e5 head: one MiniLM head
                        english = str({**cls.get_default_config(), **config}["featurizer"])
                        heads = {english: (arrays["coef"], arrays["intercept"])}
        except (ValueError, FileNotFoundError, KeyError):
            return cls.create(config, model_storage, resource, execution_context)
        return cls(config, model_storage, resource, list(meta["classes"]), heads)

    # --- inference -------------------------------------------------------------------

    def _embed(self, alias: str, texts: list[str]) -> np.ndarray:
        """The parts' sentence embeddings by the featurizer `alias` stands for, from the
        featurizers' own cached encoder instances (same weights, no second copy)."""
        if alias == self._config.get("multilingual_featurizer"):
            from components.e5 import shared_encoder

            return shared_encoder().query(texts)
        if self._minilm is None:
            from components.minilm import MiniLMFeaturizer, default_model_dir, load_encoder

            defaults = MiniLMFeaturizer.get_default_config()
            self._minilm = load_encoder(
                str(Path(default_model_dir()).resolve()),
                int(defaults["max_length"]),
                str(defaults["backend"]),
            )
        return np.asarray(self._minilm.embed(texts), dtype=np.float32)

    def _head_for(self, message: Message) -> str | None:
        """MiniLM's head for what the router sent to the English head, else e5's; either
        one when the other was not trained (or e5 cannot run on this CPU)."""
        english = str(self._config["featurizer"])
        other = self._config.get("multilingual_featurizer")
        wanted = english if message.get(LANGUAGE_ROUTE) == "en" or not other else str(other)
        if wanted in self._heads and (wanted == english or _e5_runs()):
            return wanted
        return english if english in self._heads else None

    def classify(self, texts: list[str], alias: str | None = None) -> list[tuple[str, float]]:
        """Top intent and its probability for each text, by a part classifier (by
        default the English one)."""
        alias = alias or str(self._config["featurizer"])
        coef, intercept = self._heads[alias]
        scores = self._embed(alias, texts) @ coef.T + intercept
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
        alias = self._head_for(message)
        if alias is None:
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
        least = float(self._setting(alias, "min_confidence"))
        found: list[str] = []
        for name, confidence in self.classify(parts, alias):
            if name in self.intents and confidence >= least and name not in found:
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


def _e5_runs() -> bool:
    from components.e5 import cpu_support

    return cpu_support()[0]
