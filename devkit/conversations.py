"""Whole shopper conversations: the file format, playing them over the web chat, judging.

Shared by `bench/conversations.py` (the shared evaluation file, `make bench-conversations`)
and `tests/conversations/` (our own conversations, run by `make test`), so that both judge
a turn by the same rules; bench/conversations.py's docstring states them.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

from devkit.shopper import Options, Shopper

ROOT = Path(__file__).resolve().parents[1]
FALLBACK_DOMAIN = ROOT / "domain" / "fallback.yml"

# Agents must be available whenever the runner runs, and one runner opens many sessions
# from one address in quick succession: budgets far above that (unknown names are ignored
# by channels that have no such budget).
STACK_SETTINGS: dict[str, str] = {
    "HANDOVER_OPENING_HOURS": "mon-sun 00:00-24:00",
    "HANDOVER_TIMEZONE": "UTC",
    "WEBCHAT_RATE_LIMIT": "10000/1",
    "WEBCHAT_SOCKET_RATE_LIMIT": "10000/60",
    "WEBCHAT_ADDRESS_RATE_LIMIT": "100000/60",
    "WEBCHAT_SOCKET_SESSION_LIMIT": "10000/60",
    "WEBCHAT_ADDRESS_SESSION_LIMIT": "100000/600",
}


class ConversationFileError(ValueError):
    """The conversations file does not have the shape described above."""


Expectation = str | tuple[str, ...]


@dataclass(frozen=True)
class Turn:
    shopper: str
    expect_any: tuple[Expectation, ...] = ()
    expect_none: tuple[str, ...] = ()


@dataclass(frozen=True)
class Conversation:
    name: str
    turns: tuple[Turn, ...]
    source: str = ""
    # The page's language hint the widget sends at session start (None: no hint, the
    # conversation starts in English and the shopper's own words may switch it).
    language: str | None = None


def _expectation(entry: Any, where: str) -> Expectation:
    if isinstance(entry, str):
        return entry.lower()
    if isinstance(entry, list) and entry and all(isinstance(e, str) for e in entry):
        return tuple(e.lower() for e in entry)
    raise ConversationFileError(f"{where}: expect_any entries are strings or lists of strings")


def parse_conversations(data: Any, source: str = "") -> list[Conversation]:
    """Validate and convert a loaded conversations file; errors name the conversation."""
    if not isinstance(data, list):
        raise ConversationFileError(f"{source}: expected a list of conversations")
    conversations = []
    for index, item in enumerate(data):
        where = f"{source} conversation {index + 1}"
        if not isinstance(item, dict) or not isinstance(item.get("turns"), list):
            raise ConversationFileError(f"{where}: needs `name` and a list of `turns`")
        name = str(item.get("name") or f"conversation {index + 1}")
        where = f"{source} {name!r}"
        language = item.get("language")
        if language is not None and (not isinstance(language, str) or not language.strip()):
            raise ConversationFileError(f"{where}: `language` is a language code such as sv")
        turns = []
        for number, raw in enumerate(item["turns"], 1):
            if not isinstance(raw, dict) or not isinstance(raw.get("shopper"), str):
                raise ConversationFileError(f"{where} turn {number}: needs a `shopper` text")
            unknown = set(raw) - {"shopper", "expect_any", "expect_none"}
            if unknown:
                raise ConversationFileError(
                    f"{where} turn {number}: unknown keys {sorted(unknown)}"
                )
            any_of = raw.get("expect_any") or []
            none_of = raw.get("expect_none") or []
            if not isinstance(any_of, list) or not isinstance(none_of, list):
                raise ConversationFileError(f"{where} turn {number}: expectations are lists")
            if not all(isinstance(e, str) for e in none_of):
                raise ConversationFileError(f"{where} turn {number}: expect_none holds strings")
            turns.append(
                Turn(
                    raw["shopper"],
                    tuple(_expectation(e, f"{where} turn {number}") for e in any_of),
                    tuple(e.lower() for e in none_of),
                )
            )
        if not turns:
            raise ConversationFileError(f"{where}: has no turns")
        conversations.append(
            Conversation(name, tuple(turns), source, language.strip() if language else None)
        )
    return conversations


def load_conversations(path: Path) -> list[Conversation]:
    return parse_conversations(yaml.safe_load(path.read_text(encoding="utf-8")), str(path))


def reply_text(messages: Sequence[Any]) -> str:
    """What a turn said: every message's text and button titles, lower-cased."""
    parts: list[str] = []
    for message in messages:
        if not isinstance(message, dict):
            continue
        if message.get("text"):
            parts.append(str(message["text"]))
        for button in message.get("quick_replies") or message.get("buttons") or []:
            if isinstance(button, dict) and button.get("title"):
                parts.append(str(button["title"]))
    return "\n".join(parts).lower()


