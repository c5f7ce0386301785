"""Multinomial logistic regression for the intent classifier's heads, numpy and scipy only.

Kept apart from components/sentence_classifier.py so that the worker processes that fit
heads side by side import nothing but numpy and scipy (no Rasa, no TensorFlow, no lingua).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse


def fit_softmax_regression(
    blocks: list[np.ndarray | scipy.sparse.csr_matrix],
    labels: np.ndarray,
    n_classes: int,
    C: float,
    max_iter: int,
    tol: float,
    sample_weight: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Multinomial logistic regression with an L2 penalty, fitted by L-BFGS.

    The objective and optimiser are sklearn's ``LogisticRegression(solver="lbfgs")``
    (sum of per-example cross-entropy + ``||W||² / 2C``, intercept unpenalised, zeros
    to start, scipy's L-BFGS-B with ``gtol=tol``), so the same data gives the same model.
    What differs is the arithmetic: sklearn needs one sparse matrix, in which our dense
    sentence embeddings become 768 stored entries per row and every product runs
    through scipy's single-threaded sparse kernels. Here each block keeps its own form:
    dense blocks multiply through BLAS, sparse blocks are transposed once for the
    gradient. On our data (10,400 examples, 768 dense + ~28,000 sparse columns) one
    loss-and-gradient evaluation fell from about a second to a tenth of that. A float32
    block (SecondQuestion's embeddings) is multiplied in float32, the weights cast for
    the product, instead of being converted to float64 on every evaluation; the loss,
    the gradient and L-BFGS stay in float64.

    Returns ``coef`` (n_classes, total columns, blocks in the given order) and
    ``intercept`` (n_classes,).
    """
    from scipy.optimize import minimize

    n = labels.shape[0]
    dims = [int(block.shape[1]) for block in blocks]
    offsets = np.cumsum([0] + [d * n_classes for d in dims])
    # X.T @ G for the gradient: a sparse block's transpose made row-major once, so
    # scipy multiplies it with its fast kernel; a dense block's .T is a free view (BLAS)
    transposed: list[Any] = [
        scipy.sparse.csr_matrix(block.T) if scipy.sparse.issparse(block) else block.T
        for block in blocks
    ]
    onehot = np.zeros((n, n_classes))
    onehot[np.arange(n), labels] = 1.0
    weight = np.ones(n) if sample_weight is None else np.asarray(sample_weight, float)
    penalty = 1.0 / C

    def unpack(w: np.ndarray) -> list[np.ndarray]:
        # per block a (columns, classes) view of the parameter vector; the intercept last
        return [w[start:end].reshape(-1, n_classes) for start, end in pairwise(offsets)]

    def loss_and_gradient(w: np.ndarray) -> tuple[float, np.ndarray]:
        parts = unpack(w)
        raw = np.tile(w[offsets[-1] :], (n, 1))
        for block, part in zip(blocks, parts, strict=True):
            raw += block @ part.astype(block.dtype, copy=False)
        top = raw.max(axis=1, keepdims=True)
        exp = np.exp(raw - top)
        total = exp.sum(axis=1, keepdims=True)
        log_norm = np.log(total)[:, 0] + top[:, 0]
        loss = float(weight @ (log_norm - raw[np.arange(n), labels]))
        per_example = (exp / total - onehot) * weight[:, None]
        gradient = np.empty_like(w)
        for i, part in enumerate(parts):
            gradient[offsets[i] : offsets[i + 1]] = (
                transposed[i] @ per_example.astype(transposed[i].dtype, copy=False) + penalty * part
            ).ravel()
            loss += 0.5 * penalty * float(np.sum(part * part))
        gradient[offsets[-1] :] = per_example.sum(axis=0)
        return loss, gradient

    result = minimize(
        loss_and_gradient,
        np.zeros(offsets[-1] + n_classes),
        method="L-BFGS-B",
        jac=True,
        options={"gtol": tol, "maxiter": max_iter},
    )
    coef = np.hstack([part.T for part in unpack(result.x)])
    return coef, result.x[offsets[-1] :].copy()


def fit_head(
    blocks: list[np.ndarray | scipy.sparse.csr_matrix],
    targets: np.ndarray,
    n_classes: int,
    C: float,
    max_iter: int,
    tol: float,
    balanced: bool = False,
) -> tuple[np.ndarray, np.ndarray]:
    """One head's (coef, intercept) in float32; one score row when there are two classes.

    A module-level function, so that worker processes can run it.
    """
    # A sparse column that is zero in every row of this head has a zero gradient from a
    # zero start, so L-BFGS never moves its weights: fitting without such columns and
    # putting zeros back gives the same model. It matters for the routed heads (the
    # wordless messages' head sees 3,000 of 24,000 char n-grams) and for L-BFGS-B,
    # whose bookkeeping costs ~0.1 s an iteration per million weights here.
    dims = [int(block.shape[1]) for block in blocks]
    kept = [_used_columns(block) for block in blocks]
    blocks = [
        block if cols is None else block[:, cols] for block, cols in zip(blocks, kept, strict=True)
    ]
    sample_weight = None
    if balanced:
        counts = np.bincount(targets, minlength=n_classes)
        sample_weight = len(targets) / (n_classes * counts[targets])
    two = n_classes == 2
    coef, intercept = fit_softmax_regression(
        blocks,
        targets,
        n_classes,
        # two softmax rows share the penalty of sklearn's one binomial row: half the C
        C=C / (2 if two else 1),
        max_iter=max_iter,
        tol=tol,
        sample_weight=sample_weight,
    )
    if two:
        # the two-class softmax is a sigmoid of the score difference
        coef, intercept = coef[1:] - coef[:1], intercept[1:] - intercept[:1]
    return _scatter(coef, kept, dims).astype(np.float32), intercept.astype(np.float32)


def _used_columns(block: np.ndarray | scipy.sparse.csr_matrix) -> np.ndarray | None:
    """The columns of a sparse block with a stored value; None: keep every column."""
    if isinstance(block, np.ndarray):
        return None
    used = np.unique(block.indices)
    return None if len(used) == block.shape[1] else used


def _scatter(coef: np.ndarray, kept: list[np.ndarray | None], dims: list[int]) -> np.ndarray:
    """Coefficients over the blocks' full widths, zeros for the columns left out."""
    if all(cols is None for cols in kept):
        return coef
    parts, start = [], 0
    for cols, dim in zip(kept, dims, strict=True):
        width = dim if cols is None else len(cols)
        part = coef[:, start : start + width]
        if cols is not None:
            full = np.zeros((coef.shape[0], dim), dtype=coef.dtype)
            full[:, cols] = part
            part = full
        parts.append(part)
        start += width
    return np.hstack(parts)
