"""The handover queue and the agent conversations, over SQLAlchemy Core.

Queue positions are never stored: a request's position is its rank among the waiting
requests ordered by (created_at, id), computed when asked. Claims out of order, shoppers
leaving and concurrent joins therefore cannot leave a stale or duplicated position
behind. Joins are serialised (BEGIN IMMEDIATE on SQLite, a transaction-scoped advisory
lock on PostgreSQL) and take their timestamp inside that critical section, so the order
of `created_at` is the order of commits and the position a join reports is final.
"""

from __future__ import annotations

import math
import statistics
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine

from handover.models import (
    ACTIVE,
    AGENT,
    CLOSED,
    OFFLINE,
    SHOPPER,
    SYSTEM,
    WAITING,
    Base,
    messages_table,
    requests_table,
)

Clock = Callable[[], float]

MAX_TEXT_CHARS = 2000
#: Arbitrary but fixed key of the PostgreSQL advisory lock that serialises joins.
JOIN_LOCK_KEY = 0x48414E44  # "HAND"
#: The same for creating the tables (see HandoverStore.create_schema).
SCHEMA_LOCK_KEY = 0x54414253  # "TABS"
#: Execution option marking a connection that writes (SQLite: BEGIN IMMEDIATE).
WRITE_OPTION = "handover_write"
_OPEN = (WAITING, ACTIVE)
#: Topics that are request kinds of their own in the agent console (webchat/agent.js): a
#: complaint (live queue or message, like any handover) and an erasure request (always
#: offline: an identity check by email comes first, so it never waits in the live queue).
COMPLAINT = "complaint"
ERASURE = "erasure"


class HandoverError(Exception):
    """A queue operation is not possible in the request's current state."""


class NotFound(HandoverError):
    pass


class Conflict(HandoverError):
    """Someone else changed the request first (e.g. another agent claimed it)."""


@dataclass(frozen=True)
class RequestView:
    """A request as actions and the desk see it (a plain, detached copy of the row)."""

    id: int
    conversation_id: str
    status: str
    order_number: str | None
    email: str | None
    topic: str | None
    description: str | None
    agent: str | None
    created_at: float
    claimed_at: float | None
    closed_at: float | None
    closed_reason: str | None
    order_check: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass(frozen=True)
class Ticket:
    """What a shopper is told on joining: where they are and how long it may take."""

    request: RequestView
    position: int
    estimated_wait_minutes: int
    already_waiting: bool = False


@dataclass(frozen=True)
class MessageView:
    id: int
    request_id: int
    conversation_id: str
    sender: str
    text: str
    created_at: float

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def make_engine(url: str) -> Engine:
    """An engine for the queue; SQLite gets write transactions that wait, not fail.

    pysqlite starts transactions lazily and upgrades read locks to write locks, which
    fails at once with "database is locked" when two writers race. Emitting
    BEGIN IMMEDIATE ourselves for writing transactions takes the write lock up front and
    honours the busy timeout.
    """
    if url.startswith("sqlite"):
        engine = sa.create_engine(
            url, future=True, connect_args={"timeout": 30, "check_same_thread": False}
        )

        @sa.event.listens_for(engine, "connect")
        def _no_implicit_begin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @sa.event.listens_for(engine, "begin")
        def _begin(conn: Connection) -> None:
            # Reads stay deferred so they never hold the lock Rasa's tracker store needs.
            write = conn.get_execution_options().get(WRITE_OPTION, False)
            conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

        return engine
    return sa.create_engine(url, future=True, pool_pre_ping=True)


def _request(row: Any) -> RequestView:
    return RequestView(**{c.name: row._mapping[c.name] for c in requests_table.columns})


def _message(row: Any) -> MessageView:
    return MessageView(**{c.name: row._mapping[c.name] for c in messages_table.columns})


#: Columns added to handover_requests after tables existed in the field, with their DDL
#: type; create_schema adds any that an older table lacks (nullable, so old rows stay valid).
_ADDED_COLUMNS = {"order_check": "VARCHAR(16)"}


def _add_missing_columns(conn: Connection) -> None:
    present = {c["name"] for c in sa.inspect(conn).get_columns(requests_table.name)}
    for name, ddl_type in _ADDED_COLUMNS.items():
        if name not in present:
            conn.execute(sa.text(f"ALTER TABLE {requests_table.name} ADD COLUMN {name} {ddl_type}"))


