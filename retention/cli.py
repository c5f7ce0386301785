"""Command line of the retention job: argument parsing, exit codes, the summary line.

Exit codes (also in the README):
  0  success (including a dry run and a run with nothing to do)
  1  unexpected error (a bug: the traceback goes to stderr)
  2  bad configuration or arguments: nothing was deleted
  3  database unreachable or a database error: nothing after the failing step was deleted
  4  another retention run holds the lock: this run did nothing
"""

from __future__ import annotations

import argparse
import json
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import SQLAlchemyError

from retention.clock import cutoff_for, utc_now
from retention.config import DEFAULT_ENDPOINTS, ConfigError, make_engine, url_from_endpoints
from retention.guard import LockBusy
from retention.job import RunOptions, run
from retention.prune import DEFAULT_BATCH_SIZE
from retention.schema import MissingEventsTable

EXIT_OK = 0
EXIT_UNEXPECTED = 1
EXIT_CONFIG = 2
EXIT_DATABASE = 3
EXIT_LOCKED = 4


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Flags mirror the issue: --days, --dry-run, --batch-size, --agent-days, --db-url."""
    parser = argparse.ArgumentParser(
        prog="python -m retention",
        description=(
            "Roll up PII-free daily statistics, then delete bot-conversation events "
            "older than --days whole UTC days from the Rasa SQL tracker store."
        ),
        epilog=(
            "exit codes: 0 ok, 1 unexpected error, 2 bad configuration or arguments, "
            "3 database unreachable or database error, 4 another run holds the lock"
        ),
    )
    parser.add_argument(
        "--endpoints",
        type=Path,
        default=DEFAULT_ENDPOINTS,
        help="Rasa endpoints file to read tracker_store from (default: endpoints.yml)",
    )
    parser.add_argument(
        "--db-url", help="SQLAlchemy URL of the tracker store (overrides --endpoints)"
    )
    parser.add_argument(
        "--days", type=_positive, default=90, help="keep this many days (default 90)"
    )
    parser.add_argument(
        "--dry-run", action="store_true", help="report what would happen, change nothing"
    )
    parser.add_argument(
        "--batch-size",
        type=_positive,
        default=DEFAULT_BATCH_SIZE,
        help=f"events deleted per transaction (default {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--agent-days",
        type=_positive,
        default=None,
        help="also delete closed agent conversations that ended more than N days ago",
    )
    return parser


def _emit(payload: dict[str, Any]) -> None:
    print(json.dumps(payload, sort_keys=False), flush=True)


def _fail(code: int, kind: str, message: str) -> int:
    first_line = message.strip().splitlines()[0] if message.strip() else kind
    print(f"retention: {kind}: {first_line}", file=sys.stderr)
    _emit({"status": "error", "error": kind, "message": first_line, "exit_code": code})
    return code


def main(argv: Sequence[str] | None = None, now: Callable[[], Any] = utc_now) -> int:
    """Run the job from the command line; returns the process exit code."""
    args = build_parser().parse_args(argv)
    current = now()
    options = RunOptions(
        cutoff=cutoff_for(current, args.days),
        days=args.days,
        batch_size=args.batch_size,
        dry_run=args.dry_run,
        agent_cutoff=cutoff_for(current, args.agent_days) if args.agent_days else None,
        agent_days=args.agent_days,
    )
    try:
        url = args.db_url or url_from_endpoints(args.endpoints)
        engine = make_engine(url)
    except ConfigError as exc:
        return _fail(EXIT_CONFIG, "configuration", str(exc))
    try:
        summary = run(engine, options)
    except MissingEventsTable as exc:
        return _fail(EXIT_CONFIG, "configuration", str(exc))
    except LockBusy as exc:
        return _fail(EXIT_LOCKED, "locked", str(exc))
    except SQLAlchemyError as exc:
        return _fail(EXIT_DATABASE, "database", str(getattr(exc, "orig", None) or exc))
    except Exception as exc:
        traceback.print_exc()
        return _fail(EXIT_UNEXPECTED, "unexpected", repr(exc))
    finally:
        engine.dispose()
    _emit(summary)
    return EXIT_OK
