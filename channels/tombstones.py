"""Ids of deleted conversations, so that their tokens stop working.

A session token stays valid (signed, not expired) after the shopper deleted the
conversation; without a record of the deletion the old id and token would resume an
empty conversation with a fresh rate budget. The record lives in the tracker store's
database, written in the same transaction as the deletion, and is kept as long as a
token can live (`WEBCHAT_SESSION_MAX_AGE_DAYS`): after that every token issued before the
deletion has expired anyway, so older records are pruned whenever a new one is written.
"""

from __future__ import annotations

import weakref

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

metadata = sa.MetaData()
TOMBSTONES = sa.Table(
    "webchat_deleted_conversations",
    metadata,
    sa.Column("conversation_id", sa.String(64), primary_key=True),
    sa.Column("deleted_at", sa.Float, nullable=False, index=True),
)

# Arbitrary but fixed key of the PostgreSQL advisory lock around creating the table, so
# that workers starting together on an empty database do not race each other.
SCHEMA_LOCK_KEY = 0x57EBC4A7


def create_table(connection: Connection) -> None:
    """Create the table if missing; run inside a transaction."""
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": SCHEMA_LOCK_KEY})
    metadata.create_all(connection, checkfirst=True)


def record(connection: Connection, conversation_id: str, now: float, keep_seconds: float) -> None:
    """Remember a deletion (inside the deleting transaction) and prune expired records."""
    create_table(connection)
    connection.execute(sa.delete(TOMBSTONES).where(TOMBSTONES.c.deleted_at < now - keep_seconds))
    connection.execute(sa.delete(TOMBSTONES).where(TOMBSTONES.c.conversation_id == conversation_id))
    connection.execute(
        sa.insert(TOMBSTONES).values(conversation_id=conversation_id, deleted_at=now)
    )


def was_deleted(engine: Engine, conversation_id: str) -> bool:
    """True if the conversation was deleted."""
    if engine not in _ready:
        # Created on the first check rather than the first deletion, so that every
        # later check is one primary-key lookup.
        with engine.begin() as connection:
            create_table(connection)
        _ready.add(engine)
    query = sa.select(TOMBSTONES.c.conversation_id).where(
        TOMBSTONES.c.conversation_id == conversation_id
    )
    with engine.connect() as connection:
        return connection.execute(query).first() is not None


# Engines whose database is known to have the table.
_ready: weakref.WeakSet[Engine] = weakref.WeakSet()
