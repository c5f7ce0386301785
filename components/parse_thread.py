"""A message's understanding runs beside Rasa 3.6's event loop, not on it.

Rasa understands a message (``MessageProcessor.parse_message``) by running the model's
NLU graph on the event loop, synchronously: while it runs, no other shopper's turn moves,
not even the sending of a reply that is ready. Most of that time the loop's thread does
no Python at all. An English message waits for MiniLM's forward pass (ONNX Runtime's
native code, which releases the GIL; it was TensorFlow's own threads); a Swedish,
Finnish or Norwegian one also waits for multilingual-e5, whose C engine (called through
ctypes) releases the GIL. Measured with TensorFlow: 15.6 ms of wall-clock time for 5.8 ms
of the loop thread's CPU in English, 31.8 ms for 20.3 ms in Swedish; in this thread, 0.9
ms of the loop thread's in both (`parse_message` of our model, median of 80, this
project's 2-core machine).

Here the graph run goes to one worker thread, and the loop serves other conversations
while it waits. One thread, so two messages are never understood at the same time: the
NLU components see one message at a time, as on the loop. Everything else is Rasa's own
``parse_message``: the graph's result is handed to it in place of its own call to
``_parse_message_with_graph``, and it does the rest (the retrieval intent, its debug line,
the check for unseen features) as before.

The tracker handed to the graph is not touched meanwhile: a turn holds its
conversation's lock while its message is understood. The NLU graph shares one node with
the prediction graph, which may run on the loop at the same time for another
conversation: ``domain_provider``, which only returns the domain.

``install()`` replaces ``MessageProcessor.parse_message`` and ``_parse_message_with_graph``;
``components/speedups.py`` calls it. ``tests/components/test_parse_thread.py`` compares
the results with Rasa's own and checks that the loop runs during an understanding.
"""

from __future__ import annotations

import asyncio
import contextvars
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from rasa.core.channels.channel import UserMessage
from rasa.core.processor import MessageProcessor
from rasa.shared.core.trackers import DialogueStateTracker

_rasa_parse = MessageProcessor.parse_message
_rasa_graph_parse = MessageProcessor._parse_message_with_graph
# The graph's result for the message being handed to Rasa's parse_message, if any.
_parsed: contextvars.ContextVar[tuple[UserMessage, dict[str, Any]] | None] = contextvars.ContextVar(
    "parsed", default=None
)
_executor: tuple[int, ThreadPoolExecutor] | None = None
_executor_lock = threading.Lock()


def executor() -> ThreadPoolExecutor:
    """The one NLU thread of this process (a forked worker makes its own)."""
    global _executor
    with _executor_lock:
        if _executor is None or _executor[0] != os.getpid():
            _executor = (os.getpid(), ThreadPoolExecutor(1, thread_name_prefix="nlu"))
        return _executor[1]


async def parse_message(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker | None = None,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """Rasa's ``parse_message``, with the graph run in the NLU thread."""
    if self.http_interpreter is None:
        if tracker is None:
            tracker = DialogueStateTracker.from_events(message.sender_id, [])
        data = await asyncio.get_running_loop().run_in_executor(
            executor(), _rasa_graph_parse, self, message, tracker, only_output_properties
        )
        token = _parsed.set((message, data))
        try:
            return await _rasa_parse(self, message, tracker, only_output_properties)
        finally:
            _parsed.reset(token)
    return await _rasa_parse(self, message, tracker, only_output_properties)


def parse_message_with_graph(
    self: MessageProcessor,
    message: UserMessage,
    tracker: DialogueStateTracker,
    only_output_properties: bool = True,
) -> dict[str, Any]:
    """The result the NLU thread has just computed for this message, or Rasa's own run."""
    parsed = _parsed.get()
    if parsed is not None and parsed[0] is message:
        return parsed[1]
    return _rasa_graph_parse(self, message, tracker, only_output_properties)


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    MessageProcessor.parse_message = parse_message  # type: ignore[method-assign]
    MessageProcessor._parse_message_with_graph = (  # type: ignore[method-assign]
        parse_message_with_graph
    )


def uninstall() -> None:
    """Rasa's own methods again (the tests compare both)."""
    MessageProcessor.parse_message = _rasa_parse  # type: ignore[method-assign]
    MessageProcessor._parse_message_with_graph = _rasa_graph_parse  # type: ignore[method-assign]
