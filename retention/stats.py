"""Daily statistics: computed from raw events, stored once per day before pruning.

Everything is aggregated inside the database, per UTC day, so memory does not grow with
the store and no conversation id, text, entity or slot value ever leaves the query.
A conversation-day is one sender_id on one UTC day; the rates in insights/ are shares of
conversation-days, which is what a designer can compare from one day to the next.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from retention import markers
from retention.clock import day_bounds, day_of
from retention.feedback_stats import compute_feedback, store_feedback
from retention.schema import (
    conversation_stats_daily,
    events,
    intent_stats_daily,
    language_intent_stats_daily,
    language_stats_daily,
    self_service_stats_daily,
)

#: The conversation languages (slot `language`, channels/languages.py); a conversation
#: that never set one is English, the slot's initial value.
LANGUAGES: tuple[str, ...] = ("en", "sv", "fi", "nb")
DEFAULT_LANGUAGE = "en"
LANGUAGE_SLOT = "language"

COUNTER_FIELDS: tuple[str, ...] = (
    "conversations",
    "engaged_conversations",
    "shopper_messages",
    "fallback_messages",
    "fallback_actions",
    "fallback_conversations",
    "handover_conversations",
    "resolved_without_agent",
    "feedback_messages",
)


@dataclass
class DayStats:
    """Counters for one UTC day; see README "Statistics" for the exact definitions."""

    day: dt.date
    conversations: int = 0
    engaged_conversations: int = 0
    shopper_messages: int = 0
    fallback_messages: int = 0
    fallback_actions: int = 0
    fallback_conversations: int = 0
    handover_conversations: int = 0
    resolved_without_agent: int = 0
    #: Feedback messages kept (runs of markers.FEEDBACK_ACTION): a count, never the text.
    feedback_messages: int = 0
    intents: dict[str, int] = field(default_factory=dict)
    #: (with_agent, rating 1-5) -> ratings; (response, intent) -> [helpful, unhelpful]
    ratings: dict[tuple[bool, int], int] = field(default_factory=dict)
    answers: dict[tuple[str, str], list[int]] = field(default_factory=dict)
    # self-service changes that went through, per kind (markers.SELF_SERVICE_KINDS)
    self_service: dict[str, int] = field(default_factory=dict)
    #: language -> (conversation-days, shopper messages); (language, intent) -> messages
    languages: dict[str, tuple[int, int]] = field(default_factory=dict)
    language_intents: dict[tuple[str, str], int] = field(default_factory=dict)

    def counters(self) -> dict[str, int]:
        """The scalar counters, keyed like the statistics table's columns."""
        data = asdict(self)
        return {name: int(data[name]) for name in COUNTER_FIELDS}


def _is_user() -> sa.sql.ColumnElement[bool]:
    return events.c.type_name == markers.USER_EVENT


def _is_fallback_message() -> sa.sql.ColumnElement[bool]:
    return sa.and_(_is_user(), events.c.intent_name == markers.FALLBACK_INTENT)


def _is_fallback_action() -> sa.sql.ColumnElement[bool]:
    return sa.and_(
        events.c.type_name == markers.ACTION_EVENT,
        events.c.action_name == markers.FALLBACK_ACTION,
    )


def _is_handover() -> sa.sql.ColumnElement[bool]:
    return sa.or_(
        sa.and_(
            events.c.type_name == markers.ACTION_EVENT,
            events.c.action_name.in_(markers.HANDOVER_ACTIONS),
        ),
        events.c.type_name == markers.PAUSE_EVENT,
    )


def _is_feedback() -> sa.sql.ColumnElement[bool]:
    return sa.and_(
        events.c.type_name == markers.ACTION_EVENT,
        events.c.action_name == markers.FEEDBACK_ACTION,
    )


def _flag(condition: sa.sql.ColumnElement[bool]) -> sa.sql.ColumnElement[int]:
    return sa.case((condition, 1), else_=0)


