"""`python -m services [--host H] [--port P] [--db PATH] [--today YYYY-MM-DD] [--mode M]`."""

from __future__ import annotations

import argparse
import logging
from datetime import date
from pathlib import Path

from aiohttp import web

from services.app import MODES, create_app

DEFAULT_DB = Path(__file__).resolve().parent / "reference.db"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument(
        "--db",
        default=str(DEFAULT_DB),
        help="SQLite file, rebuilt on every start (':memory:' for none)",
    )
    parser.add_argument(
        "--today",
        type=date.fromisoformat,
        default=None,
        help="pin the reference date of the demo data (default: today)",
    )
    parser.add_argument(
        "--mode",
        choices=MODES,
        default="demo",
        help="development and demo serve GET /outbox (default: demo)",
    )
    parser.add_argument("--access-log", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    app = create_app(args.db, args.today, args.mode)
    web.run_app(
        app,
        host=args.host,
        port=args.port,
        access_log=logging.getLogger("aiohttp.access") if args.access_log else None,
        print=lambda msg: logging.getLogger("services").info(msg.strip()),
    )


if __name__ == "__main__":
    main()