def _clean(text: str | None, limit: int = MAX_TEXT_CHARS) -> str | None:
    if text is None:
        return None
    text = text.strip()
    return text[:limit] if text else None


class HandoverStore:
    """Every read and write of the queue; one instance per process, thread-safe."""

    def __init__(
        self,
        engine: Engine,
        clock: Clock = time.time,
        default_handling_minutes: float = 4.0,
        median_window: int = 20,
    ) -> None:
        self.engine = engine
        self.clock = clock
        self.default_handling_minutes = default_handling_minutes
        self.median_window = median_window
        self._schema_ready = False

    @classmethod
    def from_url(cls, url: str, **kwargs: Any) -> HandoverStore:
        return cls(make_engine(url), **kwargs)

    # ------------------------------------------------------------------ plumbing

    def create_schema(self) -> None:
        """Create the tables if missing (idempotent; every worker and the action server call it).

        Several processes starting together on an empty PostgreSQL database would each
        see no tables and each create them; all but one fail (DuplicateTable), and a
        failure at start-up ends that Rasa worker. A transaction-scoped advisory lock
        makes them take turns: PostgreSQL's DDL is transactional, so the next one in
        finds the tables. On SQLite the write transaction's lock does the same.
        """
        if self._schema_ready:
            return
        with self._write(lock=SCHEMA_LOCK_KEY) as conn:
            Base.metadata.create_all(conn, checkfirst=True)
            _add_missing_columns(conn)
        self._schema_ready = True

    @contextmanager
    def _tx(self, serialise_joins: bool = False) -> Iterator[Connection]:
        self.create_schema()
        with self._write(lock=JOIN_LOCK_KEY if serialise_joins else None) as conn:
            yield conn

    @contextmanager
    def _write(self, lock: int | None = None) -> Iterator[Connection]:
        """A write transaction (SQLite: BEGIN IMMEDIATE); on PostgreSQL, holding `lock`."""
        with self.engine.connect() as conn:
            conn.execution_options(**{WRITE_OPTION: True})
            with conn.begin():
                if lock is not None and conn.dialect.name == "postgresql":
                    conn.execute(sa.text("SELECT pg_advisory_xact_lock(:k)"), {"k": lock})
                yield conn

    # ------------------------------------------------------------------ queue

    def _position(self, conn: Connection, request: RequestView) -> int:
        r = requests_table.c
        ahead = conn.execute(
            sa.select(sa.func.count()).where(
                r.status == WAITING,
                sa.or_(
                    r.created_at < request.created_at,
                    sa.and_(r.created_at == request.created_at, r.id < request.id),
                ),
            )
        ).scalar_one()
        return int(ahead) + 1

    def _open_request(self, conn: Connection, conversation_id: str) -> RequestView | None:
        r = requests_table.c
        row = conn.execute(
            sa.select(requests_table)
            .where(r.conversation_id == conversation_id, r.status.in_(_OPEN))
            .order_by(r.created_at.desc(), r.id.desc())
            .limit(1)
        ).first()
        return _request(row) if row else None

    def _get(self, conn: Connection, request_id: int) -> RequestView:
        row = conn.execute(
            sa.select(requests_table).where(requests_table.c.id == request_id)
        ).first()
        if row is None:
            raise NotFound(f"no handover request {request_id}")
        return _request(row)

    def join(
        self,
        conversation_id: str,
        *,
        order_number: str | None = None,
        email: str | None = None,
        topic: str | None = None,
        description: str | None = None,
        order_check: str | None = None,
    ) -> Ticket:
        """Put a shopper in the queue, or tell them where they already are."""
        with self._tx(serialise_joins=True) as conn:
            existing = self._open_request(conn, conversation_id)
            if existing is not None:
                position = self._position(conn, existing) if existing.status == WAITING else 0
                return Ticket(existing, position, self._estimate(conn, position), True)
            now = self.clock()
            new_id = conn.execute(
                requests_table.insert().values(
                    conversation_id=conversation_id,
                    status=WAITING,
                    order_number=_clean(order_number, 32),
                    email=_clean(email, 255),
                    topic=_clean(topic, 64),
                    description=_clean(description),
                    order_check=order_check if order_number else None,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            request = self._get(conn, int(new_id))
            position = self._position(conn, request)
            return Ticket(request, position, self._estimate(conn, position))

    def leave_offline(
        self,
        conversation_id: str,
        *,
        email: str,
        text: str,
        topic: str | None = None,
        order_number: str | None = None,
        order_check: str | None = None,
    ) -> RequestView:
        """A message left outside opening hours: a request agents follow up by email."""
        with self._tx() as conn:
            now = self.clock()
            new_id = conn.execute(
                requests_table.insert().values(
                    conversation_id=conversation_id,
                    status=OFFLINE,
                    email=_clean(email, 255),
                    topic=_clean(topic, 64),
                    description=_clean(text),
                    order_number=_clean(order_number, 32),
                    order_check=order_check if order_number else None,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            conn.execute(
                messages_table.insert().values(
                    request_id=int(new_id),
                    conversation_id=conversation_id,
                    sender=SHOPPER,
                    text=_clean(text) or "",
                    created_at=now,
                )
            )
            return self._get(conn, int(new_id))

    def register_erasure(self, conversation_id: str, *, email: str) -> RequestView:
        """A request to erase the customer account and personal data held for `email`.

        Stored as an offline request of kind ERASURE: agents answer it by email after
        checking that the address is the account's, which a chat cannot prove.
        """
        text = (
            f"Erasure request: delete the customer account and the personal data held "
            f"for {email}. Confirm the request from that address before erasing."
        )
        return self.leave_offline(conversation_id, email=email, text=text, topic=ERASURE)

    def position(self, request_id: int) -> int | None:
        """1-based rank among waiting requests; None once claimed, closed or offline."""
        with self.engine.connect() as conn:
            request = self._get(conn, request_id)
            return self._position(conn, request) if request.status == WAITING else None

    def waiting_positions(self) -> dict[str, tuple[int, int]]:
        """conversation id -> (position, estimated minutes) for every waiting shopper."""
        self.create_schema()
        r = requests_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(r.conversation_id).where(r.status == WAITING).order_by(r.created_at, r.id)
            ).all()
            median = self._median_minutes(conn)
        return {
            row.conversation_id: (pos, _minutes(pos, median))
            for pos, row in enumerate(rows, start=1)
        }

    def _median_minutes(self, conn: Connection) -> float:
        r = requests_table.c
        rows = (
            conn.execute(
                sa.select(r.closed_at - r.claimed_at)
                .where(r.status == CLOSED, r.claimed_at.isnot(None), r.closed_at.isnot(None))
                .order_by(r.closed_at.desc())
                .limit(self.median_window)
            )
            .scalars()
            .all()
        )
        durations = [float(d) for d in rows if d is not None and d >= 0]
        if not durations:
            return self.default_handling_minutes
        return statistics.median(durations) / 60.0

    def _estimate(self, conn: Connection, position: int) -> int:
        return _minutes(position, self._median_minutes(conn))

    def estimate_minutes(self, position: int) -> int:
        self.create_schema()
        with self.engine.connect() as conn:
            return self._estimate(conn, position)

    # ------------------------------------------------------------------ agent desk

    def queue(self) -> list[RequestView]:
        """Open requests, oldest first: the waiting line, then the active chats."""
        self.create_schema()
        r = requests_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(requests_table).where(r.status.in_(_OPEN)).order_by(r.created_at, r.id)
            ).all()
        return [_request(row) for row in rows]

    def offline_requests(self, limit: int = 50) -> list[RequestView]:
        self.create_schema()
        r = requests_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(requests_table)
                .where(r.status == OFFLINE)
                .order_by(r.created_at.desc())
                .limit(limit)
            ).all()
        return [_request(row) for row in rows]

    def get(self, request_id: int) -> RequestView:
        self.create_schema()
        with self.engine.connect() as conn:
            return self._get(conn, request_id)

    def open_request(self, conversation_id: str) -> RequestView | None:
        self.create_schema()
        with self.engine.connect() as conn:
            return self._open_request(conn, conversation_id)

    def claim(self, agent: str, request_id: int | None = None) -> RequestView | None:
        """Claim a given request, or the longest-waiting one; None if nobody waits.

        The UPDATE only succeeds while the row is still waiting, so two agents can't
        claim one shopper; `Conflict` tells the loser.
        """
        r = requests_table.c
        for _ in range(20):
            with self._tx() as conn:
                if request_id is None:
                    target = conn.execute(
                        sa.select(r.id)
                        .where(r.status == WAITING)
                        .order_by(r.created_at, r.id)
                        .limit(1)
                    ).scalar()
                    if target is None:
                        return None
                else:
                    target = request_id
                    current = self._get(conn, target)
                    if current.status != WAITING:
                        raise Conflict(f"request {target} is {current.status}")
                now = self.clock()
                done = conn.execute(
                    requests_table.update()
                    .where(r.id == target, r.status == WAITING)
                    .values(status=ACTIVE, agent=agent[:64], claimed_at=now)
                ).rowcount
                if done == 1:
                    return self._get(conn, int(target))
            if request_id is not None:
                raise Conflict(f"request {request_id} was claimed by someone else")
        raise Conflict("the queue is too busy, try again")  # pragma: no cover

    def add_message(
        self, request_id: int, sender: str, text: str, agent: str | None = None
    ) -> MessageView:
        """Record a chat line; agents may only write in a chat they have claimed."""
        clean = _clean(text)
        if not clean:
            raise HandoverError("empty message")
        with self._tx() as conn:
            request = self._get(conn, request_id)
            if sender == AGENT and (request.status != ACTIVE or request.agent != agent):
                raise Conflict("this chat is not yours or no longer active")
            if sender == SHOPPER and request.status not in _OPEN:
                raise Conflict("this request is no longer open")
            now = self.clock()
            new_id = conn.execute(
                messages_table.insert().values(
                    request_id=request_id,
                    conversation_id=request.conversation_id,
                    sender=sender,
                    text=clean,
                    created_at=now,
                )
            ).inserted_primary_key[0]
            return MessageView(int(new_id), request_id, request.conversation_id, sender, clean, now)

    def add_shopper_message(self, conversation_id: str, text: str) -> MessageView | None:
        """Keep what a waiting or served shopper writes, for the agent to read."""
        request = self.open_request(conversation_id)
        if request is None:
            return None
        try:
            return self.add_message(request.id, SHOPPER, text)
        except HandoverError:
            return None

    def add_system_message(self, request_id: int, text: str) -> MessageView:
        return self.add_message(request_id, SYSTEM, text)

    def close(
        self, request_id: int, agent: str | None = None, reason: str = "agent"
    ) -> RequestView:
        """End a chat (agent) or a wait (shopper leaving); closing twice is harmless."""
        r = requests_table.c
        with self._tx() as conn:
            request = self._get(conn, request_id)
            if request.status not in _OPEN:
                return request
            if agent is not None and request.agent != agent:
                raise Conflict("only the agent who claimed this chat can close it")
            conn.execute(
                requests_table.update()
                .where(r.id == request_id, r.status.in_(_OPEN))
                .values(status=CLOSED, closed_at=self.clock(), closed_reason=reason)
            )
            return self._get(conn, request_id)

    def leave(self, conversation_id: str) -> RequestView | None:
        """The shopper leaves the queue (or ends the chat): close their open request."""
        request = self.open_request(conversation_id)
        if request is None:
            return None
        reason = "left" if request.status == WAITING else "shopper"
        return self.close(request.id, reason=reason)

    def messages(self, request_id: int) -> list[MessageView]:
        return self._messages_where(messages_table.c.request_id == request_id)

    def conversation_messages(self, conversation_id: str) -> list[MessageView]:
        return self._messages_where(messages_table.c.conversation_id == conversation_id)

    def _messages_where(self, condition: Any) -> list[MessageView]:
        """Agent-conversation messages matching `condition`, oldest first."""
        self.create_schema()
        m = messages_table.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(messages_table).where(condition).order_by(m.created_at, m.id)
            ).all()
        return [_message(row) for row in rows]


def delete_conversation(connection: Connection, conversation_id: str) -> dict[str, int]:
    """Delete a shopper's agent conversations inside the caller's transaction.

    The tables may not exist yet (no handover ever happened); a failing DELETE would
    abort the caller's PostgreSQL transaction, so ask first.
    """
    inspector = sa.inspect(connection)
    counts = {"handover_messages": 0, "handover_requests": 0}
    if inspector.has_table(messages_table.name):
        counts["handover_messages"] = connection.execute(
            messages_table.delete().where(messages_table.c.conversation_id == conversation_id)
        ).rowcount
    if inspector.has_table(requests_table.name):
        counts["handover_requests"] = connection.execute(
            requests_table.delete().where(requests_table.c.conversation_id == conversation_id)
        ).rowcount
    return counts


def _minutes(position: int, median_minutes: float) -> int:
    """Position times the median handling time, rounded up to whole minutes."""
    if position <= 0:
        return 0
    return max(1, math.ceil(position * median_minutes - 1e-9))
