"""Reading a size change from what shoppers type: which item of the order, which size.

Shoppers name the item by article number ("211415"), by its name or a word of it ("the
jeans", "jeansen"), or by its place in the order ("the second one", "den andra", "toinen",
"2"); sizes as the label ("L", "size 42", "in a medium", "storlek 38", "i medium",
"kokoon M", "42:een", "størrelse 38"), in any of the conversation languages (en, sv, fi,
nb). Nothing here calls a service: the actions resolve these against the order they looked
up and the sizes the product service lists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from actions.clients.orders import Order
from channels import languages

ARTICLE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
# Size names: shops in all four languages sell "small", "medium", "large" (Norwegian
# spells the extras "ekstra").
SIZE_WORDS = {
    "extra small": "XS", "ekstra small": "XS", "x-small": "XS", "small": "S", "medium": "M",
    "large": "L", "extra large": "XL", "ekstra large": "XL", "x-large": "XL",
    "one size": "one size",
}  # fmt: skip
LETTERS = r"(?:XXS|XS|S|M|L|XL|XXL)"
NUMBER = r"\d{2}(?:[/.,]\d{1,2})?"
LABEL = rf"(?:{LETTERS}|{NUMBER})"
NAMED = r"(?:extra small|ekstra small|x-small|small|medium|large|extra large|ekstra large|x-large)"
# Norwegian "størrelse", also typed without "ø" ("storrelse", "stoerrelse").
STORRELSE = r"st(?:ø|o|oe)rrelse"
# "size", sv "storlek" ("stl"), nb "størrelse" ("str"), fi "koko" as the object, into
# and in a size ("kokoa", "kokoon", "koossa").
SIZE_WORD = rf"(?:size|storlek(?:en)?|stl\.?|{STORRELSE}(?:n)?|str\.?|koko|kokoa|kokoon|koossa)"
# "to", "in", "into", "for"; sv "till"; nb "til". Then maybe an article or the size word.
TO = r"(?:to|in|into|for|till|til)"
ARTICLE_WORD = r"(?:an?|en|ett|ei|et)"
# Finnish puts "into" on the size: "M:ään", "42:een", "40:ksi", "M-kokoon", "38-kokoiset".
FI_CASE = r"(?::(?:aan|ään|een|iin|seen|ksi)\b|-koko\w*)"
# A number after "in" or "for" is a size unless a unit follows ("in 14 days", "i 30 dagar").
NO_UNIT = (
    r"(?!\s*(?:%|€|kr\b|eur|days?\b|dagar|dager|dygn|døgn|päiv|weeks?\b|veckor|uker|"
    r"viiko|hours?\b|timmar|timer|tun|min))"
)
# A size its word names: "size 42", "storlek 38", "str. 40", "kokoon M", "M-kokoon",
# "42:een", "størrelse L".
SIZE_NAMED = re.compile(
    rf"\b{SIZE_WORD}\s+(?P<a>{LABEL}|one size)(?![\w-])|(?<![\w-])(?P<c>{LABEL}){FI_CASE}",
    re.IGNORECASE,
)
# A size after "to", "in": "to L", "in an XL", "into a medium", "till L", "i en medium",
# "til en large". Swedish and Norwegian "in" is "i", which is also how English shoppers
# type "I": after it a letter size counts only in capitals ("i M", not "i m looking").
SIZE_AFTER = re.compile(
    rf"\b{TO}\s+(?:{ARTICLE_WORD}\s+|{SIZE_WORD}\s+)?(?P<b>{LABEL}|{NAMED})(?![\w-]){NO_UNIT}"
    rf"|\bi\s+(?:{ARTICLE_WORD}\s+|{SIZE_WORD}\s+)?(?P<d>(?-i:{LETTERS})|{NUMBER}|{NAMED})"
    rf"(?![\w-]){NO_UNIT}",
    re.IGNORECASE,
)
# A short answer to "which size?": "L", "size 42", "a medium please", "storlek 38 tack",
# "i medium", "kokoon 40 kiitos", "M:ään", "str 40 takk".
SIZE_ANSWER = re.compile(
    rf"^(?:(?:a|an|i|size|the|{ARTICLE_WORD}|{TO}|{SIZE_WORD})\s+)*"
    rf"(?P<s>{LABEL}|one size|{NAMED}){FI_CASE}?"
    r"(?:,?\s+(?:please|thanks|thank you|tack|tack så mycket|gärna|takk|gjerne|kiitos|"
    r"kiitti))?[.!]?$",
    re.IGNORECASE,
)
# A place in the order: "second", sv "andra", nb "andre", fi "toinen" ("toisen",
# "toista"), also typed without å, ä, ö, ø ("den forsta"). Followed by a size word it
# means "other" or "another": sv "andra storlekar", nb "andre størrelser", fi "toinen
# koko" ("toisen koon") name no item.
ORDINALS = {
    r"first|1st|f(?:ö|o)rsta|1:a|f(?:ø|o|oe)rste|ensimm(?:ä|a)i\w*": 1,
    r"second|2nd|andra|2:a|andre|toi(?:nen|sen|sta)": 2,
    r"third|3rd|tredje|3:e|kolma(?:s|nnen|tta)": 3,
    r"fourth|4th|fj(?:ä|a)rde|4:e|fjerde|nelj(?:ä|a)(?:s|nnen|tt(?:ä|a))": 4,
    r"fifth|5th|femte|5:e|viide(?:s|nnen|tt(?:ä|a))": 5,
    r"last|sista|siste|viimei\w*": -1,
}  # fmt: skip
NOT_A_PLACE = rf"(?!\s+(?:sizes?|storlek\w*|{STORRELSE}\w*|ko(?:ko|on|koa|koja|ot)\b))"
# Words in item names too general to pick one item ("organic cotton T-shirt" vs "cotton").
STOP_WORDS = frozenset({"the", "and", "with", "set", "fit", "leg", "wool", "cotton", "one"})
# Words that make a change_order request a size change the assistant can do, in en, sv,
# nb and fi. A colour is another article in this shop (and in most), so a colour change
# stays with a person. Finnish "koko" alone is also "whole" ("koko tilaus", the whole
# order): it counts only inflected, with a label ("koko 38"), after "wrong", "another",
# or last ("vaihda tilauksen koko"). Nordic words also typed without å, ä, ö, ø.
SIZE_REQUEST = re.compile(
    r"\b(sizes?|bigger|smaller|larger|one size (?:up|down)|size (?:up|down)|"
    r"(?:too|a bit|slightly) (?:big|small|tight|loose|large|short|long)|"
    r"storlek\w*|st(?:ö|ø|o|oe)rre|mindre|för (?:stor|stora|liten|lilla|små|trång|trånga|"
    r"tajt|tajta|lös|lösa|vid|vida|kort|korta|lång|långa)(?!\s+tid)|"
    rf"{STORRELSE}\w*|(?:(?:er|var|ble)\s+(?:\w+\s+)?for|altfor)\s+(?:stor|store|"
    r"liten|lita|lite|små|trang|trange|vid|vide|løs|løse|kort|korte|lang|lange)(?!\s+tid)|"
    rf"ko(?:on|koa|koon|ossa|koja|ot|koinen|koisen|koiset)|(?:koko|stl|str)\.?\s+{LABEL}|"
    r"koko(?=\s*[.!?]*$)|"
    r"(?:väärä|väärän|eri|toinen|toisen|oikea|oikean|uusi|uuden)\s+ko(?:ko|on)|"
    r"iso(?:mpi|mpa\w*|mma\w*)|suure(?:mpi|mpa\w*|mma\w*)|piene(?:mpi|mpä\w*|mmä\w*)|"
    r"liian (?:pien|iso|suur|tiuk|välj|lyhy|pitk|kire|löys)\w*)\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Item:
    """One order line as the size question shows it."""

    article_number: str
    name: str
    size: str | None

    def label(self, language: str = "en") -> str:
        """'Canvas trainers (241015, size 40)', the size's word in the conversation's
        language (a button title inside a translated question)."""
        size = ", " + languages.say("item_size", language, size=self.size) if self.size else ""
        return f"{self.name} ({self.article_number}{size})"


def items_of(order: Order) -> list[Item]:
    return [Item(i.article_number, i.name, i.size) for i in order.items]


def dump_items(items: list[Item]) -> str:
    """The order's items for a slot: the size question asks about them across turns."""
    return json.dumps([[i.article_number, i.name, i.size] for i in items])


