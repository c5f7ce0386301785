"""The MiniLM featurizer with the real model, checked the way a shopper would notice.

Wrong weights, tokenisation or pooling show up as paraphrases no closer than unrelated
questions; misaligned sequence features break DIET at training time; a crash on odd
input drops a chat turn.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    FEATURE_TYPE_SEQUENCE,
    RESPONSE,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.minilm import HIDDEN_SIZE, Encoding, align_to_tokens, load_encoder


def featurize(featurizer: Any, tokenizer: Any, *texts: str) -> list[Message]:
    messages = [Message(data={TEXT: t}) for t in texts]
    tokenizer.process(messages)
    return featurizer.process(messages)


def features(message: Message, kind: str, attribute: str = TEXT) -> np.ndarray:
    found = [
        f.features
        for f in message.features
        if f.type == kind and f.attribute == attribute and f.origin == "minilm"
    ]
    assert len(found) == 1, f"expected one {kind} feature, got {len(found)}"
    return np.asarray(found[0])


def sentence(message: Message) -> np.ndarray:
    return features(message, FEATURE_TYPE_SENTENCE)[0]


def test_matches_the_published_sentence_transformers_similarities(featurizer: Any) -> None:
    # Reference matrix printed in the sentence-transformers quickstart for this model;
    # any mistake in word pieces, GELU, layer norm or pooling moves these numbers.
    texts = ["The weather is lovely today.", "It's so sunny outside!", "He drove to the stadium."]
    e = featurizer._encoder.embed(texts)
    expected = np.array([[1.0, 0.6660, 0.1046], [0.6660, 1.0, 0.1411], [0.1046, 0.1411, 1.0]])
    np.testing.assert_allclose(e @ e.T, expected, atol=1e-3)


@pytest.mark.parametrize(
    ("anchor", "paraphrase", "unrelated"),
    [
        ("where is my parcel", "my package still hasn't arrived", "which cards can I pay with"),
        ("can I send the dress back", "how do I return an item", "hello there"),
        ("I want to talk to a person", "connect me with a human agent", "how long is delivery"),
    ],
)
def test_paraphrases_are_closer_than_unrelated_questions(
    featurizer: Any, tokenizer: Any, anchor: str, paraphrase: str, unrelated: str
) -> None:
    a, p, u = (sentence(m) for m in featurize(featurizer, tokenizer, anchor, paraphrase, unrelated))
    assert a @ p > a @ u + 0.15


def test_sentence_features_are_unit_vectors_and_deterministic(
    featurizer: Any, tokenizer: Any
) -> None:
    first = sentence(featurize(featurizer, tokenizer, "do you ship to Austria?")[0])
    second = sentence(featurize(featurizer, tokenizer, "do you ship to Austria?")[0])
    assert first.shape == (HIDDEN_SIZE,)
    assert np.linalg.norm(first) == pytest.approx(1.0, abs=1e-5)
    np.testing.assert_array_equal(first, second)


def test_a_batch_gives_the_same_features_as_single_messages(
    featurizer: Any, tokenizer: Any
) -> None:
    # Training featurizes padded batches, chat turns come one at a time: both must agree
    # or the classifier sees different inputs in production than in training.
    texts = ["hi", "what is the status of order 12345678?", "a much longer message " * 12]
    examples = [Message(data={TEXT: t, "intent": "x"}) for t in texts]
    data = TrainingData(training_examples=examples)
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    for text, batched in zip(texts, examples, strict=True):
        single = featurize(featurizer, tokenizer, text)[0]
        for kind in (FEATURE_TYPE_SENTENCE, FEATURE_TYPE_SEQUENCE):
            np.testing.assert_allclose(features(batched, kind), features(single, kind), atol=1e-5)


def test_training_data_responses_get_features_too(featurizer: Any, tokenizer: Any) -> None:
    example = Message(data={TEXT: "how do I pay", RESPONSE: "We take cards and PayPal."})
    data = TrainingData(training_examples=[example])
    tokenizer.process_training_data(data)
    featurizer.process_training_data(data)
    assert features(example, FEATURE_TYPE_SENTENCE, RESPONSE).shape == (1, HIDDEN_SIZE)


@pytest.mark.parametrize(
    "text",
    [
        "Where is order 12345?",
        "my e-mail is anna.schmidt@example.org, order #A-1234",
        "İstanbul Straße naïve café — ünïcödé",
        "😀😀 hi 👋🏽 there",
        "\u200b\u200d zero width \u202e rtl \x00 nul",
        "我的订单在哪里",
        "!!!???",
    ],
)
def test_one_sequence_row_per_token(featurizer: Any, tokenizer: Any, text: str) -> None:
    message = featurize(featurizer, tokenizer, text)[0]
    tokens = message.get("text_tokens")
    sequence = features(message, FEATURE_TYPE_SEQUENCE)
    assert sequence.shape == (len(tokens), HIDDEN_SIZE)
    assert np.isfinite(sequence).all()
    assert np.isfinite(sentence(message)).all()


def test_token_rows_come_from_the_word_pieces_of_that_token(featurizer: Any) -> None:
    encoder = featurizer._encoder
    text = "track parcel JJD0123456789"
    encoding = encoder.encode([text])[0]
    rows = align_to_tokens(encoding, [(0, 5), (6, 12), (13, len(text))])
    pieces = encoding.offsets
    number = (pieces[:, 0] >= 13).nonzero()[0]
    assert len(number) > 1  # the tracking number is split into several word pieces
    np.testing.assert_allclose(rows[2], encoding.token_vectors[number].mean(axis=0), atol=1e-6)
    np.testing.assert_allclose(rows[0], encoding.token_vectors[0], atol=1e-6)


def test_tokens_without_word_pieces_get_zero_rows() -> None:
    encoding = Encoding(
        sentence=np.ones(4, dtype=np.float32),
        token_vectors=np.ones((1, 4), dtype=np.float32),
        offsets=np.array([[0, 3]]),
    )
    rows = align_to_tokens(encoding, [(0, 3), (4, 8)], dim=4)
    np.testing.assert_array_equal(rows, [[1, 1, 1, 1], [0, 0, 0, 0]])


def test_empty_message_gets_no_features_and_does_not_crash(featurizer: Any) -> None:
    message = Message(data={TEXT: ""})
    featurizer.process([message])
    assert message.features == []


def test_huge_message_is_truncated_not_rejected(featurizer: Any, tokenizer: Any) -> None:
    text = "please help me with my order " * 400  # ~2,400 tokens, far over 256 pieces
    message = featurize(featurizer, tokenizer, text)[0]
    sequence = features(message, FEATURE_TYPE_SEQUENCE)
    assert sequence.shape[0] == len(message.get("text_tokens"))
    assert not sequence[-1].any()  # past the cut-off: zero rows, which pooling ignores
    assert np.linalg.norm(sentence(message)) == pytest.approx(1.0, abs=1e-5)


@pytest.mark.parametrize("backend", ["tensorflow", "numpy"])
def test_the_backends_agree(featurizer: Any, backend: str) -> None:
    assert featurizer._encoder.backend == "onnx"  # the default, and config.yml's
    other = load_encoder(str(featurizer._encoder_dir), 256, backend)
    # one text, and a batch padded to its longest (the padding must not leak in)
    texts = ["cancel my order please", "do you deliver on saturdays?", "x",
             "jag vill returnera klänningen, den var för liten i midjan"]  # fmt: skip
    for batch in ([texts[0]], texts):
        np.testing.assert_allclose(other.embed(batch), featurizer._encoder.embed(batch), atol=1e-5)
    ours = featurizer._encoder.encode(texts)
    theirs = other.encode(texts)
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a.token_vectors, b.token_vectors, atol=1e-4)


def test_the_committed_vectors_are_the_onnx_backends(featurizer: Any, tmp_path: Any) -> None:
    """ONNX reads the seed written with TensorFlow (their shared folder): the committed
    float16 vectors of our examples are what the ONNX graph gives, to float16's step."""
    from rasa.shared.nlu.training_data.loading import load_data

    from components.embedding_cache import EmbeddingCache, half_precision
    from components.minilm import VECTOR_FAMILY

    root = Path(__file__).resolve().parents[2]
    texts = sorted({m.get(TEXT) for m in load_data(str(root / "data" / "nlu")).training_examples
                    if m.get(TEXT)})[::40]  # fmt: skip
    assert len(texts) > 100
    version = f"{featurizer._encoder_dir.name}-256-{VECTOR_FAMILY['onnx']}"
    seed = EmbeddingCache(tmp_path, version, HIDDEN_SIZE, seed_dir=root / "embeddings")
    missing = np.full(HIDDEN_SIZE, np.nan, dtype=np.float32)
    seeded = seed.embed(texts, lambda todo: np.stack([missing] * len(todo)))
    known = ~np.isnan(seeded[:, 0])
    assert known.mean() > 0.9, "the seed should hold nearly all examples"
    seeded_texts = [t for t, k in zip(texts, known, strict=True) if k]
    ours = half_precision(featurizer._encoder.embed(seeded_texts))
    theirs = seeded[known]
    assert np.abs(ours - theirs).max() < 2e-3
    assert (ours == theirs).mean() > 0.99
    cosine = (
        (ours * theirs).sum(axis=1) / np.linalg.norm(ours, axis=1) / np.linalg.norm(theirs, axis=1)
    )
    assert cosine.min() > 0.99999


