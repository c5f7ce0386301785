"""Shoppers' feedback: a 1-5 rating of a conversation and a helpful vote per bot answer.

Message ids. Every bot answer the widget shows carries a `message_id` derived from its
tracker event: a hash of the conversation id and the `BotUttered` event's timestamp (the
float as Rasa stores it in the event's JSON). The channel computes it when it sends the
answer and the transcript computes it again from the stored event, so a reloaded widget,
the transcript and a vote all name the same message without storing anything extra.
Lines that are not tracker events (agent messages, system notices) get a one-off id with
the `x-` prefix: shown, never votable.

Storage. Feedback is appended to the conversation's tracker as an `AgentUttered` event
(type_name "agent" in the SQL store's `events` table). Rasa 3.6 has no custom event type;
`AgentUttered` is a stored, replayed event that changes no tracker state (no slot, no
action, no user turn), so policies never see it, while the transcript, the delete route
and the 90-day pruning treat it like every other row of the conversation. Its `text`
stays empty (the comment is in `data`), so nothing reads it as a message. `data` is
`{"feedback": "rating", "rating": 1..5, "comment"?: text}` or `{"feedback": "vote",
"message_id", "helpful", "response", "intent"}`: the response name and the intent that
led to the answer are recorded at vote time so the daily roll-up needs nothing else.
The last rating of a conversation and the last vote per message are the ones that count.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

#: `type_name` of the tracker event feedback is stored as (rasa AgentUttered).
FEEDBACK_EVENT = "agent"
RATING = "rating"
VOTE = "vote"
MAX_COMMENT_CHARS = 1000
RATING_KEYS = ({"rating"}, {"rating", "comment"})
VOTE_KEYS = {"message_id", "helpful"}


def message_id(conversation_id: str, timestamp: float) -> str:
    """The stable id of a bot answer: the same from the live event and the stored row."""
    digest = hashlib.sha256(f"{conversation_id}\x00{float(timestamp)!r}".encode()).hexdigest()
    return "m-" + digest[:20]


def one_off_id() -> str:
    """An id for a line that is no tracker event (agent message, notice): not votable."""
    return "x-" + uuid.uuid4().hex[:20]


class InvalidFeedback(ValueError):
    """The body is not one of the two feedback shapes; the text says what is wrong."""


@dataclass(frozen=True)
class Rating:
    rating: int
    comment: str | None = None

    def data(self) -> dict[str, Any]:
        data: dict[str, Any] = {"feedback": RATING, "rating": self.rating}
        if self.comment:
            data["comment"] = self.comment
        return data


@dataclass(frozen=True)
class Vote:
    message_id: str
    helpful: bool


def parse(body: Any) -> Rating | Vote:
    """One of the two shapes of the contract, or InvalidFeedback with the reason."""
    if not isinstance(body, dict):
        raise InvalidFeedback("the body must be a JSON object")
    keys = set(body)
    if keys in RATING_KEYS:
        rating = body["rating"]
        if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
            raise InvalidFeedback("rating must be a whole number from 1 to 5")
        comment = body.get("comment")
        if comment is not None and not isinstance(comment, str):
            raise InvalidFeedback("comment must be text")
        if comment is not None and len(comment) > MAX_COMMENT_CHARS:
            raise InvalidFeedback(f"comment must be at most {MAX_COMMENT_CHARS} characters")
        return Rating(rating, (comment or "").strip() or None)
    if keys == VOTE_KEYS:
        if not isinstance(body["message_id"], str) or not body["message_id"]:
            raise InvalidFeedback("message_id must be a message id")
        if not isinstance(body["helpful"], bool):
            raise InvalidFeedback("helpful must be true or false")
        return Vote(body["message_id"], body["helpful"])
    raise InvalidFeedback(
        'expected {"rating": 1..5, "comment"?: text} or {"message_id": ..., "helpful": bool}'
    )


def vote_data(conversation_id: str, vote: Vote, events: Iterable[Any]) -> dict[str, Any] | None:
    """The stored vote with the answer's response name and intent, or None if the
    conversation has no bot answer of that id."""
    intent: str | None = None
    for event in events:
        kind = getattr(event, "type_name", "")
        if kind == "user":
            intent = (getattr(event, "intent", None) or {}).get("name") or intent
        elif kind == "bot" and getattr(event, "text", None):
            if message_id(conversation_id, event.timestamp) != vote.message_id:
                continue
            metadata = getattr(event, "metadata", None) or {}
            if metadata.get("sender") == "agent":
                return None
            return {
                "feedback": VOTE,
                "message_id": vote.message_id,
                "helpful": vote.helpful,
                "response": str(metadata.get("utter_action") or "(custom)"),
                "intent": intent or "(none)",
            }
    return None


def feedback_of(data: Any) -> dict[str, Any] | None:
    """The feedback payload of a stored `agent` event's data, if it is ours."""
    payload = data.get("data") if isinstance(data, dict) else None
    if isinstance(payload, dict) and payload.get("feedback") in (RATING, VOTE):
        return payload
    return None
