"""Product info by article number or name: price and the sizes that are in stock."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.calls import ANSWERED, NEEDS_HUMAN, apologise, call, log_failure, turn_budget
from actions.clients import factory
from actions.clients.errors import NotFound, ServiceError
from actions.clients.products import Product, ProductClient
from actions.forms import (
    ANSWER_INTENTS,
    ATTEMPTS_SLOT,
    HAS_DIGIT,
    ServiceFormValidation,
    latest_intent,
)
from actions.inputs import normalise_article_number
from actions.misses import previous_turn_missed
from actions.orders import language_of
from actions.sizes import bare_sizes, canonical_size, one_size_named
from channels import languages

# Words that carry no product meaning; dropped so the service searches for "linen dress".
_STOP_WORDS_TEXT = """
    a an the do does you have has is are it its in of for me my i want need looking
    about info information on price prices cost costs how much what which size sizes
    stock available availability tell please show any some your with and or
    can could still buy get order sell sell carry left there yet again hi hello hey
    is this that these those them they would like know if still got
    question questions product products item items article one ones something
    then too also
"""
# The same in Swedish, Finnish and Norwegian ("har ni wool blend coat i lager?", "onko
# teillä ... varastossa", "har dere ... på lager"), with and without diacritics: the
# catalogue search needs every word to match, so a trailing "i lager" found nothing.
_STOP_WORDS_NORDIC = """
    har ni i på pa lager lagret finns fins det den du jag kan köpa kopa fortfarande
    någon nagon några nagra en ett vad kostar pris priset storlek storlekar tack hej
    om med och eller av för for till er era ert mig vill behöver behover söker soker
    letar efter produkten varan artikeln inne kvar säljer saljer hur mycket är ar visa
    onko teillä teilla teiltä teilta varastossa vielä viela on mitä mita maksaa
    paljonko hinta hintaa koko kokoa kokoja saatavilla myyttekö myytteko voinko
    ostaa haluan etsin tuote tuotetta tuotteen kiitos hei moi tai ja se sitä sita
    kuinka paljon mikä mika vai löytyykö loytyyko yhä yha edelleen
    dere lageret finnes jeg kjøpe kjope fortsatt noen et hva koster prisen
    størrelse storrelse størrelser takk og meg trenger ser produktet selger hvor mye
    er vis igjen
    str stl strl storleken størrelsen storrelsen koossa kokoisena kokoisia kokoon koon
    small medium large
    då da dom dem de så sa också ocksa også ogsa sitten entä enta myös myos niitä niita
    ne sen onks onkse löytyyks loytyyks teil niit mul mulle saako saanko voiks
"""
# Asking what a product comes in ("what colours does it come in", "mitä värejä siitä on",
# "paljonks se maksaa"): no product's name (a blind trial: "no product found" right after
# the product was named).
_STOP_WORDS_ASKING = """
    colour colours color colors come comes does did run runs
    färg färger farg farger finns fins vilka vilken hvilke hvilken farge fargene
    värejä väreja väri värit väriä varia värissä paljonks paljonko mitä siitä sitä niitä
    tulee onks löytyyks
