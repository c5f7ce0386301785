"""What the agent reads of the shopper's conversation with the bot before the handover."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import ActionExecuted, BotUttered, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handover.rasa_bridge import RasaBridge, bot_lines

T0 = 1_780_000_000.0
OFFER = [
    {"title": "Ja, koppla mig", "payload": "/human_handoff"},
    {"title": "Nej tack", "payload": "/deny"},
]


def events() -> list:
    return [
        UserUttered("min order är sen", timestamp=T0),
        BotUttered("Vill du prata med en person?", data={"buttons": OFFER}, timestamp=T0 + 1),
        ActionExecuted("action_listen", timestamp=T0 + 2),
        UserUttered("/human_handoff", timestamp=T0 + 3),
        BotUttered("Gäller det en order?", timestamp=T0 + 4),
        UserUttered("/affirm", timestamp=T0 + 5),
        UserUttered("/deny", timestamp=T0 + 500),  # after the handover
    ]


def test_a_pressed_button_reads_as_the_title_the_shopper_saw() -> None:
    lines = bot_lines(events(), before=T0 + 100)
    assert [(line["sender"], line["text"]) for line in lines] == [
        ("shopper", "min order är sen"),
        ("bot", "Vill du prata med en person?"),
        ("shopper", "Ja, koppla mig"),
        ("bot", "Gäller det en order?"),
        # no button of this payload was offered: the console labels it ("Yes (button)")
        ("shopper", "/affirm"),
    ]
    assert [line.get("payload") for line in lines] == [
        None,
        None,
        "/human_handoff",
        None,
        "/affirm",
    ]


def test_what_the_shopper_typed_is_never_taken_for_a_button() -> None:
    typed = [
        BotUttered("Vill du prata med en person?", data={"buttons": OFFER}, timestamp=T0),
        UserUttered("Ja, koppla mig", timestamp=T0 + 1),
    ]
    assert bot_lines(typed) == [
        {"sender": "bot", "text": "Vill du prata med en person?", "timestamp": T0},
        {"sender": "shopper", "text": "Ja, koppla mig", "timestamp": T0 + 1},
    ]


async def test_the_bridge_reads_them_from_the_tracker_store() -> None:
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(DialogueStateTracker.from_events("conv-1", events()))
    bridge = RasaBridge(SimpleNamespace(agent=SimpleNamespace(tracker_store=store)))  # type: ignore[arg-type]
    lines = await bridge.bot_conversation("conv-1", before=T0 + 100)
    assert [line["text"] for line in lines][2] == "Ja, koppla mig"
    assert await bridge.bot_conversation("nobody") == []
