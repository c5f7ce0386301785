"""The queue store on SQLite and PostgreSQL: positions, estimates, claims, concurrency."""

from __future__ import annotations

import threading
import time

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from handover.models import (
    ACTIVE,
    AGENT,
    CLOSED,
    OFFLINE,
    ORDER_NO_MATCH,
    SHOPPER,
    WAITING,
    Base,
    requests_table,
)
from handover.store import Conflict, HandoverStore, delete_conversation, make_engine
from tests.handover.helpers import FakeClock


def join(store: HandoverStore, clock: FakeClock, cid: str, **kw):
    clock.advance(1)
    return store.join(cid, email=f"{cid}@example.com", **kw)


def test_positions_and_estimates_use_the_default_until_requests_were_handled(
    store: HandoverStore, clock: FakeClock
) -> None:
    tickets = [join(store, clock, f"c{i}", topic="order_status") for i in range(3)]
    assert [t.position for t in tickets] == [1, 2, 3]
    assert [t.estimated_wait_minutes for t in tickets] == [4, 8, 12]
    assert tickets[0].request.status == WAITING
    assert tickets[0].request.topic == "order_status"


def test_joining_twice_reports_the_same_place(store: HandoverStore, clock: FakeClock) -> None:
    first = join(store, clock, "a")
    join(store, clock, "b")
    again = join(store, clock, "a")
    assert again.already_waiting and again.request.id == first.request.id
    assert again.position == 1
    assert len(store.queue()) == 2


def test_out_of_order_claim_and_leave_keep_positions_right(
    store: HandoverStore, clock: FakeClock
) -> None:
    a, b, c, d = (join(store, clock, x) for x in "abcd")
    claimed = store.claim("Sam", b.request.id)
    assert claimed is not None and claimed.status == ACTIVE and claimed.agent == "Sam"
    assert store.position(a.request.id) == 1
    assert store.position(b.request.id) is None
    assert store.position(c.request.id) == 2
    assert store.position(d.request.id) == 3
    store.leave("a")
    assert store.position(c.request.id) == 1
    assert store.waiting_positions() == {"c": (1, 4), "d": (2, 8)}
    # The next claim takes the longest-waiting shopper.
    nxt = store.claim("Kim")
    assert nxt is not None and nxt.conversation_id == "c"
    assert store.waiting_positions() == {"d": (1, 4)}


def test_estimate_is_position_times_the_median_handling_time(
    store: HandoverStore, clock: FakeClock
) -> None:
    for cid, minutes in (("h1", 1), ("h2", 2), ("h3", 10)):
        ticket = join(store, clock, cid)
        store.claim("Sam", ticket.request.id)
        clock.advance(minutes * 60)
        store.close(ticket.request.id, "Sam")
    tickets = [join(store, clock, f"w{i}") for i in range(3)]
    # median of 1, 2 and 10 minutes is 2 minutes
    assert [t.estimated_wait_minutes for t in tickets] == [2, 4, 6]


def test_claims_conflict_and_an_empty_queue(store: HandoverStore, clock: FakeClock) -> None:
    assert store.claim("Sam") is None
    a = join(store, clock, "a")
    store.claim("Sam", a.request.id)
    with pytest.raises(Conflict):
        store.claim("Kim", a.request.id)
    with pytest.raises(Conflict):
        store.add_message(a.request.id, AGENT, "hi", agent="Kim")
    with pytest.raises(Conflict):
        store.close(a.request.id, "Kim")
    store.add_message(a.request.id, AGENT, "Hello, I'm Sam", agent="Sam")
    store.add_shopper_message("a", "hi Sam")
    assert [(m.sender, m.text) for m in store.messages(a.request.id)] == [
        (AGENT, "Hello, I'm Sam"),
        (SHOPPER, "hi Sam"),
    ]
    closed = store.close(a.request.id, "Sam")
    assert closed.status == CLOSED and closed.closed_reason == "agent"
    assert store.close(a.request.id, "Sam").status == CLOSED  # closing twice is harmless
    assert store.add_shopper_message("a", "still there?") is None


def test_offline_request_is_not_in_the_live_queue(store: HandoverStore, clock: FakeClock) -> None:
    req = store.leave_offline("night", email="n@example.com", text="call me", topic="returns")
    assert req.status == OFFLINE
    assert store.queue() == []
    assert [r.id for r in store.offline_requests()] == [req.id]
    assert store.conversation_messages("night")[0].text == "call me"


