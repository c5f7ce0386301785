"""Intent classifier: multinomial logistic regression over sentence features.

Why not only DIET: on this 2-core machine DIET needs 100+ epochs (minutes) to learn what
a linear model finds in seconds on top of MiniLM sentence embeddings, and it does not
classify better on our evaluation set. Why not Rasa's ``LogisticRegressionClassifier``:
it stacks raw count vectors next to the unit-length embedding, so the thousands of
char n-gram counts drown the embedding, and its regularisation cannot be configured.

Each featurizer's sentence block is scaled on its own: sparse counts become sublinear
TF-IDF (idf learned here), every block is L2-normalised and multiplied by a weight.
The model is stored as plain numpy arrays, never pickled.

A second, *fallback* head can be trained without the blocks named in
``fallback_without``: a featurizer that cannot run on some machine (the e5 engine on a
CPU without AVX2, components/e5.py) then adds no features, and messages lacking those
blocks are classified by the head that never relied on them, instead of by weights
that expect an embedding and get zeros.
"""

from __future__ import annotations

import json
import logging
import os
import time
from typing import Any

import numpy as np
import scipy.sparse
import threadpoolctl
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.classifiers.classifier import IntentClassifier
from rasa.nlu.featurizers.featurizer import Featurizer
from rasa.shared.exceptions import InvalidConfigException
from rasa.shared.nlu.constants import (
    FEATURE_TYPE_SENTENCE,
    INTENT,
    INTENT_NAME_KEY,
    INTENT_RANKING_KEY,
    PREDICTED_CONFIDENCE_KEY,
    TEXT,
)
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.language import LANGUAGE_ROUTE
from components.softmax_regression import fit_head

logger = logging.getLogger(__name__)

_ARRAYS = "model.npz"
_META = "meta.json"


class _Block:
    """How one featurizer's sentence features are scaled before classification."""

    def __init__(self, origin: str, dim: int, sparse: bool, idf: np.ndarray | None) -> None:
        self.origin = origin
        self.dim = dim
        self.sparse = sparse
        self.idf = idf

    def transform_dense(self, rows: list[Any], weight: float) -> np.ndarray:
        """A dense block's rows (None: message lacks it) as an array, L2-normalised and
        weighted; no sparse matrices, which cost more than the product at one message."""
        matrix = np.zeros((len(rows), self.dim), dtype=np.float32)
        for index, row in enumerate(rows):
            if row is not None:
                matrix[index] = np.asarray(row, dtype=np.float32).reshape(-1)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        norms[norms == 0] = 1.0
        matrix *= weight / norms
        return matrix

    def transform(self, rows: list[Any], weight: float) -> Any:
        """Stacks the rows of all messages (None: message lacks this block) into a matrix:
        an array for a dense block, CSR for a sparse one."""
        if not self.sparse:
            return self.transform_dense(rows, weight)
        matrix = stack_sparse_rows(rows, self.dim)
        # Scaled in place on the non-zero entries: at one message a turn, building
        # diagonal matrices for the products cost more than the classification itself.
        # Sublinear TF-IDF: a word seen twice is not twice the evidence, and n-grams
        # that occur everywhere ("the", " a") carry none.
        matrix.data = np.log1p(matrix.data)
        if self.idf is not None:
            matrix.data *= self.idf[matrix.indices]
        entries_per_row = np.diff(matrix.indptr)
        row_of_entry = np.repeat(np.arange(matrix.shape[0]), entries_per_row)
        norms = np.sqrt(
            np.bincount(
                row_of_entry,
                weights=np.square(matrix.data, dtype=np.float64),
                minlength=matrix.shape[0],
            )
        )
        norms[norms == 0] = 1.0
        matrix.data *= np.repeat((weight / norms).astype(np.float32), entries_per_row)
        return matrix


