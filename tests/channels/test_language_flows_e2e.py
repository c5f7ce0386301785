"""Issue 16 acceptance: an order-status conversation, a handover and a transcript download
work end to end in Swedish, Finnish and Norwegian.

Everything runs for real (devkit/stack.py): the reference service with its demo orders,
the action server, Rasa with the trained model and the web chat channel with the agent
desk. The shopper connects over socket.io like the widget, with the page's language in its
session request, and writes in that language; what they must notice is that every answer
(the bot's questions, the order's status with its dates, the queue message, the
downloaded transcript's headings) is in their language and not in English.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aiohttp
import pytest

from channels import languages
from devkit.servers import find_model
from devkit.shopper import Options, Shopper
from devkit.stack import Stack, running_stack
from services.seed import DEMO_ORDERS

pytestmark = pytest.mark.e2e

# A demo order that is on its way: its answer has an expected delivery day and the
# parcel's latest scan with a day and a time, i.e. dates to localise.
ORDER, EMAIL, STATUS, _ = DEMO_ORDERS[0]
assert STATUS == "shipped"

# English capitalises month and day names; Swedish and Norwegian write "november",
# "september" in lower case, so only the capitalised forms are English.
ENGLISH_DATE_WORDS = re.compile(
    r"\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday)\b"
    r"|(?i:\b(today|tomorrow|yesterday)\b)"
)


@dataclass(frozen=True)
class Phrases:
    """What a shopper writes in the language and the words that mark the bot's answers
    as that language's variations (domain/orders.yml, domain/handover.yml)."""

    page: str  # the page's language tag the widget sends
    where_is_my_order: str
    want_a_person: str
    problem: str
    ask_order_number: str  # utter_ask_order_number
    ask_email: str  # utter_ask_email
    shipped: str  # utter_order_shipped
    handover_order_number: str  # utter_ask_handover_form_order_number
    handover_email: str  # utter_ask_handover_form_email
    handover_description: str  # utter_ask_handover_description
    queue: str  # utter_queue_position (earlier tests' requests wait in the queue too)


PHRASES = {
    "sv": Phrases(
        page="sv-SE",
        where_is_my_order="Hej! Var är min beställning? Den borde ha kommit nu.",
        want_a_person="Jag vill hellre prata med en riktig människa, tack.",
        problem="Blixtlåset på min nya jacka gick sönder redan första dagen",
        ask_order_number="Vad är ditt ordernummer?",
        ask_email="Och mejladressen du använde",
        shipped="är på väg med",
        handover_order_number="gäller det en order?",
        handover_email="Vilken mejladress kan handläggaren nå dig på",
        handover_description="vad behöver du hjälp med?",
        queue="i kön till en handläggare",
    ),
    "fi": Phrases(
        page="fi-FI",
        where_is_my_order="Hei, missä tilaukseni on? Sen olisi pitänyt tulla jo.",
        want_a_person="Haluaisin mieluummin puhua oikean ihmisen kanssa.",
        problem="Uuden takkini vetoketju hajosi jo ensimmäisenä päivänä",
        ask_order_number="Mikä on tilausnumerosi?",
        ask_email="Entä sähköpostiosoite",
        shipped="on matkalla",
        handover_order_number="koskeeko asia tilausta?",
        handover_email="Mihin sähköpostiosoitteeseen asiakaspalvelija voi ottaa yhteyttä",
        handover_description="missä tarvitset apua?",
        queue="Olet asiakaspalvelijan jonossa sijalla",
    ),
    "nb": Phrases(
        page="nb-NO",
        where_is_my_order="Hei! Hvor er bestillingen min? Den burde ha kommet nå.",
        want_a_person="Jeg vil heller snakke med et ekte menneske, takk.",
        problem="Glidelåsen på den nye jakken min røk allerede første dagen",
        ask_order_number="Hva er ordrenummeret ditt?",
        ask_email="Og e-postadressen du brukte",
        shipped="er på vei med",
        handover_order_number="gjelder det en ordre?",
        handover_email="Hvilken e-postadresse kan medarbeideren nå deg på",
        handover_description="hva trenger du hjelp med?",
        queue="i køen til en medarbeider",
    ),
}
LANGUAGES = sorted(PHRASES)
TIMEOUT = aiohttp.ClientTimeout(total=10)


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    settings = {
        # Always open, so the handover reaches the queue whatever the day the test runs.
        "HANDOVER_OPENING_HOURS": "mon-sun 00:00-24:00",
        "HANDOVER_TIMEZONE": "UTC",
    }
    with running_stack(find_model(), settings) as running:
        yield running