def test_delete_conversation_removes_only_that_shopper(
    store: HandoverStore, clock: FakeClock
) -> None:
    a = join(store, clock, "a")
    join(store, clock, "b")
    store.claim("Sam", a.request.id)
    store.add_message(a.request.id, AGENT, "hi", agent="Sam")
    store.add_shopper_message("b", "waiting")
    with store.engine.begin() as conn:
        counts = delete_conversation(conn, "a")
    assert counts == {"handover_messages": 1, "handover_requests": 1}
    assert [r.conversation_id for r in store.queue()] == ["b"]
    assert len(store.conversation_messages("b")) == 1


def test_delete_conversation_without_tables(tmp_path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'empty.db'}")
    with engine.begin() as conn:
        assert delete_conversation(conn, "x") == {"handover_messages": 0, "handover_requests": 0}
    engine.dispose()


def test_concurrent_joins_get_distinct_correct_positions(db_url: str) -> None:
    """Many shoppers join at once, each on its own connection (as separate processes)."""
    HandoverStore(make_engine(db_url)).create_schema()
    n = 16
    barrier = threading.Barrier(n)
    results: dict[str, tuple[int, int]] = {}
    errors: list[BaseException] = []

    def shopper(i: int) -> None:
        store = HandoverStore(make_engine(db_url))
        try:
            barrier.wait()
            ticket = store.join(f"shopper-{i}", email=f"s{i}@example.com")
            results[ticket.request.conversation_id] = (ticket.position, ticket.request.id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)
        finally:
            store.engine.dispose()

    threads = [threading.Thread(target=shopper, args=(i,)) for i in range(n)]
    started = time.monotonic()
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert time.monotonic() - started < 60
    assert sorted(p for p, _ in results.values()) == list(range(1, n + 1))
    # What each shopper was told is their final rank by (created_at, id).
    check = HandoverStore(make_engine(db_url))
    final = check.waiting_positions()
    assert {cid: pos for cid, (pos, _) in results.items()} == {
        cid: pos for cid, (pos, _) in final.items()
    }
    check.engine.dispose()


def test_concurrent_claims_never_share_a_shopper(db_url: str) -> None:
    seed = HandoverStore(make_engine(db_url))
    for i in range(12):
        seed.join(f"s{i}")
    barrier = threading.Barrier(4)
    claimed: list[int] = []
    lock = threading.Lock()

    def agent(name: str) -> None:
        store = HandoverStore(make_engine(db_url))
        barrier.wait()
        while (req := store.claim(name)) is not None:
            with lock:
                claimed.append(req.id)
        store.engine.dispose()

    threads = [threading.Thread(target=agent, args=(f"agent{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert len(claimed) == 12 and len(set(claimed)) == 12
    with seed.engine.connect() as conn:
        statuses = conn.execute(sa.text("SELECT DISTINCT status FROM handover_requests")).all()
    assert statuses == [(ACTIVE,)]
    seed.engine.dispose()


def test_processes_starting_together_on_an_empty_database_all_get_the_schema(
    db_url: str,
) -> None:
    """Every Rasa worker and the action server create the tables at start-up; on an empty
    database they race, and a worker whose start-up fails is gone."""
    from handover.models import Base

    def start_up(engine: Engine, start: threading.Barrier, errors: list[Exception]) -> None:
        start.wait()
        try:
            HandoverStore(engine).create_schema()
        except Exception as error:  # collected for the assertion below
            errors.append(error)

    for _round in range(3):
        engines = [make_engine(db_url) for _ in range(6)]
        Base.metadata.drop_all(engines[0])
        start = threading.Barrier(len(engines))
        errors: list[Exception] = []
        threads = [threading.Thread(target=start_up, args=(e, start, errors)) for e in engines]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
        assert errors == []
        store = HandoverStore(engines[0])
        assert store.join("after-start", email="a@example.com").position == 1
        for engine in engines:
            engine.dispose()


def test_a_queue_table_from_before_the_order_check_gets_the_column(db_url: str) -> None:
    """A database written by an earlier release has no order_check column: the store adds
    it at start instead of failing on every read, and its rows stay readable."""
    engine = make_engine(db_url)
    Base.metadata.drop_all(engine)
    old = sa.MetaData()
    sa.Table(
        requests_table.name,
        old,
        *(c.copy() for c in requests_table.columns if c.name != "order_check"),
    )
    old.create_all(engine)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO handover_requests (conversation_id, status, created_at) "
                "VALUES ('before', 'waiting', 1.0)"
            )
        )
    engine.dispose()

    store = HandoverStore(make_engine(db_url))
    [earlier] = store.queue()
    assert (earlier.conversation_id, earlier.order_check) == ("before", None)
    store.join("after", order_number="40012345", email="a@example.com", order_check=ORDER_NO_MATCH)
    after = store.open_request("after")
    assert after is not None and after.order_check == ORDER_NO_MATCH
    # a second process starting later finds the column there and changes nothing
    HandoverStore(make_engine(db_url)).create_schema()
    store.engine.dispose()