def stack_sparse_rows(rows: list[Any], dim: int) -> scipy.sparse.csr_matrix:
    """One-row sparse matrices (None: an empty row) as one float32 CSR matrix with sorted
    indices and no duplicates, as vstacking each row's CSR form gives, built from the
    rows' own arrays: at training, a CSR matrix per example cost ~2.5 s for 13,000."""
    columns: list[np.ndarray] = []
    values: list[np.ndarray] = []
    lengths = np.zeros(len(rows), dtype=np.int64)
    for index, row in enumerate(rows):
        if row is None:
            continue
        if scipy.sparse.isspmatrix_coo(row):
            cols, vals = row.col, row.data  # one row: the row indices are all 0
        else:
            row = row if scipy.sparse.isspmatrix_csr(row) else scipy.sparse.csr_matrix(row)
            cols, vals = row.indices, row.data
        columns.append(cols)
        values.append(vals)
        lengths[index] = len(cols)
    indptr = np.concatenate([[0], np.cumsum(lengths)])
    matrix = scipy.sparse.csr_matrix(
        (
            np.concatenate(values).astype(np.float32) if values else np.zeros(0, np.float32),
            np.concatenate(columns) if columns else np.zeros(0, np.int32),
            indptr,
        ),
        shape=(len(rows), dim),
    )
    matrix.sum_duplicates()
    return matrix


class _Head:
    """Regression weights over a subset of the blocks (indices into the block list)."""

    def __init__(self, blocks: list[int], coef: np.ndarray, intercept: np.ndarray) -> None:
        self.blocks = blocks
        self.weights = (coef, intercept)


