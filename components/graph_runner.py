"""Rasa 3.6's graph runs without dask's scheduler on every message.

Rasa runs its model graph twice a turn (understanding the message, then predicting each
action) through ``DaskGraphRunner.run``: it cuts the graph down to the targets' ancestors,
builds a dask graph and hands it to ``dask.get``, dask's synchronous scheduler. For our
twenty-odd nodes the scheduler's own work (ordering the graph, its bookkeeping of ready and
finished tasks, the recursive ancestor search of ``minimal_graph_schema``) was about a
quarter of the time of the graph run: 7 % of the Rasa server's event loop under the load
benchmark (py-spy, README "Where the time went").

The order in which the nodes run depends only on the graph's shape: the targets and the
names of the inputs. The first run of each shape here still asks dask, with a graph of the
same keys and dependencies whose tasks only note their own names, so the order is dask's
own; later runs of that shape call the nodes in that order directly. Everything else is
kept as dask does it: each node gets its parents' ``(name, output)`` pairs, a need that is
neither a node nor an input is passed as its bare name (the node then raises Rasa's
"Missing input" error), an input replaces a node of the same name, inputs whose value names
a node are refused with Rasa's error, and a ``RuntimeError`` becomes a ``GraphRunError``.
Only Rasa's debug line "Running graph with inputs: ..." is not written (it formatted the
inputs, the whole tracker among them, on every run, whatever the log level).
``tests/components/test_graph_runner.py`` runs our model's graphs both ways and compares
the order of the calls and the results.

``install()`` replaces ``DaskGraphRunner.run``; ``components/speedups.py`` calls it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import dask
from rasa.engine.exceptions import GraphRunError
from rasa.engine.graph import GraphNode
from rasa.engine.runner.dask import DaskGraphRunner

_dask_run = DaskGraphRunner.run


@dataclass(frozen=True)
class Plan:
    """One shape of run: each node to call, in dask's order, with the names of its parents;
    and the names of dask's graph (the targets' ancestors), which inputs must not name."""

    steps: tuple[tuple[str, GraphNode, tuple[str, ...]], ...]
    names: frozenset[str]


def dask_order(runner: DaskGraphRunner, targets: list[str], inputs: tuple[str, ...]) -> list[str]:
    """The nodes dask runs for these targets and inputs, in the order it runs them."""
    schema = runner._graph_schema.minimal_graph_schema(targets)
    ran: list[str] = []

    def note(name: str) -> Any:
        def task(*_parents: Any) -> tuple[str, None]:
            ran.append(name)
            return name, None

        return task

    graph: dict[str, Any] = {
        name: (note(name), *node.needs.values()) for name, node in schema.nodes.items()
    }
    for name in inputs:
        graph[name] = (name, None)
    dask.get(graph, targets)
    return ran


def plan(runner: DaskGraphRunner, targets: list[str], inputs: tuple[str, ...]) -> Plan:
    """The runner's plan for this shape of run, made once and kept on the runner."""
    plans: dict[tuple[tuple[str, ...], tuple[str, ...]], Plan]
    plans = runner.__dict__.setdefault("_plans", {})
    shape = (tuple(targets), inputs)
    if shape not in plans:
        nodes = runner._graph_schema.nodes
        steps = tuple(
            (name, runner._instantiated_nodes[name], tuple(nodes[name].needs.values()))
            for name in dask_order(runner, targets, inputs)
        )
        names = frozenset(runner._graph_schema.minimal_graph_schema(targets).nodes)
        plans[shape] = Plan(steps, names)
    return plans[shape]


def run(
    self: DaskGraphRunner,
    inputs: dict[str, Any] | None = None,
    targets: list[str] | None = None,
) -> dict[str, Any]:
    """``DaskGraphRunner.run``, the same results from the same calls in the same order."""
    run_targets = targets if targets else self._graph_schema.target_names
    shape = plan(self, run_targets, tuple(inputs or ()))
    results: dict[str, Any] = {}
    if inputs:
        # Rasa's own check (an input's value must not name a node), on a throw-away graph.
        DaskGraphRunner._add_inputs_to_graph(inputs, dict.fromkeys(shape.names))
        results.update((name, (name, value)) for name, value in inputs.items())
    try:
        for name, node, parents in shape.steps:
            results[name] = node(*(results.get(p, p) for p in parents))
    except RuntimeError as e:
        raise GraphRunError("Error running runner.") from e
    return dict(results[t] for t in run_targets)


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    DaskGraphRunner.run = run  # type: ignore[method-assign]


def uninstall() -> None:
    """Rasa's own ``run`` again (the tests compare both)."""
    DaskGraphRunner.run = _dask_run  # type: ignore[method-assign]
