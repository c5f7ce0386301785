"""A stand-in for the agent desk, loaded by the test Rasa server, proving the extension seam.

It relays nothing anywhere: it records what the channel hands it, answers on a few test
routes under /webhooks/webchat/agent/, sends "agent" messages into a shopper's room with
`channel.emit_to_conversation`, and keeps one row per agent message in a table of the
tracker store's database, so that the delete route must remove it in its transaction.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any

import sqlalchemy as sa
from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse
from sqlalchemy.engine import Connection, Engine

from channels.extensions import ChannelHandle, WebchatExtension

TABLE = "fake_agent_messages"
FAIL_DELETE_TEXT = "please fail the delete"


class FakeDesk(WebchatExtension):
    def __init__(self, settings: Any) -> None:
        super().__init__(settings)
        self.relayed: dict[str, list[str]] = {}
        self.left_queue: set[str] = set()
        self._engine: Engine | None = None

    def _db(self) -> Engine:
        if self._engine is None:
            self._engine = sa.create_engine(os.environ["DATABASE_URL"])
            with self._engine.begin() as connection:
                _create_table(connection)
        return self._engine

    def register(self, blueprint: Blueprint, sio: Any, channel: ChannelHandle) -> None:
        @blueprint.route("/agent/say/<conversation_id>", methods=["POST"])
        async def say(request: Request, conversation_id: str) -> HTTPResponse:
            body = request.json or {}
            with self._db().begin() as connection:
                connection.execute(
                    sa.text(f"INSERT INTO {TABLE} VALUES (:c, :n, :t, :ts)"),
                    {"c": conversation_id, "n": body["agent_name"], "t": body["text"],
                     "ts": time.time()},
                )  # fmt: skip
            message = {"text": body["text"], "sender": "agent", "agent_name": body["agent_name"]}
            if "buttons" in body:  # suggested answers, as a bot message brings them
                message["buttons"] = body["buttons"]
            await channel.emit_to_conversation(conversation_id, "bot_uttered", message)
            return response.json({"ok": True})

        @blueprint.route("/agent/status/<conversation_id>", methods=["POST"])
        async def status(request: Request, conversation_id: str) -> HTTPResponse:
            await channel.emit_to_conversation(conversation_id, "handover_status", request.json)
            return response.json({"ok": True})

        @blueprint.route("/agent/seen/<conversation_id>", methods=["GET"])
        async def seen(request: Request, conversation_id: str) -> HTTPResponse:
            return response.json(
                {
                    "relayed": self.relayed.get(conversation_id, []),
                    "left_queue": conversation_id in self.left_queue,
                }
            )

    async def on_shopper_message(self, conversation_id: str, text: str) -> bool:
        self.relayed.setdefault(conversation_id, []).append(text)
        return True

    async def on_leave_queue(self, conversation_id: str) -> None:
        self.left_queue.add(conversation_id)

    def delete_conversation(self, connection: Connection, conversation_id: str) -> dict[str, int]:
        _create_table(connection)  # on this connection: SQLite allows one writer
        deleted = connection.execute(
            sa.text(f"DELETE FROM {TABLE} WHERE conversation_id = :c"), {"c": conversation_id}
        ).rowcount
        if FAIL_DELETE_TEXT in self.relayed.get(conversation_id, []):
            raise RuntimeError("simulated failure inside the delete transaction")
        self.relayed.pop(conversation_id, None)
        return {"agent_messages": int(deleted or 0)}

    async def transcript_extra(self, conversation_id: str) -> list[dict[str, Any]]:
        return await asyncio.to_thread(self._agent_lines, conversation_id)

    def _agent_lines(self, conversation_id: str) -> list[dict[str, Any]]:
        with self._db().connect() as connection:
            rows = connection.execute(
                sa.text(f"SELECT agent_name, text, ts FROM {TABLE} WHERE conversation_id = :c"),
                {"c": conversation_id},
            ).fetchall()
        return [{"sender": "agent", "name": n, "text": t, "timestamp": ts} for n, t, ts in rows]


def _create_table(connection: Connection) -> None:
    connection.execute(
        sa.text(
            f"CREATE TABLE IF NOT EXISTS {TABLE} (conversation_id VARCHAR(64), "
            "agent_name VARCHAR(64), text TEXT, ts FLOAT)"
        )
    )
