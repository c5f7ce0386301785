"""A message is understood in the NLU thread: the same result as Rasa's own parse, the
event loop free meanwhile, one message at a time, and errors raised as before."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.graph import GraphNode

import components.minilm  # noqa: F401 - loading the model's components installs the patch
from components import parse_thread
from devkit.servers import find_model
from tests.support.speedups import rasas_own

# English (MiniLM), Swedish, Finnish and Norwegian (e5 as well), wordless messages (neither),
# an order number with an email, a Rasa "/intent" message and nonsense.
MESSAGES = [
    "can I pay with a card?",
    "jag vill byta storlek på min tröja",
    "milloin pakettini tulee perille?",
    "kan jeg returnere skoene?",
    "40012345",
    "order 40012346, my email is lisa@example.com",
    "/greet",
    "ok",
    "zzkq plorp",
]


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(str(find_model()))


def _parse_all(agent: Agent) -> list[dict[str, Any]]:
    async def parse() -> list[dict[str, Any]]:
        return [await agent.processor.parse_message(UserMessage(text)) for text in MESSAGES]

    return asyncio.run(parse())


def test_the_same_understanding_as_rasas_own(agent: Agent) -> None:
    ours = _parse_all(agent)
    with rasas_own(parse_thread):
        rasas = _parse_all(agent)
    assert ours == rasas
    assert [d["intent"]["name"] for d in ours][:2] != [None, None]


def _ticks_during_parse(agent: Agent, text: str) -> tuple[int, float]:
    """How often a 1 ms ticker ran on the loop while `text` was understood, and how long
    that took."""

    async def run() -> tuple[int, float]:
        ticks: list[float] = []

        async def ticker() -> None:
            while True:
                ticks.append(time.perf_counter())
                await asyncio.sleep(0.001)

        task = asyncio.create_task(ticker())
        await asyncio.sleep(0.01)
        started = time.perf_counter()
        await agent.processor.parse_message(UserMessage(text))
        ended = time.perf_counter()
        task.cancel()
        return sum(started < t < ended for t in ticks), (ended - started) * 1000

    return asyncio.run(run())


@pytest.mark.parametrize("text", ["which payment options do you have", "vilka betalsätt har ni"])
def test_the_loop_serves_others_while_a_message_is_understood(agent: Agent, text: str) -> None:
    _ticks_during_parse(agent, text)  # warm
    ticks, ms = _ticks_during_parse(agent, text)
    assert ms > 3, "an understanding with MiniLM takes milliseconds"
    assert ticks >= 2, f"the loop stood still for {ms:.1f} ms"
    with rasas_own(parse_thread):
        blocked, _ = _ticks_during_parse(agent, text)
    assert blocked == 0  # Rasa's own parse holds the loop for the whole graph run


def test_one_message_at_a_time_in_one_thread(agent: Agent, monkeypatch: pytest.MonkeyPatch) -> None:
    sequential = _parse_all(agent)
    threads: set[str] = set()
    inside, most = 0, 0
    lock = threading.Lock()
    node_call = GraphNode.__call__

    def watched(self: GraphNode, *inputs: Any) -> Any:
        nonlocal inside, most
        if self._node_name != "nlu_message_converter":
            return node_call(self, *inputs)
        with lock:
            inside += 1
            most = max(most, inside)
            threads.add(threading.current_thread().name)
        time.sleep(0.002)  # widen the window in which a second run could start
        try:
            return node_call(self, *inputs)
        finally:
            with lock:
                inside -= 1

    monkeypatch.setattr(GraphNode, "__call__", watched)

    async def at_once() -> list[dict[str, Any]]:
        return list(
            await asyncio.gather(
                *(agent.processor.parse_message(UserMessage(text)) for text in MESSAGES)
            )
        )

    assert asyncio.run(at_once()) == sequential
    assert most == 1
    assert len(threads) == 1 and threads.pop().startswith("nlu")


def test_an_error_in_the_graph_reaches_the_caller(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_args: Any, **_kwargs: Any) -> Any:
        raise RuntimeError("the featurizer fell over")

    monkeypatch.setattr(type(agent.processor.graph_runner), "run", broken)
    with pytest.raises(RuntimeError, match="fell over"):
        asyncio.run(agent.processor.parse_message(UserMessage("hello")))
