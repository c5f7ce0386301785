"""How well the second-question detector (components/second_question.py) does.

Parses messages with a trained model in-process and counts:
- false positives: single-question messages that got an `also_asked` entity, on our own
  NLU test set (tests/nlu) and, as an aggregate only, on an evaluation CSV (the shared
  dev.csv: its sentences are never printed, only counts);
- recall: two-question messages of our own (bench/data/two_questions.yml) whose two
  intents were both recognised (the main intent plus `also_asked`).

    .venv/bin/python bench/second_question.py --model models/<hash>.tar.gz
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import json
import logging
import os
import sys
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
# The model names our components (components.*): loading it needs the project on sys.path,
# which running this file as a script does not give.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
DEFAULT_CSV = Path(os.environ.get("NLU_EVAL_CSV", ROOT.parent / "shared" / "eval" / "dev.csv"))
FIXED = {"payment_methods", "delivery_methods", "delivery_time", "returns"}


def also_asked(result: dict[str, Any]) -> str | None:
    """The `also_asked` value the pipeline added, if any."""
    for entity in result.get("entities") or []:
        if entity.get("entity") == "also_asked":
            return str(entity.get("value"))
    return None


def nlu_texts(path: Path) -> list[tuple[str, str]]:
    """(text, intent) of a Rasa NLU YAML file or folder."""
    from rasa.shared.nlu.training_data.loading import load_data

    data = load_data(str(path))
    return [(str(m.get("text")), str(m.get("intent"))) for m in data.intent_examples]


def csv_texts(path: Path) -> list[tuple[str, str]]:
    """(text, label) rows of an evaluation CSV; read here, never printed."""
    with path.open(newline="", encoding="utf-8") as handle:
        return [(r["text"], r.get("label") or "") for r in csv.DictReader(handle) if r.get("text")]


def false_positives(results: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Counts of single questions marked as two, overall and among fixed-answer labels."""
    fired = sum(1 for _, r in results if also_asked(r))
    fixed = [(label, r) for label, r in results if label in FIXED]
    fired_fixed = sum(1 for _, r in fixed if also_asked(r))
    return {
        "messages": len(results),
        "fired": fired,
        "rate_percent": round(100 * fired / max(len(results), 1), 2),
        "fixed_answer_messages": len(fixed),
        "fired_on_fixed_answer": fired_fixed,
    }


async def score(
    model: str,
    own: list[tuple[str, str]],
    evaluation: list[tuple[str, str]] | None,
    pairs: list[dict[str, Any]],
    show_misses: bool,
) -> dict[str, Any]:
    """Parses every message with the model and counts (see the module docstring)."""
    # Rasa logs every parsed text at debug level: the evaluation sentences must not reach
    # any log, so everything below WARNING is silenced before the model loads.
    os.environ["LOG_LEVEL"] = "WARNING"
    logging.disable(logging.INFO)
    from rasa.utils.log_utils import configure_structlog

    configure_structlog(logging.WARNING)
    from rasa.core.agent import Agent

    agent = Agent.load(model)

    async def parse(texts: list[tuple[str, str]]) -> list[tuple[str, dict[str, Any]]]:
        return [(label, await agent.parse_message(text)) for text, label in texts]

    report: dict[str, Any] = {"own_nlu_tests": false_positives(await parse(own))}
    if evaluation is not None:
        report["eval_csv"] = false_positives(await parse(evaluation))
    found = 0
    for case in pairs:
        result = await agent.parse_message(case["text"])
        top = (result.get("intent") or {}).get("name")
        if {top, also_asked(result)} == set(case["pair"]):
            found += 1
        elif show_misses:  # our own sentences only
            print(f"missed: {case['text']!r} -> {top} + {also_asked(result)}", file=sys.stderr)
    report["two_questions"] = {"messages": len(pairs), "both_recognised": found}
    return report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--model", required=True)
    parser.add_argument("--nlu", default=str(ROOT / "tests" / "nlu"))
    parser.add_argument("--csv", default=str(DEFAULT_CSV))
    parser.add_argument("--pairs", default=str(ROOT / "bench" / "data" / "two_questions.yml"))
    parser.add_argument(
        "--show-misses", action="store_true", help="print our own two-question misses"
    )
    args = parser.parse_args(argv)
    own = nlu_texts(Path(args.nlu))
    evaluation = csv_texts(Path(args.csv)) if Path(args.csv).exists() else None
    pairs = yaml.safe_load(Path(args.pairs).read_text())
    report = asyncio.run(score(args.model, own, evaluation, pairs, args.show_misses))
    print(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
