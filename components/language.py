"""Recognise which of the shop's languages a message is written in (entity `language`).

The conversation's language is the slot `language` (domain/shared.yml); it is mapped from
the entity this component adds, so Rasa switches it within the same turn, with no call to
the action server. Two sources, in this order:

1. An explicit request ("can we speak English?", "kan vi prata svenska"): when the
   classifier's intent is `switch_language` and the message names one of our languages,
   that language wins, whatever the message is written in (a Swedish sentence asking for
   English gives "en").
2. The detector (lingua, restricted to our languages plus Danish and German as decoys):
   only on clear evidence, that is at least `min_words` words, a top confidence of at
   least `min_confidence`, and a top language that is one of ours. German is in the list
   so that a German message is not forced onto English and then switches nothing; Danish
   so that lingua can say when Bokmål and Danish look alike, which it does for much
   Norwegian ("kan jeg få snakke med et menneske", Danish 0.52): such a message, like one
   lingua is unsure of, is read by its small words, and Norwegian ones make it Norwegian
   (the shop has no Danish; Bokmål is the language nearest to it).
   "ok", "hej", "tack" never reach two words, so they never flip;
   pleasantries shoppers write in any language ("ok", "thanks", "bye") do not count
   towards `min_words`, so "ok thanks" does not turn a Swedish chat English;
   e-mail and web addresses, anything with a digit and names (capitalised words inside
   a sentence) are not counted or read, and an address (a message with a postcode) not
   at all: "Storgatan 12, 111 22 Stockholm" does not switch an English chat to Swedish.

The detector is built once when the model loads (about 3 s, models preloaded) and costs
about 0.1-0.4 ms a message after that (README "Languages").
"""

from __future__ import annotations

import functools
import re
from typing import Any

from lingua import Language, LanguageDetector, LanguageDetectorBuilder
from rasa.engine.graph import ExecutionContext, GraphComponent
from rasa.engine.recipes.default_recipe import DefaultV1Recipe
from rasa.engine.storage.resource import Resource
from rasa.engine.storage.storage import ModelStorage
from rasa.nlu.extractors.extractor import EntityExtractorMixin
from rasa.shared.nlu.constants import ENTITIES, INTENT, INTENT_NAME_KEY, TEXT
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

ENTITY = "language"
SWITCH_INTENT = "switch_language"
#: The conversation languages (slot values) and the detector's name for each.
OURS: dict[str, Language] = {
    "en": Language.ENGLISH,
    "sv": Language.SWEDISH,
    "fi": Language.FINNISH,
    "nb": Language.BOKMAL,
}
OURS_CODES = frozenset(OURS)
#: Close neighbours the detector may answer instead; they never switch the language.
DECOYS: tuple[Language, ...] = (Language.DANISH, Language.GERMAN)

#: How shoppers name our languages, in any of our languages (stems; Finnish inflects:
#: suomi, suomea, suomeksi). Matched at the start of a word, case-insensitively.
LANGUAGE_NAMES: dict[str, tuple[str, ...]] = {
    "en": ("english", "engelsk", "englan", "englant"),
    "sv": ("swedish", "svensk", "ruotsi", "ruotsa"),
    "fi": ("finnish", "finsk", "suomi", "suome", "suomea"),
    "nb": ("norwegian", "norsk", "norja", "bokmål", "bokmal"),
}
_NAME = re.compile(
    r"\b(" + "|".join(n for names in LANGUAGE_NAMES.values() for n in names) + r")\w*",
    re.IGNORECASE,
)
#: A word: two letters or more, at least one of them a vowel of our languages. Keyboard
#: mashes ("vbnm trrr") are not words; lingua would call them Swedish with 0.6.
_WORD = re.compile(r"(?=[^\W\d_]*[aeiouyåäöæøéü])[^\W\d_]{2,}", re.IGNORECASE)
#: E-mail addresses, web addresses and anything with a digit (order, article and tracking
#: numbers, postcodes) say nothing about the language a shopper writes in: a Finnish
#: shopper's "anna.svensson@example.com" must not switch the chat to Swedish.
_NOT_LANGUAGE = re.compile(r"\S+@\S+|https?://\S+|www\.\S+|\S*\d\S*", re.IGNORECASE)
#: A postcode-shaped number (SE "111 22", FI/DE "00100", NO/DK "0150"; order, article and
#: tracking numbers are longer) marks an address: its street, city and country are names
#: in the language of the place, not of the shopper ("Storgatan 12, 111 22 Stockholm" in
#: an English chat), so such a message is not read at all.
_POSTCODE = re.compile(r"(?<![\d-])(?:\d{3} \d{2}|\d{4,5})(?![\d-])")
#: Pleasantries shoppers write whatever language they chat in: English "ok", "thanks",
#: "bye", "sorry" are as common in a Swedish, Finnish or Norwegian chat as in an English
#: one, so they are no evidence for any language and do not count towards `min_words`
#: (lingua calls "ok thanks" English with 0.55, which switched a Swedish chat). A message
#: with enough other words is read whole ("hello, can you help me" stays English). Nordic
#: spellings and thanks ("okej", "hej", "hei", "tack", "kiitos", "takk") each belong to
#: one or two of our languages and still count; emoji are not words anyway.
_SHARED = re.compile(
    r"\b(?:(?:many\s+)?(?:thank\s+(?:you|u)|thanks|thanx|thx|tnx|ty)"
    r"(?:\s+(?:a\s+lot|so\s+much|very\s+much|again))?|ok(?:ay|ey|ie|i)?|"
    r"bye(?:[\s-]*bye)?|hi|hello|hey|sorry|lol|cool|nice|super)\b",
    re.IGNORECASE,
)
#: A capitalised word that does not start a sentence is a name (a street, a city, a
#: product, a person) and says nothing about the language the shopper writes in.
_SENTENCE_END = re.compile(r"[.!?:;]$")

