"""Process-wide speed-ups of Rasa 3.6's own code, each the same behaviour done faster.

- ``action_exchange``: requests to the action server without the responses, and replies
  checked against a schema validator built once;
- ``graph_runner``: the model's graph runs in dask's order without dask's scheduler;
- ``parse_thread``: a message is understood in a thread of its own, the event loop free;
- ``rule_lookup``: RulePolicy tests only the rules that can match the newest state;
- ``slot_copies``: slots copied without the pickle protocol when a tracker is made.

Every Rasa process that loads our model imports components/e5.py or minilm.py, and they
call ``install()``: `rasa run`, `rasa train`, `rasa test`, `rasa shell` and the benchmarks
all run with them. Each module says what it replaces and why, and its tests compare it with
Rasa's own.
"""

from __future__ import annotations

from components import action_exchange, graph_runner, parse_thread, rule_lookup, slot_copies


def install() -> None:
    """Idempotent: installing twice changes nothing."""
    action_exchange.install()
    graph_runner.install()
    parse_thread.install()
    rule_lookup.install()
    slot_copies.install()