"""
_NORDIC_STOP_WORDS = frozenset(_STOP_WORDS_NORDIC.split())
STOP_WORDS = (
    frozenset(_STOP_WORDS_TEXT.split()) | _NORDIC_STOP_WORDS | frozenset(_STOP_WORDS_ASKING.split())
)
# Sizes ("in 38", "size M", "36/38", "XL") name no product, and the catalogue search needs
# every word to match: "linen dress in size 38" found nothing. Article numbers (6 digits)
# never get here, they are read as such first.
SIZE = re.compile(r"\d{1,3}(?:/\d{1,3})?|x{0,3}[sl]|m", re.IGNORECASE)
# A size the shopper asks about: "in 38", "size M", "in a size 40", "in XL". Only after
# "in"/"size" (and their sv/fi/nb words), so that a stray "s" or a number in a name is no size.
ASKED_SIZE = re.compile(
    r"\b(?:in|size|storlek|storleken|stl|strl|str|koko|kokoa|koossa|størrelse|storrelse)"
    r"\.?\s+(?:(?:a|the)\s+)?(?:size\s+)?"
    r"(\d{2}(?:/\d{2})?|xxs|xs|s|m|l|xl|xxl|small|medium|large)\b",
    re.IGNORECASE,
)
# A size standing alone counts in a follow-up of at most this many words ("hva med XL?").
FOLLOW_UP_WORDS = 6
MATCHES_SHOWN = 3
# A shopper's sentence often keeps words the catalogue does not have ("can I still buy the
# wool blend coat"): when every word together finds nothing, the search is retried with
# the leading words dropped, this many times at most (the product noun tends to come last).
SEARCH_RETRIES = 3
# The article of the last answer that named one product: "and in M?", "vad kostar dom?",
# "onko sitä kokoa L" ask about it without naming it. An article number is no personal data.
SHOWN_SLOT = "shown_article"


# "when is it back in stock?", "när kommer den in igen?": a question about restocking,
# about the product just shown unless it names one; its words name no product (a blind
# trial: "no product found" for "when back").
RESTOCK = re.compile(
    r"\b(?:back in stock|restock\w*|in stock again|available again|"
    r"(?:be|is|are|come|comes|coming) back|get (?:more|it again|them again)|"
    r"more (?:coming|stock)|"
    r"tillbaka i lager|i lager igen|in igen|(?:å|a)ter i lager|"
    r"kommer (?:\w+ ){1,3}tillbaka|fyll\w* (?:\w+ )?på|p(?:å|a)fyll\w*|finns igen|"
    r"(?:få|fa)r? (?:ni |dere )?(?:in |inn )?fler\w*|"
    r"(?:takaisin|taas) (?:varastoon|varastossa|saatavilla|myyntiin|myynnissä|myynnissa)|"
    r"tulee\w* (?:\w+ ){0,2}(?:lisää|lisaa|takaisin|uudestaan|taas)|"
    r"lis(?:ää|aa) tulossa|t(?:ä|a)ydenn\w*|saatte \w+ taas|"
    r"tilbake p(?:å|a) lager|p(?:å|a) lager igjen|inn igjen|kommer (?:\w+ ){1,3}tilbake|"
    # "can you let me know when it's back?": the same answer (a blind trial: returns)
    r"(?:notify|tell|let|email|message) me (?:know )?when|(?:notify|email|message) me if|"
    r"meddela\w* (?:mig )?(?:när|nar)|säg till när|sag till nar|mejla\w* (?:mig )?(?:när|nar)|"
    r"ilmoit\w* (?:minulle )?kun|ker(?:ro|to)\w* (?:minulle )?kun|"
    r"si (?:i)?fra (?:når|nar)|(?:gi|gir) (?:meg )?beskjed (?:når|nar)|"
    r"varsle\w* (?:meg )?(?:når|nar))",
    re.IGNORECASE,
)
_RESTOCK_WORDS_TEXT = """
    when will back restock restocked restocking again more coming come comes be när nar
    kommer tillbaka igen in åter ater påfyllning pafyllning fyller fylls milloin tulee
    tuleeko lisää lisaa takaisin varastoon taas uudestaan myyntiin tulossa sold out slutsåld
    slutsålda slutsalda loppuunmyyty utsolgt utsolgte soon idea any vet min mitt mina mun
    minun snart pian koska tätä tata varastoa blir få fa nån fler flere får far påfylld
    pafylld täydennättekö taydennattekö täydennetäänkö saatte når tilbake inn påfyll pafyll
    notify let know tell email message me meddela meddelar mig säg sag till om ilmoita
    ilmoitatte ilmoittaa ilmoititteko minulle kun jos kerro kerrotteko gi gir meg beskjed
    varsle varsler nar stock lager mejla mejlar kertokaa si fra ifra voitteko voisitteko
"""
_RESTOCK_WORDS = frozenset(_RESTOCK_WORDS_TEXT.split())


def search_terms(text: str) -> str:
    words = re.findall(r"[\w/-]+", text.lower())
    drop = STOP_WORDS | _RESTOCK_WORDS if RESTOCK.search(text) else STOP_WORDS
    return " ".join(w for w in words if w not in drop and not SIZE.fullmatch(w))[:100]


def asked_size(text: str) -> str | None:
    """The size a product question names, upper-cased like the catalogue's ("M", "38")."""
    found = ASKED_SIZE.search(text)
    # "in a medium" as the catalogue names it: "M"
    return canonical_size(found.group(1)) if found else None


def named(terms: str) -> bool:
    """Whether search terms hold something that could be a product name."""
    return bool(re.sub(r"\d", "", terms).strip()) and len(terms) >= 3


# Colours, in the four languages: after a product's answer, a message that names only a
# colour ("finns dom i svart", "in blue?") asks about that product, whose answer says its
# colour (a blind trial: a list of other black products, and then "which product?").
_COLOURS_TEXT = """
    black white blue navy red green grey gray brown beige pink yellow orange purple svart
    svarta vit vita blå blått blåa röd rött röda grön grönt gröna grå brun bruna rosa gul
    gula lila musta mustana mustia valkoinen valkoisena sininen sinisenä punainen punaisena
    vihreä vihreänä harmaa harmaana ruskea ruskeana beige pinkki keltainen hvit hvite blått
    blå rød rødt røde grønn grønt grønne brunt
"""
COLOURS = frozenset(_COLOURS_TEXT.split())


