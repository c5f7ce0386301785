"""Every session opens with the bot disclosing that it is a bot."""

from __future__ import annotations

from actions.session import ActionSessionStart


async def test_session_start_introduces_the_bot_and_then_listens(make_tracker, dispatcher, domain):
    events = await ActionSessionStart().run(dispatcher, make_tracker(), domain)

    assert [m["response"] for m in dispatcher.messages] == ["utter_intro"]
    assert [e["event"] for e in events] == ["session_started", "action"]
    assert events[-1]["name"] == "action_listen"


def test_intro_says_bot_offers_a_person_and_links_the_privacy_notice(domain):
    [variant] = domain["responses"]["utter_intro"]
    text = variant["text"].lower()
    assert "bot" in text
    assert "human agent" in text
    assert "{privacy_url}" in text
    assert domain["slots"]["privacy_url"]["initial_value"].startswith("http")