_LANGUAGE_CODE = {language: code for code, language in OURS.items()}


def named_span(text: str) -> tuple[str, int, int] | None:
    """The language a message asks for by name ("på engelska" -> "en") and where the name
    is, if exactly one language is named."""
    found: dict[str, tuple[int, int]] = {}
    for match in _NAME.finditer(text):
        word = match.group(1).lower()
        for code, names in LANGUAGE_NAMES.items():
            if word in names:
                found.setdefault(code, match.span())
    if len(found) != 1:
        return None
    [(code, (start, end))] = found.items()
    return code, start, end


def named_language(text: str) -> str | None:
    """The language a message asks for by name, if exactly one."""
    span = named_span(text)
    return span[0] if span else None


def language_text(text: str) -> str:
    """The words of a message that show its language: without e-mail and web addresses,
    tokens with digits and names (capitalised words that do not start a sentence); an
    address (a message with a postcode) has none."""
    if _POSTCODE.search(text):
        return ""
    kept: list[str] = []
    previous = ""
    for token in text.split():
        starts_sentence = not previous or bool(_SENTENCE_END.search(previous))
        previous = token
        if _NOT_LANGUAGE.search(token):
            continue
        if token[:1].isupper() and not starts_sentence:
            continue
        kept.append(token)
    return " ".join(kept)


def evidence_text(text: str) -> str:
    """The words that count as evidence: the language's words (`language_text`) without
    the pleasantries shoppers write in any language ("ok thanks" leaves nothing)."""
    return " ".join(_SHARED.sub(" ", language_text(text)).split())


def word_count(text: str) -> int:
    """Words of two letters or more, with a vowel, outside addresses, numbers and names
    ("ok" is one, "k" and "vbnm" none)."""
    return len(_WORD.findall(language_text(text)))


@functools.lru_cache(maxsize=1)
def build_detector() -> LanguageDetector:
    """The lingua detector over our languages and the decoys, models loaded up front so
    that no shopper's message pays for loading them; one per process (about 250 MB),
    shared by the router and the recognizer."""
    return (
        LanguageDetectorBuilder.from_languages(*OURS.values(), *DECOYS)
        .with_preloaded_language_models()
        .build()
    )


def confidence_values(detector: LanguageDetector, text: str, min_words: int) -> list[Any]:
    """lingua's confidences (best first) for the language words of a message, or [] when
    it has fewer than `min_words` words of evidence. Cleaned once: counted without
    pleasantries, read whole."""
    words = language_text(text)
    if len(_WORD.findall(_SHARED.sub(" ", words))) < min_words:
        return []
    return list(detector.compute_language_confidence_values(words))


