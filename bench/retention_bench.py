"""Retention volume benchmark: generate a large tracker store, prune it, measure.

    .venv/bin/python bench/retention_bench.py                       # 250k and 1M, both DBs
    .venv/bin/python bench/retention_bench.py --sizes 1000000 --backends sqlite

For every backend and size it writes a store of N Rasa-shaped events spread evenly over
180 days (so about half are older than the 90-day cutoff), then runs the real job,
`python -m retention`, in a child process and records its wall time and peak RSS (VmHWM);
with --tracemalloc the child also reports its peak Python heap (tracing inflates RSS and
time, so read RSS from a run without it). If memory is flat, the 1M run's peak matches
the small run's. Results go to bench/out/retention-<timestamp>.json plus a Markdown
table on stdout. PostgreSQL runs in a throw-away database on the server named by
TEST_POSTGRES_URL (default postgresql://postgres@127.0.0.1:5432/test).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devkit.databases import postgres_admin_url, throwaway_postgres  # noqa: E402

OUT = ROOT / "bench" / "out"
DAY = 86_400.0
SPAN_DAYS = 180
CHUNK = 50_000


def _templates() -> list[list[tuple[str, str | None, str | None, str]]]:
    """Conversations of real Rasa events, serialised once with a timestamp placeholder."""
    from rasa.shared.core.events import (
        ActionExecuted,
        BotUttered,
        ConversationPaused,
        SessionStarted,
        UserUttered,
    )

    def user(text: str, intent: str, conf: float) -> UserUttered:
        return UserUttered(text, intent={"name": intent, "confidence": conf}, timestamp=0.0)

    def act(name: str) -> ActionExecuted:
        return ActionExecuted(name, policy="RulePolicy", confidence=1.0, timestamp=0.0)

    start = [act("action_session_start"), SessionStarted(timestamp=0.0), act("action_listen")]
    turn = [
        act("utter_order_status"),
        BotUttered("It is on its way.", timestamp=0.0),
        act("action_listen"),
    ]
    kinds = [
        [
            *start,
            user("where is my order", "order_status", 0.95),
            *turn,
            user("thanks", "thank", 0.99),
            *turn,
        ],
        [*start, user("blorp", "nlu_fallback", 0.2), act("action_default_fallback"), *turn],
        [
            *start,
            user("I want a human", "request_agent", 0.9),
            act("action_join_queue"),
            ConversationPaused(timestamp=0.0),
            user("hello?", "greet", 0.8),
        ],
    ]
    out = []
    for events in kinds:
        rows = []
        for e in events:
            data = e.as_dict()
            intent = data.get("parse_data", {}).get("intent", {}).get("name")
            rows.append(
                (
                    e.type_name,
                    intent,
                    data.get("name"),
                    json.dumps(data).replace('"timestamp": 0.0', '"timestamp": %TS%'),
                )
            )
        out.append(rows)
    return out


def generate_rows(n: int, now: float, seed: int = 7) -> Iterator[tuple[Any, ...]]:
    """N event rows (sender, type, ts, intent, action, data), oldest conversations first."""
    rng = random.Random(seed)
    templates = _templates()
    start = now - SPAN_DAYS * DAY
    produced = 0
    conversations = n // 10 + 1
    step = SPAN_DAYS * DAY / conversations
    i = 0
    while produced < n:
        sender = uuid.UUID(int=rng.getrandbits(128)).hex
        t = start + i * step
        i += 1
        for k, (type_name, intent, action, data) in enumerate(rng.choice(templates)):
            if produced >= n:
                return
            ts = t + k
            yield (sender, type_name, ts, intent, action, data.replace("%TS%", repr(ts)))
            produced += 1


def create_schema(url: str) -> None:
    """Rasa's own SQLTrackerStore creates `events`, exactly as in production."""
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from rasa.core.tracker_store import SQLTrackerStore

        SQLTrackerStore(host=url).engine.dispose()


