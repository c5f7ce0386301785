"""Payment follow-ups get the fact they ask for (actions/payment.py)."""

from __future__ import annotations

import pytest

from actions.payment import ActionPaymentDetail, facts_asked


@pytest.mark.parametrize(
    ("text", "facts"),
    [
        ("is it free?", ["cost"]),
        ("are there any fees?", ["cost"]),
        ("is there interest on part payment?", ["cost"]),
        ("does paying by invoice cost extra?", ["cost"]),
        ("kostar det något?", ["cost"]),
        ("är det ränta på delbetalningen?", ["cost"]),
        ("onko siitä kuluja?", ["cost"]),
        ("onko osamaksussa korkoa?", ["cost"]),
        ("koster det noe ekstra?", ["cost"]),
        ("er det rente på delbetaling?", ["cost"]),
        ("when is my card charged?", ["charged"]),
        ("when does the money leave my account?", ["charged"]),
        ("when do you take the money?", ["charged"]),
        ("när dras pengarna från kortet?", ["charged"]),
        ("milloin rahat veloitetaan kortilta?", ["charged"]),
        ("når blir pengene trukket?", ["charged"]),
        ("which cards do you take?", []),
        ("ok and paypal?", []),
    ],
)
def test_the_fact_a_follow_up_asks_about(text: str, facts: list[str]) -> None:
    assert facts_asked(text) == facts


@pytest.mark.parametrize(
    ("text", "responses"),
    [
        ("is it free?", ["utter_payment_cost"]),
        ("and when is my card charged?", ["utter_payment_charged"]),
        # names no fact: the whole answer, as before
        ("which cards do you take?", ["utter_payment_methods"]),
    ],
)
async def test_the_answer_is_the_fact_or_else_the_whole_payment_answer(
    dispatcher, make_tracker, domain, text: str, responses: list[str]
) -> None:
    tracker = make_tracker(text=text, intent="follow_up")
    await ActionPaymentDetail().run(dispatcher, tracker, domain)
    assert [m.get("response") for m in dispatcher.messages] == responses