def names_a_product(terms: str, shown: Any) -> bool:
    """Whether search terms name a product to search for: not when they are only colours
    and a product was just shown (its answer says its colour)."""
    words = terms.split()
    only_colours = bool(words) and all(w in COLOURS for w in words)
    return named(terms) and not (shown and only_colours)


async def search_by_name(
    client: ProductClient, terms: str, language: str | None = None
) -> list[Product]:
    """Products for every word of `terms`, else for the longest run of its words that
    finds any, down to `SEARCH_RETRIES` words fewer: among runs of one length the later
    first (English names the product last), then the earlier (a Swedish, Finnish or
    Norwegian sentence may name it first: "farkkutakkia löytyykö nyt"), then the middle
    ("ugh. what sizes does the leather ankle boot come in": "leather ankle boot" has a word
    dropped at each end; it found nothing)."""
    words = terms.split()
    tries = min(SEARCH_RETRIES, len(words) - 1)
    spans = []
    for dropped in range(tries + 1):
        starts = [dropped, 0, *range(dropped - 1, 0, -1)] if dropped else [0]
        spans += [(start, start + len(words) - dropped) for start in dict.fromkeys(starts)]
    for start, end in spans:
        products = await call(
            client.search, " ".join(words[start:end]), MATCHES_SHOWN + 1, language
        )
        if products:
            return products
    return []


def price_text(price: Decimal, currency: str, language: str = "en") -> str:
    """'€59.90' (en_GB), '59,90 €' (fi_FI): Babel, in the conversation's locale."""
    return languages.money_text(price, currency, language)


def describe(product: Product, language: str = "en") -> dict[str, str]:
    return {
        "product_name": product.name,
        "colour": product.colour or "",
        "article": product.article_number,
        "price": price_text(product.price, product.currency, language),
        "sizes": ", ".join(product.sizes_in_stock),
        "sold_out_note": sold_out_note(product, language),
    }


def sold_out_note(product: Product, language: str = "en") -> str:
    """The sizes without stock, so a shopper asking about sizes hears of every size."""
    sold_out = [s.size for s in product.sizes if s.stock <= 0]
    return languages.say("sold_out_in", language, sizes=", ".join(sold_out)) if sold_out else ""


def size_answer(product: Product, size: str, language: str = "en") -> dict[str, str]:
    """The response (and its values) for a question about one size of one product."""
    stock = {s.size.upper(): s.stock for s in product.sizes}
    if size not in stock:
        response = "utter_product_size_unknown"
    elif stock[size] > 0:
        response = "utter_product_size_in_stock"
    else:
        response = "utter_product_size_sold_out"
    all_sizes = ", ".join(s.size for s in product.sizes)
    return {
        "response": response,
        "size": size,
        "all_sizes": all_sizes,
        **describe(product, language),
    }


