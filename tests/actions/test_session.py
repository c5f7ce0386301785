"""Every session opens with the bot disclosing that it is a bot."""

from __future__ import annotations

from actions.session import ActionSessionStart
from handover.hours import OpeningHours


async def test_session_start_introduces_the_bot_and_then_listens(make_tracker, dispatcher, domain):
    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)

    assert [m["response"] for m in dispatcher.messages] == ["utter_intro"]
    assert [e["event"] for e in events] == ["session_started", "slot", "action"]
    assert events[-1]["name"] == "action_listen"


async def test_opening_hours_quoted_by_the_bot_follow_the_queue_settings(
    make_tracker, dispatcher, domain
):
    hours = OpeningHours.parse("mon-thu 10:00-14:00", "Europe/Vienna")
    events = await ActionSessionStart(opening_hours=hours).run(dispatcher, make_tracker(), domain)

    [slot] = [e for e in events if e["event"] == "slot"]
    assert slot["name"] == "opening_hours"
    assert slot["value"] == "Monday to Thursday 10:00-14:00 (Europe/Vienna time)"
    assert "{opening_hours}" in domain["responses"]["utter_contact"][0]["text"]


def test_default_opening_hours_slot_matches_the_default_settings(domain):
    assert domain["slots"]["opening_hours"]["initial_value"] == OpeningHours.parse().describe()


def test_intro_says_bot_offers_a_person_and_links_the_privacy_notice(domain):
    variants = domain["responses"]["utter_intro"]
    [english] = [v for v in variants if not v.get("condition")]
    assert "human agent" in english["text"].lower()
    for variant in variants:  # English and each translation (issue 16)
        text = variant["text"].lower()
        assert "bot" in text
        assert "{privacy_url}" in text
    assert domain["slots"]["privacy_url"]["initial_value"].startswith("http")