def compute_day(conn: Connection, day: dt.date) -> DayStats:
    """Aggregate one day's raw events (two queries, both range scans on the timestamp)."""
    start, end = day_bounds(day)
    in_day = sa.and_(events.c.timestamp >= start, events.c.timestamp < end)
    per_conversation = (
        sa.select(
            sa.func.sum(_flag(_is_user())).label("msgs"),
            sa.func.sum(_flag(_is_fallback_message())).label("fb_msgs"),
            sa.func.sum(_flag(_is_fallback_action())).label("fb_acts"),
            sa.func.max(_flag(_is_handover())).label("handover"),
            sa.func.sum(_flag(_is_feedback())).label("feedback"),
        )
        .where(in_day)
        .group_by(events.c.sender_id)
        .subquery()
    )
    c = per_conversation.c
    totals = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(_flag(c.msgs > 0)),
            sa.func.sum(c.msgs),
            sa.func.sum(c.fb_msgs),
            sa.func.sum(c.fb_acts),
            sa.func.sum(_flag(sa.or_(c.fb_msgs > 0, c.fb_acts > 0))),
            sa.func.sum(_flag(c.handover > 0)),
            sa.func.sum(_flag(sa.and_(c.msgs > 0, c.handover == 0))),
            sa.func.sum(c.feedback),
        )
    ).one()
    values = [int(v or 0) for v in totals]
    stats = DayStats(day)
    for name, value in zip(COUNTER_FIELDS, values, strict=True):
        setattr(stats, name, value)
    intent = sa.func.coalesce(events.c.intent_name, markers.NO_INTENT)
    rows = conn.execute(
        sa.select(intent, sa.func.count()).where(in_day, _is_user()).group_by(intent)
    )
    stats.intents = {str(name): int(count) for name, count in rows}
    stats.ratings, stats.answers = compute_feedback(conn, day)
    stats.self_service = _self_service_changes(conn, in_day)
    stats.languages, stats.language_intents = _per_language(conn, in_day, end)
    return stats


def _per_language(
    conn: Connection, in_day: sa.sql.ColumnElement[bool], end: float
) -> tuple[dict[str, tuple[int, int]], dict[tuple[str, str], int]]:
    """Conversation-days, messages and intents per conversation language.

    A conversation-day counts in the language its latest `language` slot event before the
    day's end set (the session start always sets one; a switch later that day moves the
    whole day), English when it has none. The value is matched in the stored JSON text
    per known language, as for the self-service changes, so only counts leave the query.
    """
    latest = (
        sa.select(events.c.sender_id, sa.func.max(events.c.id).label("last_id"))
        .where(
            events.c.timestamp < end,
            events.c.type_name == markers.SLOT_EVENT,
            events.c.action_name == LANGUAGE_SLOT,
        )
        .group_by(events.c.sender_id)
        .subquery()
    )
    setting = events.alias("setting")
    language_case = sa.case(
        *[(setting.c.data.like(f'%"value": "{code}"%'), code) for code in LANGUAGES],
        else_=DEFAULT_LANGUAGE,
    )
    language_of = (
        sa.select(latest.c.sender_id, language_case.label("language"))
        .join(setting, setting.c.id == latest.c.last_id)
        .subquery()
    )
    language = sa.func.coalesce(language_of.c.language, DEFAULT_LANGUAGE)
    per_conversation = (
        sa.select(
            events.c.sender_id.label("sender_id"),
            sa.func.sum(_flag(_is_user())).label("msgs"),
        )
        .where(in_day)
        .group_by(events.c.sender_id)
        .subquery()
    )
    rows = conn.execute(
        sa.select(language.label("language"), sa.func.count(), sa.func.sum(per_conversation.c.msgs))
        .select_from(
            per_conversation.outerjoin(
                language_of, language_of.c.sender_id == per_conversation.c.sender_id
            )
        )
        .group_by(language)
    )
    languages = {str(code): (int(n), int(msgs or 0)) for code, n, msgs in rows}
    intent = sa.func.coalesce(events.c.intent_name, markers.NO_INTENT)
    rows = conn.execute(
        sa.select(language.label("language"), intent.label("intent"), sa.func.count())
        .select_from(events.outerjoin(language_of, language_of.c.sender_id == events.c.sender_id))
        .where(in_day, _is_user())
        .group_by(language, intent)
    )
    intents = {(str(code), str(name)): int(n) for code, name, n in rows}
    return languages, intents


