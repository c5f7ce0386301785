"""The conversation's language through the real stack (issue 16): web chat over socket.io,
Rasa with the trained model (components/language.py in its pipeline) and the action server.

What the shopper notices: the greeting in the page's language, the channel's own notices
(here the "too long" one, which the channel composes) following the language the
conversation switched to, a short "ok" switching nothing, and an explicit request for
English answered in English.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest

from devkit.servers import find_model
from devkit.shopper import Options, Shopper
from devkit.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

MAX_CHARS = 300
TOO_LONG = "x" * (MAX_CHARS + 1)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack(find_model(), {"WEBCHAT_MAX_MESSAGE_CHARS": str(MAX_CHARS)}) as running:
        yield running


async def _shopper(stack: Stack, language: str | None) -> Shopper:
    client = Shopper(stack.url, Options(timeout=30, quiet=1.0, language=language))
    await client.open()
    return client


@pytest.fixture()
async def swedish(stack: Stack) -> AsyncIterator[Shopper]:
    client = await _shopper(stack, "sv-SE")
    yield client
    await client.close()


@pytest.fixture()
async def finnish(stack: Stack) -> AsyncIterator[Shopper]:
    client = await _shopper(stack, "fi")
    yield client
    await client.close()


@pytest.fixture()
async def english(stack: Stack) -> AsyncIterator[Shopper]:
    client = await _shopper(stack, None)
    yield client
    await client.close()


async def say(shopper: Shopper, text: str) -> str:
    _, _, messages = await shopper.turn(text, None)
    return " ".join(str(m.get("text") or "") for m in messages if isinstance(m, dict))


async def test_a_swedish_page_gets_the_greeting_in_swedish(swedish: Shopper) -> None:
    greeting = await say(swedish, "/session_start")
    assert greeting.startswith("Hej, jag är Loomwells chattassistent, en bot.")
    assert "Hi, I'm" not in greeting
    # the channel's own notices follow too
    assert "för långt" in await say(swedish, TOO_LONG)


async def test_a_swedish_request_for_english_switches_to_english(swedish: Shopper) -> None:
    await say(swedish, "/session_start")
    answer = await say(swedish, "kan vi ta det på engelska i stället?")
    assert "let's continue in English" in answer
    assert "too long for me" in await say(swedish, TOO_LONG)


async def test_finnish_switches_ok_does_not_and_english_can_be_asked_for(
    english: Shopper,
) -> None:
    greeting = await say(english, "/session_start")
    assert greeting.startswith("Hi, I'm the Loomwell chat assistant")
    assert "too long for me" in await say(english, TOO_LONG)

    await say(english, "Mitä toimitustapoja teillä on tarjolla, ja kuinka nopeasti paketti tulee?")
    assert "liian pitkä" in await say(english, TOO_LONG)

    await say(english, "ok")  # too short to be evidence of anything
    assert "liian pitkä" in await say(english, TOO_LONG)

    answer = await say(english, "can we speak English?")
    assert "let's continue in English" in answer
    assert "too long for me" in await say(english, TOO_LONG)


async def test_prices_are_written_the_way_the_language_writes_them(
    english: Shopper, swedish: Shopper
) -> None:
    """The delivery answer quotes the shop's prices (domain/shared.yml): '€5.95' in
    English, '5,95 €' in Swedish, and in Finnish after a switch in the middle of the
    session (channels/nlg.py formats them when the answer is rendered)."""
    await say(english, "/session_start")
    assert "€5.95" in await say(
        english, "which delivery options do you have and what do they cost?"
    )
    finnish = await say(english, "Mitä toimitustapoja teillä on tarjolla ja paljonko ne maksavat?")
    assert "5,95\xa0€" in finnish and "€5.95" not in finnish

    await say(swedish, "/session_start")
    answer = await say(swedish, "Vilka leveranssätt har ni och vad kostar frakten?")
    assert "5,95\xa0€" in answer and "€5" not in answer


async def test_a_finnish_bye_bye_is_a_goodbye(finnish: Shopper) -> None:
    """ "hei hei" after thanks is how Finns say bye (Norwegians greet with it)."""
    await say(finnish, "/session_start")
    answer = await say(finnish, "selvä, se oli siinä, hei hei")
    assert answer.startswith("Näkemiin")


async def test_a_first_message_without_evidence_settles_no_language(english: Shopper) -> None:
    """A blind trial: a first message the detector cannot read ("40012345", "ok") left the
    conversation in English by default, and English was then kept against the clearly
    Finnish messages that followed (they had no Finnish small word). Only a message with
    evidence of its language settles the conversation's."""
    await say(english, "/session_start")
    await say(english, "ok")
    await say(english, "paljonko postikulut maksaa")
    assert "liian pitkä" in await say(english, TOO_LONG)