def judge(turn: Turn, text: str) -> str | None:
    """None when the turn passes, else why it failed."""
    if not text:
        return "no reply"
    for unwanted in turn.expect_none:
        if unwanted in text:
            return f"says {unwanted!r}"
    if not turn.expect_any:
        return None
    for entry in turn.expect_any:
        wanted = (entry,) if isinstance(entry, str) else entry
        if all(w in text for w in wanted):
            return None
    return "none of " + json.dumps([e if isinstance(e, str) else list(e) for e in turn.expect_any])


def fallback_markers(domain_file: Path = FALLBACK_DOMAIN) -> tuple[str, ...]:
    """The texts of utter_default, lower-cased: a turn containing one is a fallback."""
    domain = yaml.safe_load(domain_file.read_text(encoding="utf-8")) or {}
    variants = (domain.get("responses") or {}).get("utter_default") or []
    markers = tuple(str(v["text"]).strip().lower() for v in variants if v.get("text"))
    return markers or ("lost the thread",)


def is_fallback(text: str, markers: Sequence[str]) -> bool:
    return any(marker in text for marker in markers)


@dataclass
class TurnResult:
    shopper: str
    reply: str
    failure: str | None
    fallback: bool
    latency_ms: float


@dataclass
class ConversationResult:
    name: str
    source: str
    turns: list[TurnResult] = field(default_factory=list)
    error: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(t.failure is None for t in self.turns)


async def play(
    url: str, conversation: Conversation, options: Options, markers: Sequence[str]
) -> ConversationResult:
    """One conversation on a fresh connection and session."""
    result = ConversationResult(conversation.name, conversation.source)
    if conversation.language is not None:
        options = replace(options, language=conversation.language)
    shopper = Shopper(url, options)
    try:
        await shopper.open()
        for turn in conversation.turns:
            outcome, ms, got = await shopper.turn(turn.shopper, None)
            text = reply_text(got)
            failure = judge(turn, text)
            if outcome not in ("ok", "unexpected"):
                failure = f"{outcome}; " + (failure or "")
            result.turns.append(
                TurnResult(turn.shopper, text, failure, is_fallback(text, markers), ms)
            )
    except Exception as error:  # a dropped connection fails this conversation only
        result.error = f"{type(error).__name__}: {error}"
    finally:
        await shopper.close()
    return result


async def play_all(
    url: str, conversations: Sequence[Conversation], options: Options, concurrency: int = 1
) -> list[ConversationResult]:
    """Conversations a few at a time (1: one after another), results in file order."""
    markers = fallback_markers()
    gate = asyncio.Semaphore(max(1, concurrency))

    async def one(conversation: Conversation) -> ConversationResult:
        async with gate:
            return await play(url, conversation, options, markers)

    return list(await asyncio.gather(*(one(c) for c in conversations)))


def summarise(results: Sequence[ConversationResult]) -> dict[str, Any]:
    turns = [t for r in results for t in r.turns]
    fallbacks = sum(t.fallback for t in turns)
    passed = sum(r.passed for r in results)
    return {
        "conversations": len(results),
        "passed": passed,
        "pass_rate": round(100 * passed / len(results), 1) if results else 0.0,
        "turns": len(turns),
        "failed_turns": sum(t.failure is not None for t in turns),
        "fallbacks": fallbacks,
        "fallbacks_per_100_turns": round(100 * fallbacks / len(turns), 2) if turns else 0.0,
        "results": [
            {**asdict(r), "passed": r.passed, "turns": [asdict(t) for t in r.turns]}
            for r in results
        ],
    }


def report(summary: dict[str, Any]) -> str:
    """Pass rate, every failing turn with the shopper's message and the bot's reply, fallbacks."""
    lines = []
    for result in summary["results"]:
        if result["passed"]:
            continue
        lines.append(f"FAIL {result['name']}")
        if result["error"]:
            lines.append(f"  error: {result['error']}")
        for number, turn in enumerate(result["turns"], 1):
            if turn["failure"] is None:
                continue
            reply = turn["reply"].replace("\n", " | ")
            lines.append(f"  turn {number}: shopper: {turn['shopper']}")
            lines.append(f"          bot: {reply}")
            lines.append(f"          why: {turn['failure']}")
    lines.append(
        f"passed {summary['passed']}/{summary['conversations']} conversations "
        f"({summary['pass_rate']}%), {summary['failed_turns']} of {summary['turns']} turns failed"
    )
    lines.append(
        f"fallback (lost the thread) in {summary['fallbacks']} of {summary['turns']} "
        f"shopper turns: {summary['fallbacks_per_100_turns']} per 100 turns"
    )
    return "\n".join(lines)
