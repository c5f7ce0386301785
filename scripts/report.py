"""One-line summaries of `rasa test` results for `make test`, and the NLU quality gate.

    python scripts/report.py stories results/core
    python scripts/report.py nlu results/nlu [--min-accuracy 0.9]

`rasa test nlu` never fails on a bad score, so the gate is here: our own test set
(tests/nlu/) must stay above the threshold, or `make test` fails.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def stories(out: Path) -> int:
    report = json.loads((out / "story_report.json").read_text())
    failed = out / "failed_test_stories.yml"
    failures = 0
    if failed.exists():
        failures = failed.read_text().count("- story:")
    actions = report.get("accuracy")
    print(f"action accuracy {actions:.3f}, failed stories {failures}")
    return 0


def nlu(out: Path, min_accuracy: float) -> int:
    report = json.loads((out / "intent_report.json").read_text())
    accuracy = float(report["accuracy"])
    averages = {"macro avg", "weighted avg", "micro avg"}
    weakest = sorted(
        (v["f1-score"], k)
        for k, v in report.items()
        if isinstance(v, dict) and "f1-score" in v and k not in averages
    )[:3]
    weak = ", ".join(f"{k} {f:.2f}" for f, k in weakest)
    ok = accuracy >= min_accuracy
    status = "ok  " if ok else "FAIL"
    print(
        f"  {status}  {'nlu accuracy':<22} {accuracy:.3f} (gate {min_accuracy}); lowest F1: {weak}"
    )
    return 0 if ok else 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("kind", choices=["stories", "nlu"])
    parser.add_argument("out", type=Path)
    parser.add_argument("--min-accuracy", type=float, default=0.9)
    args = parser.parse_args()
    if args.kind == "stories":
        return stories(args.out)
    return nlu(args.out, args.min_accuracy)


if __name__ == "__main__":
    sys.exit(main())
