"""Command line: `python -m insights report` and `python -m insights questions`.

Both read the tracker store exactly like the retention job (--db-url, or tracker_store in
endpoints.yml with environment variables) and share its exit codes: 0 ok, 2 bad
configuration or arguments, 3 database error. Each prints one JSON summary line.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from retention.cli import EXIT_CONFIG, EXIT_DATABASE, EXIT_OK
from retention.clock import utc_now
from retention.config import DEFAULT_ENDPOINTS, ConfigError, make_engine, url_from_endpoints
from retention.schema import MissingEventsTable, check_events_table

DEFAULT_OUT = Path("insights/out")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {value}") from exc


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def _unit_interval(value: str) -> float:
    number = float(value)
    if not 0.0 <= number <= 1.0:
        raise argparse.ArgumentTypeError("must be between 0 and 1")
    return number


def build_parser() -> argparse.ArgumentParser:
    """Two subcommands sharing the database options."""
    database = argparse.ArgumentParser(add_help=False)
    database.add_argument("--endpoints", type=Path, default=DEFAULT_ENDPOINTS)
    database.add_argument("--db-url", help="SQLAlchemy URL of the tracker store")
    parser = argparse.ArgumentParser(prog="python -m insights")
    commands = parser.add_subparsers(dest="command", required=True)

    report = commands.add_parser(
        "report", parents=[database], help="statistics report (Markdown, JSON, PNG)"
    )
    report.add_argument("--since", type=_date, help="first day, YYYY-MM-DD (UTC)")
    report.add_argument("--until", type=_date, help="last day, YYYY-MM-DD (default today)")
    report.add_argument(
        "--days", type=_positive, default=30, help="last N days incl. today (default 30)"
    )
    report.add_argument("--out", type=Path, default=DEFAULT_OUT, help="output directory")

    questions = commands.add_parser(
        "questions", parents=[database], help="redacted recent shopper messages as CSV"
    )
    questions.add_argument("--days", type=_positive, default=7, help="look back N days")
    questions.add_argument("--only-fallback", action="store_true", help="only nlu_fallback")
    questions.add_argument(
        "--max-confidence", type=_unit_interval, help="only intent confidence <= X"
    )
    questions.add_argument(
        "--include-payloads", action="store_true", help="keep button payloads like /affirm"
    )
    questions.add_argument(
        "--comments",
        action="store_true",
        help="add shoppers' rating comments (redacted) as rows of intent (rating comment)",
    )
    questions.add_argument("--limit", type=_positive, help="at most N rows")
    questions.add_argument(
        "--out", type=Path, default=DEFAULT_OUT / "questions.csv", help="CSV file, or - for stdout"
    )
    return parser


def _emit(payload: dict[str, Any], stream: Any = None) -> None:
    print(json.dumps(payload), file=stream or sys.stdout, flush=True)


def _report(engine: Engine, args: argparse.Namespace, today: dt.date) -> dict[str, Any]:
    from insights.report import build_report, write_report

    until = args.until or today
    since = args.since or until - dt.timedelta(days=args.days - 1)
    if since > until:
        raise ConfigError("--since is after --until")
    report = build_report(engine, since, until)
    paths = write_report(report, args.out)
    return {
        "status": "ok",
        "command": "report",
        "since": since.isoformat(),
        "until": until.isoformat(),
        "days": len(report.days),
        "files": {kind: str(path) for kind, path in paths.items()},
    }


def _questions(engine: Engine, args: argparse.Namespace, now: dt.datetime) -> dict[str, Any]:
    from insights.questions import recent_questions, write_csv

    rows = recent_questions(
        engine,
        since=(now - dt.timedelta(days=args.days)).timestamp(),
        only_fallback=args.only_fallback,
        max_confidence=args.max_confidence,
        include_payloads=args.include_payloads,
        limit=args.limit,
        include_comments=args.comments,
    )
    if str(args.out) == "-":
        count = write_csv(rows, sys.stdout)
    else:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        with open(args.out, "w", encoding="utf-8", newline="") as out:
            count = write_csv(rows, out)
    return {"status": "ok", "command": "questions", "rows": count, "out": str(args.out)}


def main(argv: Sequence[str] | None = None, now: Callable[[], dt.datetime] = utc_now) -> int:
    """Run a subcommand; returns the exit code."""
    args = build_parser().parse_args(argv)
    summary_stream = sys.stderr if getattr(args, "out", None) == Path("-") else sys.stdout
    current = now()

    def fail(code: int, kind: str, message: str) -> int:
        line = (message.strip().splitlines() or [kind])[0]
        print(f"insights: {kind}: {line}", file=sys.stderr)
        _emit(
            {"status": "error", "error": kind, "message": line, "exit_code": code}, summary_stream
        )
        return code

    try:
        engine = make_engine(args.db_url or url_from_endpoints(args.endpoints))
    except ConfigError as exc:
        return fail(EXIT_CONFIG, "configuration", str(exc))
    try:
        with engine.connect() as conn:
            check_events_table(conn)
        if args.command == "report":
            summary = _report(engine, args, current.astimezone(dt.timezone.utc).date())
        else:
            summary = _questions(engine, args, current)
    except (ConfigError, MissingEventsTable) as exc:
        return fail(EXIT_CONFIG, "configuration", str(exc))
    except SQLAlchemyError as exc:
        return fail(EXIT_DATABASE, "database", str(getattr(exc, "orig", None) or exc))
    finally:
        engine.dispose()
    _emit(summary, summary_stream)
    return EXIT_OK
