"""Server-issued chat sessions and the tokens that prove a widget owns one.

The stock socket.io channel lets a client pick any session id, so knowing (or guessing)
an id was enough to read someone's replies. Here the server picks the id and signs it;
a returning widget must present the signature. The token is a plain HMAC of the id, so
the server keeps no session table and a resume works for as long as the secret is the
same (conversations live up to 90 days, longer with an agent).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import time
import uuid
from collections import deque
from dataclasses import dataclass

_SESSION_ID = re.compile(r"^[0-9a-f]{32}$")


@dataclass(frozen=True)
class Session:
    session_id: str
    session_token: str


class SessionSigner:
    """Issues session ids and checks the tokens presented for them."""

    def __init__(self, secret: str) -> None:
        self._key = secret.encode("utf-8")

    def token_for(self, session_id: str) -> str:
        digest = hmac.new(self._key, session_id.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def issue(self) -> Session:
        session_id = uuid.uuid4().hex
        return Session(session_id, self.token_for(session_id))

    def verify(self, session_id: object, token: object) -> bool:
        """True only for an id of our format with the token we would have issued for it."""
        if not isinstance(session_id, str) or not isinstance(token, str):
            return False
        if not _SESSION_ID.match(session_id):
            return False
        return hmac.compare_digest(self.token_for(session_id), token)


class RateLimiter:
    """A sliding window per conversation, in memory.

    Per conversation rather than per socket, because a shopper with three tabs open is
    still one shopper, and reconnecting must not reset the budget. With several Rasa
    workers each keeps its own window; that only makes the limit looser, never stricter.
    """

    def __init__(self, limit: int, window_seconds: float) -> None:
        self.limit = limit
        self.window = window_seconds
        self._seen: dict[str, deque[float]] = {}

    def allow(self, key: str, now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        if len(self._seen) > 10_000:
            self._forget_idle(now)
        stamps = self._seen.setdefault(key, deque())
        while stamps and now - stamps[0] >= self.window:
            stamps.popleft()
        if len(stamps) >= self.limit:
            return False
        stamps.append(now)
        return True

    def forget(self, key: str) -> None:
        self._seen.pop(key, None)

    def _forget_idle(self, now: float) -> None:
        idle = [k for k, v in self._seen.items() if not v or now - v[-1] >= self.window]
        for key in idle:
            del self._seen[key]