def test_sentence_only_training_features_come_from_the_cache_as_parsed(
    tmp_path: Any, tokenizer: Any
) -> None:
    # config.yml's setting: only what the intent classifier reads (the sentence of user
    # texts), cached on disk at training; a parsed message gets the same vector.
    from components.embedding_cache import half_precision
    from components.minilm import MiniLMFeaturizer

    config = {
        **MiniLMFeaturizer.get_default_config(),
        "alias": "minilm",
        "sentence_only": True,
        "cache_dir": str(tmp_path),
    }
    featurizer = MiniLMFeaturizer(config, "minilm")

    def training_run() -> list[Message]:
        examples = [
            Message(data={TEXT: "can I pay by invoice", RESPONSE: "Yes, within 14 days."}),
            Message(data={TEXT: "where is my parcel"}),
        ]
        data = TrainingData(training_examples=examples)
        tokenizer.process_training_data(data)
        featurizer.process_training_data(data)
        return examples

    first = training_run()
    assert list(tmp_path.rglob("pack-*.npz")), "nothing was cached"
    assert not [f for f in first[0].features if f.attribute == RESPONSE]
    assert not [f for f in first[0].features if f.type == FEATURE_TYPE_SEQUENCE]
    second = training_run()
    for before, after in zip(first, second, strict=True):
        np.testing.assert_array_equal(sentence(before), sentence(after))
    live = featurize(featurizer, tokenizer, "where is my parcel")[0]
    # training vectors are on the committed seed's float16 grid (components/embedding_cache)
    np.testing.assert_allclose(sentence(live), sentence(first[1]), atol=1e-3)
    np.testing.assert_array_equal(sentence(first[1]), half_precision(sentence(first[1])))


