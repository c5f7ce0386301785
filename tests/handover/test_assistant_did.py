"""Agents see what the assistant already changed in the conversation before the handover."""

from __future__ import annotations

from types import SimpleNamespace

from rasa.core.tracker_store import InMemoryTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from handover.rasa_bridge import RasaBridge, assistant_actions

T0 = 1_780_000_000.0


def events() -> list:
    return [
        UserUttered("cancel order 40012349", timestamp=T0),
        SlotSet("verified_order", "40012349", timestamp=T0 + 1),
        SlotSet("self_service_change", "cancel", timestamp=T0 + 2),
        SlotSet("verified_order", "40012360", timestamp=T0 + 10),
        SlotSet("self_service_unknown", "cancel", timestamp=T0 + 11),
        SlotSet("self_service_change", "cancel", timestamp=T0 + 500),  # after the handover
    ]


def test_changes_done_and_unknown_results_are_listed_for_the_agent() -> None:
    did = assistant_actions(events(), before=T0 + 100)
    assert [(d["result"], d["order_number"]) for d in did] == [
        ("done", "40012349"),
        ("unknown", "40012360"),
    ]
    assert did[0]["text"] == "Cancelled order 40012349"
    assert "result is unknown, please check" in did[1]["text"]


def test_nothing_done_lists_nothing() -> None:
    assert (
        assistant_actions(
            [UserUttered("hi", timestamp=T0), SlotSet("self_service_change", "bogus", timestamp=T0)]
        )
        == []
    )


async def test_the_bridge_reads_them_from_the_tracker_store() -> None:
    store = InMemoryTrackerStore(Domain.empty())
    await store.save(DialogueStateTracker.from_events("conv-1", events()))
    channel = SimpleNamespace(agent=SimpleNamespace(tracker_store=store))
    bridge = RasaBridge(channel)  # type: ignore[arg-type]
    did = await bridge.assistant_did("conv-1", before=T0 + 100)
    assert [d["text"].split(";")[0] for d in did] == [
        "Cancelled order 40012349",
        "Tried: cancelled order 40012360",
    ]
    assert await bridge.assistant_did("nobody") == []


def test_every_kind_of_change_reads_as_a_sentence_for_the_agent() -> None:
    """The five kinds the self-service actions set (actions/self_service.py KINDS)."""
    from actions.self_service import KINDS

    did = assistant_actions(
        [
            SlotSet("verified_order", "40012362", timestamp=T0),
            *[
                SlotSet("self_service_change", kind, timestamp=T0 + i)
                for i, kind in enumerate(sorted(KINDS), 1)
            ],
            SlotSet("self_service_unknown", "size", timestamp=T0 + 9),
        ]
    )
    assert [d["text"] for d in did] == [
        "Changed the delivery address of order 40012362",
        "Cancelled order 40012362",
        "Sent an invoice copy for order 40012362",
        "Changed a size in order 40012362",
        "Unsubscribed the shopper from the newsletter",
        "Tried: changed a size in order 40012362; the result is unknown, please check",
    ]