class LanguageGuess:
    """The detector with the shop's thresholds: a language code, or None when unsure."""

    def __init__(
        self,
        detector: LanguageDetector | None = None,
        min_confidence: float = 0.5,
        min_words: int = 2,
    ) -> None:
        self.detector = detector or build_detector()
        self.min_confidence = min_confidence
        self.min_words = min_words

    def detect(self, text: str) -> str | None:
        greeting = by_greeting(text)
        if greeting is not None:
            return greeting
        values = confidence_values(self.detector, text, self.min_words)
        if not values:
            return by_shop_words(text)
        top = values[0]
        if top.language in (Language.ENGLISH, Language.DANISH) or top.value < self.min_confidence:
            nordic = by_small_words_alone(text)
            if nordic is not None:
                return nordic
        if top.language in _SCANDINAVIAN and by_finnish_small_words(text, values):
            # "ootsä botti": Swedish 0.58 to lingua, Finnish 0.37
            return "fi"
        if top.value < self.min_confidence or top.language == Language.DANISH:
            # Danish: lingua's reading of much Bokmål ("kan jeg få snakke med et menneske",
            # Danish 0.52, Bokmål 0.48); Norwegian small words make it Norwegian
            return by_small_words(text, values)
        return _LANGUAGE_CODE.get(top.language)  # German, a decoy: None

    def language_of(self, text: str, intent: str | None) -> tuple[str, int, int] | None:
        """The language the conversation should continue in after this message, if any,
        with the characters it rests on (the name asked for, else the whole message).

        A request by name wins over the detector's guess for the same message."""
        if intent == SWITCH_INTENT:
            asked = named_span(text)
            if asked is not None:
                return asked
        detected = self.detect(text)
        return None if detected is None else (detected, 0, len(text))


#: Metadata the web chat channel sends with every message: the page's language and the
#: conversation's current one (its `language` slot), so that a settled conversation is not
#: flipped by a message that only looks like another language.
PAGE_LANGUAGE_KEY = "language"
CURRENT_LANGUAGE_KEY = "conversation_language"
#: True when the shopper has written before in the conversation: its current language,
#: English too, was then chosen on evidence (or kept through earlier messages).
WROTE_BEFORE_KEY = "shopper_wrote_before"

#: Small words that only a sentence of the language has. A product name ("canvas
#: trainers", "leather ankle boots") or a two-word reply ("ja kolla": Finnish to the
#: detector) is no reason to leave the language a Swedish page or conversation is in.
_FUNCTION_WORDS_TEXT = {
    "en": """i you my me is are am the a an to do does can could where what how when why
        please it of for with and not have has was will would this that we your there""",
    "sv": """jag du min mitt mina är ar och det en ett att kan var vad hur när nar inte har
        med för for på pa ni vi den som mig dig vilka vilken vilket finns""",
    "fi": """minä mä sinä sä mun sun mulla sulla on ja ei en se että etta mitä mita miten
        missä missa milloin voi voiko onko kun te teillä teilla me olen tämä tama mikä mika
        ootsä ootko oot oon onks onkse voiks teil mul""",
    "nb": """jeg du min mitt mine er og det en et å kan hvor hva hvordan når nar ikke har
        med for på pa dere vi den som meg deg hvilke hvilken hvilket finnes var""",
}
FUNCTION_WORDS = {code: frozenset(words.split()) for code, words in _FUNCTION_WORDS_TEXT.items()}
#: The shop's own words that only one of our languages has: one of them is evidence in a
#: message too short for the detector ("avbestill 40012350, farid@...", answered in
#: English) and settles a tie of small words ("... lurer pa status pa ordre 40012353":
#: "pa" is Swedish and Norwegian). Not for leaving a settled language (strong_enough).
_SHOP_WORDS_TEXT = {
    "sv": """avboka avbeställ avbestall avbeställa beställning beställningen
        bestallning bestallningen ordern paketet leveransen reklamation reklamera storlek
        storleken kvitto mejl mejlen kolla""",
    "fi": """peru peruuta perukaa peruutus tilaus tilauksen tilaukseni tilausta tilaukselle
        paketti paketin pakettini toimitus toimituksen palautus palautan lasku laskun
        laskuni sposti sähköposti sahkoposti""",
    "nb": """avbestill avbestille avbestilling kanseller bestillingen bestilling ordre ordren
        ordrenummer pakken leveringen reklamasjon reklamere størrelse storrelse størrelser
        storrelser kvittering
        eposten""",
}
SHOP_WORDS = {code: frozenset(words.split()) for code, words in _SHOP_WORDS_TEXT.items()}
#: Beginnings of the shop's words that only one of our languages has, for compounds and
#: endings a list cannot hold: "toimituskulut?" (one word, answered in English),
#: "palautusohjeet", "leveranstid", "leveringstid".
_SHOP_STEMS_TEXT = {
    "sv": "leverans beställ bestall returnera reklamation storlek kvitto kundtjänst kundtjanst",
    "fi": """toimitu tilau palautu palautt laskun laskut maksu pakett seuranta peruu peruut
        kokoja koot uutiskirje asiakaspalvelu noutopist kuitti hyvity""",
    "nb": """levering bestilling reklamasjon størrelse storrelse kvittering kundeservice
        betaling personvern pakke""",
}
SHOP_STEMS = {code: tuple(stems.split()) for code, stems in _SHOP_STEMS_TEXT.items()}