def load_items(raw: Any) -> list[Item]:
    """The items a slot holds, checked again (slots are not trusted): [] when malformed."""
    try:
        data = json.loads(raw) if isinstance(raw, str) else None
    except ValueError:
        return []
    if not isinstance(data, list):
        return []
    items: list[Item] = []
    for row in data[:50]:
        if (
            isinstance(row, list)
            and len(row) == 3
            and isinstance(row[0], str)
            and ARTICLE.fullmatch(row[0])
            and isinstance(row[1], str)
            and (row[2] is None or isinstance(row[2], str))
        ):
            items.append(Item(row[0], row[1][:100], row[2][:20] if row[2] else None))
    return items


def find_item(text: str, items: list[Item]) -> Item | None:
    """The one item `text` names, or None when it names none or several."""
    if not text or not items:
        return None
    articles = set(ARTICLE.findall(text))
    if articles:
        found = [i for i in items if i.article_number in articles]
        return found[0] if len(found) == 1 else None
    lowered = text.lower()
    place = _place(lowered, len(items))
    if place is not None:
        return items[place]
    words = set(re.findall(r"[^\W\d_]{3,}", lowered))
    words |= {w[:-1] for w in words if w.endswith("s") and len(w) > 3}  # "trainers"
    scored = [(_named(_name_words(i.name), words), i) for i in items]
    best = max((s for s, _ in scored), default=0)
    found = [i for s, i in scored if s == best and s > 0]
    return found[0] if len(found) == 1 else None


