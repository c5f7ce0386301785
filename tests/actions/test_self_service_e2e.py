"""End to end over socket.io: a shopper cancels a demo order and then sees it cancelled.

Everything real: the Rasa server with the trained model, the action server, the reference
service and the webchat channel, driven by a socket.io client as the widget would.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from devkit.servers import find_model
from devkit.shopper import Options, Shopper
from devkit.stack import Stack, running_stack

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def stack() -> Iterator[Stack]:
    with running_stack(Path(find_model())) as running:
        yield running


def said(messages: list[Any]) -> str:
    return " ".join(str(m.get("text", "")) for m in messages if isinstance(m, dict))


def buttons(messages: list[Any]) -> list[str]:
    return [
        b.get("payload")
        for m in messages
        if isinstance(m, dict)
        for b in (m.get("quick_replies") or m.get("buttons") or [])
    ]


async def converse(url: str) -> list[str]:
    shopper = Shopper(url, Options(timeout=30.0, quiet=1.0))
    await shopper.open()
    try:
        transcript = []
        for text, expect in [
            ("I want to cancel my order", "order number"),
            ("40012349", "email"),
            ("emma.novak@example.org", "cancel order 40012349"),
        ]:
            outcome, _, got = await shopper.turn(text, expect)
            assert outcome == "ok", (text, said(got))
            transcript.append(said(got))
        assert {"/affirm", "/deny"} <= set(buttons(got))
        outcome, _, got = await shopper.turn("/affirm", "is cancelled")
        assert outcome == "ok", said(got)
        transcript.append(said(got))
        # the same conversation, now about the order's status: no cancelled-order surprise,
        # and the order just proven is not asked for again
        outcome, _, got = await shopper.turn("where is my order?", "cancel")
        assert outcome == "ok", said(got)
        assert "order number" not in said(got).lower()
        transcript.append(said(got))
        return transcript
    finally:
        await shopper.close()


def test_cancel_a_demo_order_then_see_it_cancelled(stack: Stack) -> None:
    transcript = asyncio.run(converse(stack.url))
    question, done, status = transcript[2], transcript[3], transcript[4]
    assert "Cancel order 40012349 (" in question and "€" in question
    assert "yes or no" not in question  # the email was no unclear answer to the question
    assert "order 40012349 is cancelled" in done
    assert "cancelled" in status.lower()
    service = stack.env["ORDER_SERVICE_URL"]
    order = requests.post(
        f"{service}/orders/lookup",
        timeout=5,
        json={"order_number": "40012349", "email": "emma.novak@example.org"},
    ).json()
    assert order["status"] == "cancelled"


async def change_address(url: str) -> list[str]:
    shopper = Shopper(url, Options(timeout=30.0, quiet=1.0))
    await shopper.open()
    try:
        transcript = []
        for text, expect in [
            ("I typed the wrong delivery address", "order number"),
            ("40012361 katja.rossi@example.org", "new delivery address"),
            # Norway has 4-digit postcodes: the parser accepts it, the service refuses it
            ("Storgatan 12, 11122 Oslo, Norway", "deliver order 40012361 to"),
            ("/affirm", "new delivery address"),
            ("Storgatan 12, 111 22 Stockholm", "deliver order 40012361 to"),
            ("/affirm", "done"),
        ]:
            outcome, _, got = await shopper.turn(text, expect)
            assert outcome == "ok", (text, said(got))
            transcript.append(said(got))
        return transcript
    finally:
        await shopper.close()


def test_change_an_address_given_in_free_text_with_one_correction(stack: Stack) -> None:
    transcript = asyncio.run(change_address(stack.url))
    assert "yes or no" not in transcript[2]
    assert "postcode doesn't fit the country" in transcript[3]  # the service's 422, re-asked
    assert "Storgatan 12, 111 22 Stockholm, Sweden" in transcript[4]
    assert "yes or no" not in transcript[4]
    assert "will go to Storgatan 12, 111 22 Stockholm, Sweden" in transcript[5]
    service = stack.env["ORDER_SERVICE_URL"]
    sent = requests.get(
        f"{service}/outbox", params={"to": "katja.rossi@example.org"}, timeout=5
    ).json()["messages"]
    assert [m["kind"] for m in sent] == ["address_confirmation"]


async def play(url: str, turns: list[tuple[str, str]]) -> list[list[Any]]:
    """Each turn's messages; every turn must show its expected words."""
    shopper = Shopper(url, Options(timeout=30.0, quiet=1.0))
    await shopper.open()
    try:
        replies = []
        for text, expect in turns:
            outcome, _, got = await shopper.turn(text, expect)
            assert outcome == "ok", (text, said(got))
            replies.append(got)
        return replies
    finally:
        await shopper.close()


def outbox(stack: Stack, email: str) -> list[str]:
    service = stack.env["ORDER_SERVICE_URL"]
    answer = requests.get(f"{service}/outbox", params={"to": email}, timeout=5).json()
    return [m["kind"] for m in answer["messages"]]


def test_change_a_size_with_the_offered_buttons(stack: Stack) -> None:
    """The item and the size are picked by their buttons' payloads, as the widget sends."""
    replies = asyncio.run(
        play(
            stack.url,
            [
                ("one of the things I ordered is the wrong size", "order number"),
                ("40012362 liam.jensen@example.net", "which item"),
                ("241015", "which size"),
                ("43", "from 40 to 43"),
                ("/affirm", "now size 43"),
            ],
        )
    )
    assert "241015" in buttons(replies[1]) and "230122" in buttons(replies[1])
    assert "43" in buttons(replies[2]) and "40" not in buttons(replies[2])
    assert {"/affirm", "/deny"} <= set(buttons(replies[3]))
    service = stack.env["ORDER_SERVICE_URL"]
    order = requests.post(
        f"{service}/orders/lookup",
        timeout=5,
        json={"order_number": "40012362", "email": "liam.jensen@example.net"},
    ).json()
    assert [i["size"] for i in order["items"] if i["article_number"] == "241015"] == ["43"]
    assert outbox(stack, "liam.jensen@example.net") == ["size_change_confirmation"]


def test_an_invoice_copy_reaches_the_orders_address_only(stack: Stack) -> None:
    replies = asyncio.run(
        play(
            stack.url,
            [
                ("could you send me a copy of my invoice", "order number"),
                ("40012364", "email"),
                ("nils.lind@example.org", "order's email address, n***@example.org"),
                ("/affirm", "on its way"),
            ],
        )
    )
    assert "nils.lind" not in said(replies[3])
    assert outbox(stack, "nils.lind@example.org") == ["invoice_copy"]


def test_unsubscribe_without_an_order(stack: Stack) -> None:
    replies = asyncio.run(
        play(
            stack.url,
            [
                ("please unsubscribe me from your newsletter", "which email address"),
                ("olga.brennan@example.net", "unsubscribe olga.brennan@example.net"),
                ("/affirm", "if olga.brennan@example.net was subscribed"),
            ],
        )
    )
    assert "order number" not in " ".join(said(r) for r in replies).lower()
    assert outbox(stack, "olga.brennan@example.net") == ["unsubscribe_confirmation"]
