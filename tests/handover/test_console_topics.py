"""The console names every topic a request can carry in words, not as an intent name."""

from __future__ import annotations

import re
from pathlib import Path

from rasa.shared.core.constants import DEFAULT_INTENTS
from rasa.shared.core.domain import Domain

from actions.handover import NO_TOPIC

ROOT = Path(__file__).resolve().parents[2]


def console_topic_labels() -> set[str]:
    source = (ROOT / "webchat" / "agent.js").read_text(encoding="utf-8")
    block = source.split("var TOPIC_LABELS = {", 1)[1].split("};", 1)[0]
    return set(re.findall(r"(\w+):\s*\"", block))


def test_every_topic_the_bot_can_record_has_a_label() -> None:
    intents = set(Domain.load(str(ROOT / "domain")).intents)
    # topic_of() records the intent of the shopper's last question, "general" without one;
    # the complaint and erasure flows record their own kinds.
    topics = (intents - NO_TOPIC - set(DEFAULT_INTENTS)) | {"general", "complaint", "erasure"}
    missing = topics - console_topic_labels()
    assert not missing, f"webchat/agent.js TOPIC_LABELS lacks {sorted(missing)}"
