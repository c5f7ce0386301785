"""Every session opens with the bot disclosing that it is a bot, in the page's language."""

from __future__ import annotations

import pytest

from actions.session import ActionSessionStart
from actions.settings import Settings, settings_from_env
from handover.hours import OpeningHours


def _slots(events):
    return {e["name"]: e["value"] for e in events if e["event"] == "slot"}


async def test_session_start_introduces_the_bot_and_then_listens(make_tracker, dispatcher, domain):
    events = await ActionSessionStart(settings=Settings()).run(dispatcher, make_tracker(), domain)

    [message] = dispatcher.messages
    assert message["utter_action"] == "utter_intro"
    assert message["text"].startswith("Hi, I'm the Loomwell chat assistant, a bot.")
    assert "{privacy_url}" not in message["text"]
    assert events[0]["event"] == "session_started"
    assert events[-1]["name"] == "action_listen"
    assert _slots(events)["language"] == "en"


@pytest.mark.parametrize(
    ("hint", "language", "start"),
    [
        ("sv", "sv", "Hej, jag är Loomwells chattassistent"),
        ("fi-FI", "fi", "Hei, olen Loomwell-kaupan chat-avustaja"),
        ("no", "nb", "Hei, jeg er chatassistenten til Loomwell"),
        ("de", "en", "Hi, I'm the Loomwell chat assistant"),
    ],
)
async def test_the_page_language_sets_the_language_and_the_greeting(
    make_tracker, dispatcher, domain, hint, language, start
):
    tracker = make_tracker(slots={"session_started_metadata": {"language": hint}})
    events = await ActionSessionStart(settings=Settings()).run(dispatcher, tracker, domain)

    assert _slots(events)["language"] == language
    assert dispatcher.messages[0]["text"].startswith(start)


async def test_without_a_hint_the_previous_sessions_language_is_kept(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(slots={"language": "fi"})
    events = await ActionSessionStart(settings=Settings()).run(dispatcher, tracker, domain)
    assert _slots(events)["language"] == "fi"


async def test_without_a_hint_the_first_message_s_language_greets(make_tracker, dispatcher, domain):
    # The channel found the message that starts the session clearly Swedish.
    tracker = make_tracker(
        slots={"language": "en", "session_started_metadata": {"written_language": "sv"}}
    )
    events = await ActionSessionStart(settings=Settings()).run(dispatcher, tracker, domain)
    assert _slots(events)["language"] == "sv"
    assert dispatcher.messages[0]["text"].startswith("Hej, jag är Loomwells chattassistent")


async def test_the_page_language_wins_over_the_written_one(make_tracker, dispatcher, domain):
    tracker = make_tracker(
        slots={"session_started_metadata": {"language": "fi", "written_language": "sv"}}
    )
    events = await ActionSessionStart(settings=Settings()).run(dispatcher, tracker, domain)
    assert _slots(events)["language"] == "fi"


async def test_opening_hours_quoted_by_the_bot_follow_the_queue_settings(
    make_tracker, dispatcher, domain
):
    hours = OpeningHours.parse("mon-thu 10:00-14:00", "Europe/Vienna")
    events = await ActionSessionStart(opening_hours=hours, settings=Settings()).run(
        dispatcher, make_tracker(), domain
    )

    assert _slots(events)["opening_hours"] == "Monday to Thursday 10:00-14:00 (Europe/Vienna time)"
    assert "{opening_hours}" in domain["responses"]["utter_contact"][0]["text"]


async def test_opening_hours_and_shop_facts_follow_the_language(make_tracker, dispatcher, domain):
    hours = OpeningHours.parse("mon-thu 10:00-14:00", "Europe/Vienna")
    settings = settings_from_env(
        {"SUPPORT_PHONE_SV": "020-12 34 56", "PRIVACY_URL_SV": "https://shop.example/sv/privacy"}
    )
    tracker = make_tracker(slots={"session_started_metadata": {"language": "sv-SE"}})
    events = await ActionSessionStart(opening_hours=hours, settings=settings).run(
        dispatcher, tracker, domain
    )

    slots = _slots(events)
    assert slots["opening_hours"] == "m\u00e5ndag\u2013torsdag 10:00-14:00 (tidszon Europe/Vienna)"
    assert slots["support_phone"] == "020-12 34 56"
    assert slots["privacy_url"] == "https://shop.example/sv/privacy"
    # the greeting links the Swedish privacy page, not the default one
    assert dispatcher.messages[0]["text"].endswith("https://shop.example/sv/privacy")


async def test_a_language_without_its_own_facts_keeps_the_domain_values(
    make_tracker, dispatcher, domain
):
    settings = settings_from_env({"SUPPORT_PHONE_SV": "020-12 34 56"})
    tracker = make_tracker(slots={"session_started_metadata": {"language": "fi"}})
    events = await ActionSessionStart(settings=settings).run(dispatcher, tracker, domain)
    assert "support_phone" not in _slots(events)


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
    assert {c["value"] for v in variants for c in v.get("condition") or []} == {"sv", "fi", "nb"}
    assert domain["slots"]["privacy_url"]["initial_value"].startswith("http")
