"""Multinomial logistic regression for the intent classifier's heads, numpy and scipy only.

Kept apart from components/sentence_classifier.py so that the worker processes that fit
heads side by side import nothing but numpy and scipy (no Rasa, no TensorFlow, no lingua).
"""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import numpy as np
import scipy.sparse
from scipy.linalg.blas import daxpy, ddot
from scipy.optimize import _minpack2  # MINPACK's dcsrch, of which L-BFGS-B's is a copy


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
    to start, L-BFGS with ``gtol=tol``; ``minimize_lbfgs`` below is scipy's L-BFGS-B
    without bounds, step for step), so the same data gives the same model.
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
    n = labels.shape[0]
    blocks = _join_dense_neighbours(blocks)
    dims = [int(block.shape[1]) for block in blocks]
    offsets = np.cumsum([0] + [d * n_classes for d in dims])
    # X.T @ G for the gradient, each block's transpose made row-major once: scipy's fast
    # kernel for a sparse block; for a dense one BLAS skips most of its packing of the
    # (n, d) matrix that a .T view costs on every call (12 to 6 ms a product here)
    transposed: list[Any] = [
        scipy.sparse.csr_matrix(block.T)
        if scipy.sparse.issparse(block)
        else np.ascontiguousarray(block.T)
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

    x = minimize_lbfgs(loss_and_gradient, np.zeros(offsets[-1] + n_classes), max_iter, tol)
    coef = np.hstack([part.T for part in unpack(x)])
    return coef, x[offsets[-1] :].copy()


def _join_dense_neighbours(
    blocks: list[np.ndarray | scipy.sparse.csr_matrix],
) -> list[np.ndarray | scipy.sparse.csr_matrix]:
    """Adjacent dense blocks of one dtype as one matrix (the e5 and MiniLM features).

    The parameters do not move: a block's weights are its (columns, classes) rows in
    the parameter vector, so two neighbours' are the rows of their join, in the same
    order. One product over 768 columns instead of two over 384 saves BLAS a call and
    a packing of the result per evaluation.
    """
    joined: list[np.ndarray | scipy.sparse.csr_matrix] = []
    for block in blocks:
        previous = joined[-1] if joined else None
        if (
            isinstance(block, np.ndarray)
            and isinstance(previous, np.ndarray)
            and previous.dtype == block.dtype
        ):
            joined[-1] = np.hstack([previous, block])
        else:
            joined.append(block)
    return joined


# L-BFGS-B's constants (scipy 1.10, lbfgsb.f): line-search tolerances, step bound, history
# pairs (scipy's maxcor), evaluations per line search (maxls), and scipy's default ftol.
_LINE_FTOL, _LINE_GTOL, _LINE_XTOL, _STEP_MAX = 1e-3, 0.9, 0.1, 1e10
_PAIRS, _MAX_LINE_EVALS, _REL_REDUCTION = 10, 20, 2.220446049250313e-09
_EPS = float(np.finfo(float).eps)


def minimize_lbfgs(fun: Any, x0: np.ndarray, max_iter: int, gtol: float) -> np.ndarray:
    """scipy's ``minimize(method="L-BFGS-B", jac=True)`` without bounds, in numpy.

    Without bounds L-BFGS-B is plain L-BFGS: the first step goes along -g with length
    1/|g|, later ones along -Hg (H from the last 10 pairs, scaled by s'y/y'y) with step 1
    to start; the line search is MINPACK's dcsrch (Moré-Thuente) with L-BFGS-B's
    tolerances, at most 20 evaluations; a pair with too little curvature is skipped; a
    failed line search restores the point and restarts from -g; it stops at
    ``max|g| <= gtol``, at a relative decrease of f below scipy's ftol, or after
    ``max_iter`` iterations. The iterates are the same up to rounding. Why not scipy's:
    the Fortran keeps its compact matrices with some ten passes over the weights per
    iteration, 70 ms for the intent head's million weights here; the two-loop recursion
    below takes 23 ms (BLAS dot and axpy, in place), 5-6 s of a head's 20.
    """
    x = np.array(x0, dtype=float)
    f, g = fun(x)
    pairs: list[tuple[np.ndarray, np.ndarray, float]] = []  # (s, y, 1/s'y), oldest first
    iterations = 0
    while iterations < max_iter and np.max(np.abs(g)) > gtol:
        d = -_two_loop(g, pairs) if pairs else -g
        slope = ddot(g, d)
        if slope >= 0:  # not a descent direction: forget the pairs (L-BFGS-B's info -4)
            pairs.clear()
            d, slope = -g, -ddot(g, g)
        step = min(1.0 / np.sqrt(ddot(d, d)), _STEP_MAX) if iterations == 0 else 1.0
        found = _line_search(fun, x, f, g, d, slope, step)
        if found is None:  # x is where it was: restart from -g, or stop without pairs
            if not pairs:
                break
            pairs.clear()
            continue
        step, x_new, f_new, g_new = found
        iterations += 1
        s, y = x_new - x, g_new - g
        previous_f, x, f, g = f, x_new, f_new, g_new
        if iterations == max_iter or np.max(np.abs(g)) <= gtol:
            break
        if previous_f - f <= _REL_REDUCTION * max(abs(previous_f), abs(f), 1.0):
            break
        curvature = ddot(s, y)
        if curvature <= _EPS * (-slope * step):
            continue  # too little curvature: L-BFGS-B skips the update
        if len(pairs) == _PAIRS:
            pairs.pop(0)
        pairs.append((s, y, 1.0 / curvature))
    return x


def _two_loop(g: np.ndarray, pairs: list[tuple[np.ndarray, np.ndarray, float]]) -> np.ndarray:
    """H g for the L-BFGS inverse Hessian of the stored pairs (Nocedal & Wright 7.4)."""
    q = g.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * ddot(s, q)
        daxpy(y, q, a=-alpha)
        alphas.append(alpha)
    s, y, rho = pairs[-1]
    q *= 1.0 / (rho * ddot(y, y))  # H0 = s'y / y'y of the newest pair
    for (s, y, rho), alpha in zip(pairs, reversed(alphas), strict=True):
        beta = rho * ddot(y, q)
        daxpy(s, q, a=alpha - beta)
    return q


def _line_search(
    fun: Any,
    x: np.ndarray,
    f: float,
    g: np.ndarray,
    d: np.ndarray,
    slope: float,
    step: float,
) -> tuple[float, np.ndarray, float, np.ndarray] | None:
    """dcsrch along d from x as L-BFGS-B runs it; (step, x, f, g), or None when it fails."""
    isave = np.zeros(2, np.intc)
    dsave = np.zeros(13, float)
    task = b"START"
    f_step, slope_step, x_step, g_step = f, slope, x, g
    evaluations = 0
    while True:
        step, f_step, slope_step, task = _minpack2.dcsrch(
            step, f_step, slope_step, _LINE_FTOL, _LINE_GTOL, _LINE_XTOL, task, 0.0,
            _STEP_MAX, isave, dsave,
        )  # fmt: skip
        if not task.startswith(b"FG"):
            break
        if evaluations == _MAX_LINE_EVALS:
            return None  # L-BFGS-B gives up on this direction
        x_step = x + step * d
        f_step, g_step = fun(x_step)
        slope_step = ddot(g_step, d)
        evaluations += 1
    if task.startswith(b"ERROR") or evaluations == 0:
        return None
    return step, x_step, float(f_step), g_step


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
