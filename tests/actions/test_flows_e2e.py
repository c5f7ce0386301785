"""The flows of issue 13 through the real stack: web chat over socket.io, Rasa with the
trained model, the action server, the reference order service and the handover store,
and the agent desk's queue as the console reads it."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from devkit.servers import find_model
from devkit.shopper import Options, Shopper
from devkit.stack import Stack, running_stack

pytestmark = pytest.mark.e2e

AGENT_TOKEN = "flows-e2e-agent-token-0123456789"


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    settings = {
        # Always open, so the complaint's live-queue path does not depend on the day.
        "HANDOVER_OPENING_HOURS": "mon-sun 00:00-24:00",
        "HANDOVER_TIMEZONE": "UTC",
        "AGENT_TOKENS": f"Sam:{AGENT_TOKEN}",
    }
    with running_stack(find_model(), settings) as running:
        yield running


@pytest.fixture()
async def shopper(stack: Stack) -> AsyncIterator[Shopper]:
    client = Shopper(stack.url, Options(timeout=30, quiet=1.0))
    await client.open()
    yield client
    await client.close()


async def say(shopper: Shopper, text: str) -> str:
    _, _, messages = await shopper.turn(text, None)
    parts = []
    for m in messages:
        if isinstance(m, dict):
            parts.append(str(m.get("text") or ""))
            parts += [str(b.get("title")) for b in m.get("quick_replies") or []]
    return " ".join(parts)


def desk_queue(stack: Stack) -> dict[str, Any]:
    reply = requests.get(
        f"{stack.url}/webhooks/webchat/agent/queue",
        headers={"Authorization": f"Bearer {AGENT_TOKEN}"},
        timeout=10,
    )
    reply.raise_for_status()
    return reply.json()


async def test_invoice_status_after_verifying_the_order(shopper: Shopper) -> None:
    assert "invoice" in (await say(shopper, "when is my invoice due?")).lower()
    assert "order number" in (await say(shopper, "yes")).lower()
    assert "email" in (await say(shopper, "40012354")).lower()
    answer = await say(shopper, "jonas.weber@example.com")
    assert "€128.90" in answer and "j***@example.com" in answer


async def test_a_complaint_reaches_the_live_queue_marked_as_complaint(
    stack: Stack, shopper: Shopper
) -> None:
    first = (await say(shopper, "the heel of my new boots came off the first day")).lower()
    assert "sorry" in first and "order number" in first
    await say(shopper, "40012348")
    await say(shopper, "david.klein@example.com")
    answer = await say(shopper, "the left heel came off after one walk")
    assert "queue" in answer
    waiting = [
        r for r in desk_queue(stack)["waiting"] if r["conversation_id"] == shopper.session_id
    ]
    assert [(r["topic"], r["order_number"]) for r in waiting] == [("complaint", "40012348")]


async def test_account_erasure_is_an_offline_request_of_its_own(
    stack: Stack, shopper: Shopper
) -> None:
    first = await say(shopper, "please delete my customer account and all my data")
    assert "account" in first and "gear" not in first
    answer = await say(shopper, "anna.berg@example.com")
    assert "one month" in answer and "gear menu" in answer
    queue = desk_queue(stack)
    mine = [r for r in queue["offline"] if r["conversation_id"] == shopper.session_id]
    assert [(r["topic"], r["email"]) for r in mine] == [("erasure", "anna.berg@example.com")]
    assert shopper.session_id not in {r["conversation_id"] for r in queue["waiting"]}


async def test_feedback_is_kept_in_the_conversation(stack: Stack, shopper: Shopper) -> None:
    assert "one message" in await say(shopper, "I'd like to give you some feedback")
    assert "thank you" in (await say(shopper, "more long sizes in the catalogue")).lower()
    engine = sa.create_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text("SELECT data FROM events WHERE sender_id = :s AND type_name = 'slot'"),
                {"s": shopper.session_id},
            ).scalars()
            kept = [json.loads(r)["value"] for r in rows if '"shopper_feedback"' in r]
    finally:
        engine.dispose()
    assert kept == ["more long sizes in the catalogue"]
