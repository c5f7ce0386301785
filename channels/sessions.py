"""Server-issued chat sessions and the tokens that prove a widget owns one.

The stock socket.io channel lets a client pick any session id, so knowing (or guessing)
an id was enough to read someone's replies. Here the server picks the id and signs it;
a returning widget must present the signature. A token is `<issued>.<mac>`: the issue
time (whole seconds since the epoch) and an HMAC of the id and that time, so the server
keeps no session table, the time cannot be changed without the secret, and a token
stops working `max_age` after it was issued (by default the 90 days a conversation is
kept). Tokens of the first version (an HMAC of the id alone, no issue time) are refused:
their age is unknown, and the widget simply starts a fresh session.
"""

from __future__ import annotations

import base64
import enum
import hashlib
import hmac
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")
_ISSUED = re.compile(r"^[0-9]{1,12}$")
# Workers' clocks may differ a little; a token from a few minutes "ahead" is still ours.
CLOCK_SKEW_SECONDS = 300


class TokenCheck(enum.Enum):
    VALID = "valid"
    EXPIRED = "expired"
    INVALID = "invalid"


@dataclass(frozen=True)
class Session:
    session_id: str
    session_token: str


class SessionSigner:
    """Issues session ids and checks the tokens presented for them."""

    def __init__(
        self,
        secret: str,
        max_age_seconds: float = 90 * 86400,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._key = secret.encode("utf-8")
        self.max_age_seconds = max_age_seconds
        self._clock = clock

    def token_for(self, session_id: str, issued: int) -> str:
        message = f"{session_id}.{issued}".encode()
        digest = hmac.new(self._key, message, hashlib.sha256).digest()
        mac = base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")
        return f"{issued}.{mac}"

    def issue(self) -> Session:
        session_id = uuid.uuid4().hex
        return Session(session_id, self.token_for(session_id, int(self._clock())))

    def check(self, session_id: object, token: object) -> TokenCheck:
        """VALID only for an id of our format with a token we issued for it, not too old."""
        if not isinstance(session_id, str) or not isinstance(token, str):
            return TokenCheck.INVALID
        if not _SESSION_ID.match(session_id):
            return TokenCheck.INVALID
        issued_text, dot, _mac = token.partition(".")
        if not dot or not _ISSUED.match(issued_text):
            return TokenCheck.INVALID
        issued = int(issued_text)
        if not hmac.compare_digest(self.token_for(session_id, issued), token):
            return TokenCheck.INVALID
        age = self._clock() - issued
        if age >= self.max_age_seconds or age < -CLOCK_SKEW_SECONDS:
            return TokenCheck.EXPIRED
        return TokenCheck.VALID

    def verify(self, session_id: object, token: object) -> bool:
        return self.check(session_id, token) is TokenCheck.VALID
