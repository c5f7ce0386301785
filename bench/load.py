"""Simulated shoppers over the real socket.io web chat channel: per-turn latency and throughput.

Each shopper opens a websocket to the channel exactly like the widget (session_request ->
session_confirm, optional "/session_start" for the introduction, then user_uttered ->
bot_uttered) and runs scripted conversations built from the reference service's demo
data: FAQ, order status (form + action server + order service), parcel tracking,
product info and small talk. A new conversation is a new connection and a new session.

When is a turn over? A turn may produce several bot messages (e.g. "let me check" and
then the answer) and the channel does not mark the last one. A turn therefore ends when
(a) a reply containing the turn's expected text has arrived (any reply, if the turn has
no expectation) and (b) no further bot message arrives within a quiet window (default
0.25 s). Latency is measured from sending to the arrival of the *last* bot message, so
the quiet window itself is never part of it. A turn whose expectation is not met within
the timeout counts as a timeout; a reply that is a channel notice (rate limit, too long)
counts as an error. The expected texts also keep a broken stack from looking fast.

Shoppers wait a random "think time" (uniform 0.5x-1.5x of --think) before every message,
like a person reading and typing; --think 0 measures a saturated server instead. Beware
of offering far more than the server can take: Rasa 3.6 runs NLU and policies
synchronously on the worker's event loop, so with hundreds of messages queued the
engine.io pings wait behind them, and after ping_interval + ping_timeout (45 s) client
and server drop the connection. --ramp spreads the shoppers' first messages.

Only websocket transport is used: with several Sanic workers, HTTP long-polling requests
of one client may reach different workers (see README "Running in production").

    .venv/bin/python bench/load.py --url http://127.0.0.1:5005 --shoppers 20 --duration 60
    .venv/bin/python bench/load.py --url ... --conversations 200 --think 0

Writes bench/out/load.json and bench/out/load.md (override with --json/--markdown).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import sys
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.stats import percentile  # noqa: E402 - needs ROOT on sys.path
from devkit.shopper import Options, Shopper, think  # noqa: E402 - needs ROOT on sys.path
from services.seed import DEMO_ORDERS, DEMO_TRACKING  # noqa: E402 - needs ROOT on sys.path

OUT_DIR = ROOT / "bench" / "out"
SESSION_START = "/session_start"


@dataclass(frozen=True)
class Turn:
    """One shopper message and a text (lower case) one reply of the turn must contain."""

    text: str
    expect: str | None = None


@dataclass(frozen=True)
class Script:
    """A scripted conversation; `topic` groups results in the report."""

    topic: str
    turns: tuple[Turn, ...]


def build_scripts() -> list[Script]:
    """Conversations over the demo data, so the order and tracking turns hit real records."""
    scripts: list[Script] = []
    for number, email, _status, _method in DEMO_ORDERS:
        scripts.append(
            Script(
                "order_status",
                (
                    Turn("where is my order?", "order number"),
                    Turn(number, "email"),
                    Turn(email, "***@"),
                ),
            )
        )
    for tracking in DEMO_TRACKING.values():
        scripts.append(Script("tracking", (Turn(f"track {tracking} please", tracking.lower()),)))
    scripts += [
        Script("faq", (Turn("which payment options do you have"),
                       Turn("how many days does shipping take"))),
        Script("faq", (Turn("how do I get my money back"), Turn("what's your phone number"))),
        Script("product", (Turn("do you have 204518 in medium?", "204518"),)),
        Script("product", (Turn("how much is 211415?", "211415"),)),
        Script("smalltalk", (Turn("hello"), Turn("thanks a lot"), Turn("bye"))),
    ]  # fmt: skip
    return scripts


@dataclass
class TurnResult:
    """The measurement of one turn; `outcome` is ok, timeout, error, unexpected or
    disconnected (the connection dropped before the message could be sent)."""

    topic: str
    kind: str  # "intro" for the session start, "turn" for a shopper message
    outcome: str
    latency_ms: float
    replies: int


@dataclass
class Run:
    """Everything measured in one load run."""

    results: list[TurnResult] = field(default_factory=list)
    conversations: int = 0
    failed_conversations: int = 0
    connect_errors: int = 0
    seconds: float = 0.0
    # session id -> shopper messages sent, for "stored exactly once" checks afterwards
    sent: dict[str, int] = field(default_factory=dict)


async def conversation(
    url: str, script: Script, options: Options, run: Run, rng: random.Random
) -> None:
    """One whole conversation on a fresh connection; results are appended to `run`."""
    shopper = Shopper(url, options)
    try:
        try:
            await shopper.open()
        except Exception:
            run.connect_errors += 1
            run.failed_conversations += 1
            return
        failed = False
        run.sent[shopper.session_id] = 0
        if options.intro:
            outcome, ms, got = await shopper.turn(SESSION_START, None)
            run.results.append(TurnResult(script.topic, "intro", outcome, ms, len(got)))
        for turn in script.turns:
            await think(rng, options.think)
            outcome, ms, got = await shopper.turn(turn.text, turn.expect)
            if outcome != "disconnected":
                run.sent[shopper.session_id] += 1
            run.results.append(TurnResult(script.topic, "turn", outcome, ms, len(got)))
            if outcome != "ok":
                failed = True
                break  # the rest of the script would answer a different question
        run.conversations += 1
        run.failed_conversations += int(failed)
    finally:
        await shopper.close()


async def run_load(
    url: str,
    shoppers: int,
    duration: float | None,
    conversations: int | None,
    options: Options,
    seed: int = 7,
) -> Run:
    """`shoppers` concurrent shoppers until `duration` seconds or `conversations` in total."""
    if duration is None and conversations is None:
        raise ValueError("give a duration or a number of conversations")
    scripts = build_scripts()
    run = Run()
    started = time.perf_counter()
    counter = iter(range(10**9))

    def next_index() -> int | None:
        index = next(counter)
        if conversations is not None and index >= conversations:
            return None
        if duration is not None and time.perf_counter() - started >= duration:
            return None
        return index

    async def shopper_loop(number: int) -> None:
        rng = random.Random(seed * 1000 + number)
        if options.ramp > 0:
            await asyncio.sleep(rng.uniform(0, options.ramp))
        while (index := next_index()) is not None:
            await conversation(url, scripts[index % len(scripts)], options, run, rng)

    await asyncio.gather(*(shopper_loop(n) for n in range(shoppers)))
    run.seconds = time.perf_counter() - started
    return run


def summarise(run: Run, label: str, shoppers: int, options: Options) -> dict[str, Any]:
    """Percentiles over shopper turns that succeeded; intros are reported apart."""
    turns = [r for r in run.results if r.kind == "turn"]
    ok = [r.latency_ms for r in turns if r.outcome == "ok"]
    intros = [r.latency_ms for r in run.results if r.kind == "intro" and r.outcome == "ok"]
    outcomes = Counter(r.outcome for r in run.results)
    by_topic: dict[str, dict[str, float]] = {}
    for topic in sorted({r.topic for r in turns}):
        values = [r.latency_ms for r in turns if r.topic == topic and r.outcome == "ok"]
        by_topic[topic] = {"n": len(values), "p50_ms": percentile(values, 50),
                           "p95_ms": percentile(values, 95)}  # fmt: skip
    return {
        "label": label,
        "shoppers": shoppers,
        "seconds": run.seconds,
        "conversations": run.conversations,
        "failed_conversations": run.failed_conversations,
        "connect_errors": run.connect_errors,
        "turns": len(turns),
        "turns_ok": len(ok),
        "turns_per_second": len(ok) / run.seconds if run.seconds else 0.0,
        "p50_ms": percentile(ok, 50),
        "p95_ms": percentile(ok, 95),
        "p99_ms": percentile(ok, 99),
        "max_ms": max(ok) if ok else float("nan"),
        "intro_p95_ms": percentile(intros, 95),
        "errors": outcomes.get("error", 0) + outcomes.get("disconnected", 0) + run.connect_errors,
        "disconnected": outcomes.get("disconnected", 0),
        "timeouts": outcomes.get("timeout", 0),
        "unexpected": outcomes.get("unexpected", 0),
        "by_topic": by_topic,
        "options": asdict(options),
    }


def markdown(summaries: list[dict[str, Any]]) -> str:
    """One row per run, so several configurations sit side by side."""
    lines = [
        "| run | shoppers | conversations | turns ok | turns/s | p50 ms | p95 ms | p99 ms "
        "| errors | timeouts | unexpected |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        lines.append(
            f"| {s['label']} | {s['shoppers']} | {s['conversations']} | {s['turns_ok']} "
            f"| {s['turns_per_second']:.1f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} "
            f"| {s['p99_ms']:.0f} | {s['errors']} | {s['timeouts']} | {s['unexpected']} |"
        )
    return "\n".join(lines) + "\n"


def measure(
    url: str,
    shoppers: int,
    duration: float | None,
    conversations: int | None,
    options: Options,
    label: str,
) -> dict[str, Any]:
    """Synchronous entry point for the other bench scripts."""
    run = asyncio.run(run_load(url, shoppers, duration, conversations, options))
    return summarise(run, label, shoppers, options)


def main(argv: list[str] | None = None) -> int:
    """Command line; exit code 1 if any turn failed."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="Rasa server, e.g. http://127.0.0.1:5005")
    parser.add_argument("--shoppers", type=int, default=20)
    parser.add_argument("--duration", type=float, help="seconds (default 60)")
    parser.add_argument("--conversations", type=int, help="stop after this many conversations")
    parser.add_argument(
        "--think",
        type=float,
        default=Options.think,
        help="mean seconds before each message (0: saturate)",
    )
    parser.add_argument(
        "--quiet",
        type=float,
        default=Options.quiet,
        help="seconds without a bot message that end a turn",
    )
    parser.add_argument("--timeout", type=float, default=Options.timeout)
    parser.add_argument(
        "--ramp", type=float, default=0.0, help="shoppers start within this many seconds"
    )
    parser.add_argument("--no-intro", action="store_true", help="skip the /session_start turn")
    parser.add_argument("--label", default="load")
    parser.add_argument("--json", type=Path, default=OUT_DIR / "load.json")
    parser.add_argument("--markdown", type=Path, default=OUT_DIR / "load.md")
    args = parser.parse_args(argv)
    duration = args.duration if args.duration or args.conversations else 60.0
    options = Options(think=args.think, quiet=args.quiet, timeout=args.timeout,
                      intro=not args.no_intro, ramp=args.ramp)  # fmt: skip
    summary = measure(args.url.rstrip("/"), args.shoppers, duration, args.conversations,
                      options, args.label)  # fmt: skip
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    table = markdown([summary])
    args.markdown.write_text(table)
    print(table)
    failures = summary["errors"] + summary["timeouts"] + summary["unexpected"]
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
