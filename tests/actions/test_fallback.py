"""The first NLU miss asks to rephrase and suggests the likeliest shop topics."""

from __future__ import annotations

import pytest

from actions.fallback import MAX_SUGGESTIONS, SUGGESTIONS, ActionAskRephrase


def ranking(*pairs: tuple[str, float]) -> list[dict[str, object]]:
    return [{"name": name, "confidence": confidence} for name, confidence in pairs]


async def test_suggests_the_best_ranked_shop_topics_as_buttons(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        text="money thing for the trousers?",
        intent="nlu_fallback",
        confidence=0.7,
        intent_ranking=ranking(
            ("nlu_fallback", 0.7),
            ("returns", 0.31),
            ("greet", 0.2),
            ("payment_methods", 0.18),
            ("product_info", 0.1),
            ("delivery_time", 0.08),
        ),
    )
    events = await ActionAskRephrase().run(dispatcher, tracker, domain)

    assert events == []
    [message] = dispatcher.messages
    assert message["response"] == "utter_rephrase"
    # small talk (greet) is never suggested; order follows the ranking; at most three
    assert [b["payload"] for b in message["buttons"]] == [
        "/returns",
        "/payment_methods",
        "/product_info",
    ]
    assert [b["title"] for b in message["buttons"]] == [
        SUGGESTIONS["returns"],
        SUGGESTIONS["payment_methods"],
        SUGGESTIONS["product_info"],
    ]
    assert len(message["buttons"]) == MAX_SUGGESTIONS


@pytest.mark.parametrize(
    "intent_ranking",
    [
        ranking(("nlu_fallback", 0.9), ("greet", 0.05), ("thank", 0.05)),
        ranking(("nlu_fallback", 0.99), ("returns", 0.001)),
        [],
    ],
    ids=["only small talk", "topics too unlikely", "no ranking"],
)
async def test_without_useful_guesses_it_lists_what_it_can_do(
    make_tracker, dispatcher, domain, intent_ranking
):
    tracker = make_tracker(text="qwertz", intent="nlu_fallback", intent_ranking=intent_ranking)
    await ActionAskRephrase().run(dispatcher, tracker, domain)

    assert [m["response"] for m in dispatcher.messages] == ["utter_rephrase_no_suggestions"]
    assert not dispatcher.messages[0]["buttons"]


def test_every_suggested_payload_is_an_intent_of_the_domain(domain):
    assert set(SUGGESTIONS) <= set(domain["intents"])


def test_every_response_it_uses_exists(domain):
    assert {"utter_rephrase", "utter_rephrase_no_suggestions"} <= set(domain["responses"])