class ValidateProductForm(ServiceFormValidation):
    # product names are easily taken for something out of scope
    answer_intents = ANSWER_INTENTS | {"product_info", "out_of_scope"}

    def name(self) -> str:
        return "validate_product_form"

    async def extract_product_query(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> dict[str, Any]:
        # An article number in the message (entity) answers the question directly,
        # also in the message that starts the form.
        message = tracker.latest_message or {}
        for entity in message.get("entities") or []:
            if entity.get("entity") == "article_number":
                article = normalise_article_number(entity.get("value"))
                if article:
                    return {"product_query": article}
        if tracker.get_slot("requested_slot") is None:
            # The message that starts the form ("do you have straight leg jeans?") names
            # the product itself: search by it instead of asking for what was just said.
            text = str(message.get("text") or "")
            if latest_intent(tracker) != "product_info" or text.startswith("/"):
                return {}
            shown = tracker.get_slot(SHOWN_SLOT)
            terms = search_terms(text)
            if names_a_product(terms, shown):
                return {"product_query": text.strip()[:200]}
            # "finns den i M?", "what about size 38", "finns dom i svart" after a product
            # answer
            return {"product_query": str(shown)} if shown else {}
        return self.raw_attempt(tracker, domain, "product_query", HAS_DIGIT)

    def validate_product_query(
        self,
        value: Any,
        dispatcher: CollectingDispatcher,
        tracker: Tracker,
        domain: DomainDict,
    ) -> dict[str, Any]:
        if not isinstance(value, str):
            return self.invalid(dispatcher, tracker, "product_query", "utter_invalid_product_query")
        article = normalise_article_number(value)
        if article:
            return {"product_query": article}
        if named(search_terms(value)):
            return {"product_query": value.strip()[:200]}
        return self.invalid(dispatcher, tracker, "product_query", "utter_invalid_product_query")


class ActionProductInfo(Action):
    def __init__(self, client: ProductClient | None = None) -> None:
        self._client = client

    def name(self) -> str:
        return "action_product_info"

    @property
    def client(self) -> ProductClient:
        if self._client is None:
            self._client = factory.product_client()
        return self._client

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: DomainDict
    ) -> list[EventType]:
        reset: list[EventType] = [
            SlotSet("product_query", None),
            SlotSet("article_number", None),
            SlotSet(ATTEMPTS_SLOT, 0.0),
        ]
        query = tracker.get_slot("product_query") or self._about_shown(tracker)
        if not isinstance(query, str) or not query.strip():
            if latest_intent(tracker) == "follow_up":  # "and in M?" with no product before it
                dispatcher.utter_message(response="utter_rephrase_no_suggestions")
                return reset
            dispatcher.utter_message(response="utter_too_many_attempts")
            return [*reset, NEEDS_HUMAN]
        # the catalogue's names and colours in the conversation's language
        language = language_of(tracker)
        try:
            article = normalise_article_number(query)
            with turn_budget():
                if article:
                    products = [await call(self.client.product, article, language)]
                else:
                    products = await search_by_name(self.client, search_terms(query), language)
            if not products and self._restock_of_shown(tracker):
                # "when are they back in stock, the ones I asked about?": the product shown
                shown_article = str(tracker.get_slot(SHOWN_SLOT))
                products = [await call(self.client.product, shown_article, language)]
        except NotFound as exc:
            log_failure("product lookup", exc)
            products = []
        except ServiceError as exc:
            log_failure("product lookup", exc)
            return [*reset, apologise(dispatcher)]
        size = asked_size(query)
        if size is None and len(products) == 1:
            size = self._size_asked_now(tracker, products[0])
        self._answer(dispatcher, products, language, size)
        if len(products) == 1 and RESTOCK.search(str(tracker.latest_message.get("text") or "")):
            dispatcher.utter_message(response="utter_product_restock")
        shown = SlotSet(SHOWN_SLOT, products[0].article_number if len(products) == 1 else None)
        if not products and previous_turn_missed(tracker):
            return [*reset, shown, NEEDS_HUMAN]  # a second miss in a row: offer a person
        return [*reset, shown, ANSWERED]

    @staticmethod
    def _about_shown(tracker: Tracker) -> str | None:
        """The product a follow-up asks about: the one it names ("and the linen dress?"),
        else the one just shown."""
        if latest_intent(tracker) != "follow_up":
            return None
        text = str((tracker.latest_message or {}).get("text") or "")
        shown = tracker.get_slot(SHOWN_SLOT)
        terms = search_terms(text)
        if names_a_product(terms, shown) and not text.startswith("/"):
            return text.strip()[:200]
        return str(shown) if shown else None

    @staticmethod
    def _restock_of_shown(tracker: Tracker) -> bool:
        """Whether the latest message asks when a product is back, and one was shown."""
        text = str((tracker.latest_message or {}).get("text") or "")
        return bool(RESTOCK.search(text)) and bool(tracker.get_slot(SHOWN_SLOT))

    @staticmethod
    def _size_asked_now(tracker: Tracker, product: Product) -> str | None:
        """A size in the shopper's latest message ("och i S då?", "har dere den i str 40?")
        when it is one of the product's sizes: the query may be the article shown before."""
        text = str((tracker.latest_message or {}).get("text") or "")
        if text.startswith("/"):
            return None
        stock = {s.size.lower(): s for s in product.sizes}
        found = asked_size(text) or one_size_named(text, stock)
        if found is None and len(text.split()) <= FOLLOW_UP_WORDS:
            # a size the product lacks ("hva med XL?"): the answer names the sizes it has
            found = next(iter(bare_sizes(text)), None)
        return found

    @staticmethod
    def _answer(
        dispatcher: CollectingDispatcher,
        products: list[Product],
        language: str = "en",
        size: str | None = None,
    ) -> None:
        if not products:
            dispatcher.utter_message(response="utter_product_not_found")
            return
        if len(products) == 1:
            product = products[0]
            if size and product.sizes_in_stock:
                dispatcher.utter_message(**size_answer(product, size, language))
                return
            name = "utter_product_info" if product.sizes_in_stock else "utter_product_sold_out"
            dispatcher.utter_message(response=name, **describe(product, language))
            return
        lines = "\n".join(
            languages.say(
                "product_line",
                language,
                name=p.name,
                colour=f" ({p.colour})" if p.colour else "",
                article=p.article_number,
                price=price_text(p.price, p.currency, language),
            )
            for p in products[:MATCHES_SHOWN]
        )
        buttons = [
            {
                "title": f"{p.name} ({p.colour})" if p.colour else p.name,
                "payload": f'/product_info{{"article_number":"{p.article_number}"}}',
            }
            for p in products[:MATCHES_SHOWN]
        ]
        dispatcher.utter_message(response="utter_product_matches", matches=lines, buttons=buttons)