def by_shop_words(text: str) -> str | None:
    """The one language whose shop words (SHOP_WORDS) a short message has, if it has no
    English small word ("my ordre 40012345" stays undecided)."""
    words = [w.lower() for w in _WORD.findall(language_text(text))]
    if any(w in FUNCTION_WORDS["en"] for w in words):
        return None
    found = {
        code
        for code, vocab in SHOP_WORDS.items()
        if any(w in vocab or w.startswith(SHOP_STEMS[code]) for w in words)
    }
    return found.pop() if len(found) == 1 else None


#: Greetings that only one of our languages has, as a whole message: "hej" or "moi" alone
#: was answered in English (the detector wants two words). "hei" is Finnish and Norwegian,
#: "hallo" English too: not here. Like the shop words, not for leaving a settled language.
_GREETINGS_TEXT = {
    "sv": """hej|hejsan|hej hej|hejhej|tjena|tjenare|tjabba|hallå|god morgon|godmorgon|
        god kväll|god eftermiddag|hej där""",
    "fi": """moi|moikka|moi moi|moro|morjens|terve|terve terve|heippa|päivää|hyvää päivää|
        huomenta|hyvää huomenta|iltaa|hyvää iltaa""",
    "nb": """heisann|hallais|morn|god morgen|god kveld|god dag|hei på deg""",
}
GREETINGS = {
    code: frozenset(" ".join(g.split()) for g in text.split("|"))
    for code, text in _GREETINGS_TEXT.items()
}
_NOT_LETTER = re.compile(r"[^\w\s]|[\d_]")


def by_greeting(text: str) -> str | None:
    """The language of a message that is only a greeting of one of our languages."""
    said = " ".join(_NOT_LETTER.sub(" ", text.lower()).split())
    found = [code for code, greetings in GREETINGS.items() if said in greetings]
    return found[0] if len(found) == 1 else None


#: Small words that are no evidence in this reading: English has "on" and "for" too, and
#: "ja" is yes in Swedish and Norwegian but "and" in Finnish.
_NO_EVIDENCE = frozenset({"on", "for", "ja"})
#: lingua must give the language the small words point to at least this much belief
#: (one small word alone needs the second figure).
SMALL_WORDS_MIN_CONFIDENCE, ONE_SMALL_WORD_MIN_CONFIDENCE = 0.25, 0.3


def _small_word_counts(text: str) -> tuple[str, int, int]:
    """The language with the most small words (and shop words) in `text`, their count,
    and the next language's count."""
    words = [w.lower() for w in _WORD.findall(language_text(text))]
    hits = {
        code: sum(
            (w in small and w not in _NO_EVIDENCE) or w in SHOP_WORDS.get(code, ()) for w in words
        )
        for code, small in FUNCTION_WORDS.items()
    }
    hits["en"] = sum(w in FUNCTION_WORDS["en"] for w in words)
    ranked = sorted(hits.items(), key=lambda item: item[1], reverse=True)
    (best, count), (_, runner_up) = ranked[0], ranked[1]
    return best, count, runner_up


#: Small words of one Nordic language, and not one English small word, outweigh the
#: detector's belief in English or Danish: "har ni skinny jeans?" (English 0.23, Swedish
#: 0.17) and "har ni leather boots?" (English 0.60) are Swedish with a product's name.
NORDIC_SMALL_WORDS_ALONE = 2


def by_small_words_alone(text: str) -> str | None:
    """The Nordic language whose small words the message has at least
    NORDIC_SMALL_WORDS_ALONE of, more than any other's, without an English one."""
    best, count, runner_up = _small_word_counts(text)
    if best == "en" or count < NORDIC_SMALL_WORDS_ALONE or count == runner_up:
        return None
    words = {w.lower() for w in _WORD.findall(language_text(text))}
    return None if words & FUNCTION_WORDS["en"] else best


_SCANDINAVIAN = frozenset({Language.SWEDISH, Language.BOKMAL, Language.DANISH})
#: lingua's belief in Finnish that a Finnish small word needs against a Scandinavian top
FINNISH_AGAINST_SCANDINAVIAN = 0.2


