"""Our char n-gram featurizer against Rasa's CountVectorsFeaturizer on our training data."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.nlu.featurizers.sparse_featurizer.count_vectors_featurizer import (
    CountVectorsFeaturizer,
)
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.loading import load_data
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.char_ngrams import CharNGramFeaturizer

ROOT = Path(__file__).resolve().parents[2]


def sentence_row(message: Message, origin: str) -> scipy.sparse.csr_matrix | None:
    rows = [
        f.features
        for f in message.features
        if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT and f.origin == origin
    ]
    assert len(rows) <= 1
    return scipy.sparse.csr_matrix(rows[0]) if rows else None


@pytest.fixture(scope="module")
def sample(tokenizer: Any) -> list[Message]:
    """Every 7th example of every language, plus texts with numbers, digits inside words,
    capitals and punctuation; tokenized as in config.yml."""
    data = load_data(str(ROOT / "data" / "nlu"))
    examples = data.training_examples[::7]
    extra = [
        "Order 12345 is LATE!!",
        "my parcel ABC123 and 42x",
        "Fråga om ÅTERBETALNING 2024",
        "?!",
        "hei, missä on tilaus #9876",
    ]
    messages = [Message(data={TEXT: m.get(TEXT)}) for m in examples if m.get(TEXT)]
    messages += [Message(data={TEXT: text}) for text in extra]
    tokenizer.process(messages)
    assert len(messages) > 1000
    return messages


def copies(messages: list[Message]) -> list[Message]:
    return [Message(data=dict(m.data)) for m in messages]


def test_same_vocabulary_and_sentence_rows_as_rasa(sample: list[Message], tmp_path: Path) -> None:
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "chars")
    rasa_config = {
        **CountVectorsFeaturizer.get_default_config(),
        "alias": "chars",
        "analyzer": "char_wb",
        "min_ngram": 1,
        "max_ngram": 4,
    }
    theirs = CountVectorsFeaturizer.create(rasa_config, storage, Resource("cvf"), context)
    ours = CharNGramFeaturizer.create(
        {**CharNGramFeaturizer.get_default_config(), "alias": "chars"},
        storage,
        Resource("ours"),
        context,
    )
    a, b = copies(sample), copies(sample)
    theirs.train(TrainingData(training_examples=a))
    theirs.process_training_data(TrainingData(training_examples=a))
    ours.train(TrainingData(training_examples=b))
    ours.process_training_data(TrainingData(training_examples=b))

    vocabulary = theirs.vectorizers[TEXT].vocabulary_
    assert ours.vocabulary == sorted(vocabulary, key=vocabulary.__getitem__)
    assert len(ours.vocabulary) > 3000
    for x, y in zip(a, b, strict=True):
        row_x, row_y = sentence_row(x, "chars"), sentence_row(y, "chars")
        assert (row_x is None) == (row_y is None), x.get(TEXT)
        if row_x is not None and row_y is not None:
            assert row_x.shape == row_y.shape
            assert (row_x != row_y).nnz == 0, x.get(TEXT)

    # parse time (one message a turn) agrees too, also after a reload
    loaded = CharNGramFeaturizer.load(
        {**CharNGramFeaturizer.get_default_config(), "alias": "chars"},
        storage,
        Resource("ours"),
        context,
    )
    for message in sample[:50] + sample[-5:]:
        x, y = copies([message])[0], copies([message])[0]
        theirs.process([x])
        loaded.process([y])
        row_x, row_y = sentence_row(x, "chars"), sentence_row(y, "chars")
        assert row_x is not None and row_y is not None
        assert np.array_equal(row_x.toarray(), row_y.toarray())


def test_only_the_sentence_row_of_user_texts(sample: list[Message], tmp_path: Path) -> None:
    context = ExecutionContext(GraphSchema({}), "chars")
    ours = CharNGramFeaturizer.create(
        CharNGramFeaturizer.get_default_config(),
        LocalModelStorage(tmp_path),
        Resource("ours"),
        context,
    )
    messages = copies(sample[:200])
    ours.train(TrainingData(training_examples=messages))
    ours.process_training_data(TrainingData(training_examples=messages))
    for message in messages:
        assert [(f.type, f.attribute) for f in message.features] == [(FEATURE_TYPE_SENTENCE, TEXT)]


def test_min_df_keeps_ngrams_of_several_examples(tmp_path: Path, tokenizer: Any) -> None:
    messages = [Message(data={TEXT: t}) for t in ["abc", "abd", "xyz"]]
    tokenizer.process(messages)
    ours = CharNGramFeaturizer.create(
        {**CharNGramFeaturizer.get_default_config(), "min_df": 2},
        LocalModelStorage(tmp_path),
        Resource("ours"),
        ExecutionContext(GraphSchema({}), "chars"),
    )
    ours.train(TrainingData(training_examples=messages))
    assert ours.vocabulary == [" ", " a", " ab", "a", "ab", "b"]
