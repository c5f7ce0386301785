"""One retention run: guard, schema, optional agent prune, roll-up, prune, summary.

The order is the point: statistics for a day are committed before the first event of
that day is deleted, so an interrupted run loses nothing and the next run resumes.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy.engine import Engine

from retention.guard import run_lock
from retention.prune import DEFAULT_BATCH_SIZE, prune, prune_agent_conversations
from retention.schema import check_events_table, ensure_schema
from retention.stats import rollup


@dataclass(frozen=True)
class RunOptions:
    """What the operator asked for; cutoffs are UTC midnights (see retention.clock)."""

    cutoff: dt.datetime
    days: int
    batch_size: int = DEFAULT_BATCH_SIZE
    dry_run: bool = False
    agent_cutoff: dt.datetime | None = None
    agent_days: int | None = None


def run(engine: Engine, options: RunOptions) -> dict[str, Any]:
    """Execute the job and return the summary (no ids or texts, only counts and dates)."""
    started = time.monotonic()
    with engine.connect() as conn:
        check_events_table(conn)
    cutoff = options.cutoff.timestamp()
    summary: dict[str, Any] = {
        "status": "ok",
        "dry_run": options.dry_run,
        "database": engine.dialect.name,
        "days": options.days,
        "cutoff": options.cutoff.isoformat(),
    }
    if options.dry_run:
        summary.update(_run_steps(engine, options, cutoff, guard="none (dry run)"))
    else:
        with run_lock(engine) as guard:
            summary.update(_run_steps(engine, options, cutoff, guard=guard))
    summary["seconds"] = round(time.monotonic() - started, 3)
    return summary


def _run_steps(engine: Engine, options: RunOptions, cutoff: float, guard: str) -> dict[str, Any]:
    index_created = False if options.dry_run else ensure_schema(engine)
    agent: dict[str, Any] | None = None
    if options.agent_cutoff is not None:
        agent_result = prune_agent_conversations(
            engine,
            options.agent_cutoff.timestamp(),
            batch_size=options.batch_size,
            dry_run=options.dry_run,
        )
        agent = {
            "status": agent_result.status,
            "agent_days": options.agent_days,
            "cutoff": options.agent_cutoff.isoformat(),
            "requests_deleted": agent_result.requests_deleted,
            "messages_deleted": agent_result.messages_deleted,
        }
    rolled = rollup(engine, cutoff, dry_run=options.dry_run)
    pruned = prune(engine, cutoff, batch_size=options.batch_size, dry_run=options.dry_run)
    return {
        "events_deleted": pruned.events_deleted,
        "conversations_deleted": pruned.conversations_deleted,
        "conversations_trimmed": pruned.conversations_trimmed,
        "agent_conversations_kept": pruned.agent_conversations_kept,
        "days_rolled_up": len(rolled.days),
        "first_day_rolled_up": rolled.days[0].isoformat() if rolled.days else None,
        "last_day_rolled_up": rolled.days[-1].isoformat() if rolled.days else None,
        "days_already_rolled_up": rolled.skipped_existing,
        "batches": pruned.batches,
        "batch_size": options.batch_size,
        "index_created": index_created,
        "guard": guard,
        "agent": agent,
    }
