"""Replace personal data in shopper messages by typed placeholders.

Designers need the wording of real questions, never the person behind them. The rules
run in a fixed order, most specific first, so an IBAN is not half-eaten by the phone
rule and a tracking number not by the order-number rule. Digit rules use digit
lookarounds instead of word boundaries, so numbers glued to words ("order12345678")
are caught too. Article numbers (6 digits), postcodes, sizes, prices, dates and times
stay: they are not personal and designers need them. Names are only caught after an
explicit "my name is"; free-text names and addresses without a street keyword are the
known limit of a regex redactor, so exports are still reviewed before sharing.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

EMAIL = "[EMAIL]"
URL = "[URL]"
IBAN = "[IBAN]"
CARD = "[CARD]"
TRACKING = "[TRACKING]"
ORDER = "[ORDER]"
PHONE = "[PHONE]"
NUMBER = "[NUMBER]"
NAME = "[NAME]"
ADDRESS = "[ADDRESS]"
PASSWORD = "[PASSWORD]"  # noqa: S105 (a placeholder, not a secret)


def luhn_valid(digits: str) -> bool:
    """The check digit every payment card number carries."""
    total = 0
    for i, char in enumerate(reversed(digits)):
        d = int(char)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def iban_valid(candidate: str) -> bool:
    """ISO 13616 mod-97 check, so a random code of letters and digits stays."""
    compact = re.sub(r"\s", "", candidate).upper()
    if not 15 <= len(compact) <= 34:
        return False
    rearranged = compact[4:] + compact[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1


def _digits(text: str) -> str:
    return re.sub(r"\D", "", text)


_DATE = re.compile(r"\d{1,2}[./-]\d{1,2}[./-]\d{2,4}")


def _phone(match: re.Match[str]) -> str | None:
    raw = match.group(0)
    digits = _digits(raw)
    if not 7 <= len(digits) <= 15:
        return None
    if re.fullmatch(r"\d{8}", raw) or _DATE.fullmatch(raw.strip()):
        return None  # a bare 8-digit number is an order number; 01/03/2024 is a date
    return PHONE


def _card(match: re.Match[str]) -> str:
    return CARD if luhn_valid(_digits(match.group(0))) else NUMBER


def _iban(match: re.Match[str]) -> str | None:
    return IBAN if iban_valid(match.group(0)) else None


# "password" in the shop's languages (and the usual shorthands), then what may follow it
# before the secret: "is", "was", ":", "=", or the same in Swedish, Finnish, Norwegian.
_PASSWORD_WORD = (
    r"pass(?:word|wort|ord|code|phrase)?s?|pwd|pw|lösenord(?:et)?|losenord(?:et)?"  # noqa: S105
    r"|salasana(?:ni|na)?|passordet|kennwort|wachtwoord"
)
_LINK = r"(?:is|was|would be|should be|=|:|-|är|var|er|on|oli|ist)"
# Words that follow "password is" in questions, not secrets.
_NOT_SECRETS = frozenset(
    {
        "not",
        "wrong",
        "incorrect",
        "invalid",
        "too",
        "the",
        "correct",
        "right",
        "expired",
        "blocked",
        "locked",
        "no",
        "never",
        "always",
        "still",
        "now",
        "reset",
        "forgotten",
        "fel",
        "väärä",
        "feil",
        "ikke",
        "inte",
        "ei",
        "a",
        "an",
        "my",
        "it",
        "that",
        "this",
        "rejected",
        "accepted",
        "working",
        "changed",
        "case",
        "required",
        "empty",
        "same",
    }
)
_PASSWORD_PATTERN = re.compile(
    rf"(?i)(\b(?:{_PASSWORD_WORD})\b)(\s*(?:(?:mitt|min|minun)\s+)?{_LINK}?\s*[:=]?\s*)([^\s]+)"
)


def _looks_secret(token: str) -> bool:
    """A token with a digit, a symbol or an inner capital: what passwords are made of."""
    core = token.strip(".,!?;:\"'()")
    return bool(re.search(r"\d|[^\w'\u2019]|\w[A-Z]", core)) if core else False


def _password(match: re.Match[str]) -> str | None:
    """Mask the token after "password" (and "is", ":" ...) unless it is plainly a word of
    the sentence ("password is wrong", "my password doesn't work")."""
    word, link, token = match.group(1), match.group(2), match.group(3)
    bare = token.strip(".,!?;:\"'()").lower()
    linked = bool(re.search(r"[:=]|\S", link))
    if bare in _NOT_SECRETS or not bare:
        return None
    if not linked and not _looks_secret(token):
        return None
    trailing = token[len(token.rstrip(".,!?;)")) :]
    return f"{word}{link}{PASSWORD}{trailing}"


def _name(match: re.Match[str]) -> str:
    return match.group(1) + NAME


Replacement = Callable[[re.Match[str]], "str | None"]


@dataclass(frozen=True)
class Rule:
    """A pattern and what to put in its place (None from a validator keeps the text)."""

    label: str
    pattern: re.Pattern[str]
    replace: Replacement


def _fixed(placeholder: str) -> Replacement:
    return lambda _m: placeholder


_STREET = r"(?:stra(?:ß|ss)e|str\.|weg|allee|platz|gasse|ring|damm)"
_STREET_EN = r"(?:Street|St\.|Road|Rd\.|Avenue|Ave\.|Lane|Drive|Way|Close|Court|Gardens)"

RULES: tuple[Rule, ...] = (
    # First: a password may look like anything, an email or a number included.
    Rule("password", _PASSWORD_PATTERN, _password),
    Rule("url", re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"]+"), _fixed(URL)),
    Rule(
        "email",
        re.compile(r"[\w.+%'-]+@[\w-]+(?:\.[\w-]+)*\.[^\W\d_]{2,}"),
        _fixed(EMAIL),
    ),
    Rule(
        "email_obfuscated",
        re.compile(r"(?i)[\w.+-]+\s*[(\[]at[)\]]\s*[\w-]+(?:\s*(?:\.|[(\[]dot[)\]])\s*[\w-]+)+"),
        _fixed(EMAIL),
    ),
    Rule(
        "iban",
        re.compile(
            r"(?i)(?<![A-Z0-9])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,3})?(?![A-Z0-9])"
        ),
        _iban,
    ),
    Rule(
        "tracking",
        re.compile(
            r"(?i)(?<!\d)(?:[A-Z]{2} ?\d{3} ?\d{3} ?\d{3} ?[A-Z]{2}"
            r"|1Z ?[0-9A-Z]{16}|JJD\d{10,20})(?![A-Z0-9])"
        ),
        _fixed(TRACKING),
    ),
    Rule("phone", re.compile(r"(?<![\w+#])(?:\+|00|\(0|0)[\d()\-/ ]{5,20}\d(?!\d)"), _phone),
    Rule("card", re.compile(r"(?<!\d)\d(?:[ -]?\d){12,18}(?!\d)"), _card),
    Rule("order", re.compile(r"(?<!\d)#?\d{8}(?!\d)"), _fixed(ORDER)),
    Rule("number", re.compile(r"(?<!\d)\d{7,}(?!\d)"), _fixed(NUMBER)),
    Rule(
        "address",
        re.compile(
            rf"(?i:\b[\wäöüß.-]*{_STREET})\s*\d+\s?[a-z]?\b"
            rf"|\b\d+[a-zA-Z]?,?\s+(?:[A-Z][a-z]+\s+){{1,3}}{_STREET_EN}(?!\w)"
        ),
        _fixed(ADDRESS),
    ),
    Rule(
        "name",
        re.compile(
            r"(\b(?i:my name is|my name's|i am called|name:)\s+)"
            r"[A-ZÄÖÜ][\w'-]+(?:\s+[A-ZÄÖÜ][\w'-]+){0,2}"
        ),
        _name,
    ),
)


# What the chat needs and a password never is: an order, article or tracking number, an
# e-mail address ("please pass on 40012345" must reach the order form).
_IDENTIFIER = re.compile(
    r"#?\d{6}|#?\d{8}|[A-Za-z]{2}\d{9}[A-Za-z]{2}|[^\s@]+@[^\s@]+\.\w+", re.IGNORECASE
)


def _password_not_identifier(match: re.Match[str]) -> str | None:
    if _IDENTIFIER.fullmatch(match.group(3).strip(".,!?;:\"'()")):
        return None
    return _password(match)


# At intake a masked identifier is lost, so those are left as typed (the export masks
# them by their own rules).
_INTAKE_RULES = (Rule("password", _PASSWORD_PATTERN, _password_not_identifier),)


def mask_passwords(text: str) -> str:
    """`text` with only what looks like a password replaced (the web chat applies this to
    every message before Rasa stores it; the export applies all of RULES)."""
    return redact(text, _INTAKE_RULES)


def redact(text: str, rules: tuple[Rule, ...] = RULES) -> str:
    """`text` with every match of `rules` replaced by its placeholder."""
    for rule in rules:

        def substitute(match: re.Match[str], rule: Rule = rule) -> str:
            replacement = rule.replace(match)
            return match.group(0) if replacement is None else replacement

        text = rule.pattern.sub(substitute, text)
    return text