def _self_service_changes(conn: Connection, in_day: sa.sql.ColumnElement[bool]) -> dict[str, int]:
    """Changes per kind: slot events of markers.SELF_SERVICE_SLOT, matched in the JSON
    text Rasa stores (`"name": ..., "value": ...`), so only counts leave the query."""
    is_change = sa.and_(
        events.c.type_name == markers.SLOT_EVENT,
        events.c.data.like(f'%"name": "{markers.SELF_SERVICE_SLOT}"%'),
    )
    sums = [
        sa.func.sum(_flag(events.c.data.like(f'%"value": "{kind}"%')))
        for kind in markers.SELF_SERVICE_KINDS
    ]
    row = conn.execute(sa.select(*sums).where(in_day, is_change)).one()
    return {kind: int(n) for kind, n in zip(markers.SELF_SERVICE_KINDS, row, strict=True) if n}


def days_with_events(
    conn: Connection, before: float, after: float | None = None
) -> Iterator[dt.date]:
    """UTC days that still have events in [after, before), oldest first.

    Steps from one day to the next with an index seek instead of listing all timestamps,
    so a year-long backlog costs one small query per day, not one row per event.
    """
    low = after
    while True:
        query = sa.select(sa.func.min(events.c.timestamp)).where(events.c.timestamp < before)
        if low is not None:
            query = query.where(events.c.timestamp >= low)
        first = conn.execute(query).scalar()
        if first is None:
            return
        day = day_of(float(first))
        yield day
        low = day_bounds(day)[1]


def _is_rolled_up(conn: Connection, day: dt.date) -> bool:
    query = sa.select(conversation_stats_daily.c.day).where(conversation_stats_daily.c.day == day)
    return conn.execute(query).first() is not None


def store_day(conn: Connection, stats: DayStats, now: float) -> None:
    """Insert one day; the primary key on `day` rejects a second copy of it."""
    conn.execute(
        conversation_stats_daily.insert().values(
            day=stats.day, rolled_up_at=now, **stats.counters()
        )
    )
    if stats.intents:
        conn.execute(
            intent_stats_daily.insert(),
            [{"day": stats.day, "intent": k, "messages": v} for k, v in stats.intents.items()],
        )
    store_feedback(conn, stats.day, stats.ratings, stats.answers)
    if stats.self_service:
        conn.execute(
            self_service_stats_daily.insert(),
            [{"day": stats.day, "kind": k, "changes": v} for k, v in stats.self_service.items()],
        )
    if stats.languages:
        conn.execute(
            language_stats_daily.insert(),
            [
                {"day": stats.day, "language": k, "conversations": n, "shopper_messages": m}
                for k, (n, m) in stats.languages.items()
            ],
        )
    if stats.language_intents:
        conn.execute(
            language_intent_stats_daily.insert(),
            [
                {"day": stats.day, "language": k, "intent": i, "messages": n}
                for (k, i), n in stats.language_intents.items()
            ],
        )


@dataclass
class RollupResult:
    """What a roll-up did (or would do, on a dry run)."""

    days: list[dt.date] = field(default_factory=list)
    skipped_existing: int = 0


def rollup(
    engine: Engine,
    cutoff: float,
    dry_run: bool = False,
) -> RollupResult:
    """Store statistics for every day before `cutoff` that has events and no row yet.

    Each day is its own transaction: check, aggregate, insert. If the run guard ever
    failed and two runs raced for a day, the loser's insert hits the primary key and is
    rolled back, so the day is still counted exactly once.
    """
    result = RollupResult()
    with engine.connect() as conn:
        candidates = list(days_with_events(conn, before=cutoff))
    for day in candidates:
        if dry_run:
            with engine.connect() as conn:
                if conn.dialect.has_table(conn, conversation_stats_daily.name) and _is_rolled_up(
                    conn, day
                ):
                    result.skipped_existing += 1
                else:
                    result.days.append(day)
            continue
        try:
            with engine.begin() as conn:
                if _is_rolled_up(conn, day):
                    result.skipped_existing += 1
                    continue
                store_day(conn, compute_day(conn, day), now=time.time())
        except IntegrityError:
            result.skipped_existing += 1
            continue
        result.days.append(day)
    return result
