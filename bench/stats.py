"""Percentiles for every benchmark report (bench/load.py, nlu.py, order_latency.py, scale.py)."""

from __future__ import annotations


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: every figure is a real measurement);
    NaN when there is nothing to measure."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]
