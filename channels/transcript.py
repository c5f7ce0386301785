"""A conversation as the shopper saw it, read from (and deleted in) Rasa's SQL tracker store.

Rasa 3.6 has no API to delete a conversation, and its tracker holds much more than the
shopper saw (slots, actions, intents, entity guesses). The shopper's copy has only the
messages: what they wrote, what the bot and agents answered, the ratings and helpful
votes they gave, and when (UTC). Bot answers carry the `message_id` the widget showed. Texts that
are intent payloads ("/session_start", "/affirm") are not something the shopper typed:
a payload sent by pressing a button is shown as that button's title, any other is left
out.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime, timezone
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from channels import feedback, languages

EVENTS = sa.table(
    "events",
    sa.column("id", sa.Integer),
    sa.column("sender_id", sa.String),
    sa.column("type_name", sa.String),
    sa.column("timestamp", sa.Float),
    sa.column("data", sa.Text),
)

#: Text keys (channels/languages.py) of the senders' labels in the plain-text copy.
SENDER_LABELS = {
    "shopper": "transcript_shopper",
    "bot": "transcript_bot",
    "agent": "transcript_agent",
    # the desk's notices ("Anna from our customer service joined"), as the widget labels them
    "system": "transcript_system",
}


def iso_utc(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, tz=timezone.utc).isoformat(timespec="seconds")


def _epoch(value: Any) -> float:
    """Extension messages may carry an epoch float or an ISO string."""
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if parsed.tzinfo is None:
            parsed = parsed.replace(tzinfo=timezone.utc)
        return parsed.timestamp()
    raise ValueError(f"not a timestamp: {value!r}")


def read_messages(
    connection: Connection, conversation_id: str, language: str = "en"
) -> list[dict[str, Any]]:
    """The shopper's and the bot's messages of one conversation, oldest first."""
    rows = connection.execute(
        sa.select(EVENTS.c.type_name, EVENTS.c.timestamp, EVENTS.c.data)
        .where(EVENTS.c.sender_id == conversation_id)
        .where(EVENTS.c.type_name.in_(("user", "bot", feedback.FEEDBACK_EVENT)))
        .order_by(EVENTS.c.id)
    )
    messages: list[dict[str, Any]] = []
    entry: dict[str, Any]
    button_titles: dict[str, str] = {}
    for type_name, timestamp, data in rows:
        event = json.loads(data) if isinstance(data, str) else (data or {})
        text = event.get("text")
        if type_name == feedback.FEEDBACK_EVENT:
            given = feedback.feedback_of(event)
            if given is None:
                continue
            entry = _feedback_entry(given, language)
        elif type_name == "bot":
            buttons = (event.get("data") or {}).get("buttons") or []
            button_titles = {
                str(b.get("payload")): str(b.get("title"))
                for b in buttons
                if isinstance(b, dict) and b.get("payload") and b.get("title")
            }
            if not text:
                continue
            metadata = event.get("metadata") or {}
            entry = {
                "sender": "bot",
                "text": text,
                "message_id": feedback.message_id(
                    conversation_id, event.get("timestamp", timestamp)
                ),
            }
            if metadata.get("sender") == "agent":  # an agent message logged as a bot event
                entry = {"sender": "agent", "text": text, "name": metadata.get("agent_name")}
        else:
            if not text:
                continue
            if text.startswith("/"):
                if text not in button_titles:
                    continue
                text = button_titles[text]
            entry = {"sender": "shopper", "text": text}
        entry["timestamp"] = iso_utc(float(timestamp))
        entry["_epoch"] = float(timestamp)
        messages.append(entry)
    return messages


def _feedback_entry(given: dict[str, Any], language: str = "en") -> dict[str, Any]:
    """A shopper's rating or vote as a transcript line: readable text plus the values."""
    if given["feedback"] == feedback.RATING:
        text = languages.say("transcript_rated", language, rating=given["rating"])
        if given.get("comment"):
            text += f": {given['comment']}"
        return {
            "sender": "shopper",
            "text": text,
            "feedback": {
                "rating": given["rating"],
                **({"comment": given["comment"]} if given.get("comment") else {}),
            },
        }
    helpful = bool(given.get("helpful"))
    return {
        "sender": "shopper",
        "text": languages.say(
            "transcript_helpful" if helpful else "transcript_not_helpful", language
        ),
        "feedback": {"message_id": given.get("message_id"), "helpful": helpful},
    }


def merge_extra(
    messages: list[dict[str, Any]], extra: Iterable[dict[str, Any]]
) -> list[dict[str, Any]]:
    """Merge extension messages by time; ties keep tracker messages first."""
    merged = list(messages)
    for item in extra:
        epoch = _epoch(item["timestamp"])
        entry: dict[str, Any] = {
            "sender": str(item.get("sender", "agent")),
            "text": str(item.get("text", "")),
            "timestamp": iso_utc(epoch),
            "_epoch": epoch,
        }
        if item.get("name"):
            entry["name"] = str(item["name"])
        merged.append(entry)
    merged.sort(key=lambda m: m["_epoch"])  # stable: equal times keep their order
    for entry in merged:
        entry.pop("_epoch", None)
        if entry.get("name") is None:
            entry.pop("name", None)
    return merged


def render_text(
    conversation_id: str, messages: list[dict[str, Any]], generated_at: str, language: str = "en"
) -> str:
    """A plain-text copy a shopper can read or attach to an e-mail, in the conversation's
    language."""
    lines = [
        languages.say("transcript_title", language),
        languages.say("transcript_conversation", language, conversation_id=conversation_id),
        languages.say("transcript_downloaded", language, when=generated_at),
        "",
    ]
    for message in messages:
        key = SENDER_LABELS.get(message["sender"])
        label = languages.say(key, language) if key else message["sender"].title()
        if message["sender"] == "agent" and message.get("name"):
            label = languages.say("transcript_agent_named", language, name=message["name"])
        when = message["timestamp"].replace("T", " ").replace("+00:00", "")
        lines.append(f"[{when}] {label}: {message['text']}")
    if not messages:
        lines.append(languages.say("transcript_empty", language))
    return "\n".join(lines) + "\n"


def delete_events(connection: Connection, conversation_id: str) -> int:
    """Delete every tracker event of the conversation; returns how many rows went."""
    result = connection.execute(sa.delete(EVENTS).where(EVENTS.c.sender_id == conversation_id))
    return int(result.rowcount or 0)
