"""Tables of the handover queue, in the tracker store's database.

The retention job reflects these tables by name (retention/schema.py) to keep agent
conversations out of the 90-day pruning and to delete them on request: keep the names
and columns stable. Times are epoch floats like Rasa's own `events.timestamp`, so both
can be compared in SQL without time-zone conversions.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import declarative_base

Base = declarative_base(metadata=sa.MetaData())

WAITING = "waiting"
ACTIVE = "active"
CLOSED = "closed"
OFFLINE = "offline"
STATUSES = (WAITING, ACTIVE, CLOSED, OFFLINE)

#: Whether a request's order number and email belong together, as the order service said
#: when the shopper joined the queue. Agents see it: before sharing anything about an
#: order whose email did not match, they confirm who they are talking to. The shopper is
#: not told (that would say whether an order number exists).
ORDER_MATCHES, ORDER_NO_MATCH, ORDER_UNCHECKED = "matches", "no_match", "unchecked"

SHOPPER = "shopper"
AGENT = "agent"
SYSTEM = "system"


class HandoverRequest(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "handover_requests"
    __table_args__ = (sa.Index("ix_handover_requests_status_created", "status", "created_at"),)

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    status = sa.Column(sa.String(16), nullable=False, default=WAITING)
    order_number = sa.Column(sa.String(32), nullable=True)
    email = sa.Column(sa.String(255), nullable=True)
    topic = sa.Column(sa.String(64), nullable=True)
    description = sa.Column(sa.Text, nullable=True)
    agent = sa.Column(sa.String(64), nullable=True)
    created_at = sa.Column(sa.Float, nullable=False)
    claimed_at = sa.Column(sa.Float, nullable=True)
    closed_at = sa.Column(sa.Float, nullable=True)
    #: Why a request ended: "agent" (closed by the agent), "left" (shopper left the
    #: queue), "shopper" (shopper ended an active chat). Null while open or offline.
    closed_reason = sa.Column(sa.String(16), nullable=True)
    #: ORDER_MATCHES / ORDER_NO_MATCH / ORDER_UNCHECKED; null without an order number.
    #: Added after the first release: HandoverStore.create_schema adds it to older tables.
    order_check = sa.Column(sa.String(16), nullable=True)


class HandoverMessage(Base):  # type: ignore[misc,valid-type]
    __tablename__ = "handover_messages"

    id = sa.Column(sa.Integer, primary_key=True, autoincrement=True)
    request_id = sa.Column(
        sa.Integer, sa.ForeignKey("handover_requests.id"), nullable=False, index=True
    )
    conversation_id = sa.Column(sa.String(255), nullable=False, index=True)
    sender = sa.Column(sa.String(16), nullable=False)
    text = sa.Column(sa.Text, nullable=False)
    created_at = sa.Column(sa.Float, nullable=False)


requests_table: sa.Table = HandoverRequest.__table__
messages_table: sa.Table = HandoverMessage.__table__
