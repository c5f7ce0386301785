"""Free-text delivery addresses ("Storgatan 12, 111 22 Stockholm") split into the fields
of the change contract, for the assistant to echo before the shopper confirms.

Only the shape is checked here (street with a number, a postcode, a city, a country we
can infer); whether the shop delivers there is the service's call (its 422 field errors).
"""

from __future__ import annotations

import re
from dataclasses import replace

from actions.clients.changes import Address
from channels import languages

COUNTRY_WORDS = {
    "se": "SE", "sweden": "SE", "sverige": "SE",
    "fi": "FI", "finland": "FI", "suomi": "FI",
    "no": "NO", "norway": "NO", "norge": "NO",
    "dk": "DK", "denmark": "DK", "danmark": "DK",
    "de": "DE", "germany": "DE", "deutschland": "DE",
}  # fmt: skip
# A plain 4- or 5-digit postcode could belong to several countries; in a chat in one of
# the shop's languages it is that country's (the confirmation names it, so the shopper
# can still say otherwise).
_POSTCODE_OF_LANGUAGE = {"nb": ("NO", r"\d{4}"), "fi": ("FI", r"\d{5}"), "sv": ("SE", r"\d{5}")}
# "111 22 Stockholm", "SE-111 22 Stockholm", "10115 Berlin", "0150 Oslo"
POSTCODE_CITY = re.compile(
    r"^(?:(?P<prefix>[A-Za-z]{1,2})-)?(?P<postcode>\d{3} \d{2}|\d{4,5})\s+(?P<city>[^\d,]{2,60})$"
)
STREET = re.compile(r"^(?=.*\d)(?=.*[^\W\d_]).{3,100}$")
MAX_TEXT = 300
# What shoppers say around an address instead of it, in the four languages: talk words
# ("nei vent feil husnummer", "ei hetkinen", "oh no") and what comes right before the
# address ("it's", "det skal være", "se on"). One list for both uses below.
_TALK_WORDS = (
    r"oh|ah|no|nope|sorry|oops|wait|wrong|mistake|typo|house|number|address|actually|i mean|"
    r"nej|nä|fel|förlåt|vänta|oj|adress|adressen|menar|jag menar|"
    r"ei|voi|väärä|sori|anteeksi|hups|hetkinen|odota|osoite|osote|talonumero|vaan|eiku|eikun|"
    r"tarkoitan|nei|vent|feil|beklager|unnskyld|uff|husnummer|gatunummer|adresse|mener|jeg mener"
)
# What shoppers add after the address ("storgatan 14, sorry", "hämeenkatu 14 B 5, sori").
_AFTER_WORDS = (
    r"sorry|my bad|oops|please|pls|thanks|thank you|förlåt|ursäkta|tack|sori|anteeksi|"
    r"kiitos|kiitti|beklager|unnskyld|takk"
)
_SAYS = (
    r"it should be|it'?s|it\u2019s|it is|the street is|street is|make it|should be|address is|"
    r"det är|det ska vara|ska vara|gatan är|adressen är|"
    r"se on|sen pitäisi olla|pitäisi olla|pitäis olla|pitäs olla|osoite on|"
    r"det er|det skal være|skal være|gata er|adressen er"
)
# A correction of the address about to be confirmed: talk words, then perhaps "it's",
# then the address ("no, it's Storgatan 14", "nej det är Kungsgatan 3").
CORRECTION_LEAD = re.compile(
    rf"^(?:(?:{_TALK_WORDS})\b[\s,.!:-]*)*(?:(?:{_SAYS})\b[\s,:]*)?", re.IGNORECASE
)
CORRECTION_TAIL = re.compile(rf"(?:[\s,.!:-]*\b(?:{_AFTER_WORDS})\b)+[\s,.!:-]*$", re.IGNORECASE)
# A street alone, with its number: "Storgatan 14", "Mannerheimintie 5 A 12", "12 Rose Lane".
STREET_ONLY = re.compile(
    r"^(?:[^\W\d_][\w.'\u2019-]{3,}(?: [^\W\d_][\w.'\u2019-]*){0,3}"
    r" \d{1,4}(?: ?[A-Za-z])?(?: \d{1,4})?"
    r"|\d{1,4}[A-Za-z]? [^\W\d_][\w.'\u2019-]+(?: [^\W\d_][\w.'\u2019-]*){0,3})$"
)
# Inside the street's part, what comes before "it's" and the like, or before a sentence's
# full stop, is the shopper talking ("det skal være Storgata 15", "väärä osoite.
# Mannerheimintie 21 B 5"). A full stop counts after a word of 3+ letters only ("St.
# Eriksgatan 5" keeps its "St.").
LEAD_IN = re.compile(rf"^.*(?:(?<=[^\W\d_]{{3}})[.!?]\s+|\b(?:{_SAYS})\s+)", re.IGNORECASE)
# A part before the street with a talk word is no name or c/o line.
TALK = re.compile(rf"\b(?:{_TALK_WORDS})\b", re.IGNORECASE)