def mentioned_articles(text: str) -> list[str]:
    return ARTICLE.findall(text or "")


def _name_words(name: str) -> set[str]:
    words = {w for w in re.findall(r"[^\W\d_]{3,}", name.lower()) if w not in STOP_WORDS}
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def _named(name_words: set[str], words: set[str]) -> int:
    """How many of an item's name words the text has, also with an ending the other
    languages add to a borrowed name ("jeansen", "jeansit", "jeansene" for "jeans")."""
    return sum(
        1
        for n in name_words
        if n in words
        or (len(n) >= 4 and any(w.startswith(n) and len(w) - len(n) <= 3 for w in words))
    )


def _place(text: str, count: int) -> int | None:
    """Index of "the second one", "den andra", "toinen", "number 2", or a bare "2"
    (buttons aside)."""
    bare = re.fullmatch(
        r"\s*(?:no\.?|nr\.?|nro\.?|number|nummer|numero|#)?\s*(\d)\s*[.!]?\s*", text
    )
    if bare:
        index = int(bare.group(1)) - 1
        return index if 0 <= index < count else None
    for words, number in ORDINALS.items():
        if re.search(rf"\b(?:{words})\b{NOT_A_PLACE}", text):
            index = count - 1 if number == -1 else number - 1
            return index if 0 <= index < count else None
    return None


def size_in_request(text: str) -> str | None:
    """The size a longer request names ("change the jeans to size L", "byt jeansen till
    storlek 32", "vaihda farkut kokoon 32"), if any."""
    match = SIZE_NAMED.search(text or "") or SIZE_AFTER.search(text or "")
    if match is None:
        return None
    return canonical_size(next(g for g in match.groups() if g))


def size_answer(text: str) -> str | None:
    """The size a short answer names ("L", "size 42", "a medium please", "storlek 38
    tack", "M:ään", "str 40"), if any."""
    match = SIZE_ANSWER.match((text or "").strip())
    return canonical_size(match.group("s")) if match else None


def canonical_size(raw: str) -> str:
    """'large' -> 'L', 'xl' -> 'XL', '42' -> '42', 'One Size' -> 'one size'."""
    text = " ".join(raw.split()).lower()
    if text in SIZE_WORDS:
        return SIZE_WORDS[text]
    return text.upper()


def same_size(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def is_size_request(text: str) -> bool:
    """Whether a request to change an order is about an item's size."""
    return bool(SIZE_REQUEST.search(text or ""))


def one_size_named(text: str, stock: dict[str, Any]) -> str | None:
    """The article's size (`stock`: lower-cased size -> its stock line) that the only
    size-like word of `text` names, if exactly one."""
    # whole words only: the "m" of "I'm" is no size M
    words = re.findall(r"(?<![\w'\u2019])[\w/]+(?![\w'\u2019])", text)
    named = {w.lower() for w in words if w.lower() in stock}
    if len(named) != 1:
        return None
    [word] = named
    return str(stock[word].size)


# A size word standing alone ("hva med XL?", "actually make it 43", "no wait, S instead");
# a lone s, m or l only in capitals (the "m" of "I m" is no size).
BARE_SIZE = re.compile(r"(?<![\w'\u2019])((?i:xxs|xs|xl|xxl)|S|M|L|\d{2})(?![\w'\u2019])")


def bare_sizes(text: str) -> list[str]:
    """Every size standing alone in `text`, in order, as the catalogue writes them."""
    return [canonical_size(m.group(1)) for m in BARE_SIZE.finditer(text or "")]