def load_sqlite(url: str, n: int, now: float) -> None:
    import sqlite3

    conn = sqlite3.connect(sa.engine.make_url(url).database or "")
    rows = generate_rows(n, now)
    sql = (
        "INSERT INTO events (sender_id, type_name, timestamp, intent_name, action_name, data)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )
    while True:
        chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
        if not chunk:
            break
        conn.executemany(sql, chunk)
        conn.commit()
    conn.close()


def load_postgres(url: str, n: int, now: float) -> None:
    import psycopg2

    conn = psycopg2.connect(url)
    rows = generate_rows(n, now)

    def esc(v: Any) -> str:
        if v is None:
            return "\\N"
        return str(v).replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n")

    with conn, conn.cursor() as cur:
        while True:
            chunk = [r for _, r in zip(range(CHUNK), rows, strict=False)]
            if not chunk:
                break
            buf = io.StringIO("".join("\t".join(esc(v) for v in r) + "\n" for r in chunk))
            cur.copy_expert(
                "COPY events (sender_id, type_name, timestamp, intent_name, action_name, data)"
                " FROM STDIN",
                buf,
            )
        cur.execute("ANALYZE events")
    conn.close()


CHILD = """
import json, sys, tracemalloc
trace = sys.argv.pop(1) == "trace"
if trace:
    tracemalloc.start()
from retention.cli import main
code = main(sys.argv[1:])
peak = tracemalloc.get_traced_memory()[1] if trace else None
with open("/proc/self/status") as status:
    hwm = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:"))
print(json.dumps({"vm_hwm_kib": hwm, "tracemalloc_peak": peak}), file=sys.stderr)
"""


def measure(url: str, batch_size: int, trace: bool = False) -> dict[str, Any]:
    """Run the job in a fresh child process: wall time and its peak RSS.

    The peak is the child's own VmHWM, read by the child itself: wait4's ru_maxrss would
    report the benchmark's (forked) memory, because Linux carries it across exec. With
    `trace` the child also runs under tracemalloc and reports its peak Python heap;
    tracing inflates RSS and time, so read RSS from a run without it.
    """
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        started = time.monotonic()
        proc = subprocess.run(
            [
                sys.executable,
                "-c",
                CHILD,
                "trace" if trace else "plain",
                "--db-url",
                url,
                "--batch-size",
                str(batch_size),
            ],
            cwd=ROOT,
            env={**os.environ, "PYTHONPATH": str(ROOT)},
            stdout=out,
            stderr=err,
            check=False,
        )
        seconds = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        summary = json.loads(out.read().strip().splitlines()[-1])
        child = json.loads(err.read().strip().splitlines()[-1])
    if proc.returncode != 0:
        raise RuntimeError(f"retention failed: {summary}")
    heap = child["tracemalloc_peak"]
    return {
        "seconds": round(seconds, 2),
        "peak_rss_mib": round(child["vm_hwm_kib"] / 1024, 1),
        "tracemalloc_peak_mib": None if heap is None else round(heap / 2**20, 2),
        "events_deleted": summary["events_deleted"],
        "conversations_deleted": summary["conversations_deleted"],
        "days_rolled_up": summary["days_rolled_up"],
        "batches": summary["batches"],
    }


def bench_sqlite(n: int, batch_size: int, workdir: Path, trace: bool) -> dict[str, Any]:
    path = workdir / f"bench-{n}.db"
    path.unlink(missing_ok=True)
    url = f"sqlite:///{path}"
    create_schema(url)
    t = time.monotonic()
    load_sqlite(url, n, time.time())
    load_seconds = time.monotonic() - t
    result = measure(url, batch_size, trace)
    path.unlink(missing_ok=True)
    Path(f"{path}.retention-lock").unlink(missing_ok=True)
    return {"backend": "sqlite", "events": n, "load_seconds": round(load_seconds, 1), **result}


def bench_postgres(n: int, batch_size: int, admin_url: str, trace: bool) -> dict[str, Any]:
    with throwaway_postgres("retention_bench", admin_url) as url:
        create_schema(url)
        t = time.monotonic()
        load_postgres(url, n, time.time())
        load_seconds = time.monotonic() - t
        result = measure(url, batch_size, trace)
    return {"backend": "postgresql", "events": n, "load_seconds": round(load_seconds, 1), **result}


def markdown(results: list[dict[str, Any]]) -> str:
    head = (
        "| Backend | Events | Deleted | Days rolled up | Batches | Prune time (s) "
        "| Peak RSS (MiB) | Peak Python heap (MiB) |"
    )
    lines = [head, "|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in results:
        lines.append(
            f"| {r['backend']} | {r['events']:,} | {r['events_deleted']:,} | "
            f"{r['days_rolled_up']} | {r['batches']} | {r['seconds']} | {r['peak_rss_mib']} | "
            f"{r['tracemalloc_peak_mib'] or '-'} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--sizes",
        default="250000,1000000",
        help="comma-separated event counts (default 250000,1000000)",
    )
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--batch-size", type=int, default=5_000)
    parser.add_argument("--pg-url", default=postgres_admin_url())
    parser.add_argument("--workdir", type=Path, default=OUT)
    parser.add_argument(
        "--tracemalloc", action="store_true", help="report the peak Python heap instead of RSS"
    )
    args = parser.parse_args(argv)
    OUT.mkdir(parents=True, exist_ok=True)
    args.workdir.mkdir(parents=True, exist_ok=True)
    results = []
    for backend in args.backends.split(","):
        for n in (int(s) for s in args.sizes.split(",")):
            print(f"# {backend} {n:,} events ...", file=sys.stderr, flush=True)
            if backend == "sqlite":
                results.append(bench_sqlite(n, args.batch_size, args.workdir, args.tracemalloc))
            else:
                results.append(bench_postgres(n, args.batch_size, args.pg_url, args.tracemalloc))
            print(json.dumps(results[-1]), file=sys.stderr, flush=True)
    stamp = dt.datetime.now(dt.timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    target = OUT / f"retention-{stamp}.json"
    target.write_text(json.dumps({"batch_size": args.batch_size, "results": results}, indent=2))
    print(markdown(results))
    print(f"\nresults: {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