def _street_of(part: str) -> str:
    """The street in the part before the postcode, without what the shopper said first."""
    rest = LEAD_IN.sub("", part, count=1).strip()
    return rest if rest != part and STREET.match(rest) else part


def parse_address(text: str, language: str | None = None) -> Address | None:
    """The address in `text`, or None when street, postcode + city or country is missing
    (a chat's `language` lets a plain postcode stand for its country)."""
    if not text or len(text) > MAX_TEXT:
        return None
    parts = [" ".join(p.split()) for p in re.split(r"[,\n;]+", text) if p.strip()]
    country: str | None = None
    if parts and parts[-1].lower().strip(".") in COUNTRY_WORDS:
        country = COUNTRY_WORDS[parts.pop().lower().strip(".")]
    elif parts:
        # "00100 Helsinki Finland": the country's name without a comma before it (never
        # a two-letter code, which could end a city's name).
        head, _, last = parts[-1].rpartition(" ")
        word = last.lower().strip(".")
        if head and len(word) > 2 and word in COUNTRY_WORDS:
            country = COUNTRY_WORDS[word]
            parts[-1] = head
    place = next((i for i, p in enumerate(parts) if POSTCODE_CITY.match(p)), None)
    if place is None or place == 0:
        return None
    match = POSTCODE_CITY.match(parts[place])
    assert match is not None
    street = _street_of(parts[place - 1])
    if not STREET.match(street):
        return None
    name = ", ".join(p for p in parts[: place - 1] if not TALK.search(p)) or None
    prefix = (match["prefix"] or "").lower()
    country = country or COUNTRY_WORDS.get(prefix) or _guess(match["postcode"], language)
    if country is None:
        return None
    city = match["city"].strip()
    if city.lower() in COUNTRY_WORDS:  # "111 22 Sweden": no city
        return None
    return Address(street=street, postcode=match["postcode"], city=city, country=country, name=name)


def _guess(postcode: str, language: str | None = None) -> str | None:
    """An unambiguous format: "111 22" is Swedish. 4 or 5 plain digits could be several
    countries: in a Norwegian, Finnish or Swedish chat they are that country's, else the
    shopper is asked to name it."""
    if re.fullmatch(r"\d{3} \d{2}", postcode):
        return "SE"
    country, shape = _POSTCODE_OF_LANGUAGE.get(language or "", (None, ""))
    return country if country and re.fullmatch(shape, postcode) else None


def corrected_address(text: str, previous: Address, language: str | None = None) -> Address | None:
    """The address a correction gives while `previous` waits for its yes: a whole new
    address, or a street alone that replaces the street ("no, it's Storgatan 14")."""
    rest = CORRECTION_LEAD.sub("", " ".join((text or "").split())[:MAX_TEXT], count=1)
    rest = CORRECTION_TAIL.sub("", rest).strip(" .!")
    if not rest:
        return None
    whole = parse_address(rest, language)
    if whole is not None:
        return whole
    if STREET_ONLY.match(rest):
        # typed in lower case ("storgatan 14", "hämeenkatu 14 B 5"): the label wants
        # "Storgatan 14"
        street = rest[0].upper() + rest[1:] if rest.split()[0].islower() else rest
        return replace(previous, street=street)
    return None


# The number alone, once the bot has asked for the right address: "14", "it's 14 B",
# "nummer 14", "numero 14".
HOUSE_NUMBER_ONLY = re.compile(
    r"^(?:(?:house ?number|number|no\.?|nr\.?|nummer|numero|talonumero|husnummer|"
    r"gatunummer)\s*)?(\d{1,4}(?: ?[A-Za-z])?)$",
    re.IGNORECASE,
)
_NUMBER, _NUMBER_AND_LETTER = re.compile(r"\d{1,4}"), re.compile(r"\d{1,4}(?: ?[A-Za-z](?!\w))?")


def corrected_house_number(text: str, previous: Address) -> Address | None:
    """The address with another house number, when the answer is that number alone
    ("14" for "Storgatan 12"); only asked for after "wrong house number", since a bare
    number at the Yes / No question ("ok 12") is no correction. A number replaces the
    street's first number ("Hämeenkatu 12 B 5" keeps its staircase and flat); a number
    with a letter replaces the number and its letter ("14b" for "Storgatan 12 B")."""
    rest = CORRECTION_LEAD.sub("", " ".join((text or "").split())[:MAX_TEXT], count=1)
    match = HOUSE_NUMBER_ONLY.match(CORRECTION_TAIL.sub("", rest).strip(" .!"))
    if match is None:
        return None
    number = match.group(1)
    pattern = _NUMBER_AND_LETTER if number[-1].isalpha() else _NUMBER
    if not pattern.search(previous.street):
        return None
    street = pattern.sub(number.upper(), previous.street, count=1)
    return replace(previous, street=street)


def one_line(address: Address, language: str = "en") -> str:
    """'Storgatan 12, 111 22 Stockholm, Sweden' for the confirmation question, the country
    in the conversation's language ('Sverige', 'Ruotsi')."""
    country = languages.country_text(address.country, language)
    head = f"{address.name}, " if address.name else ""
    return f"{head}{address.street}, {address.postcode} {address.city}, {country}"
