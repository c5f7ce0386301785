"""Agents see the conversation's language, and the shopper reads "agent joined" in it.

The language comes from the tracker store Rasa writes (its SQLTrackerStore, in the same
database as the queue), as the running server would have it."""

from __future__ import annotations

from pathlib import Path

from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
from rasa.shared.core.events import SessionStarted, SlotSet, UserUttered
from rasa.shared.core.trackers import DialogueStateTracker

from tests.handover.test_handover_desk import Desk, _fast_startup, desk  # noqa: F401


async def _conversation(db: Path, sender: str, *languages: str) -> None:
    domain = Domain.from_yaml(
        'version: "3.1"\nslots:\n  language:\n    type: text\n    mappings: [{type: custom}]'
    )
    store = SQLTrackerStore(domain, dialect="sqlite", db=str(db))
    tracker = DialogueStateTracker(sender, domain.slots)
    tracker.update(SessionStarted())
    for language in languages:
        tracker.update(SlotSet("language", language))
        tracker.update(UserUttered("..."))
    await store.save(tracker)
    store.engine.dispose()


async def test_the_console_shows_the_language_and_the_shopper_is_greeted_in_it(
    desk: Desk,  # noqa: F811 (the fixture of test_handover_desk.py)
    tmp_path: Path,
) -> None:
    # Swedish from the page, then switched to Finnish: the latest one counts.
    await _conversation(tmp_path / "rasa.db", "fi-shopper", "sv", "fi")
    await _conversation(tmp_path / "rasa.db", "en-shopper", "en")
    finnish = desk.store.join("fi-shopper", email="a@example.com").request
    desk.store.join("en-shopper", email="b@example.com")
    desk.store.join("no-tracker", email="c@example.com")

    status, queue = await desk.call("GET", "/queue")
    assert status == 200
    assert {r["conversation_id"]: r["language"] for r in queue["waiting"]} == {
        "fi-shopper": "fi",
        "en-shopper": "en",
        "no-tracker": "en",
    }
    status, detail = await desk.call("GET", f"/requests/{finnish.id}")
    assert status == 200 and detail["request"]["language"] == "fi"

    status, _ = await desk.call("POST", "/claim", json={"request_id": finnish.id})
    assert status == 200
    said = [d["text"] for c, e, d in desk.emitted if c == "fi-shopper" and e == "bot_uttered"]
    assert said == ["Sam asiakaspalvelustamme liittyi keskusteluun."]


async def test_a_waiting_shopper_hears_once_that_their_message_is_kept_for_the_agent(
    desk: Desk,  # noqa: F811
    tmp_path: Path,
) -> None:
    await _conversation(tmp_path / "rasa.db", "sv-shopper", "sv")
    request = desk.store.join("sv-shopper", email="a@example.com").request

    def said() -> list[str]:
        return [d["text"] for c, e, d in desk.emitted if c == "sv-shopper" and e == "bot_uttered"]

    assert await desk.desk.on_shopper_message("sv-shopper", "hallå, är det någon där?")
    assert said() == [
        "Tack, ditt meddelande sparas åt handläggaren, som läser det när hen ansluter. "
        "Tills dess svarar jag inte här; tryck på Lämna kön om du hellre fortsätter med mig."
    ]
    # Not again for every message while waiting, and not once the agent is there.
    assert await desk.desk.on_shopper_message("sv-shopper", "det gäller min faktura")
    assert len(said()) == 1
    # The agent reads both messages and what the shopper was told, in order.
    texts = [(m.sender, m.text) for m in desk.store.messages(request.id)]
    assert texts[0] == ("shopper", "hallå, är det någon där?")
    assert texts[1][0] == "system" and texts[1][1].startswith("Tack, ditt meddelande")
    assert texts[2] == ("shopper", "det gäller min faktura")

    status, _ = await desk.call("POST", "/claim", json={"request_id": request.id})
    assert status == 200
    assert await desk.desk.on_shopper_message("sv-shopper", "hej Sam")
    assert said()[1:] == ["Sam från vår kundtjänst har anslutit till chatten."]


async def test_a_shopper_with_no_open_request_is_not_told_anything(
    desk: Desk,  # noqa: F811
) -> None:
    assert not await desk.desk.on_shopper_message("nobody", "hello?")
    assert desk.emitted == []