@pytest.fixture(params=LANGUAGES)
def language(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture()
async def shopper(stack: Stack, language: str) -> AsyncIterator[Shopper]:
    client = Shopper(stack.url, Options(timeout=60, quiet=1.5, language=PHRASES[language].page))
    await client.open()
    yield client
    await client.close()


async def bot_texts(shopper: Shopper, text: str, expect: str | None = None) -> list[str]:
    """The texts of the bot's messages of one turn; with `expect`, the turn lasts until a
    message containing it came (or the timeout), however slowly the actions answer."""
    _, _, messages = await shopper.turn(text, None if expect is None else expect.lower())
    return [str(m.get("text")) for m in messages if isinstance(m, dict) and m.get("text")]


async def say(shopper: Shopper, text: str, expect: str | None = None) -> str:
    """The bot's messages of one turn, joined."""
    return " ".join(await bot_texts(shopper, text, expect))


async def demo_order(stack: Stack) -> dict[str, Any]:
    """The order as the reference service has it (its dates are relative to today)."""
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.post(
            stack.env["ORDER_SERVICE_URL"] + "/orders/lookup",
            json={"order_number": ORDER, "email": EMAIL},
        ) as reply,
    ):
        reply.raise_for_status()
        return dict(await reply.json())


async def text_transcript(stack: Stack, shopper: Shopper, token: str) -> tuple[int, str]:
    """GET the plain-text transcript with the session's token, as the widget's download."""
    async with (
        aiohttp.ClientSession(timeout=TIMEOUT) as http,
        http.get(
            f"{stack.url}/webhooks/webchat/conversations/{shopper.session_id}/transcript",
            params={"format": "txt"},
            headers={"Authorization": f"Bearer {token}"},
        ) as reply,
    ):
        return reply.status, await reply.text()


async def test_order_status_in_the_language(stack: Stack, shopper: Shopper, language: str) -> None:
    words = PHRASES[language]
    await say(shopper, "/session_start")

    asked = await say(shopper, words.where_is_my_order, words.ask_order_number)
    assert words.ask_order_number in asked
    assert "What's your order number" not in asked

    assert words.ask_email in await say(shopper, ORDER, words.ask_email)

    answer = await say(shopper, EMAIL, ORDER)
    assert words.shipped in answer, answer
    assert ORDER in answer
    assert "is on its way" not in answer
    assert not ENGLISH_DATE_WORDS.search(answer), answer
    # The expected delivery day exactly as a shopper of the language writes it.
    expected = dt.date.fromisoformat(str((await demo_order(stack))["expected_delivery"]))
    assert languages.day_text(expected, language, on=True) in answer, answer


async def test_handover_in_the_language(shopper: Shopper, language: str) -> None:
    words = PHRASES[language]
    await say(shopper, "/session_start")

    asked = await say(shopper, words.want_a_person, words.handover_order_number)
    assert words.handover_order_number in asked, asked
    assert "is this about an order" not in asked

    assert words.handover_email in await say(shopper, ORDER, words.handover_email)
    assert words.handover_description in await say(shopper, EMAIL, words.handover_description)

    queued = await say(shopper, words.problem, words.queue)
    assert words.queue in queued, queued
    assert "in the queue" not in queued


async def test_transcript_in_the_language(stack: Stack, shopper: Shopper, language: str) -> None:
    words = PHRASES[language]
    bot_said = await bot_texts(shopper, "/session_start")
    bot_said += await bot_texts(shopper, words.where_is_my_order, words.ask_order_number)
    bot_said += await bot_texts(shopper, ORDER, words.ask_email)
    assert bot_said
    assert shopper.confirm is not None
    token = shopper.confirm.result()["session_token"]

    status, transcript = await text_transcript(stack, shopper, token)
    assert status == 200
    lines = transcript.splitlines()
    # The headings, in the language.
    assert lines[0] == languages.say("transcript_title", language)
    assert lines[1] == languages.say(
        "transcript_conversation", language, conversation_id=shopper.session_id
    )
    before, after = languages.say("transcript_downloaded", language, when="\x00").split("\x00")
    assert lines[2].startswith(before) and lines[2].endswith(after), lines[2]
    # Every message as it was said, under the language's labels, in order.
    you = languages.say("transcript_shopper", language)
    bot = languages.say("transcript_bot", language)
    said = [line.split("] ", 1)[1] for line in lines if re.match(r"^\[[\d: -]+\] ", line)]
    assert [line for line in said if line.startswith(f"{you}: ")] == [
        f"{you}: {words.where_is_my_order}",
        f"{you}: {ORDER}",
    ]
    for text in bot_said:
        assert f"{bot}: {text}\n" in transcript
    assert len([line for line in said if line.startswith(f"{bot}: ")]) == len(bot_said)
    assert words.ask_order_number in transcript
    for english in ("Chat transcript", "Conversation: ", "You: ", "Assistant (bot): "):
        assert english not in transcript
