"""Feedback: taken at once when the message is the feedback, asked for when only
announced, kept in the conversation's tracker."""

from __future__ import annotations

import pytest
from rasa_sdk.events import SlotSet

from actions.feedback import ActionStoreFeedback, ValidateFeedbackForm, is_only_a_wish


async def validate(
    make_tracker, dispatcher, domain, *, text, intent="feedback", requested=None, candidate=None
):
    tracker = make_tracker(
        slots={"requested_slot": requested}, text=text, intent=intent, active_loop="feedback_form"
    )
    if candidate is not None:
        tracker.events.append({"event": "slot", "name": "feedback_text", "value": candidate})
        tracker.slots["feedback_text"] = candidate
    events = await ValidateFeedbackForm().run(dispatcher, tracker, domain)
    return {e["name"]: e["value"] for e in events if e.get("event") == "slot"}


@pytest.mark.parametrize(
    "text",
    [
        "your new catalogue is lovely, more linen please",
        "the checkout on your website is confusing",
        "I want to give feedback: the delivery was really fast",
        "jag vill ge beröm till er kundtjänst",
        "palautetta: sivusto on tosi hidas",
    ],
)
async def test_a_message_that_is_the_feedback_is_taken_at_once(
    make_tracker, dispatcher, domain, text
):
    slots = await validate(make_tracker, dispatcher, domain, text=text)
    assert slots["feedback_text"] == text  # filled, so the form asks nothing
    assert dispatcher.messages == []


@pytest.mark.parametrize(
    "text",
    [
        "I want to give feedback",
        "can I leave a review?",
        "I have a suggestion",
        "i'd like to give you some feedback please",
        # the Nordic announcements were thanked for as the feedback itself
        "haluisin antaa palautetta",
        "jag vill lämna lite feedback",
        "kan jag ge ett förslag?",
        "jeg har en tilbakemelding til dere",
    ],
)
async def test_an_announcement_is_asked_for_the_feedback(make_tracker, dispatcher, domain, text):
    assert is_only_a_wish(text)
    slots = await validate(make_tracker, dispatcher, domain, text=text)
    assert slots.get("feedback_text") is None  # empty, so the form asks for it
    assert dispatcher.messages == []


async def test_the_answer_to_the_question_is_the_feedback(make_tracker, dispatcher, domain):
    answer = "more long sizes for trousers please"
    slots = await validate(
        make_tracker,
        dispatcher,
        domain,
        text=answer,
        intent="inform",
        requested="feedback_text",
        candidate=answer,
    )
    assert slots["feedback_text"] == answer


async def test_a_too_short_answer_is_asked_again(make_tracker, dispatcher, domain):
    slots = await validate(
        make_tracker,
        dispatcher,
        domain,
        text="ok",
        intent="affirm",
        requested="feedback_text",
        candidate="ok",
    )
    assert slots["feedback_text"] is None
    assert [m["response"] for m in dispatcher.messages] == ["utter_feedback_too_short"]


async def test_feedback_is_kept_in_the_conversation_and_thanked(make_tracker, dispatcher, domain):
    tracker = make_tracker(slots={"feedback_text": "  more long sizes please "})
    events = await ActionStoreFeedback().run(dispatcher, tracker, domain)
    assert events == [
        SlotSet("shopper_feedback", "more long sizes please"),
        SlotSet("feedback_text", None),
    ]
    assert [m["response"] for m in dispatcher.messages] == ["utter_feedback_thanks"]
    assert domain["slots"]["shopper_feedback"]["influence_conversation"] is False