def test_a_message_of_a_skipped_route_gets_no_minilm_features(tokenizer: Any) -> None:
    # Wordless messages (order numbers, e-mails, "ok thanks") are answered by a head over
    # chars and regexes (config.yml: skip_routes [none]); others still get MiniLM.
    from components.language import LANGUAGE_ROUTE, NO_WORDS
    from components.minilm import MiniLMFeaturizer

    config = {
        **MiniLMFeaturizer.get_default_config(),
        "alias": "minilm",
        "sentence_only": True,
        "skip_routes": [NO_WORDS],
    }
    featurizer = MiniLMFeaturizer(config, "minilm")
    wordless = Message(data={TEXT: "40012345", LANGUAGE_ROUTE: NO_WORDS})
    english = Message(data={TEXT: "where is my parcel", LANGUAGE_ROUTE: "en"})
    tokenizer.process([wordless, english])
    featurizer.process([wordless, english])
    assert not wordless.features
    assert sentence(english).shape == (HIDDEN_SIZE,)


def test_a_served_featurizer_is_warmed_up_and_a_training_one_embeds_only_on_demand(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Any
) -> None:
    # Rasa loads the featurizer to serve (the graph is traced then, not on the first
    # shopper's message) and creates it to train, where the seed usually has every
    # example's vector: tracing there would cost a second of every training.
    from rasa.engine.graph import ExecutionContext, GraphSchema
    from rasa.engine.storage.local_model_storage import LocalModelStorage
    from rasa.engine.storage.resource import Resource

    from components.minilm import MiniLMEncoder, MiniLMFeaturizer

    embedded: list[list[str]] = []
    real_embed = MiniLMEncoder.embed

    def recording_embed(self: Any, texts: Any, batch_size: int = 32) -> np.ndarray:
        embedded.append(list(texts))
        return real_embed(self, texts, batch_size)

    monkeypatch.setattr(MiniLMEncoder, "embed", recording_embed)
    config = {**MiniLMFeaturizer.get_default_config(), "alias": "minilm"}
    storage = LocalModelStorage(tmp_path)
    context = ExecutionContext(GraphSchema({}), "test")
    MiniLMFeaturizer.create(config, storage, Resource("minilm"), context)
    assert embedded == []
    MiniLMFeaturizer.load(config, storage, Resource("minilm"), context)
    assert embedded == [["warm-up"]]
