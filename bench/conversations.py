"""Play whole shopper conversations over the real socket.io web chat channel and judge them.

A conversations file is a YAML list of `{name, turns: [{shopper, expect_any?, expect_none?}]}`.
The rules are the ones the shared file's header states, applied literally:

- every conversation runs in a fresh web chat session (a new connection, a new
  server-issued session); nothing is sent before the first shopper message, so the bot's
  introduction arrives with the first reply and counts as part of that turn;
- a turn's text is everything the bot sends after the shopper's message: each message's
  text and its button titles, joined and lower-cased;
- a turn passes when that text contains at least one entry of `expect_any` (an entry is a
  string, or a list of strings that must all appear) and no entry of `expect_none`; a
  missing `expect_any` accepts any reply, as long as there is one;
- a conversation passes when all its turns pass. Later turns are still played after a
  failing one, so that every failing turn is reported.

A turn ends when no bot message has arrived for `--quiet` seconds after the last one (a
turn may send "let me check" and then the answer; the channel does not mark the last).

The fallback rate counts shopper turns whose reply contains the text of `utter_default`
(what Rasa's `action_default_fallback` utters, read from domain/fallback.yml), per 100
shopper turns.

The stack is started here (devkit.stack.running_stack, the model of `--model`, by
default the one `make train` made) with agents inside opening hours all week and the
web chat's per-socket and per-address message and session budgets set far above what one
runner sends: the runner opens a new session per conversation from one address, faster
than any shopper. `--url` plays against a running stack instead (its budgets are its own).

    .venv/bin/python bench/conversations.py                       # the shared file
    .venv/bin/python bench/conversations.py tests/conversations/orders.yml --url http://...

Writes bench/out/conversations.json (override with --json).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from devkit.conversations import (  # noqa: E402 - needs ROOT on sys.path
    STACK_SETTINGS,
    Conversation,
    Turn,
    load_conversations,
    play_all,
    report,
    summarise,
)
from devkit.shopper import Options  # noqa: E402

OUT_DIR = ROOT / "bench" / "out"
SHARED_FILE = ROOT.parent / "shared" / "eval" / "conversations.yml"
DEFAULT_FILE = Path("/work/shared/eval/conversations.yml")


def load_script_conversations() -> list[Conversation]:
    """bench/load.py's scripted conversations in this format, to count their fallbacks."""
    from bench.load import build_scripts

    return [
        Conversation(
            f"load {number}: {script.topic}",
            tuple(Turn(t.text, (t.expect,) if t.expect else ()) for t in script.turns),
            "bench/load.py",
        )
        for number, script in enumerate(build_scripts(), 1)
    ]


@contextmanager
def stack_url(url: str | None, model: Path | None) -> Iterator[str]:
    """The given URL, or a stack of our own started for the run."""
    if url:
        yield url.rstrip("/")
        return
    from devkit import servers
    from devkit.stack import running_stack

    with running_stack(model or servers.find_model(), STACK_SETTINGS) as stack:
        yield stack.url


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("files", nargs="*", type=Path, help="conversation files (YAML)")
    parser.add_argument(
        "--load-scripts", action="store_true", help="play bench/load.py's scripts instead"
    )
    parser.add_argument("--url", help="a running stack (default: start one)")
    parser.add_argument("--model", type=Path, help="model for the stack (default: make's)")
    parser.add_argument("--quiet", type=float, default=1.0, help="seconds of silence end a turn")
    parser.add_argument("--timeout", type=float, default=30.0)
    parser.add_argument("--concurrency", type=int, default=1)
    parser.add_argument("--json", type=Path, default=OUT_DIR / "conversations.json")
    args = parser.parse_args(argv)
    if args.load_scripts:
        files = [Path("bench/load.py")]
        conversations = load_script_conversations()
    else:
        files = args.files or [SHARED_FILE if SHARED_FILE.is_file() else DEFAULT_FILE]
        conversations = [c for path in files for c in load_conversations(path)]
    options = Options(quiet=args.quiet, timeout=args.timeout, intro=False)
    started = time.perf_counter()
    with stack_url(args.url, args.model) as url:
        results = asyncio.run(play_all(url, conversations, options, args.concurrency))
    summary = summarise(results)
    summary["files"] = [str(f) for f in files]
    summary["seconds"] = round(time.perf_counter() - started, 1)
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(summary, indent=2) + "\n")
    print(report(summary))
    return 0 if summary["passed"] == summary["conversations"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
