"""Throughput of 1 versus 2 Sanic workers on PostgreSQL + Redis, 200 concurrent conversations.

Both runs use the production storage switched on by environment variables alone: a
throw-away PostgreSQL database as tracker store (and handover store), the Redis lock
store and the socket.io Redis client manager. Only SANIC_WORKERS differs, so the
difference is what a second worker buys on this machine. All 200 conversations are open
at the same time; shoppers start within 30 s and think ~10 s before each message.
Then, on the same stack, capacity: 20 shoppers without think time for 45 s.
Afterwards the tracker store is checked: every shopper message stored exactly once.

    .venv/bin/python bench/scale.py                       # newest model, 200 conversations
    .venv/bin/python bench/scale.py --conversations 400 --workers 1 2 4

Writes bench/out/scale.json and scale.md. TEST_POSTGRES_URL and TEST_REDIS_URL (defaults
postgres@127.0.0.1:5432/test and redis://127.0.0.1:6379/0) name the servers.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import redis
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402 - needs ROOT on sys.path
from devkit import servers  # noqa: E402 - needs ROOT on sys.path
from devkit.databases import postgres_admin_url, throwaway_postgres  # noqa: E402
from devkit.stack import redis_settings, running_stack  # noqa: E402 - needs ROOT on sys.path

OUT = ROOT / "bench" / "out"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# 200 shoppers starting within 30 s and thinking ~10 s per message offer ~7 messages/s.
# All at once (think 0) the queue on each worker's event loop delays engine.io pings
# past their 45 s limit and connections drop (see bench/load.py): that measures the
# overload, not the capacity.
RAMP = 30.0
THINK = 10.0
CAPACITY_SHOPPERS = 20
CAPACITY_SECONDS = 45.0


def stored_user_messages(database_url: str) -> dict[str, int]:
    """User events per conversation in the tracker store."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT sender_id, count(*) FROM events WHERE type_name = 'user' "
                        "GROUP BY sender_id")
            ).fetchall()  # fmt: skip
    finally:
        engine.dispose()
    return {str(sender): int(count) for sender, count in rows}


def one_run(
    model: Path, workers: int, conversations: int, pg_url: str, redis_url: str
) -> dict[str, Any]:
    """Start a stack with `workers` workers, run the conversations, check the database."""
    options = load.Options(think=THINK, quiet=0.25, timeout=120.0, intro=True, ramp=RAMP)
    prefix = f"scalebench{uuid.uuid4().hex[:8]}"
    with throwaway_postgres("scale_bench", pg_url) as database_url:
        settings = {**redis_settings(redis_url, prefix), "DATABASE_URL": database_url,
                    "SANIC_WORKERS": str(workers), "SANIC_BACKLOG": "1024"}  # fmt: skip
        print(f"[scale] {workers} worker(s): starting the stack", flush=True)
        with running_stack(model, settings) as stack:
            print(f"[scale] {workers} worker(s): {conversations} conversations", flush=True)
            measured = asyncio.run(
                load.run_load(stack.url, conversations, None, conversations, options)
            )
            # Counted while Rasa still runs: a message that timed out on the client may
            # still be in work, and stopping the server would lose it, not the harness.
            time.sleep(5)
            stored = stored_user_messages(database_url)
            # Capacity: a few shoppers who never pause keep every worker busy without
            # queueing hundreds of messages (which would drop websockets, see load.py).
            print(
                f"[scale] {workers} worker(s): capacity, {CAPACITY_SHOPPERS} shoppers "
                f"without think time, {CAPACITY_SECONDS:.0f} s",
                flush=True,
            )
            capacity_options = load.Options(think=0.0, quiet=0.25, timeout=60.0, intro=True)
            capacity = asyncio.run(
                load.run_load(
                    stack.url, CAPACITY_SHOPPERS, CAPACITY_SECONDS, None, capacity_options
                )
            )
        summary = load.summarise(measured, f"{workers} worker(s)", conversations, options)
    mismatched = {
        s: (n, stored.get(s, 0)) for s, n in measured.sent.items() if stored.get(s, 0) != n
    }
    summary["workers"] = workers
    summary["capacity"] = load.summarise(
        capacity, f"{workers} worker(s), capacity", CAPACITY_SHOPPERS, capacity_options
    )
    summary["messages_sent"] = sum(measured.sent.values())
    summary["messages_stored"] = sum(stored.get(s, 0) for s in measured.sent)
    summary["stored_mismatches"] = len(mismatched)
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{prefix}:*"):
        client.delete(key)
    client.close()
    return summary


def markdown(summaries: list[dict[str, Any]]) -> str:
    """The 1-vs-N table, with the stored-exactly-once check beside the figures."""
    lines = [
        "| workers | conversations | turns ok | turns/s | p50 ms | p95 ms | p99 ms "
        "| errors | timeouts | messages sent / stored once |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|",
    ]
    for s in summaries:
        check = "yes" if s["stored_mismatches"] == 0 else f"NO ({s['stored_mismatches']} off)"
        lines.append(
            f"| {s['workers']} | {s['conversations']} | {s['turns_ok']} "
            f"| {s['turns_per_second']:.1f} | {s['p50_ms']:.0f} | {s['p95_ms']:.0f} "
            f"| {s['p99_ms']:.0f} | {s['errors']} | {s['timeouts'] + s['unexpected']} "
            f"| {s['messages_sent']} / {check} |"
        )
    lines += [
        "",
        f"Capacity: {CAPACITY_SHOPPERS} shoppers without think time, "
        f"{CAPACITY_SECONDS:.0f} s, same stack:",
        "",
        "| workers | turns ok | turns/s | p50 ms | p95 ms | errors | timeouts |",
        "|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for s in summaries:
        c = s["capacity"]
        lines.append(
            f"| {s['workers']} | {c['turns_ok']} | {c['turns_per_second']:.1f} "
            f"| {c['p50_ms']:.0f} | {c['p95_ms']:.0f} | {c['errors']} "
            f"| {c['timeouts'] + c['unexpected']} |"
        )
    return "\n".join(lines) + "\n"


def run(model: Path, conversations: int = 200, workers: tuple[int, ...] = (1, 2)) -> dict[str, Any]:
    """Entry point for bench/compare.py: every worker count, one after the other."""
    pg_url = postgres_admin_url()
    redis_url = os.environ.get("TEST_REDIS_URL", DEFAULT_REDIS_URL)
    summaries = [one_run(model, n, conversations, pg_url, redis_url) for n in workers]
    table = markdown(summaries)
    result: dict[str, Any] = {"runs": summaries, "markdown": table}
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "scale.json").write_text(json.dumps(result, indent=2) + "\n")
    (OUT / "scale.md").write_text(table)
    return result


def main(argv: list[str] | None = None) -> int:
    """Command line; exit code 1 if a message was lost, doubled or unanswered."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", type=Path, help="default: devkit find_model()")
    parser.add_argument("--conversations", type=int, default=200)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    args = parser.parse_args(argv)
    model = args.model or Path(servers.find_model())
    result = run(model, args.conversations, tuple(args.workers))
    print(result["markdown"])
    bad = sum(s["stored_mismatches"] + s["errors"] + s["timeouts"] + s["unexpected"]
              for s in result["runs"])  # fmt: skip
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
