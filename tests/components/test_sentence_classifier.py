"""The logistic-regression intent classifier on hand-made features (no model needed)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
import scipy.sparse
import threadpoolctl
from rasa.engine.graph import ExecutionContext, GraphSchema
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.nlu.constants import FEATURE_TYPE_SENTENCE, TEXT
from rasa.shared.nlu.training_data.features import Features
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

from components.language import LANGUAGE_ROUTE
from components.sentence_classifier import SentenceLogRegClassifier
from components.softmax_regression import fit_head, fit_softmax_regression, minimize_lbfgs

INTENTS = ["greet", "track_parcel", "returns"]


def message(intent: str | None, index: int, rng: np.random.Generator) -> Message:
    """A message whose dense and sparse sentence features point at its intent."""
    msg = Message(data={TEXT: f"text {index}", **({"intent": intent} if intent else {})})
    target = INTENTS.index(intent) if intent else int(rng.integers(3))
    dense = rng.normal(0, 0.3, (1, 8)).astype(np.float32)
    dense[0, target] += 1.0
    counts = np.zeros((1, 20), dtype=np.float32)
    counts[0, target * 5 : target * 5 + 3] = rng.integers(1, 4, 3)
    msg.add_features(Features(dense, FEATURE_TYPE_SENTENCE, TEXT, "minilm"))
    msg.add_features(
        Features(scipy.sparse.coo_matrix(counts), FEATURE_TYPE_SENTENCE, TEXT, "chars")
    )
    return msg


@pytest.fixture
def storage(tmp_path: Path) -> LocalModelStorage:
    return LocalModelStorage(tmp_path)


def train(storage: LocalModelStorage, seed: int = 0) -> SentenceLogRegClassifier:
    rng = np.random.default_rng(seed)
    examples = [message(INTENTS[i % 3], i, rng) for i in range(60)]
    context = ExecutionContext(GraphSchema({}), "test")
    classifier = SentenceLogRegClassifier.create(
        SentenceLogRegClassifier.get_default_config(), storage, Resource("clf"), context
    )
    classifier.train(TrainingData(training_examples=examples))
    return classifier


def test_predicts_intent_with_a_ranking_that_sums_to_one(storage: LocalModelStorage) -> None:
    classifier = train(storage)
    msg = message("track_parcel", 999, np.random.default_rng(7))
    msg.data.pop("intent")
    classifier.process([msg])
    assert msg.get("intent")["name"] == "track_parcel"
    ranking = msg.get("intent_ranking")
    assert ranking[0]["name"] == "track_parcel"
    assert sum(r["confidence"] for r in ranking) == pytest.approx(1.0, abs=1e-5)


def test_reloaded_model_gives_identical_probabilities(storage: LocalModelStorage) -> None:
    trained = train(storage)
    context = ExecutionContext(GraphSchema({}), "test")
    loaded = SentenceLogRegClassifier.load(
        SentenceLogRegClassifier.get_default_config(), storage, Resource("clf"), context
    )
    rng = np.random.default_rng(3)
    a = [message(None, i, rng) for i in range(5)]
    b = [Message(data=dict(m.data), features=list(m.features)) for m in a]
    trained.process(a)
    loaded.process(b)
    for x, y in zip(a, b, strict=True):
        assert x.get("intent_ranking") == y.get("intent_ranking")


def test_a_model_loaded_to_serve_runs_numpy_on_one_blas_thread(
    storage: LocalModelStorage,
) -> None:
    """A second OpenBLAS thread spun beside every served message (README "Measurements")."""
    train(storage)
    context = ExecutionContext(GraphSchema({}), "test")
    with threadpoolctl.threadpool_limits(limits=2, user_api="blas"):  # restored afterwards
        assert {pool["num_threads"] for pool in blas_pools()} == {2}
        SentenceLogRegClassifier.load(
            SentenceLogRegClassifier.get_default_config(), storage, Resource("clf"), context
        )
        assert {pool["num_threads"] for pool in blas_pools()} == {1}


def blas_pools() -> list[dict[str, object]]:
    return [p for p in threadpoolctl.threadpool_info() if p["user_api"] == "blas"]


def test_training_is_deterministic(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = train(LocalModelStorage(tmp_path / "a"))
    second = train(LocalModelStorage(tmp_path / "b"))
    assert first._coef is not None and second._coef is not None
    np.testing.assert_array_equal(first._coef, second._coef)


def test_message_without_features_gets_no_intent(storage: LocalModelStorage) -> None:
    classifier = train(storage)
    empty = Message(data={TEXT: ""})
    classifier.process([empty])
    assert empty.get("intent") == {"name": None, "confidence": 0.0}
    assert empty.get("intent_ranking") == []


def train_with_fallback(storage: LocalModelStorage) -> SentenceLogRegClassifier:
    rng = np.random.default_rng(0)
    examples = [message(INTENTS[i % 3], i, rng) for i in range(60)]
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentenceLogRegClassifier.get_default_config(), "fallback_without": ["minilm"]}
    classifier = SentenceLogRegClassifier.create(config, storage, Resource("clf"), context)
    classifier.train(TrainingData(training_examples=examples))
    return classifier


def test_message_missing_an_optional_block_is_classified_by_the_fallback_head(
    storage: LocalModelStorage,
) -> None:
    train_with_fallback(storage)
    # Reloaded, as a server on a CPU without AVX2 would load a model trained elsewhere.
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentenceLogRegClassifier.get_default_config(), "fallback_without": ["minilm"]}
    loaded = SentenceLogRegClassifier.load(config, storage, Resource("clf"), context)
    rng = np.random.default_rng(11)
    for intent in INTENTS:
        full = message(intent, 0, rng)
        full.data.pop("intent")
        chars_only = Message(
            data=dict(full.data), features=[f for f in full.features if f.origin == "chars"]
        )
        loaded.process([full, chars_only])
        assert full.get("intent")["name"] == intent
        # The fallback head was fitted on the char block alone, so it is as sure as a
        # model trained without embeddings, not diluted by weights on missing features.
        assert chars_only.get("intent")["name"] == intent
        assert chars_only.get("intent")["confidence"] > 0.6
        assert full.get("intent_ranking") != chars_only.get("intent_ranking")


def test_no_fallback_head_when_the_optional_block_never_appeared(
    storage: LocalModelStorage,
) -> None:
    rng = np.random.default_rng(0)
    examples = [message(INTENTS[i % 3], i, rng) for i in range(60)]
    context = ExecutionContext(GraphSchema({}), "test")
    config = {**SentenceLogRegClassifier.get_default_config(), "fallback_without": ["e5"]}
    classifier = SentenceLogRegClassifier.create(config, storage, Resource("clf"), context)
    classifier.train(TrainingData(training_examples=examples))
    assert classifier._fallback is None


def test_a_routed_message_is_answered_by_the_head_of_its_route(
    storage: LocalModelStorage,
) -> None:
    # The same char pattern means "returns" in the routed (English) examples and "greet"
    # in the others: only the head trained on the route's own examples is sure of it.
    rng = np.random.default_rng(0)
    examples = []
    for i in range(120):
        routed, shared = i % 2 == 0, (i // 2) % 2 == 0
        intent = ("returns" if routed else "greet") if shared else "track_parcel"
        example = message(intent, i, rng)
        # the char block of a "returns" message (the shared pattern), else its own
        pattern = message("returns" if shared else intent, i, rng)
        example.features = [f for f in example.features if f.origin != "chars"] + [
            f for f in pattern.features if f.origin == "chars"
        ]
        if routed:
            example.set(LANGUAGE_ROUTE, "en")
        examples.append(example)
    context = ExecutionContext(GraphSchema({}), "test")
    config = {
        **SentenceLogRegClassifier.get_default_config(),
        "fallback_without": ["minilm"],
        "route_heads": {"en": ["minilm"]},
    }
    SentenceLogRegClassifier.create(config, storage, Resource("clf"), context).train(
        TrainingData(training_examples=examples)
    )
    loaded = SentenceLogRegClassifier.load(config, storage, Resource("clf"), context)
    chars = [f for f in message("returns", 0, rng).features if f.origin == "chars"]
    routed = Message(data={TEXT: "x", LANGUAGE_ROUTE: "en"}, features=list(chars))
    unrouted = Message(data={TEXT: "x"}, features=list(chars))
    loaded.process([routed, unrouted])
    assert routed.get("intent")["name"] == "returns"
    assert routed.get("intent")["confidence"] > 0.8
    # the fallback head (no minilm block), trained on every example: torn between the two
    top_two = {r["name"] for r in unrouted.get("intent_ranking")[:2]}
    assert top_two == {"returns", "greet"}
    assert unrouted.get("intent")["confidence"] < 0.7


def learnable_blocks(
    labels: np.ndarray,
    n_classes: int,
    dense_dim: int,
    sparse_dim: int,
    rng: np.random.Generator,
    sparse_seed: int,
) -> tuple[np.ndarray, scipy.sparse.csr_matrix]:
    """A dense and a sparse feature block of noise in which every class leaves a trace (a
    column of its own in each), so that a regression has something to learn."""
    dense = rng.normal(size=(len(labels), dense_dim)) + np.eye(n_classes, dense_dim)[labels]
    noise = scipy.sparse.random(
        len(labels), sparse_dim, density=0.1, random_state=sparse_seed, format="csr"
    )
    return dense, (noise + scipy.sparse.csr_matrix(np.eye(n_classes, sparse_dim)[labels])).tocsr()


@pytest.mark.parametrize(("n_classes", "class_weight"), [(4, None), (4, "balanced"), (2, None)])
def test_the_block_solver_fits_the_model_sklearn_fits(n_classes: int, class_weight: str) -> None:
    # The solver replaced sklearn's LogisticRegression(solver="lbfgs") for speed only:
    # the same objective and optimiser must give the same coefficients and predictions.
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(3)
    labels = rng.integers(0, n_classes, 300)
    if class_weight:
        labels[:200] = 0  # unbalanced, so balancing changes the model
    dense, sparse = learnable_blocks(labels, n_classes, 6, 40, rng, sparse_seed=4)
    reference = LogisticRegression(C=5.0, max_iter=500, tol=1e-6, class_weight=class_weight)
    reference.fit(scipy.sparse.hstack([dense, sparse], format="csr"), labels)
    weight = None
    if class_weight:
        weight = len(labels) / (n_classes * np.bincount(labels)[labels])
    # sklearn's two-class model is one binomial row; the classifier halves C for the two
    # softmax rows, whose difference is then that row
    c = 5.0 / (2 if n_classes == 2 else 1)
    coef, intercept = fit_softmax_regression(
        [dense, sparse], labels, n_classes, C=c, max_iter=500, tol=1e-6, sample_weight=weight
    )
    if n_classes == 2:
        coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
    np.testing.assert_allclose(coef, reference.coef_, atol=1e-3)
    np.testing.assert_allclose(intercept, reference.intercept_, atol=1e-3)


def test_neighbouring_dense_blocks_fitted_as_one_give_each_its_own_columns() -> None:
    # The solver joins adjacent dense blocks (e5 and MiniLM) into one product. The
    # coefficients must still come back block by block in the given order: e5's weights
    # under e5's columns, and a dense block after a sparse one not joined to the others.
    from sklearn.linear_model import LogisticRegression

    rng = np.random.default_rng(11)
    labels = rng.integers(0, 4, 300)
    dense, sparse = learnable_blocks(labels, 4, 9, 40, rng, sparse_seed=12)
    blocks = [dense[:, :3], dense[:, 3:7], sparse, dense[:, 7:]]
    reference = LogisticRegression(C=5.0, max_iter=500, tol=1e-6)
    reference.fit(scipy.sparse.hstack(blocks, format="csr"), labels)
    coef, intercept = fit_softmax_regression(blocks, labels, 4, C=5.0, max_iter=500, tol=1e-6)
    assert coef.shape == (4, 3 + 4 + 40 + 2)
    np.testing.assert_allclose(coef, reference.coef_, atol=1e-3)
    np.testing.assert_allclose(intercept, reference.intercept_, atol=1e-3)


def test_float32_features_learn_what_float64_features_learn() -> None:
    # The classifier hands its blocks to the regression in float32 (half the time per
    # product); the loss, the gradient and L-BFGS stay in float64, so the model is the
    # one float64 features give, up to float32's rounding of the products (which limits how
    # close to the optimum L-BFGS gets, not where the optimum is).
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 4, 400)
    dense, sparse = learnable_blocks(labels, 4, 8, 50, rng, sparse_seed=8)
    wide, wide_intercept = fit_softmax_regression(
        [dense, sparse], labels, 4, C=5.0, max_iter=300, tol=1e-8
    )
    narrow, narrow_intercept = fit_softmax_regression(
        [dense.astype(np.float32), sparse.astype(np.float32)],
        labels, 4, C=5.0, max_iter=300, tol=1e-8,
    )  # fmt: skip
    assert narrow.dtype == np.float64
    np.testing.assert_allclose(narrow, wide, atol=2e-3)
    np.testing.assert_allclose(narrow_intercept, wide_intercept, atol=2e-3)
    features = scipy.sparse.hstack([dense, sparse], format="csr")
    np.testing.assert_array_equal(
        (features @ narrow.T + narrow_intercept).argmax(axis=1),
        (features @ wide.T + wide_intercept).argmax(axis=1),
    )


def _rosenbrock(x: np.ndarray) -> tuple[float, np.ndarray]:
    from scipy.optimize import rosen, rosen_der

    return float(rosen(x)), rosen_der(x)


@pytest.mark.parametrize("iterations", [1, 3, 12, 40, 200])
def test_our_lbfgs_takes_the_steps_scipys_l_bfgs_b_takes(iterations: int) -> None:
    # minimize_lbfgs replaced scipy's L-BFGS-B (bookkeeping only): stopped after any
    # number of iterations it must stand where scipy's does, since the intent heads stop
    # at max_iter, far from the optimum. Rosenbrock's valley makes the line search
    # backtrack, extrapolate and skip, so a different step rule would show at once.
    from scipy.optimize import minimize

    start = np.array([-1.2, 1.0, -0.5, 2.0, 0.3])
    ours = minimize_lbfgs(_rosenbrock, start, max_iter=iterations, gtol=1e-10)
    scipys = minimize(
        _rosenbrock, start, jac=True, method="L-BFGS-B",
        options={"maxiter": iterations, "gtol": 1e-10},
    ).x  # fmt: skip
    np.testing.assert_allclose(ours, scipys, rtol=1e-7, atol=1e-9)
    if iterations == 200:  # and both reach the minimum
        np.testing.assert_allclose(ours, np.ones(5), atol=1e-6)


def test_our_lbfgs_stops_where_the_gradient_is_small_enough() -> None:
    calls = []

    def bowl(x: np.ndarray) -> tuple[float, np.ndarray]:
        calls.append(x.copy())
        return float(x @ x), 2 * x

    assert not minimize_lbfgs(bowl, np.zeros(3), max_iter=50, gtol=1e-5).any()
    assert len(calls) == 1  # the start already meets gtol: no step at all
    solution = minimize_lbfgs(bowl, np.array([3.0, -4.0, 1.0]), max_iter=50, gtol=1e-5)
    assert np.max(np.abs(2 * solution)) <= 1e-5


def test_a_head_leaves_out_the_columns_its_rows_never_use_and_learns_the_same() -> None:
    # A routed head's rows use a fraction of the char n-grams; the unused columns are
    # fitted without (faster) and must come back as zeros, the rest as without pruning.
    rng = np.random.default_rng(5)
    labels = rng.integers(0, 3, 200)
    dense, sparse = learnable_blocks(labels, 3, 4, 60, rng, sparse_seed=6)
    sparse[:, 30:] = 0  # columns 30-59 seen only in other heads' rows
    sparse.eliminate_zeros()
    coef, intercept = fit_head([dense, sparse], labels, 3, C=5.0, max_iter=500, tol=1e-8)
    assert coef.shape == (3, 64)
    assert not coef[:, 34:].any()
    full, full_intercept = fit_softmax_regression(
        [dense, sparse], labels, 3, C=5.0, max_iter=500, tol=1e-8
    )
    np.testing.assert_allclose(coef, full, atol=1e-4)
    np.testing.assert_allclose(intercept, full_intercept, atol=1e-4)


def train_with_settings(folder: Path, **settings: Any) -> SentenceLogRegClassifier:
    """The three-intent classifier with a fallback head (no minilm), trained in `folder`
    with these settings over the defaults."""
    rng = np.random.default_rng(0)
    examples = [message(INTENTS[i % 3], i, rng) for i in range(60)]
    context = ExecutionContext(GraphSchema({}), "test")
    config = {
        **SentenceLogRegClassifier.get_default_config(),
        "fallback_without": ["minilm"],
        **settings,
    }
    folder.mkdir()
    storage = LocalModelStorage(folder)
    classifier = SentenceLogRegClassifier.create(config, storage, Resource("clf"), context)
    classifier.train(TrainingData(training_examples=examples))
    return classifier


def test_heads_fitted_in_worker_processes_equal_those_fitted_in_turn(tmp_path: Path) -> None:
    # n_jobs only changes where the heads are fitted, not what they learn.
    in_turn = train_with_settings(tmp_path / "1", n_jobs=1)
    side_by_side = train_with_settings(tmp_path / "2", n_jobs=2)
    assert in_turn._fallback is not None and side_by_side._fallback is not None
    assert in_turn._coef is not None and side_by_side._coef is not None
    np.testing.assert_allclose(in_turn._coef, side_by_side._coef, atol=1e-4)
    np.testing.assert_allclose(
        in_turn._fallback.weights[0], side_by_side._fallback.weights[0], atol=1e-4
    )


def test_the_fallback_head_stops_at_its_own_iteration_count(tmp_path: Path) -> None:
    # config.yml gives the head for CPUs without AVX2 fewer L-BFGS iterations than the
    # heads every other machine uses: only that head may change.
    full = train_with_settings(tmp_path / "full", n_jobs=1)
    short = train_with_settings(tmp_path / "short", n_jobs=1, fallback_max_iter=2)
    assert full._fallback is not None and short._fallback is not None
    assert full._coef is not None and short._coef is not None
    np.testing.assert_array_equal(full._coef, short._coef)
    full_fallback, short_fallback = full._fallback.weights[0], short._fallback.weights[0]
    assert np.abs(full_fallback - short_fallback).max() > 0.1
    assert np.abs(short_fallback).sum() < np.abs(full_fallback).sum()  # stopped on the way
