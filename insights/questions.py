"""Recent shopper messages, redacted, as CSV rows a designer can turn into NLU examples.

Rows carry the day, the predicted intent and confidence and the redacted text; never the
sender id or the exact time, which together could single a shopper out.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from insights.redact import redact
from retention import markers
from retention.clock import day_of
from retention.schema import events

CSV_COLUMNS = ("day", "intent", "confidence", "text")
#: The `intent` column of a rating comment (channels/feedback.py) in the export.
COMMENT_ROW = "(rating comment)"
STREAM_CHUNK = 1_000


@dataclass(frozen=True)
class Question:
    """One redacted shopper message."""

    day: str
    intent: str
    confidence: float | None
    text: str


def _parse(data: str | None) -> tuple[str, float | None]:
    """Text and intent confidence from a user event's JSON (Rasa's `as_dict()`)."""
    try:
        payload = json.loads(data or "{}")
    except ValueError:
        return "", None
    text = payload.get("text") or ""
    confidence = ((payload.get("parse_data") or {}).get("intent") or {}).get("confidence")
    return str(text), (float(confidence) if confidence is not None else None)


def _comment(data: str | None) -> str:
    """The comment of a stored rating event (channels/feedback.py), or ""."""
    try:
        payload = (json.loads(data or "{}") or {}).get("data") or {}
    except (ValueError, AttributeError):
        return ""
    if not isinstance(payload, dict) or payload.get("feedback") != markers.FEEDBACK_RATING:
        return ""
    return str(payload.get("comment") or "")


def recent_questions(
    engine: Engine,
    since: float,
    only_fallback: bool = False,
    max_confidence: float | None = None,
    include_payloads: bool = False,
    limit: int | None = None,
    include_comments: bool = False,
) -> Iterator[Question]:
    """Stream shopper messages since `since` (epoch), oldest first, already redacted.

    Button payloads ("/affirm") are skipped unless asked for: they are not language.
    Rows are streamed in chunks so a busy quarter does not have to fit in memory. With
    `include_comments`, the comments of shoppers' ratings come too, redacted the same way,
    as rows of intent COMMENT_ROW (not with the fallback or confidence filters).
    """
    types = [markers.USER_EVENT]
    if include_comments and not only_fallback and max_confidence is None:
        types.append(markers.FEEDBACK_EVENT)
    query = (
        sa.select(events.c.timestamp, events.c.intent_name, events.c.data, events.c.type_name)
        .where(events.c.type_name.in_(types), events.c.timestamp >= since)
        .order_by(events.c.timestamp, events.c.id)
    )
    if only_fallback:
        query = query.where(events.c.intent_name == markers.FALLBACK_INTENT)
    emitted = 0
    with engine.connect() as conn:
        result = conn.execution_options(stream_results=True, yield_per=STREAM_CHUNK).execute(query)
        for timestamp, intent, data, type_name in result:
            if type_name == markers.FEEDBACK_EVENT:
                comment = _comment(data)
                if not comment:
                    continue
                text, confidence, intent = comment, None, COMMENT_ROW
            else:
                text, confidence = _parse(data)
            if not text.strip() or (text.startswith("/") and not include_payloads):
                continue
            if max_confidence is not None and (confidence is None or confidence > max_confidence):
                continue
            yield Question(
                day=day_of(float(timestamp)).isoformat(),
                intent=intent or markers.NO_INTENT,
                confidence=confidence,
                text=redact(text),
            )
            emitted += 1
            if limit is not None and emitted >= limit:
                return


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _spreadsheet_safe(text: str) -> str:
    """Keep a shopper's "=HYPERLINK(...)" from running as a formula when opened in Excel."""
    return "'" + text if text.startswith(_FORMULA_START) else text


def write_csv(questions: Iterator[Question], out: IO[str]) -> int:
    """Write the rows with a header; returns how many rows were written."""
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for q in questions:
        confidence = "" if q.confidence is None else f"{q.confidence:.3f}"
        writer.writerow((q.day, q.intent, confidence, _spreadsheet_safe(q.text)))
        count += 1
    return count
