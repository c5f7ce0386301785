"""Our own whole conversations (tests/conversations/*.yml), played over the real web chat.

One stack (reference service, action server, Rasa with the trained model, the web chat
channel) serves every conversation; each conversation gets a fresh session and is judged
turn by turn exactly as `make bench-conversations` judges the shared file (the rules are
in bench/conversations.py). A failure lists every failing turn with the shopper's message
and what the bot said.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from devkit.conversations import (
    STACK_SETTINGS,
    Conversation,
    fallback_markers,
    load_conversations,
    play,
)
from devkit.servers import find_model
from devkit.shopper import Options
from devkit.stack import running_stack

pytestmark = pytest.mark.e2e

HERE = Path(__file__).resolve().parent
FILES = sorted(HERE.glob("*.yml"))
CONVERSATIONS = [c for path in FILES for c in load_conversations(path)]


@pytest.fixture(scope="module")
def stack_url() -> Iterator[str]:
    with running_stack(find_model(), STACK_SETTINGS) as stack:
        yield stack.url


def test_the_conversation_files_are_found() -> None:
    assert len(FILES) >= 4 and len(CONVERSATIONS) >= 15


@pytest.mark.parametrize(
    "conversation", CONVERSATIONS, ids=[f"{Path(c.source).stem}: {c.name}" for c in CONVERSATIONS]
)
def test_conversation(stack_url: str, conversation: Conversation) -> None:
    options = Options(quiet=1.0, timeout=30.0, intro=False)
    result = asyncio.run(play(stack_url, conversation, options, fallback_markers()))
    problems = [f"error: {result.error}"] if result.error else []
    for number, turn in enumerate(result.turns, 1):
        if turn.failure is not None:
            problems.append(
                f"turn {number}: shopper: {turn.shopper!r}\n"
                f"    bot: {turn.reply.replace(chr(10), ' | ')!r}\n    why: {turn.failure}"
            )
    assert not problems, f"{conversation.name!r} failed:\n" + "\n".join(problems)
