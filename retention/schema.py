"""Tables the job reads, writes and prunes.

`events` mirrors the table Rasa's SQLTrackerStore creates; it is declared here only so
queries can be built with SQLAlchemy Core and is never created by us. The two statistics
tables are ours and hold nothing that identifies a person: a day, counters, intent names.
The handover tables belong to handover/ and are only reflected, never created.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()

#: Rasa's tracker store table (see rasa.core.tracker_store.SQLTrackerStore.SQLEvent).
events = sa.Table(
    "events",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("sender_id", sa.String(255), nullable=False, index=True),
    sa.Column("type_name", sa.String(255), nullable=False),
    sa.Column("timestamp", sa.Float),
    sa.Column("intent_name", sa.String(255)),
    sa.Column("action_name", sa.String(255)),
    sa.Column("data", sa.Text),
)

stats_metadata = sa.MetaData()

#: One row per UTC day; the primary key is what makes counting a day twice impossible.
conversation_stats_daily = sa.Table(
    "conversation_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False),
    sa.Column("engaged_conversations", sa.Integer, nullable=False),
    sa.Column("shopper_messages", sa.Integer, nullable=False),
    sa.Column("fallback_messages", sa.Integer, nullable=False),
    sa.Column("fallback_actions", sa.Integer, nullable=False),
    sa.Column("fallback_conversations", sa.Integer, nullable=False),
    sa.Column("handover_conversations", sa.Integer, nullable=False),
    sa.Column("resolved_without_agent", sa.Integer, nullable=False),
    sa.Column("rolled_up_at", sa.Float, nullable=False),
    # Added later: ensure_schema adds it to older tables (days before count 0).
    sa.Column("feedback_messages", sa.Integer, nullable=False, server_default="0"),
)

#: Shopper messages per predicted intent and day (intent names are designer-made labels).
intent_stats_daily = sa.Table(
    "intent_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("intent", sa.String(255), primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
)

#: Conversation ratings per day, split by whether an agent took part (counts only).
rating_stats_daily = sa.Table(
    "rating_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("with_agent", sa.Boolean, primary_key=True),
    sa.Column("rating", sa.Integer, primary_key=True),
    sa.Column("ratings", sa.Integer, nullable=False),
)

#: Helpful and unhelpful votes per bot response name and the intent that led to it.
answer_feedback_daily = sa.Table(
    "answer_feedback_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("response", sa.String(255), primary_key=True),
    sa.Column("intent", sa.String(255), primary_key=True),
    sa.Column("helpful", sa.Integer, nullable=False),
    sa.Column("unhelpful", sa.Integer, nullable=False),
)

#: Self-service changes per kind and day (kinds: retention.markers.SELF_SERVICE_KINDS).
self_service_stats_daily = sa.Table(
    "self_service_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("kind", sa.String(40), primary_key=True),
    sa.Column("changes", sa.Integer, nullable=False),
)

#: Conversation-days and shopper messages per conversation language and day
#: (README "Languages"): a language code and counts, nothing else.
language_stats_daily = sa.Table(
    "language_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("conversations", sa.Integer, nullable=False),
    sa.Column("shopper_messages", sa.Integer, nullable=False),
)

#: Shopper messages per conversation language, predicted intent and day.
language_intent_stats_daily = sa.Table(
    "language_intent_stats_daily",
    stats_metadata,
    sa.Column("day", sa.Date, primary_key=True),
    sa.Column("language", sa.String(8), primary_key=True),
    sa.Column("intent", sa.String(255), primary_key=True),
    sa.Column("messages", sa.Integer, nullable=False),
)

TIMESTAMP_INDEX = "ix_events_timestamp"

HANDOVER_REQUESTS = "handover_requests"
HANDOVER_MESSAGES = "handover_messages"


class MissingEventsTable(RuntimeError):
    """The database has no `events` table: almost certainly the wrong database."""


def has_table(conn: Connection, name: str) -> bool:
    """Whether `name` exists, without creating anything."""
    return sa.inspect(conn).has_table(name)


def check_events_table(conn: Connection) -> None:
    """Refuse to run against a database Rasa never wrote to."""
    if not has_table(conn, events.name):
        raise MissingEventsTable(
            "the database has no 'events' table; is this the Rasa tracker store?"
        )


def ensure_schema(engine: Engine) -> bool:
    """Create the statistics tables and the `events.timestamp` index when missing.

    Returns whether the index had to be created, for the summary line. The index turns
    every per-day query and every prune batch from a table scan into a range scan. Any
    existing index that starts with `timestamp` is reused. On PostgreSQL it is built
    CONCURRENTLY, so the first run does not block Rasa's inserts while it builds.
    """
    with engine.begin() as conn:
        stats_metadata.create_all(conn, checkfirst=True)
        _add_missing_counters(conn)
        indexes = sa.inspect(conn).get_indexes(events.name)
    if any(
        ix["name"] == TIMESTAMP_INDEX or ix["column_names"][:1] == ["timestamp"] for ix in indexes
    ):
        return False
    concurrently = "CONCURRENTLY " if engine.dialect.name == "postgresql" else ""
    ddl = sa.text(
        f"CREATE INDEX {concurrently}IF NOT EXISTS {TIMESTAMP_INDEX} ON events (timestamp)"
    )
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(ddl)
    return True


def _add_missing_counters(conn: Connection) -> None:
    """Counters added after a database's statistics table was made (feedback_messages)
    get their column, 0 for the days already stored."""
    table = conversation_stats_daily
    present = {c["name"] for c in sa.inspect(conn).get_columns(table.name)}
    for column in table.columns:
        if column.name not in present and column.server_default is not None:
            conn.execute(
                sa.text(
                    f"ALTER TABLE {table.name} ADD COLUMN {column.name} INTEGER NOT NULL DEFAULT 0"
                )
            )


@dataclass(frozen=True)
class HandoverTables:
    """The handover store's tables, reflected from the live database."""

    requests: sa.Table
    messages: sa.Table | None


def reflect_handover(conn: Connection) -> HandoverTables | None:
    """The handover tables if handover/ has created them yet, else None."""
    inspector = sa.inspect(conn)
    if not inspector.has_table(HANDOVER_REQUESTS):
        return None
    md = sa.MetaData()
    requests = sa.Table(HANDOVER_REQUESTS, md, autoload_with=conn)
    messages = (
        sa.Table(HANDOVER_MESSAGES, md, autoload_with=conn)
        if inspector.has_table(HANDOVER_MESSAGES)
        else None
    )
    return HandoverTables(requests=requests, messages=messages)
