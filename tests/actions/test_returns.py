"""Returns follow-ups get the fact they ask for (actions/returns.py)."""

from __future__ import annotations

import pytest

from actions.returns import ActionRefundAfterChange, ActionReturnsDetail, facets_asked


@pytest.mark.parametrize(
    ("text", "facets"),
    [
        ("is it free?", ["cost"]),
        ("do I have to pay the postage myself", ["cost"]),
        ("är det gratis?", ["cost"]),
        ("onks se ilmanen?", ["cost"]),
        ("må jeg betale returfrakten selv?", ["cost"]),
        ("how long until I get my money back?", ["refund"]),
        ("hur lång tid tar det innan jag får pengarna tillbaka", ["refund"]),
        ("kauanko kestää että saan rahat takaisin", ["refund"]),
        ("hvor lang tid tar det før jeg får pengene tilbake", ["refund"]),
        ("how long do I have to send it back?", ["window"]),
        ("hvor lenge har jeg på meg?", ["window"]),
        ("can I swap it for a bigger size instead?", ["exchange"]),
        ("kan jag byta till en annan storlek istället?", ["exchange"]),
        ("voinko vaihtaa isompaan kokoon", ["exchange"]),
        ("kan jeg bytte til en annen farge", ["exchange"]),
        ("I lost the return label", ["label"]),
        ("is it free and when do I get my money?", ["refund", "cost"]),
        ("ok and then what?", []),
        # a blind trial: the whole returns text, which does not say
        ("can i return sale items too?", ["sale"]),
        ("går det att returnera reavaror?", ["sale"]),
        ("voiko alennustuotteet palauttaa", ["sale"]),
        ("kan jeg returnere salgsvarer?", ["sale"]),
    ],
)
def test_the_facets_a_follow_up_asks_about(text: str, facets: list[str]) -> None:
    assert facets_asked(text) == facets


@pytest.mark.parametrize(
    ("text", "responses"),
    [
        ("is it free?", ["utter_returns_cost"]),
        ("and when do I get my money? is it free?", ["utter_returns_refund", "utter_returns_cost"]),
        ("tell me more", ["utter_returns"]),
    ],
)
async def test_the_answer_is_the_facet_or_else_the_whole_returns_answer(
    make_tracker, dispatcher, domain, text, responses
) -> None:
    tracker = make_tracker(text=text, intent="follow_up")
    assert await ActionReturnsDetail().run(dispatcher, tracker, domain) == []
    assert [m["response"] for m in dispatcher.messages] == responses


def test_every_facet_has_a_response_in_every_language(domain) -> None:
    from actions.returns import FACETS

    for facet in FACETS:
        variations = domain["responses"][f"utter_returns_{facet}"]
        languages = {next((c["value"] for c in v.get("condition") or []), "en") for v in variations}
        assert languages == {"en", "sv", "fi", "nb"}, facet


def returns_answered(
    make_tracker, text: str, last: str = "utter_returns", intent: str = "change_order"
):
    before = [
        {"event": "user", "text": "how do returns work", "parse_data": {}},
        {"event": "action", "name": last},
        {"event": "action", "name": "action_listen"},
    ]
    return make_tracker(text=text, intent=intent, events=before)


@pytest.mark.parametrize(
    ("text", "last", "route"),
    [
        ("can I swap them for a bigger size instead", "utter_returns", "exchange"),
        ("kan jeg bytte til en annen farge", "action_returns_detail", "exchange"),
        # a placed order named: its size change
        ("change the size in order 40012360 to L", "utter_returns", "change"),
        # not after a returns answer: a size change
        ("can I swap them for a bigger size instead", "utter_payment_methods", "change"),
    ],
)
async def test_another_size_right_after_the_returns_answer_is_the_exchange(
    make_tracker, dispatcher, domain, text, last, route
) -> None:
    from actions.self_service import ActionSelfServiceRoute

    tracker = returns_answered(make_tracker, text, last)
    if "40012360" in text:
        tracker.latest_message["entities"] = [{"entity": "order_number", "value": "40012360"}]
    events = await ActionSelfServiceRoute().run(dispatcher, tracker, domain)
    assert {e["name"]: e["value"] for e in events} == {"self_service_route": route}


def after_change(make_tracker, confirmation: str | None, text: str):
    """The shopper's `text` right after the bot's answer `confirmation` to the yes."""
    bot = {"event": "bot", "text": "Done: ...", "metadata": {}}
    if confirmation:
        bot["metadata"] = {"utter_action": confirmation, "order_ref": "40021430"}
    earlier = [
        {"event": "user", "text": "yes", "parse_data": {"intent": {"name": "affirm"}}},
        {"event": "action", "name": "action_change_execute"},
        bot,
        {"event": "action", "name": "action_listen"},
    ]
    return make_tracker(
        text=text, intent="returns", events=earlier, slots={"order_number": "40021430"}
    )


@pytest.mark.parametrize(
    ("confirmation", "text", "answer"),
    [
        ("utter_cancel_done_paid", "when do I get my money back?", "utter_cancel_refund_paid"),
        ("utter_cancel_done_paid", "när får jag pengarna tillbaka?", "utter_cancel_refund_paid"),
        ("utter_cancel_done_invoice", "do I get a refund?", "utter_cancel_refund_invoice"),
        ("utter_cancel_done_invoice", "må jeg betale noe nå?", "utter_cancel_refund_invoice"),
        # not about that order's money: the returns answers, as after any other answer
        ("utter_cancel_done_paid", "can I swap a dress, another order", "utter_returns_exchange"),
        ("utter_cancel_done_paid", "how do returns work?", "utter_returns"),
        # a refund question after another change (an address) is about returns
        ("utter_address_changed", "when do I get my money back?", "utter_returns_refund"),
        (None, "when do I get my money back?", "utter_returns_refund"),
    ],
)
async def test_a_money_question_right_after_a_cancellation_is_about_that_order(
    dispatcher, make_tracker, domain, confirmation, text, answer
) -> None:
    await ActionRefundAfterChange().run(dispatcher, after_change(make_tracker, confirmation, text),
                                        domain)  # fmt: skip
    assert [m.get("response") for m in dispatcher.messages] == [answer]
    if answer.startswith("utter_cancel_refund"):
        assert dispatcher.messages[0]["order_ref"] == "40021430"


async def test_a_cancellation_two_answers_ago_is_not_the_topic(
    dispatcher, make_tracker, domain
) -> None:
    tracker = after_change(make_tracker, "utter_cancel_done_paid", "when do I get my money back?")
    asked = {"intent": {"name": "delivery_time"}}
    tracker.events[-1:-1] = [
        {"event": "user", "text": "what about delivery?", "parse_data": asked},
        {"event": "action", "name": "utter_delivery_time"},
        {"event": "bot", "text": "3-5 days", "metadata": {"utter_action": "utter_delivery_time"}},
        {"event": "action", "name": "action_listen"},
    ]
    await ActionRefundAfterChange().run(dispatcher, tracker, domain)
    assert [m.get("response") for m in dispatcher.messages] == ["utter_returns_refund"]
