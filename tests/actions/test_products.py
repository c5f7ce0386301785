"""Product info: by article number or name, found, several, sold out, none, failures."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator

import pytest
from service_fakes import FakeProductClient, make_product, slot_events

from actions.clients import NotFound, ServiceUnavailable
from actions.clients.products import ProductClient
from actions.products import ActionProductInfo, ValidateProductForm, asked_size, search_terms
from devkit.servers import stop
from devkit.stack import start_reference_service

FORM = "product_form"
RESET = {"product_query": None, "article_number": None, "invalid_attempts": 0.0}


async def run_form(
    make_tracker, dispatcher, domain, *, text, intent="inform", slots=None, entities=None
):
    tracker = make_tracker(
        slots=slots if slots is not None else {"requested_slot": "product_query"},
        text=text,
        intent=intent,
        entities=entities,
        active_loop=FORM,
    )
    return slot_events(await ValidateProductForm().run(dispatcher, tracker, domain))


async def test_article_number_in_the_first_message(make_tracker, dispatcher, domain):
    slots = await run_form(
        make_tracker,
        dispatcher,
        domain,
        slots={},
        intent="product_info",
        text="do you have 204518 in M?",
        entities=[{"entity": "article_number", "value": "204518", "start": 12, "end": 18}],
    )
    assert slots["product_query"] == "204518"


@pytest.mark.parametrize("text", ["linen dress", "the wool coat please"])
async def test_name_answers_the_question(make_tracker, dispatcher, domain, text):
    slots = await run_form(make_tracker, dispatcher, domain, text=text)
    assert slots["product_query"] == text


async def test_too_vague_gets_a_reask(make_tracker, dispatcher, domain):
    slots = await run_form(make_tracker, dispatcher, domain, text="the price please")
    assert slots == {"product_query": None, "invalid_attempts": 1.0}
    assert [m["response"] for m in dispatcher.messages] == ["utter_invalid_product_query"]


async def test_other_topic_is_left_to_the_rules(make_tracker, dispatcher, domain):
    assert (
        await run_form(
            make_tracker, dispatcher, domain, text="how do returns work", intent="returns"
        )
        == {}
    )


def action(result) -> tuple[ActionProductInfo, FakeProductClient]:
    client = FakeProductClient(result)
    return ActionProductInfo(client=client), client  # type: ignore[arg-type]


async def test_by_article_number(make_tracker, dispatcher, domain):
    act, client = action(make_product())
    events = await act.run(dispatcher, make_tracker(slots={"product_query": "204518"}), domain)
    assert client.calls == [("product", ("204518",))]
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_info"
    assert message["price"] == "€59.95"
    assert message["sizes"] == "M, L"  # S has no stock
    assert message["sold_out_note"] == " Sold out in S."
    assert slot_events(events) == {
        **RESET,
        "shown_article": "204518",  # a follow-up ("and in L?") asks about it
        "service_outcome": "answered",
    }


async def test_by_name_with_one_match(make_tracker, dispatcher, domain):
    act, client = action([make_product()])
    await act.run(
        dispatcher, make_tracker(slots={"product_query": "Do you have the linen dress?"}), domain
    )
    assert client.calls == [("search", ("linen dress", 4))]
    assert dispatcher.messages[0]["response"] == "utter_product_info"


async def test_several_matches_are_listed(make_tracker, dispatcher, domain):
    products = [make_product(str(204518 + i), name=f"Dress {i}") for i in range(4)]
    act, _ = action(products)
    await act.run(dispatcher, make_tracker(slots={"product_query": "dress"}), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_matches"
    assert len(message["matches"].splitlines()) == 3


async def test_sold_out(make_tracker, dispatcher, domain):
    act, _ = action(make_product(stock=0))
    await act.run(dispatcher, make_tracker(slots={"product_query": "204518"}), domain)
    assert dispatcher.messages[0]["response"] == "utter_product_sold_out"


@pytest.mark.parametrize(
    ("query", "result"), [("999999", NotFound("HTTP 404")), ("velvet tuxedo", [])]
)
async def test_nothing_matches(make_tracker, dispatcher, domain, query, result):
    act, _ = action(result)
    events = await act.run(dispatcher, make_tracker(slots={"product_query": query}), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_product_not_found"]
    assert slot_events(events)["service_outcome"] == "answered"


async def test_service_down(make_tracker, dispatcher, domain, caplog):
    act, _ = action(ServiceUnavailable("HTTP 503"))
    with caplog.at_level(logging.INFO):
        events = await act.run(dispatcher, make_tracker(slots={"product_query": "dress"}), domain)
    assert [m["response"] for m in dispatcher.messages] == ["utter_service_unavailable"]
    assert slot_events(events)["service_outcome"] == "needs_human"
    assert "product lookup failed: HTTP 503" in caplog.text


async def test_given_up_form(make_tracker, dispatcher, domain):
    act, client = action(make_product())
    events = await act.run(dispatcher, make_tracker(slots={"product_query": None}), domain)
    assert client.calls == []
    assert slot_events(events)["service_outcome"] == "needs_human"


def test_search_terms_drop_filler_words():
    assert search_terms("Do you have the Linen dress in stock?") == "linen dress"


@pytest.mark.parametrize(
    "text",
    [
        "do you have the linen dress in size 38?",
        "linen dress in XL",
        "the linen dress, size m",
        "linen dress 36/38",
    ],
)
def test_search_terms_drop_sizes(text):
    assert search_terms(text) == "linen dress"


@pytest.mark.parametrize(
    "text",
    [
        "har ni linen dress i lager?",
        "finns linen dress kvar i storlek 38",
        "onko teillä linen dress varastossa?",
        "paljonko linen dress maksaa",
        "har dere linen dress på lager?",
        "hva koster linen dress",
        "finnes linen dress i str L?",  # "str" found "Straight leg jeans" in English
        "har ni linen dress i stl 38",
        "löytyykö linen dress koossa M",
        "linen dress in a medium",
        "onks teil linen dress?",  # Finnish as it is typed: "onks", "teil"
    ],
)
def test_search_terms_drop_swedish_finnish_and_norwegian_filler_words(text):
    # The catalogue search needs every word: "linen dress i lager" found nothing.
    assert search_terms(text) == "linen dress"


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("finnes skinny jeans i str L?", "L"),
        ("har ni raka jeans i stl. 40", "40"),
        ("onko suoria farkkuja koossa M", "M"),
        ("do you have the linen dress in a medium", "M"),
        ("skinny jeans", None),
    ],
)
def test_the_size_asked_for_in_each_language(text: str, size: str | None) -> None:
    assert asked_size(text) == size


@pytest.fixture(scope="module")
def reference_service() -> Iterator[str]:
    url, proc = start_reference_service(dict(os.environ))
    yield url
    stop(proc)


@pytest.mark.parametrize(
    ("text", "article", "response"),
    [
        ("do you have the linen dress in size 38?", "204518", "utter_product_size_unknown"),
        ("skinny jeans in M", "211416", "utter_product_size_"),
        ("have you got the canvas trainers in 40", "241015", "utter_product_size_"),
    ],
)
async def test_a_size_in_the_question_still_finds_the_product(
    make_tracker, dispatcher, domain, reference_service, text, article, response
):
    """Against the reference catalogue, which wants every search word to match; the
    answer is about the size asked for (the linen dress comes in XS-XL, not 38)."""
    act = ActionProductInfo(client=ProductClient(reference_service))
    await act.run(dispatcher, make_tracker(slots={"product_query": text}), domain)
    [message] = dispatcher.messages
    assert message["response"].startswith(response)
    assert message["article"] == article


class _TailMatches(FakeProductClient):
    """Finds the product only once the leading words are dropped, like the catalogue."""

    def search(self, query: str, limit: int = 5, language: str | None = None):
        self._answer("search", query, limit)
        return [make_product()] if query == "linen dress" else []


async def test_words_the_catalogue_lacks_are_dropped_from_the_front(
    make_tracker, dispatcher, domain
):
    client = _TailMatches(None)
    act = ActionProductInfo(client=client)  # type: ignore[arg-type]
    tracker = make_tracker(slots={"product_query": "can I still buy that lovely linen dress?"})
    await act.run(dispatcher, tracker, domain)
    assert [args[0] for _, args in client.calls] == ["lovely linen dress", "linen dress"]
    assert dispatcher.messages[0]["response"] == "utter_product_info"


async def test_the_message_that_starts_the_form_names_the_product(make_tracker, dispatcher, domain):
    tracker = make_tracker(text="do you have straight leg jeans in stock?", intent="product_info")
    slots = await ValidateProductForm().extract_product_query(dispatcher, tracker, domain)
    assert slots == {"product_query": "do you have straight leg jeans in stock?"}


async def test_several_matches_come_as_buttons(make_tracker, dispatcher, domain):
    act, _ = action([make_product(), make_product()])
    await act.run(dispatcher, make_tracker(slots={"product_query": "dress"}), domain)
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_matches"
    assert len(message["buttons"]) == 2
    assert all(b["payload"].startswith("/product_info{") for b in message["buttons"])


@pytest.mark.parametrize(
    ("query", "response", "size"),
    [
        ("do you have the linen summer dress in m", "utter_product_size_in_stock", "M"),
        ("linen summer dress in size S?", "utter_product_size_sold_out", "S"),
        ("do you have the linen summer dress in 38", "utter_product_size_unknown", "38"),
    ],
)
async def test_a_size_in_the_question_gets_the_stock_of_that_size(
    make_tracker, dispatcher, domain, query, response, size
):
    client = FakeProductClient([make_product()])
    act = ActionProductInfo(client=client)  # type: ignore[arg-type]
    await act.run(dispatcher, make_tracker(slots={"product_query": query}), domain)
    [message] = dispatcher.messages
    assert (message["response"], message["size"]) == (response, size)
    assert client.calls == [("search", ("linen summer dress", 4))]


# Follow-ups on the product just shown: "and in M?", "vad kostar dom?", "onko sitä kokoa L".


async def follow_up(make_tracker, dispatcher, domain, text, *, shown="204518", intent="follow_up"):
    client = FakeProductClient(make_product())
    act = ActionProductInfo(client=client)  # type: ignore[arg-type]
    tracker = make_tracker(slots={"shown_article": shown}, text=text, intent=intent)
    events = await act.run(dispatcher, tracker, domain)
    return client, slot_events(events)


@pytest.mark.parametrize(
    ("text", "response", "size"),
    [
        ("and in M?", "utter_product_size_in_stock", "M"),
        ("och i S då?", "utter_product_size_sold_out", "S"),  # sv: no "in"/"size" word
        ("onko sitä kokoa L", "utter_product_size_in_stock", "L"),
        ("hva med XL?", "utter_product_size_unknown", "XL"),
    ],
)
async def test_a_follow_up_with_a_size_asks_about_the_product_shown(
    make_tracker, dispatcher, domain, text, response, size
):
    client, slots = await follow_up(make_tracker, dispatcher, domain, text)
    assert client.calls == [("product", ("204518",))]
    [message] = dispatcher.messages
    assert (message["response"], message["size"]) == (response, size)
    assert slots["service_outcome"] == "answered"
    assert slots["shown_article"] == "204518"


@pytest.mark.parametrize(
    "text",
    [
        "how much is it?",
        "vad kostar dom?",
        "paljonko se maksaa",
        # blind trials: "no product found" (the words searched as a product's name)
        "paljonks se maksaa",
        "what colours does it come in",
        "mitä värejä siitä on",
        "hvilke farger har den?",
    ],
)
async def test_a_follow_up_without_a_size_repeats_the_product_answer(
    make_tracker, dispatcher, domain, text
):
    client, _ = await follow_up(make_tracker, dispatcher, domain, text)
    assert client.calls == [("product", ("204518",))]
    [message] = dispatcher.messages
    assert message["response"] == "utter_product_info"
    assert message["price"] == "€59.95"


async def test_a_follow_up_naming_another_product_searches_for_it(make_tracker, dispatcher, domain):
    act, client = action([make_product("231004", name="Wool blend coat")])
    tracker = make_tracker(
        slots={"shown_article": "204518"}, text="and the wool coat?", intent="follow_up"
    )
    events = await act.run(dispatcher, tracker, domain)
    assert client.calls == [("search", ("wool coat", 4))]
    assert slot_events(events)["shown_article"] == "231004"


async def test_a_follow_up_with_no_product_before_it_asks_to_rephrase(
    make_tracker, dispatcher, domain
):
    client, slots = await follow_up(make_tracker, dispatcher, domain, "and in M?", shown=None)
    assert client.calls == []
    assert [m["response"] for m in dispatcher.messages] == ["utter_rephrase_no_suggestions"]
    assert "service_outcome" not in slots  # not handed to a person for one unclear message


async def test_several_matches_forget_the_product_shown_before(make_tracker, dispatcher, domain):
    act, _ = action([make_product(), make_product("204519")])
    tracker = make_tracker(slots={"product_query": "dress", "shown_article": "241015"})
    events = await act.run(dispatcher, tracker, domain)
    assert slot_events(events)["shown_article"] is None  # "and in M?" then means none of them


@pytest.mark.parametrize(
    "text",
    [
        "finns den i M?",
        "what about size 38",
        "har dere den i str 40?",
        # only a colour (a blind trial: a list of other black products)
        "finns dom i svart",
        "is it there in blue?",
        # when it is back (a blind trial: "no product found" for "when back")
        "när kommer den tillbaka i lager?",
        "kommer den på lager igjen snart",
        "will you restock it?",
    ],
)
async def test_a_product_question_without_a_name_is_about_the_product_shown(
    make_tracker, dispatcher, domain, text
):
    tracker = make_tracker(slots={"shown_article": "204518"}, text=text, intent="product_info")
    slots = await ValidateProductForm().extract_product_query(dispatcher, tracker, domain)
    assert slots == {"product_query": "204518"}


async def test_a_product_question_without_a_name_and_nothing_shown_asks_which(
    make_tracker, dispatcher, domain
):
    tracker = make_tracker(text="finns den i M?", intent="product_info")
    assert await ValidateProductForm().extract_product_query(dispatcher, tracker, domain) == {}


# "when is it back in stock?" after a product answer (a blind trial: "no product found" for
# the words "when back", or the returns answer for "tillbaka").


@pytest.mark.parametrize(
    "text", ["when is it back in stock?", "milloin sitä tulee taas?", "får dere flere av dem?"]
)
async def test_a_restock_follow_up_gets_the_product_shown_and_what_the_chat_knows(
    make_tracker, dispatcher, domain, text
):
    client, slots = await follow_up(make_tracker, dispatcher, domain, text)
    assert client.calls == [("product", ("204518",))]
    assert [m["response"] for m in dispatcher.messages] == [
        "utter_product_info",
        "utter_product_restock",
    ]
    assert slots["service_outcome"] == "answered"


async def test_a_restock_question_naming_a_product_searches_for_it(
    make_tracker, dispatcher, domain
):
    act, client = action([make_product("231004", name="Wool blend coat")])
    tracker = make_tracker(
        slots={"product_query": "when will the wool coat be back?"}, text="x", intent="product_info"
    )
    await act.run(dispatcher, tracker, domain)
    assert client.calls[0] == ("search", ("wool coat", 4))


@pytest.mark.parametrize(
    ("text", "restock"),
    [
        ("can you notify me when it's back?", True),
        ("kan ni meddela mig när den finns igen?", True),
        ("voitteko ilmoittaa kun sitä tulee taas?", True),
        ("kan dere gi meg beskjed når den er tilbake?", True),
        # "tell me if you have it in ..." asks about the product, not its return
        ("tell me if you have it in black", False),
        ("säg till om ni har den i svart", False),
        ("kerro jos sitä on mustana", False),
        ("gi beskjed om dere har den i svart", False),
    ],
)
def test_a_notice_when_it_is_back_is_the_restock_question(text, restock):
    """A blind trial: "can you notify me when it's back?" after a sold-out product got the
    returns text."""
    from actions.products import RESTOCK

    assert bool(RESTOCK.search(text)) is restock


@pytest.mark.parametrize("language", ["sv", "fi", "nb", "en"])
async def test_the_catalogue_is_asked_in_the_conversations_language(
    make_tracker, dispatcher, domain, language
):
    # its names and colours: "Leather ankle boots i cognac" was shown in a Swedish chat
    act, client = action([make_product()])
    tracker = make_tracker(slots={"product_query": "linen dress", "language": language})
    await act.run(dispatcher, tracker, domain)
    by_number, by_number_client = action(make_product())
    await by_number.run(
        dispatcher, make_tracker(slots={"product_query": "204518", "language": language}), domain
    )
    assert client.languages == [language]
    assert by_number_client.languages == [language]