def serve_on_one_blas_thread() -> None:
    """Limits numpy's BLAS to one thread in the process that loads a model to serve it.

    A message's products are too small to gain from a second thread, but OpenBLAS starts
    one for the larger ones and lets it spin, waiting for more work, long after: under
    20 shoppers that thread burnt 28 s of CPU a minute, a core's worth the action server
    and the database needed (bench/load.py, README "Measurements"). Training is not
    affected: it does not load models, and its heads run in worker processes that limit
    their own threads.
    """
    threadpoolctl.threadpool_limits(limits=1, user_api="blas")


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER, is_trainable=True)
class SentenceLogRegClassifier(IntentClassifier, GraphComponent):
    """Logistic regression over the sentence features of all featurizers before it."""

    @classmethod
    def required_components(cls) -> list[type]:
        """Classifies sentence features, so some featurizer must run first."""
        return [Featurizer]

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        """Defaults chosen on the project's data; see bench/nlu.py for the figures."""
        return {
            # inverse regularisation strength (as sklearn's LogisticRegression's C)
            "C": 10.0,
            "max_iter": 1000,
            "tol": 1e-4,
            # None, or "balanced" to up-weight intents with few examples
            "class_weight": None,
            "random_seed": 42,
            # featurizer alias (or node name) -> weight of its block; others get 1.0
            "feature_weights": {},
            "ranking_length": 10,
            # featurizer aliases that may be missing at inference: a second head is
            # trained without them and answers for messages that lack any of them
            "fallback_without": [],
            # L-BFGS iterations of that head (None: max_iter); it only answers on a
            # machine that lacks a featurizer, so it can trade a little accuracy for time
            "fallback_max_iter": None,
            # route (set by components.language.LanguageRouter) -> featurizer aliases
            # its head leaves out; the head is trained on the examples of that route
            # only, and answers every message of it (the featurizers skip such messages:
            # their `skip_routes`)
            "route_heads": {},
            # worker processes fitting the heads side by side (0: one per core, 1: none)
            "n_jobs": 0,
        }

    def __init__(
        self,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        blocks: list[_Block] | None = None,
        classes: list[str] | None = None,
        coef: np.ndarray | None = None,
        intercept: np.ndarray | None = None,
        fallback: _Head | None = None,
        route_heads: dict[str, _Head] | None = None,
    ) -> None:
        """Holds an untrained or loaded model."""
        self._config = {**self.get_default_config(), **config}
        if float(self._config["C"]) <= 0:
            raise InvalidConfigException("SentenceLogRegClassifier: C must be > 0")
        self._model_storage = model_storage
        self._resource = resource
        self._blocks = blocks or []
        self._classes = classes or []
        self._coef = coef
        self._intercept = intercept
        self._fallback = fallback
        self._route_heads = route_heads or {}
        self._parts: dict[int, list[tuple[_Block, np.ndarray]]] = {}

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> SentenceLogRegClassifier:
        """An untrained classifier."""
        return cls(config, model_storage, resource)

    @staticmethod
    def _sentence_features(message: Message) -> dict[str, Any]:
        return {
            str(f.origin): f.features
            for f in message.features
            if f.type == FEATURE_TYPE_SENTENCE and f.attribute == TEXT
        }

    def _scores(self, messages: list[Message], head: _Head | None) -> np.ndarray:
        """Class scores: the sum over the head's blocks of block features x weights."""
        per_message = [self._sentence_features(m) for m in messages]
        weights = self._config["feature_weights"] or {}
        parts = self._weights_by_block(head)
        coef, intercept = (self._coef, self._intercept) if head is None else head.weights
        assert coef is not None and intercept is not None
        scores = np.tile(intercept.astype(np.float32), (len(messages), 1))
        for block, block_weights in parts:
            rows = [f.get(block.origin) for f in per_message]
            scores += block.transform(rows, float(weights.get(block.origin, 1.0))) @ block_weights
        return scores

    def _weights_by_block(self, head: _Head | None) -> list[tuple[_Block, np.ndarray]]:
        """Per block of a head, its (columns, classes) slice of the coefficients, made
        contiguous once: slicing coef.T on every message copied megabytes a turn."""
        key = id(head)
        if key not in self._parts:
            coef = self._coef if head is None else head.weights[0]
            assert coef is not None
            blocks = self._blocks if head is None else [self._blocks[i] for i in head.blocks]
            parts, start = [], 0
            for block in blocks:
                parts.append((block, np.ascontiguousarray(coef[:, start : start + block.dim].T)))
                start += block.dim
            self._parts[key] = parts
        return self._parts[key]

    def _fit_heads(
        self,
        matrices: list[np.ndarray | scipy.sparse.csr_matrix],
        labels: list[str],
        heads: list[tuple[list[int], list[int] | None, int]],
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """(coef, intercept) per head given as (block indices, example rows or None: all,
        L-BFGS iterations).

        The heads are independent, so with ``n_jobs`` > 1 they are fitted side by side in
        worker processes (joblib's loky; one BLAS thread each, arrays memory-mapped, not
        copied): on 2 cores the biggest two run at once instead of one after the other.
        """
        index = {name: i for i, name in enumerate(self._classes)}
        targets = np.array([index[label] for label in labels])
        settings = {
            "n_classes": len(self._classes),
            "C": float(self._config["C"]),
            "tol": float(self._config["tol"]),
            "balanced": self._config["class_weight"] == "balanced",
        }
        tasks = [
            (
                [matrices[i] if rows is None else matrices[i][rows] for i in blocks],
                targets if rows is None else targets[rows],
                max_iter,
            )
            for blocks, rows, max_iter in heads
        ]
        jobs = min(len(tasks), int(self._config["n_jobs"]) or os.cpu_count() or 1)
        if jobs <= 1:
            return [fit_head(blocks, y, max_iter=it, **settings) for blocks, y, it in tasks]
        from joblib import Parallel, delayed, parallel_config

        with parallel_config(backend="loky", inner_max_num_threads=1):
            results = Parallel(n_jobs=jobs)(
                delayed(fit_head)(blocks, y, max_iter=it, **settings) for blocks, y, it in tasks
            )
        return list(results)

    def train(self, training_data: TrainingData) -> Resource:
        """Fits the regression; seconds, where DIET takes minutes."""
        self._parts = {}
        examples = [e for e in training_data.intent_examples if e.get(INTENT) and e.get(TEXT)]
        if not examples:
            logger.debug("No intent examples; %s stays untrained.", self.__class__.__name__)
            return self._resource
        self._blocks = self._fit_blocks(examples)
        if not self._blocks:
            raise InvalidConfigException(
                "SentenceLogRegClassifier found no sentence features: put a featurizer "
                "such as components.minilm.MiniLMFeaturizer before it."
            )
        labels = [str(e.get(INTENT)) for e in examples]
        self._classes = sorted(set(labels))
        if len(self._classes) == 1:
            self._coef = np.zeros((1, sum(b.dim for b in self._blocks)), dtype=np.float32)
            self._intercept = np.zeros(1, dtype=np.float32)
        else:
            started = time.perf_counter()
            matrices = self._training_matrices(examples)
            every_block = list(range(len(self._blocks)))
            max_iter = int(self._config["max_iter"])
            heads: list[tuple[str, list[int], list[int] | None, int]] = [
                ("all", every_block, None, max_iter)
            ]
            optional = set(self._config["fallback_without"] or [])
            kept = [i for i, b in enumerate(self._blocks) if b.origin not in optional]
            if optional & {b.origin for b in self._blocks} and kept:
                fallback_iter = self._config["fallback_max_iter"]
                heads.append(("fallback", kept, None, int(fallback_iter or max_iter)))
            for route, without in (self._config["route_heads"] or {}).items():
                rows = [i for i, e in enumerate(examples) if e.get(LANGUAGE_ROUTE) == route]
                blocks = [i for i, b in enumerate(self._blocks) if b.origin not in set(without)]
                if len({labels[i] for i in rows}) < 2 or not blocks:
                    logger.warning("No head for route %r: too few examples or blocks.", route)
                    continue
                heads.append((route, blocks, rows, max_iter))
            fitted = self._fit_heads(matrices, labels, [(b, r, i) for _, b, r, i in heads])
            for (name, blocks, _, _), (coef, intercept) in zip(heads, fitted, strict=True):
                if name == "all":
                    self._coef, self._intercept = coef, intercept
                elif name == "fallback":
                    self._fallback = _Head(blocks, coef, intercept)
                else:
                    self._route_heads[name] = _Head(blocks, coef, intercept)
            logger.info(
                "Intent regression: %d examples, %d classes, %d columns, heads %s in %.1f s.",
                len(examples),
                len(self._classes),
                sum(b.dim for b in self._blocks),
                ", ".join(["all", *(["fallback"] if self._fallback else []), *self._route_heads]),
                time.perf_counter() - started,
            )
        self.persist()
        return self._resource

    def _training_matrices(
        self, examples: list[Message]
    ) -> list[np.ndarray | scipy.sparse.csr_matrix]:
        """One scaled matrix per block, in float32; dense blocks as arrays (BLAS).

        Float32, not float64: the products with the weights (cast for them) take about
        half the time (BLAS's sgemm; half the bytes through scipy's sparse kernel), and
        the loss, the gradient and L-BFGS stay in float64 (components/softmax_regression).
        """
        per_message = [self._sentence_features(m) for m in examples]
        weights = self._config["feature_weights"] or {}
        matrices: list[np.ndarray | scipy.sparse.csr_matrix] = []
        for block in self._blocks:
            matrix = block.transform(
                [f.get(block.origin) for f in per_message], float(weights.get(block.origin, 1.0))
            )
            matrices.append(matrix.astype(np.float32, copy=False))
        return matrices

    def _fit_blocks(self, examples: list[Message]) -> list[_Block]:
        per_message = [self._sentence_features(m) for m in examples]
        blocks = []
        for origin in sorted({o for f in per_message for o in f}):
            rows = [f[origin] for f in per_message if origin in f]
            sparse = scipy.sparse.issparse(rows[0])
            dim = int(rows[0].shape[-1])
            idf = None
            if sparse:
                # documents per column: a stacked row's indices are unique
                df = np.bincount(stack_sparse_rows(rows, dim).indices, minlength=dim)
                idf = (np.log((1 + len(examples)) / (1 + df)) + 1).astype(np.float32)
            blocks.append(_Block(origin, dim, sparse, idf))
        return blocks

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        if len(self._classes) == 1:
            return np.ones((scores.shape[0], 1), dtype=np.float32)
        if len(self._classes) == 2:
            # a two-class model has one score column: P(second class)
            second = 1.0 / (1.0 + np.exp(-scores[:, 0]))
            return np.stack([1.0 - second, second], axis=1)
        scores = scores - scores.max(axis=1, keepdims=True)
        exp = np.exp(scores)
        return exp / exp.sum(axis=1, keepdims=True)

    def process(self, messages: list[Message]) -> list[Message]:
        """Sets intent and intent_ranking, like Rasa's own classifiers."""
        if self._coef is None:
            return messages
        featurized = [m for m in messages if self._sentence_features(m)]
        for message in messages:
            if not self._sentence_features(message):
                # empty text: no features, no guess; FallbackClassifier takes over
                message.set(INTENT, {INTENT_NAME_KEY: None, PREDICTED_CONFIDENCE_KEY: 0.0}, True)
                message.set(INTENT_RANKING_KEY, [], True)
        if not featurized:
            return messages
        groups: dict[_Head | None, list[Message]] = {}
        origins = {b.origin for b in self._blocks}
        for message in featurized:
            groups.setdefault(self._head_for(message, origins), []).append(message)
        for head, group in groups.items():
            self._rank(group, self._probabilities(self._scores(group, head)))
        return messages

    def _head_for(self, message: Message, origins: set[str]) -> _Head | None:
        """The head that answers a message (None: the one over all blocks)."""
        route = message.get(LANGUAGE_ROUTE)
        if route in self._route_heads:
            return self._route_heads[route]
        if self._fallback is not None and not origins <= set(self._sentence_features(message)):
            # a block is missing: its featurizer could not run here, or skipped a routed
            # message; the head trained without it answers
            return self._fallback
        return None

    def _rank(self, messages: list[Message], probabilities: np.ndarray) -> None:
        length = int(self._config["ranking_length"]) or len(self._classes)
        for message, row in zip(messages, probabilities, strict=True):
            order = np.argsort(-row, kind="stable")
            ranking = [
                {INTENT_NAME_KEY: self._classes[i], PREDICTED_CONFIDENCE_KEY: float(row[i])}
                for i in order[:length]
            ]
            message.set(INTENT, ranking[0], add_to_output=True)
            message.set(INTENT_RANKING_KEY, ranking, add_to_output=True)

    def persist(self) -> None:
        """Arrays in .npz plus JSON metadata: loading runs no pickled code."""
        assert self._coef is not None and self._intercept is not None
        with self._model_storage.write_to(self._resource) as directory:
            arrays = {"coef": self._coef, "intercept": self._intercept}
            for index, block in enumerate(self._blocks):
                if block.idf is not None:
                    arrays[f"idf_{index}"] = block.idf
            if self._fallback is not None:
                arrays["fallback_coef"], arrays["fallback_intercept"] = self._fallback.weights
            for route, head in self._route_heads.items():
                arrays[f"route_{route}_coef"], arrays[f"route_{route}_intercept"] = head.weights
            np.savez(directory / _ARRAYS, **arrays)
            meta = {
                "classes": self._classes,
                "blocks": [
                    {"origin": b.origin, "dim": b.dim, "sparse": b.sparse} for b in self._blocks
                ],
                "fallback_blocks": None if self._fallback is None else self._fallback.blocks,
                "route_heads": {route: h.blocks for route, h in self._route_heads.items()},
            }
            (directory / _META).write_text(json.dumps(meta))

    @classmethod
    def load(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
        **kwargs: Any,
    ) -> SentenceLogRegClassifier:
        """Restores a trained classifier; an untrained one if nothing was stored."""
        try:
            with model_storage.read_from(resource) as directory:
                meta = json.loads((directory / _META).read_text())
                with np.load(directory / _ARRAYS, allow_pickle=False) as arrays:
                    blocks = [
                        _Block(
                            b["origin"],
                            int(b["dim"]),
                            bool(b["sparse"]),
                            arrays.get(f"idf_{i}"),
                        )
                        for i, b in enumerate(meta["blocks"])
                    ]
                    coef, intercept = arrays["coef"], arrays["intercept"]
                    fallback = None
                    if meta.get("fallback_blocks") is not None:
                        fallback = _Head(
                            [int(i) for i in meta["fallback_blocks"]],
                            arrays["fallback_coef"],
                            arrays["fallback_intercept"],
                        )
                    route_heads = {
                        route: _Head(
                            [int(i) for i in blocks],
                            arrays[f"route_{route}_coef"],
                            arrays[f"route_{route}_intercept"],
                        )
                        for route, blocks in (meta.get("route_heads") or {}).items()
                    }
        except (ValueError, FileNotFoundError):
            logger.debug("No stored model for %s; returning an untrained one.", resource.name)
            return cls.create(config, model_storage, resource, execution_context)
        serve_on_one_blas_thread()
        return cls(
            config,
            model_storage,
            resource,
            blocks,
            list(meta["classes"]),
            coef,
            intercept,
            fallback,
            route_heads,
        )
