"""Reading a size change from what shoppers type: which item of the order, which size.

Shoppers name the item by article number ("211415"), by its name or a word of it ("the
jeans"), or by its place in the order ("the second one", "2"); sizes as the label
("L", "size 42", "in a medium"). Nothing here calls a service: the actions resolve these
against the order they looked up and the sizes the product service lists.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from actions.clients.orders import Order

ARTICLE = re.compile(r"(?<!\d)(\d{6})(?!\d)")
SIZE_WORDS = {
    "extra small": "XS", "x-small": "XS", "small": "S", "medium": "M", "large": "L",
    "extra large": "XL", "x-large": "XL", "one size": "one size",
}  # fmt: skip
LABEL = r"(?:XXS|XS|S|M|L|XL|XXL|\d{2}(?:[/.,]\d{1,2})?)"
# "size 42", "to L", "in an XL", "into a medium": a size in a longer request.
SIZE_IN_TEXT = re.compile(
    rf"\bsize\s+(?P<a>{LABEL}|one size)\b|\b(?:to|in|into|for)\s+(?:an?\s+|size\s+)?"
    rf"(?P<b>{LABEL}|extra small|x-small|small|medium|large|extra large|x-large)(?![\w-])",
    re.IGNORECASE,
)
# A short answer to "which size?": "L", "size 42", "a medium please".
SIZE_ANSWER = re.compile(
    rf"^(?:(?:a|an|in|size|the|to)\s+)*(?P<s>{LABEL}|one size|extra small|x-small|small|"
    rf"medium|large|extra large|x-large)(?:\s+(?:please|thanks|thank you))?[.!]?$",
    re.IGNORECASE,
)
ORDINALS = {
    "first": 1, "1st": 1, "second": 2, "2nd": 2, "third": 3, "3rd": 3, "fourth": 4,
    "4th": 4, "fifth": 5, "5th": 5, "last": -1,
}  # fmt: skip
# Words in item names too general to pick one item ("organic cotton T-shirt" vs "cotton").
STOP_WORDS = frozenset({"the", "and", "with", "set", "fit", "leg", "wool", "cotton", "one"})
# Words that make a change_order request a size change the assistant can do. A colour is
# another article in this shop (and in most), so a colour change stays with a person.
SIZE_REQUEST = re.compile(
    r"\b(sizes?|bigger|smaller|larger|one size (?:up|down)|size (?:up|down)|"
    r"(?:too|a bit|slightly) (?:big|small|tight|loose|large|short|long))\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Item:
    """One order line as the size question shows it."""

    article_number: str
    name: str
    size: str | None

    def label(self) -> str:
        size = f", size {self.size}" if self.size else ""
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
    scored = [(len(_name_words(i.name) & words), i) for i in items]
    best = max((s for s, _ in scored), default=0)
    found = [i for s, i in scored if s == best and s > 0]
    return found[0] if len(found) == 1 else None


def mentioned_articles(text: str) -> list[str]:
    return ARTICLE.findall(text or "")


def _name_words(name: str) -> set[str]:
    words = {w for w in re.findall(r"[^\W\d_]{3,}", name.lower()) if w not in STOP_WORDS}
    return words | {w[:-1] for w in words if w.endswith("s") and len(w) > 3}


def _place(text: str, count: int) -> int | None:
    """Index of "the second one", "number 2", or a bare "2" (buttons aside)."""
    bare = re.fullmatch(r"\s*(?:no\.?|number|#)?\s*(\d)\s*[.!]?\s*", text)
    if bare:
        index = int(bare.group(1)) - 1
        return index if 0 <= index < count else None
    for word, number in ORDINALS.items():
        if re.search(rf"\b{word}\b", text):
            index = count - 1 if number == -1 else number - 1
            return index if 0 <= index < count else None
    return None


def size_in_request(text: str) -> str | None:
    """The size a longer request names ("change the jeans to size L"), if any."""
    match = SIZE_IN_TEXT.search(text or "")
    if match is None:
        return None
    return canonical_size(match.group("a") or match.group("b"))


def size_answer(text: str) -> str | None:
    """The size a short answer names ("L", "size 42", "a medium please"), if any."""
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
