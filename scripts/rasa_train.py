"""`rasa train` without Rasa's per-component training cache: the same model, ~25 s sooner.

While it trains, Rasa hashes the inputs and the output of every graph node
(``TrainingHook`` in rasa/engine/training/hooks.py) so that a later run can restore an
unchanged component from ``.rasa/cache``. A message's hash covers its data and features,
every token included, and every featurizer adds features, so the ~11,000 examples are
hashed again after each of them: ~25 s of an ~80 s training here (py-spy). The cache
pays back only when the NLU data, the responses and the pipeline are all unchanged
(a change to stories or rules alone): scripts/train.sh trains only when something
changed (scripts/model-hash.sh), and the slow part, the sentence embeddings, has a
cache of its own keyed by text (components/embedding_cache.py), which a changed example
does not invalidate for the other ten thousand. Stock `rasa train` still has Rasa's cache.

So this entry point runs Rasa's own `rasa train` with a training hook that stores
nothing and so hashes nothing, and with ``--force`` (no fingerprint run over the data
before training). Components, their order, their inputs and the model are unchanged.

With ``--skip-validation`` (scripts/train.sh passes it when `make validate` passed this
very content, .cache/validated/<hash>) the YAML schema check goes as well: Rasa checks
every data, story and domain file against its schema before reading it, which parses
each file twice and the schema files once per file (~6 s here), and `rasa data
validate` has just done exactly that check on the same files.

Usage: ``.venv/bin/python scripts/rasa_train.py <arguments of rasa train>``
"""

from __future__ import annotations

import sys
from typing import Any

import rasa.shared.utils.validation
from rasa.engine.training import graph_trainer
from rasa.engine.training.hooks import TrainingHook

# `rasa train nlu` and `rasa train core` have no --force; they fingerprint the data first.
SUBCOMMANDS = ("nlu", "core")


class UncachedTrainingHook(TrainingHook):
    """Rasa's training hook without the cache: nothing hashed, nothing stored."""

    def on_before_node(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {}

    def on_after_node(self, *args: Any, **kwargs: Any) -> None:
        return None


def _validated_already(*args: Any, **kwargs: Any) -> None:
    """Stands in for Rasa's YAML schema check when the content was validated already."""


def main(arguments: list[str]) -> None:
    """Runs `rasa train <arguments>` with the uncached hook."""
    graph_trainer.TrainingHook = UncachedTrainingHook  # type: ignore[misc]
    if "--skip-validation" in arguments:
        rasa.shared.utils.validation.validate_yaml_schema = _validated_already
    from rasa.__main__ import main as rasa_main

    force = [] if arguments[:1] and arguments[0] in SUBCOMMANDS else ["--force"]
    sys.argv = ["rasa", "train", *arguments, *force]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
