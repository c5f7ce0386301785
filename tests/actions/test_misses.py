"""Two misses in a row offer a person: what counts as the turn before, and as a miss."""

from __future__ import annotations

from typing import Any

import pytest

from actions.misses import ActionNoteMiss


def user(text: str) -> dict[str, Any]:
    return {"event": "user", "text": text, "parse_data": {"intent": {"name": "x"}}}


def bot(response: str) -> dict[str, Any]:
    return {"event": "bot", "text": "...", "metadata": {"utter_action": response}}


def action(name: str) -> dict[str, Any]:
    return {"event": "action", "name": name}


async def note(make_tracker, dispatcher, domain, events) -> bool:
    tracker = make_tracker(text="and who won the match", intent="out_of_scope", events=events)
    [event] = await ActionNoteMiss().run(dispatcher, tracker, domain)
    assert event["name"] == "missed_twice"
    return bool(event["value"])


@pytest.mark.parametrize(
    "answer",
    [
        [bot("utter_out_of_scope")],
        [bot("utter_product_not_found")],
        [action("action_ask_rephrase"), bot("utter_rephrase")],
        [action("action_default_fallback"), bot("utter_default")],
    ],
    ids=["out of scope", "no product", "rephrase", "lost the thread"],
)
async def test_a_miss_after_any_kind_of_miss_is_the_second(
    make_tracker, dispatcher, domain, answer
):
    events = [user("what's the weather"), *answer]
    assert await note(make_tracker, dispatcher, domain, events)


async def test_a_miss_after_an_answer_is_the_first(make_tracker, dispatcher, domain):
    events = [
        user("nonsense"), bot("utter_out_of_scope"),  # two turns ago: does not count
        user("how can I pay"), bot("utter_payment_methods"),
    ]  # fmt: skip
    assert not await note(make_tracker, dispatcher, domain, events)


async def test_the_first_message_of_a_conversation_is_a_first_miss(
    make_tracker, dispatcher, domain
):
    assert not await note(make_tracker, dispatcher, domain, [bot("utter_greet")])
