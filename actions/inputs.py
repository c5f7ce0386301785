"""The one set of rules for what shoppers type: order, tracking and article numbers, emails.

Every form validates with these functions, and every action checks a slot with them again
before acting on it: a slot can also be set by a typed `/intent{...}` message or a direct
call to the action server, past the forms' validation. Each function returns the canonical
form (what services and the handover queue receive) or None, never the raw text.

Deliberately accepted: separators people type inside numbers ('#4001-2345', '4001 2345',
'4001.2345' all mean 40012345) and an address in angle brackets as mail programs copy it
('<anna@example.com>'). Emails are lower-cased: the order service compares them without
case, and agents should see one spelling.
"""

from __future__ import annotations

import re

_ORDER_NUMBER = re.compile(r"^\d{8}$")
_TRACKING_NUMBER = re.compile(r"^[A-Z]{2}\d{9}[A-Z]{2}$")
_ARTICLE_NUMBER = re.compile(r"^\d{6}$")
_EMAIL = re.compile(r"^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$")
_SEPARATORS = re.compile(r"[\s\-#.]+")
_LEADING_WORDS = re.compile(
    r"^(?:(?:my|the|it'?s|is|order|number|no|nr|tracking|article|email|e-mail|address|"
    r"mail|code|:)\s*)+",
    re.IGNORECASE,
)


def _strip_words(value: str) -> str:
    return _LEADING_WORDS.sub("", value.strip()).strip()


_ORDER_IN_TEXT = re.compile(r"(?<![\w-])#?\s*(\d[\d \-]{6,12}\d)(?![\w-])")
_TRACKING_IN_TEXT = re.compile(
    r"(?<![A-Za-z0-9])([A-Za-z]{2}[\d \-]{9,15}[A-Za-z]{2})(?![A-Za-z0-9])"
)
_ARTICLE_IN_TEXT = re.compile(r"(?<![\w-])#?\s*(\d[\d \-]{4,8}\d)(?![\w-])")


def _normalise(
    value: object, exact: re.Pattern[str], in_text: re.Pattern[str], upper: bool = False
) -> str | None:
    """The whole input as an identifier, else a single identifier found inside it."""
    if not isinstance(value, str):
        return None
    candidate = _SEPARATORS.sub("", _strip_words(value))
    candidate = candidate.upper() if upper else candidate
    if exact.match(candidate):
        return candidate
    found = {
        _SEPARATORS.sub("", m.group(1)).upper() if upper else _SEPARATORS.sub("", m.group(1))
        for m in in_text.finditer(value)
    }
    found = {f for f in found if exact.match(f)}
    return found.pop() if len(found) == 1 else None


def normalise_order_number(value: object) -> str | None:
    """'#4001-2345', '4001 2345' and 'order 40012345' become '40012345'; else None."""
    return _normalise(value, _ORDER_NUMBER, _ORDER_IN_TEXT)


def normalise_tracking_number(value: object) -> str | None:
    """'jx 482 913 077 gb' becomes 'JX482913077GB'; else None."""
    return _normalise(value, _TRACKING_NUMBER, _TRACKING_IN_TEXT, upper=True)


def normalise_article_number(value: object) -> str | None:
    return _normalise(value, _ARTICLE_NUMBER, _ARTICLE_IN_TEXT)


def normalise_email(value: object) -> str | None:
    """A plausible address, trimmed, lower-cased, without angle brackets or a trailing full
    stop; else None."""
    if not isinstance(value, str):
        return None
    candidate = _strip_words(value).strip("<>.,;").strip()
    if len(candidate) > 254 or not _EMAIL.match(candidate):
        return None
    return candidate.lower()


def bounded_text(value: object, limit: int) -> str | None:
    """Free text (a description for an agent) as a stripped string of at most `limit`
    characters; None when it is no text at all."""
    if not isinstance(value, str) or not value.strip():
        return None
    return value.strip()[:limit].rstrip()


def mask_email(email: str) -> str:
    """'anna.berg@example.com' becomes 'a***@example.com' so transcripts hold less PII."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}" if domain else "***"
