"""Deleting old tracker events and, on request, old agent conversations, in batches.

Every batch is its own short transaction selected by primary key, so a large backlog
never holds a long lock on the store Rasa is writing to, and the job's memory does not
depend on how many rows are deleted.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from retention.schema import HandoverTables, events, reflect_handover

DEFAULT_BATCH_SIZE = 5_000
CLOSED_STATUSES: tuple[str, ...] = ("closed", "offline")


@dataclass
class PruneResult:
    """Counts of what was (or, on a dry run, would be) deleted."""

    events_deleted: int = 0
    conversations_deleted: int = 0
    conversations_trimmed: int = 0
    agent_conversations_kept: int = 0
    batches: int = 0


def _old_events(cutoff: float, handover: HandoverTables | None) -> sa.sql.ColumnElement[bool]:
    """Events before the cutoff that do not belong to a conversation with an agent.

    Agent conversations are kept until the shopper asks for deletion (or an operator
    opts in with --agent-days), so any sender with a handover request is left alone.
    NOT EXISTS rather than NOT IN, which would match nothing if a NULL id crept in.
    """
    condition = events.c.timestamp < cutoff
    if handover is None:
        return condition
    requests = handover.requests
    has_agent = (
        sa.select(sa.literal(1)).where(requests.c.conversation_id == events.c.sender_id).exists()
    )
    return sa.and_(condition, ~has_agent)


def _count_conversations(
    conn: Connection, old: sa.sql.ColumnElement[bool], cutoff: float
) -> tuple[int, int]:
    """(conversations that lose all events, conversations that keep newer ones)."""
    newer = sa.alias(events, "newer")
    has_newer = (
        sa.select(sa.literal(1))
        .where(newer.c.sender_id == events.c.sender_id, newer.c.timestamp >= cutoff)
        .exists()
    )
    touched = (
        sa.select(events.c.sender_id, has_newer.label("has_newer")).where(old).distinct().subquery()
    )
    row = conn.execute(
        sa.select(
            sa.func.count(),
            sa.func.sum(sa.case((touched.c.has_newer, 1), else_=0)),
        )
    ).one()
    total, trimmed = int(row[0] or 0), int(row[1] or 0)
    return total - trimmed, trimmed


def _count_agent_senders(conn: Connection, cutoff: float, handover: HandoverTables | None) -> int:
    if handover is None:
        return 0
    requests = handover.requests
    has_agent = (
        sa.select(sa.literal(1)).where(requests.c.conversation_id == events.c.sender_id).exists()
    )
    query = sa.select(sa.func.count(sa.distinct(events.c.sender_id))).where(
        events.c.timestamp < cutoff, has_agent
    )
    return int(conn.execute(query).scalar() or 0)


def prune(
    engine: Engine,
    cutoff: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> PruneResult:
    """Delete bot-conversation events with timestamp < cutoff, `batch_size` rows at a time.

    The caller must have rolled up every day before `cutoff` first. The condition is
    re-evaluated in every batch, so nothing at or after the cutoff can ever match, and a
    conversation that is handed to an agent mid-run is spared from the next batch on.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    result = PruneResult()
    with engine.connect() as conn:
        handover = reflect_handover(conn)
        old = _old_events(cutoff, handover)
        result.conversations_deleted, result.conversations_trimmed = _count_conversations(
            conn, old, cutoff
        )
        result.agent_conversations_kept = _count_agent_senders(conn, cutoff, handover)
        if dry_run:
            result.events_deleted = int(
                conn.execute(sa.select(sa.func.count()).where(old)).scalar() or 0
            )
            return result
    batch_ids = sa.select(events.c.id).where(old).limit(batch_size).scalar_subquery()
    delete = events.delete().where(events.c.id.in_(batch_ids))
    while True:
        with engine.begin() as conn:
            deleted = conn.execute(delete).rowcount
        if deleted <= 0:
            break
        result.events_deleted += deleted
        result.batches += 1
        if deleted < batch_size:
            break
    return result


@dataclass
class AgentPruneResult:
    """What --agent-days did; `status` explains a no-op in the summary line."""

    status: str = "ok"
    requests_deleted: int = 0
    messages_deleted: int = 0


def prune_agent_conversations(
    engine: Engine,
    cutoff: float,
    batch_size: int = DEFAULT_BATCH_SIZE,
    dry_run: bool = False,
) -> AgentPruneResult:
    """Delete closed/offline handover requests that ended before `cutoff`, with messages.

    Open requests (waiting, active) are never touched, however old. Once a request is
    gone its conversation's tracker events fall under the normal --days rule, because
    tracker events may only be deleted after their days were rolled up.
    """
    with engine.connect() as conn:
        handover = reflect_handover(conn)
    if handover is None:
        return AgentPruneResult(status="no handover tables")
    requests, messages = handover.requests, handover.messages
    ended = sa.func.coalesce(requests.c.closed_at, requests.c.created_at)
    expired = sa.and_(requests.c.status.in_(CLOSED_STATUSES), ended < cutoff)
    result = AgentPruneResult()
    if dry_run:
        with engine.connect() as conn:
            result.requests_deleted = int(
                conn.execute(
                    sa.select(sa.func.count()).select_from(requests).where(expired)
                ).scalar()
                or 0
            )
            if messages is not None:
                ids = sa.select(requests.c.id).where(expired)
                result.messages_deleted = int(
                    conn.execute(
                        sa.select(sa.func.count())
                        .select_from(messages)
                        .where(messages.c.request_id.in_(ids))
                    ).scalar()
                    or 0
                )
        return result
    while True:
        with engine.begin() as conn:
            ids = [
                row[0]
                for row in conn.execute(sa.select(requests.c.id).where(expired).limit(batch_size))
            ]
            if not ids:
                break
            if messages is not None:
                result.messages_deleted += conn.execute(
                    messages.delete().where(messages.c.request_id.in_(ids))
                ).rowcount
            result.requests_deleted += conn.execute(
                requests.delete().where(requests.c.id.in_(ids))
            ).rowcount
        if len(ids) < batch_size:
            break
    return result
