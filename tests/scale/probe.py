"""A test-only web chat extension that tells which worker process a client talks to.

Loaded only by the multi-worker test's credentials, never in production (its routes are
unauthenticated). A socket event answers with the worker's pid, and an HTTP route emits
into a conversation's room from whichever worker the request reached and answers with
that worker's pid: a client on another pid that still receives the event proves the
Redis client manager relays emits between workers. A third event holds the client's own
worker busy for a moment, so that the next new connection can only be accepted by
another worker: which worker accepts a connection is otherwise up to the kernel, and an
idle worker may win every race.
"""

from __future__ import annotations

import os
import time
from typing import Any

from sanic import Blueprint, response
from sanic.request import Request
from sanic.response import HTTPResponse

from channels.extensions import WebchatExtension


class WorkerProbe(WebchatExtension):
    def register(self, blueprint: Blueprint, sio: Any, channel: Any) -> None:
        @sio.on("probe_whoami")
        async def whoami(sid: str, data: Any = None) -> None:
            await sio.emit("probe_pid", {"pid": os.getpid()}, to=sid)

        @sio.on("probe_hold")
        async def hold(sid: str, data: Any = None) -> None:
            seconds = float((data or {}).get("seconds", 3.0))
            time.sleep(min(seconds, 10.0))  # noqa: ASYNC251 - blocking this worker is the point

        @blueprint.route("/probe/emit/<conversation_id>", methods=["POST"])
        async def emit(request: Request, conversation_id: str) -> HTTPResponse:
            pid = os.getpid()
            nonce = (request.json or {}).get("nonce")
            await channel.emit_to_conversation(
                conversation_id, "probe_ping", {"from_pid": pid, "nonce": nonce}
            )
            return response.json({"pid": pid}, headers={"Connection": "close"})
