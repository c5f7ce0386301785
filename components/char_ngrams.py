"""Char n-gram counts of user messages: the sentence features of Rasa's
``CountVectorsFeaturizer`` (``analyzer: char_wb``), and nothing else.

Rasa's featurizer builds, for every training example, a row per token (sequence
features) and the sentence row, for the user text and also for response and action
texts, with two sklearn ``transform`` calls per message and attribute. Our intent
classifier (components/sentence_classifier.py) reads only the sentence row of the user
text; the rest cost about half a minute of every training and more work in Rasa's
training cache. This component fits the same vocabulary and gives the same sentence
row (tests/components/test_char_ngrams.py compares both on our training data): the
whitespace tokens' texts (lemmas, as Rasa's ``use_lemma``) with every standalone number
replaced by ``__NUMBER__``, lowercased, joined by single spaces, then counted by
sklearn's ``CountVectorizer`` - for all training examples in one ``transform``.

The vocabulary is stored as a JSON list (n-gram per column), never pickled.
"""

from __future__ import annotations

import json
import logging
import re
from typing import Any

from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.constants import TOKENS_NAMES
from rasa.nlu.featurizers.sparse_featurizer.sparse_featurizer import SparseFeaturizer
from rasa.nlu.tokenizers.tokenizer import Tokenizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData
from sklearn.feature_extraction.text import CountVectorizer

logger = logging.getLogger(__name__)

_VOCABULARY = "vocabulary.json"
# Rasa's CountVectorsFeaturizer._process_tokens: numbers count as one shape
_NUMBER = re.compile(r"\b[0-9]+\b")


def message_text(message: Message) -> str:
    """The string whose n-grams are counted ("" when the message has no tokens)."""
    if message.get(TEXT) is None:
        return ""
    tokens = message.get(TOKENS_NAMES[TEXT]) or []
    return " ".join(_NUMBER.sub("__NUMBER__", token.lemma).lower() for token in tokens)


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=True)
class CharNGramFeaturizer(SparseFeaturizer, GraphComponent):
    """Sparse sentence features of user texts: counts of char n-grams within words."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Counts the tokenizer's tokens, as Rasa's featurizer does."""
        return [Tokenizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """As CountVectorsFeaturizer with ``analyzer: char_wb``."""
        return {
            **SparseFeaturizer.get_default_config(),
            "min_ngram": 1,
            "max_ngram": 4,
            # an n-gram enters the vocabulary when this many training examples have it
            "min_df": 1,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fails at config load rather than halfway through training."""
        low, high = int(config.get("min_ngram", 1)), int(config.get("max_ngram", 4))
        if not 1 <= low <= high:
            raise InvalidConfigException("CharNGramFeaturizer: need 1 <= min_ngram <= max_ngram")
        if int(config.get("min_df", 1)) < 1:
            raise InvalidConfigException("CharNGramFeaturizer: min_df must be >= 1")

    def __init__(
        self,
        config: dict[str, Any],
        name: str,
        model_storage: ModelStorage,
        resource: Resource,
        vocabulary: list[str] | None = None,
    ) -> None:
        """An untrained featurizer, or one with a stored vocabulary."""
        super().__init__(name, {**self.get_default_config(), **config})
        self._model_storage = model_storage
        self._resource = resource
        self._vectorizer: CountVectorizer | None = None
        if vocabulary:
            self._vectorizer = self._new_vectorizer(
                vocabulary={term: index for index, term in enumerate(vocabulary)}
            )

    def _new_vectorizer(self, vocabulary: dict[str, int] | None = None) -> CountVectorizer:
        # the parameters Rasa passes for char_wb (lowercase again, like Rasa)
        return CountVectorizer(
            analyzer="char_wb",
            lowercase=True,
            ngram_range=(int(self._config["min_ngram"]), int(self._config["max_ngram"])),
            min_df=int(self._config["min_df"]),
            vocabulary=vocabulary,
        )

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> CharNGramFeaturizer:
        """An untrained featurizer."""
        return cls(config, execution_context.node_name, model_storage, resource)

    @property
    def vocabulary(self) -> list[str]:
        """The n-gram of each column."""
        if self._vectorizer is None:
            return []
        return [str(term) for term in self._vectorizer.get_feature_names_out()]

    def train(self, training_data: TrainingData) -> Resource:
        """Learns the vocabulary from the training examples' user texts."""
        texts = [message_text(m) for m in training_data.training_examples]
        self._vectorizer = None
        if any(texts):
            vectorizer = self._new_vectorizer()
            try:
                vectorizer.fit(texts)
                self._vectorizer = vectorizer
            except ValueError:
                # min_df above every n-gram's count: nothing to count
                logger.warning("CharNGramFeaturizer: no n-gram reaches min_df; no features.")
        self.persist()
        return self._resource

    def _featurize(self, messages: list[Message]) -> None:
        if self._vectorizer is None:
            return
        texts = [message_text(m) for m in messages]
        todo = [i for i, text in enumerate(texts) if text]
        if not todo:
            return
        counts = self._vectorizer.transform([texts[i] for i in todo])
        counts.sort_indices()
        for row, index in enumerate(todo):
            self.add_features_to_message(
                sequence=None,
                sentence=counts[row],
                attribute=TEXT,
                message=messages[index],
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes all training examples in one transform."""
        self._featurize(training_data.training_examples)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages (one per chat turn)."""
        self._featurize(messages)
        return messages

    def persist(self) -> None:
        """The vocabulary as JSON: loading runs no pickled code."""
        with self._model_storage.write_to(self._resource) as directory:
            (directory / _VOCABULARY).write_text(json.dumps(self.vocabulary))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> CharNGramFeaturizer:
        """Restores the vocabulary; an untrained featurizer if nothing was stored."""
        try:
            with model_storage.read_from(resource) as directory:
                vocabulary = json.loads((directory / _VOCABULARY).read_text())
        except (ValueError, FileNotFoundError):
            logger.debug("No stored vocabulary for %s.", resource.name)
            vocabulary = None
        return cls(config, execution_context.node_name, model_storage, resource, vocabulary)
