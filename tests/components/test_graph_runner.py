"""The graph runner calls the same nodes in the same order as Rasa's dask runner, with the
same results: on our trained model's graphs (understanding and prediction, a conversation
long) and on small graphs for dask's corner cases."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from rasa.core.agent import Agent
from rasa.core.channels.channel import UserMessage
from rasa.engine.graph import ExecutionContext, GraphComponent, GraphNode, GraphSchema, SchemaNode
from rasa.engine.runner.dask import DaskGraphRunner
from rasa.engine.storage.local_model_storage import LocalModelStorage
from rasa.engine.storage.resource import Resource
from rasa.shared.core.events import ActionExecuted, UserUttered

import components.minilm  # noqa: F401 - loading the model's components installs the runner
from components import graph_runner
from devkit.servers import find_model
from tests.support.speedups import rasas_own

# Shoppers' messages of several kinds: an FAQ, an order form with its details, a correction,
# small talk and something the model does not know.
MESSAGES = [
    "hi",
    "how long does delivery take?",
    "where is my order",
    "40012345",
    "sorry it is 40012346",
    "anna@example.com",
    "thanks, bye",
    "hur lång tid tar leveransen?",
    "qwerty zxcv",
]


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The names of the graph's nodes as they are called."""
    called: list[str] = []
    node_call = GraphNode.__call__

    def noting(self: GraphNode, *inputs: Any) -> Any:
        called.append(self._node_name)
        return node_call(self, *inputs)

    monkeypatch.setattr(GraphNode, "__call__", noting)
    return called


@pytest.fixture(scope="module")
def agent() -> Agent:
    return Agent.load(str(find_model()))


def _conversation(agent: Agent) -> list[tuple[dict[str, Any], str, dict[str, float]]]:
    """For each message: what the model understood and what it predicts next, with the
    policy's name and the confidences of the likeliest actions."""
    processor = agent.processor
    assert processor is not None
    tracker = processor.tracker_store.init_tracker("graph-runner")
    tracker.update(ActionExecuted("action_listen"))
    outcomes = []
    for text in MESSAGES:
        parse = asyncio.run(processor.parse_message(UserMessage(text)))
        tracker.update(UserUttered(text, parse["intent"], parse["entities"], parse))
        prediction = processor._predict_next_with_tracker(tracker)
        top = sorted(enumerate(prediction.probabilities), key=lambda p: -p[1])[:3]
        names = processor.domain.action_names_or_texts
        outcomes.append((parse, prediction.policy_name or "", {names[i]: p for i, p in top}))
        tracker.update(ActionExecuted("action_listen"))
    return outcomes


def test_our_model_runs_as_with_dask(agent: Agent, calls: list[str]) -> None:
    ours = _conversation(agent)
    our_calls = list(calls)
    calls.clear()
    with rasas_own(graph_runner):
        theirs = _conversation(agent)
    assert our_calls == calls
    assert ours == theirs
    # The conversation reached the policies and the understanding of several intents.
    assert "nlu_message_converter" in calls
    assert any("RulePolicy" in c for c in calls)
    assert len({parse["intent"]["name"] for parse, _, _ in ours}) >= 5


# Small graphs: each node adds its parents' values to its own number.
class Adder(GraphComponent):
    def __init__(self, number: int) -> None:
        self.number = number

    @classmethod
    def create(
        cls,
        config: dict[str, Any],
        model_storage: LocalModelStorage,
        resource: Resource,
        execution_context: ExecutionContext,
    ) -> Adder:
        return cls(config["number"])

    def add(self, **parents: Any) -> Any:
        if self.number < 0:
            raise RuntimeError("a node that fails")
        return self.number + sum(parents.values())


def _node(number: int, **needs: str) -> SchemaNode:
    return SchemaNode(needs, Adder, "create", "add", {"number": number})


GRAPH = {
    "a": _node(1),
    "b": _node(10, x="a"),
    "c": _node(100, x="a"),
    "d": _node(1000, x="b", y="c", z="__input__"),
    "unused": _node(5, x="a"),
}


def _run(
    tmp_path: Path,
    graph: dict[str, SchemaNode],
    inputs: dict[str, Any] | None,
    targets: list[str],
    calls: list[str],
) -> tuple[Any, list[str]]:
    """The run's result (or its error) and the nodes it called (noted by `calls`)."""
    runner = DaskGraphRunner(
        GraphSchema(graph), LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "t")
    )
    calls.clear()
    try:
        return runner.run(inputs, targets), list(calls)
    except Exception as error:
        return (type(error), str(error)), list(calls)


FAILING = {**GRAPH, "b": _node(-1, x="a")}

CASES = [
    pytest.param(GRAPH, {"__input__": 7}, ["d"], id="diamond with an input"),
    pytest.param(GRAPH, {"__input__": 7}, ["d", "b"], id="two targets"),
    pytest.param(GRAPH, {"__input__": 7, "c": 50}, ["d"], id="an input replaces a node"),
    pytest.param(GRAPH, None, ["d"], id="missing input is passed as its name"),
    pytest.param(GRAPH, {"__input__": "b"}, ["d"], id="an input naming a node is refused"),
    pytest.param(GRAPH, {"__input__": 7}, ["__input__"], id="an input as the target"),
    pytest.param(FAILING, {"__input__": 7}, ["d"], id="a node fails"),
]


@pytest.mark.parametrize(("graph", "inputs", "targets"), CASES)
def test_small_graphs_run_as_with_dask(
    tmp_path: Path,
    graph: dict[str, SchemaNode],
    inputs: dict[str, Any] | None,
    targets: list[str],
    calls: list[str],
) -> None:
    ours = _run(tmp_path, graph, inputs, targets, calls)
    with rasas_own(graph_runner):
        theirs = _run(tmp_path, graph, inputs, targets, calls)
    assert ours == theirs
    assert "unused" not in ours[1]


def test_a_run_of_a_known_shape_does_not_ask_dask(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    runner = DaskGraphRunner(
        GraphSchema(GRAPH), LocalModelStorage(tmp_path), ExecutionContext(GraphSchema({}), "t")
    )
    assert runner.run({"__input__": 7}, ["d"]) == {"d": 1000 + 11 + 101 + 7}
    monkeypatch.setattr(graph_runner.dask, "get", None)  # would fail if called
    assert runner.run({"__input__": 8}, ["d"]) == {"d": 1000 + 11 + 101 + 8}