def by_finnish_small_words(text: str, values: list[Any]) -> bool:
    """Whether a message lingua reads as Swedish, Norwegian or Danish has a Finnish small
    word and no Swedish or Norwegian one, and lingua gives Finnish some belief too."""
    words = {w.lower() for w in _WORD.findall(language_text(text))}
    if not words & FUNCTION_WORDS["fi"] or words & (FUNCTION_WORDS["sv"] | FUNCTION_WORDS["nb"]):
        return False
    belief = sum(v.value for v in values if v.language == Language.FINNISH)
    return belief >= FINNISH_AGAINST_SCANDINAVIAN


def by_small_words(text: str, values: list[Any]) -> str | None:
    """A second reading when lingua is unsure (below `min_confidence`): short Nordic
    messages with English product names or codes ("hej kan ni kolla mitt paket", Finnish
    0.39 / Swedish 0.35; "hva koster merino genseren deres?", Danish 0.39 / Bokmål 0.31).
    The language whose small words (FUNCTION_WORDS) the message has more of than any
    other language's, English included, if lingua gives it some belief too."""
    best, count, runner_up = _small_word_counts(text)
    if best == "en" or count == 0 or count == runner_up:
        return None
    # lingua splits its belief in Norwegian between Bokmål and Danish ("har dere skinny
    # jeans?": Danish 0.30, Bokmål 0.21): for Norwegian small words both count
    belief = sum(
        v.value
        for v in values
        if _LANGUAGE_CODE.get(v.language) == best
        or (best == "nb" and v.language == Language.DANISH)
    )
    needed = ONE_SMALL_WORD_MIN_CONFIDENCE if count == 1 else SMALL_WORDS_MIN_CONFIDENCE
    return best if belief >= needed else None


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.ENTITY_EXTRACTOR, is_trainable=False)
class LanguageRecognizer(GraphComponent, EntityExtractorMixin):
    """Adds a `language` entity when a message says which language to continue in.

    A conversation that is already in a language chosen on evidence (the page's, a
    Swedish, Finnish or Norwegian one, or English once the shopper has written) leaves it
    only on stronger evidence than a first message needs: `switch_min_words` words
    including a small word of the new language ("where is my parcel", not "canvas
    trainers"), or a request by name ("kan vi ta det på engelska?"). A first message in
    an English conversation by default (no page language) switches on the plain rule, so
    a Swedish first message still gets Swedish at once.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # The detector's top language must have at least this confidence ...
            "min_confidence": 0.5,
            # ... in a message of at least this many words.
            "min_words": 2,
            # Leaving a language the page or earlier messages chose needs this many words,
            # one of them a small word of the new language (FUNCTION_WORDS).
            "switch_min_words": 3,
        }

    def __init__(self, config: dict[str, Any], guess: LanguageGuess | None = None) -> None:
        self.guess = guess or LanguageGuess(
            min_confidence=float(config["min_confidence"]), min_words=int(config["min_words"])
        )
        self.switch_min_words = int(config.get("switch_min_words", 3))

    @staticmethod
    def settled_language(message: Message) -> str | None:
        """The language the conversation is settled in, if chosen on evidence: the page's
        hint, a current language other than the default English, or English once the
        shopper has written in it ("oh no its storgatan 14" turned a chat Swedish)."""
        metadata = message.get("metadata") or {}
        if not isinstance(metadata, dict):
            return None
        page = metadata.get(PAGE_LANGUAGE_KEY)
        current = metadata.get(CURRENT_LANGUAGE_KEY)
        wrote = metadata.get(WROTE_BEFORE_KEY) is True
        if current in OURS_CODES and (page or current != "en" or wrote):
            return str(current)
        return str(page) if page in OURS_CODES else None

    def strong_enough(self, text: str, code: str) -> bool:
        words = [w.lower() for w in _WORD.findall(language_text(text))]
        small = FUNCTION_WORDS.get(code, frozenset())
        return len(words) >= self.switch_min_words and any(w in small for w in words)

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageRecognizer:
        return cls(config)

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            text = str(message.get(TEXT) or "")
            intent = (message.get(INTENT) or {}).get(INTENT_NAME_KEY)
            found = self.guess.language_of(text, intent)
            if found is None:
                continue
            code, start, end = found
            settled = self.settled_language(message)
            named = intent == SWITCH_INTENT and named_span(text) is not None
            if settled and code != settled and not named and not self.strong_enough(text, code):
                continue
            # Another extractor (or an annotated example) may already have named it.
            others = [e for e in message.get(ENTITIES, []) if e.get("entity") != ENTITY]
            entity = {
                "entity": ENTITY,
                "value": code,
                "start": start,
                "end": end,
                "confidence": 1.0,
                "extractor": self.__class__.__name__,
            }
            message.set(ENTITIES, [*others, entity], add_to_output=True)
        return messages

    def process_training_data(self, training_data: Any) -> Any:
        # Nothing downstream trains on this entity: training data is left as written.
        return training_data


#: Message property set by `LanguageRouter`: which intent head answers the message.
LANGUAGE_ROUTE = "language_route"
#: The route of a message without a single word (an order number, an e-mail address,
#: a postcode and street): no language to read, nothing for a sentence embedding to add.
NO_WORDS = "none"


@DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.MESSAGE_FEATURIZER, is_trainable=False)
class LanguageRouter(GraphComponent):
    """Marks the messages that an intent head without multilingual-e5 answers.

    multilingual-e5 is what makes Swedish, Finnish and Norwegian understood, and it is
    the largest cost of a turn (about 20 ms of CPU on this machine, more than the rest of
    the NLU together). An English message does not need it: a head trained on the English
    examples alone, over MiniLM and character n-grams, classifies English better than
    the four-language head (README "How the assistant understands shoppers"). So, before
    the featurizers run:

    - a message whose language the detector reads clearly enough (at least `min_words`
      words of evidence, a top language among `languages` with a confidence of at least
      `min_confidence` and at least `min_margin` times that of any other language) gets
      that language as its route. Looser than switching the conversation's language
      (which needs 0.5): a wrong route costs one answer, not the rest of the chat. On
      our own training examples the rule routes 85% of the English ones and 12 of 6,200
      Swedish, Finnish and Norwegian ones (the detector's 0.5 alone: 77% and 10);
    - a message without a word of evidence (an order number, an e-mail address, an
      address, "ok thanks") gets the route "none";
    - anything else (short, unclear, Swedish, Finnish, Norwegian) gets no route.

    `E5Featurizer` does not embed a routed message; `SentenceLogRegClassifier` answers it
    with the head trained on the training examples of the same route (`route_heads`), or
    with its head without e5. Training examples are routed by the same rules, so each head
    learns from exactly the kind of message it will answer.
    """

    @staticmethod
    def get_default_config() -> dict[str, Any]:
        return {
            # languages whose messages get their own route (and head)
            "languages": ["en"],
            "min_confidence": 0.3,
            "min_margin": 2.0,
            "min_words": 2,
        }

    def __init__(self, config: dict[str, Any], detector: LanguageDetector | None = None) -> None:
        self.languages = frozenset(config.get("languages") or [])
        unknown = self.languages - set(OURS)
        if unknown:
            raise ValueError(f"LanguageRouter: not one of {sorted(OURS)}: {sorted(unknown)}")
        self.min_confidence = float(config["min_confidence"])
        self.min_margin = float(config["min_margin"])
        self.min_words = int(config["min_words"])
        self.detector = detector or build_detector()

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: ModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> LanguageRouter:
        return cls(config)

    def route(self, text: str) -> str | None:
        """The message's route: a language of `languages`, "none", or None."""
        # "none" only for a message without any word: numbers, e-mail and web addresses
        # and pleasantries aside. Not the detector's cleaning, which also drops names and
        # every message with a postcode-shaped number ("invoice 12345" has a word).
        plain = " ".join(t for t in text.split() if not _NOT_LANGUAGE.search(t))
        if not _WORD.search(_SHARED.sub(" ", plain)):
            return NO_WORDS
        greeting = by_greeting(text)
        if greeting is not None and greeting in self.languages:
            return greeting
        values = confidence_values(self.detector, text, self.min_words)
        if not values:
            return by_shop_words(text)
        top = values[0]
        runner_up = values[1].value if len(values) > 1 else 0.0
        code = _LANGUAGE_CODE.get(top.language)
        if code not in self.languages or top.value < self.min_confidence:
            return None
        return code if top.value >= self.min_margin * runner_up else None

    def process(self, messages: list[Message]) -> list[Message]:
        for message in messages:
            route = self.route(str(message.get(TEXT) or ""))
            if route is not None:
                message.set(LANGUAGE_ROUTE, route)
        return messages

    def process_training_data(self, training_data: TrainingData) -> TrainingData:
        self.process(training_data.training_examples)
        return training_data
