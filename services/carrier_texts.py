"""What the carrier says about a parcel, in the language the caller asks for.

A carrier's tracking API answers in the language of the request (PostNord, Posti and Bring
all offer Swedish, Finnish and Norwegian event texts); the reference service plays that
part for its own seed texts (services/seed.py), chosen by the request's Accept-Language
header: en, sv, fi or nb (no and nn are nb), anything else English. The database keeps
the English texts, as a carrier's event codes would be kept.
"""

from __future__ import annotations

import re

LANGUAGES = ("sv", "fi", "nb")

#: English event descriptions and locations of the seed, and their translations.
TEXTS: dict[str, dict[str, str]] = {
    "Shipment information received": {
        "sv": "Försändelseinformation mottagen",
        "fi": "Lähetystiedot vastaanotettu",
        "nb": "Sendingsinformasjon mottatt",
    },
    "Arrived at sorting centre": {
        "sv": "Ankommit till sorteringsterminalen",
        "fi": "Saapunut lajittelukeskukseen",
        "nb": "Ankommet sorteringssentralen",
    },
    "Arrived at local depot": {
        "sv": "Ankommit till den lokala terminalen",
        "fi": "Saapunut paikalliseen terminaaliin",
        "nb": "Ankommet lokal terminal",
    },
    "Out for delivery": {"sv": "Ute för utkörning", "fi": "Jakelussa", "nb": "Ute for levering"},
    "Ready for collection at the pickup point": {
        "sv": "Redo att hämtas på utlämningsstället",
        "fi": "Noudettavissa noutopisteessä",
        "nb": "Klar til henting på hentestedet",
    },
    "Collected by the recipient": {
        "sv": "Uthämtat av mottagaren",
        "fi": "Vastaanottaja on noutanut lähetyksen",
        "nb": "Hentet av mottakeren",
    },
    "Delivered, handed to the recipient": {
        "sv": "Levererat, överlämnat till mottagaren",
        "fi": "Toimitettu, luovutettu vastaanottajalle",
        "nb": "Levert, overlevert til mottakeren",
    },
    "Delivered": {"sv": "Levererat", "fi": "Toimitettu", "nb": "Levert"},
    "Delayed: high parcel volumes, forwarded on the next run": {
        "sv": "Försenat: stora paketvolymer, skickas vidare med nästa transport",
        "fi": "Viivästynyt: suuret pakettimäärät, jatkaa seuraavassa kuljetuksessa",
        "nb": "Forsinket: store pakkevolumer, sendes videre med neste transport",
    },
    "Return parcel handed in": {
        "sv": "Returpaketet inlämnat",
        "fi": "Palautuspaketti jätetty kuljetukseen",
        "nb": "Returpakken levert inn",
    },
    "Return received at the warehouse": {
        "sv": "Returen mottagen på lagret",
        "fi": "Palautus vastaanotettu varastolla",
        "nb": "Returen mottatt på lageret",
    },
    "Warehouse": {"sv": "Lager", "fi": "Varasto", "nb": "Lager"},
    "National hub": {
        "sv": "Nationell terminal",
        "fi": "Valtakunnallinen terminaali",
        "nb": "Nasjonal terminal",
    },
}

#: Texts with a name in them: the English pattern and each language's wording.
PATTERNS: tuple[tuple[re.Pattern[str], dict[str, str]], ...] = (
    (
        re.compile(r"Parcel handed over to (?P<name>.+)"),
        {
            "sv": "Paketet överlämnat till {name}",
            "fi": "Paketti luovutettu kuljetusyhtiölle {name}",
            "nb": "Pakken overlevert til {name}",
        },
    ),
    (
        re.compile(r"(?P<name>.+) depot"),
        {"sv": "Terminal {name}", "fi": "Terminaali {name}", "nb": "Terminal {name}"},
    ),
)


def requested_language(header: str | None) -> str:
    """The first language of an Accept-Language header that we have texts for, else en."""
    for part in (header or "").split(","):
        tag = part.split(";")[0].strip().lower()
        primary = tag.split("-")[0]
        if primary in ("no", "nn"):
            primary = "nb"
        if primary in LANGUAGES or primary == "en":
            return primary
    return "en"


def in_language(text: str | None, language: str) -> str | None:
    """`text` as the carrier would word it in `language`; unknown texts stay as they are."""
    if text is None or language not in LANGUAGES:
        return text
    if text in TEXTS:
        return TEXTS[text][language]
    for pattern, wordings in PATTERNS:
        found = pattern.fullmatch(text)
        if found:
            return wordings[language].format(name=found.group("name"))
    return text
