"""End-to-end latency of order-status conversations at several levels of concurrency.

Each simulated shopper runs whole conversations through Rasa's REST channel ("where is my
order?", order number, email), so every turn goes through NLU, policies, the form's
validation action and, on the last turn, action_order_status and the order service. A turn
is timed from sending the message to receiving the last bot reply (the REST channel returns
all replies of a turn at once).

    # against a running stack (make run, or Procfile processes)
    .venv/bin/python bench/order_latency.py --rasa-url http://127.0.0.1:5005
    # or let the script start service, action server and Rasa itself (devkit/stack.py,
    # free ports, a throw-away SQLite tracker store, the REST channel opened for it)
    .venv/bin/python bench/order_latency.py --start --model models/<hash>.tar.gz

Results go to stdout and, as JSON, to bench/out/order_latency.json. p50 and p95 are
nearest-rank percentiles (bench/stats.py), like every other benchmark's: each figure is
a measured turn, never an interpolation between two.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402 - needs ROOT on sys.path
from devkit.stack import running_stack  # noqa: E402 - needs ROOT on sys.path
from services.seed import DEMO_ORDERS  # noqa: E402 - needs ROOT on sys.path

TURNS = ("ask", "order_number", "email")
EXPECTED = {  # a word each reply must contain, so a broken stack cannot look fast
    "ask": "order number",
    "order_number": "email",
    "email": "***@",  # every status answer echoes the masked email
}


@dataclass
class Results:
    by_turn: dict[str, list[float]] = field(default_factory=lambda: {t: [] for t in TURNS})
    errors: int = 0

    def add(self, turn: str, seconds: float) -> None:
        self.by_turn[turn].append(seconds * 1000)


async def say(session: aiohttp.ClientSession, url: str, sender: str, text: str) -> list[str]:
    async with session.post(url, json={"sender": sender, "message": text}) as response:
        response.raise_for_status()
        return [m.get("text", "") for m in await response.json()]


async def shopper(
    session: aiohttp.ClientSession,
    url: str,
    index: int,
    conversations: int,
    results: Results,
    think: float = 0.0,
) -> None:
    """One shopper's conversations; `think` seconds (on average) between messages, like a
    person reading and typing. Without it every shopper fires its next message at once,
    which measures a saturated server rather than shoppers."""
    rng = random.Random(index)
    if think:
        # Shoppers arrive at random moments, not all in the same millisecond: a burst of
        # simultaneous first messages would measure the burst, not the shoppers.
        await asyncio.sleep(rng.uniform(0, think))
    for n in range(conversations):
        number, email, _, _ = DEMO_ORDERS[(index + n) % len(DEMO_ORDERS)]
        sender = f"bench-{uuid.uuid4().hex[:12]}"
        for turn, text in zip(TURNS, ("where is my order?", number, email), strict=True):
            started = time.perf_counter()
            try:
                replies = await say(session, url, sender, text)
            except (aiohttp.ClientError, asyncio.TimeoutError):
                results.errors += 1
                break
            elapsed = time.perf_counter() - started
            if not any(EXPECTED[turn] in r for r in replies):
                results.errors += 1
                break
            results.add(turn, elapsed)
            if think:
                await asyncio.sleep(rng.uniform(0.5 * think, 1.5 * think))


async def run_level(url: str, concurrency: int, conversations: int, think: float) -> Results:
    results = Results()
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency * 2)
    async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
        # warm-up: one conversation, not counted (model and connections load lazily)
        await shopper(session, url, 0, 1, Results())
        await asyncio.gather(
            *(shopper(session, url, i, conversations, results, think) for i in range(concurrency))
        )
    return results


def summary(results: Results) -> dict[str, dict[str, float]]:
    table: dict[str, dict[str, float]] = {}
    everything: list[float] = []
    for turn, values in results.by_turn.items():
        everything += values
        table[turn] = {
            "n": len(values),
            "p50": percentile(values, 50),
            "p95": percentile(values, 95),
        }
    table["all turns"] = {
        "n": len(everything),
        "p50": percentile(everything, 50),
        "p95": percentile(everything, 95),
    }
    return table


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rasa-url", default="http://127.0.0.1:5005")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 10])
    parser.add_argument(
        "--conversations",
        type=int,
        default=10,
        help="conversations per shopper and level (3 turns each)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds a shopper waits between messages (default 0)",
    )
    parser.add_argument(
        "--start", action="store_true", help="start reference service, action server and Rasa first"
    )
    parser.add_argument(
        "--model", default=os.environ.get("MODEL", ""), help="model for --start (default: $MODEL)"
    )
    parser.add_argument("--json", type=Path, default=ROOT / "bench" / "out" / "order_latency.json")
    args = parser.parse_args(argv)

    def measure(url: str) -> dict[str, object]:
        report: dict[str, object] = {}
        for level in args.concurrency:
            results = asyncio.run(
                run_level(f"{url}/webhooks/rest/webhook", level, args.conversations, args.think)
            )
            table = summary(results)
            report[str(level)] = {"errors": results.errors, "turns": table}
            print(
                f"\n{level} concurrent shopper(s), {args.conversations} conversations each,"
                f" think time {args.think:g} s, errors: {results.errors}"
            )
            print(f"  {'turn':<14}{'n':>6}{'p50 ms':>10}{'p95 ms':>10}")
            for turn, row in table.items():
                print(f"  {turn:<14}{row['n']:>6.0f}{row['p50']:>10.1f}{row['p95']:>10.1f}")
        return report

    if args.start:
        if not args.model:
            parser.error("--start needs --model (or $MODEL)")
        with running_stack(Path(args.model).resolve(), rest_channel=True) as running:
            report = measure(running.url)
    else:
        report = measure(args.rasa_url.rstrip("/"))
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(report, indent=2), encoding="utf-8")
    failed = any(level["errors"] for level in report.values())  # type: ignore[index]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
