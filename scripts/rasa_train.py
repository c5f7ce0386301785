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

And Rasa's merges of the NLU data share the examples instead of copying them: the
importers merge the files' data, then the responses, then the stories' texts, and each
``TrainingData.merge`` deep-copies every example of both sides and re-hashes them all
(``sanitize_examples`` re-sets every intent, which drops each example's cached hash):
~8 s of a training here for 13,000 examples. The merged lists, dicts and the data are
new objects as before; only the examples are shared, and nothing reads the inputs of a
merge again. The examples, their order and the model are the same.

Usage: ``.venv/bin/python scripts/rasa_train.py <arguments of rasa train>``
"""

from __future__ import annotations

import copy
import sys
from typing import Any

import rasa.shared.nlu.training_data.training_data as training_data_module
import rasa.shared.utils.validation
from rasa.engine.training import graph_trainer
from rasa.engine.training.hooks import TrainingHook
from rasa.shared.nlu.constants import INTENT, RESPONSE
from rasa.shared.nlu.training_data.message import Message
from rasa.shared.nlu.training_data.training_data import TrainingData

# `rasa train nlu` and `rasa train core` have no --force; they fingerprint the data first.
SUBCOMMANDS = ("nlu", "core")


class UncachedTrainingHook(TrainingHook):
    """Rasa's training hook without the cache: nothing hashed, nothing stored."""

    def on_before_node(self, *args: Any, **kwargs: Any) -> dict[str, Any]:
        return {}

    def on_after_node(self, *args: Any, **kwargs: Any) -> None:
        return None


class _ShallowCopies:
    """The `copy` module as rasa/shared/nlu/training_data/training_data.py sees it here:
    its deep copies (of the example lists, regexes, lookup tables and responses that
    ``merge`` extends and updates) copy the container, not the examples in it."""

    copy = staticmethod(copy.copy)

    @staticmethod
    def deepcopy(value: Any, memo: Any = None) -> Any:
        return copy.copy(value)


def _sanitize_examples(examples: list[Message]) -> list[Message]:
    """Rasa's ``TrainingData.sanitize_examples``: intents and responses stripped, duplicates
    dropped in order; an example is set again only when stripping changes it, so that a
    shared example keeps its cached hash."""
    for example in examples:
        for key in (INTENT, RESPONSE):
            value = example.get(key)
            if value and value.strip() != value:
                example.set(key, value.strip())
    return list(dict.fromkeys(examples))


def share_examples_when_merging() -> None:
    """Makes Rasa's NLU data merges share the examples (module docstring)."""
    training_data_module.copy = _ShallowCopies  # type: ignore[assignment]
    TrainingData.sanitize_examples = staticmethod(_sanitize_examples)  # type: ignore[method-assign]


def _validated_already(*args: Any, **kwargs: Any) -> None:
    """Stands in for Rasa's YAML schema check when the content was validated already."""


def main(arguments: list[str]) -> None:
    """Runs `rasa train <arguments>` with the uncached hook."""
    graph_trainer.TrainingHook = UncachedTrainingHook  # type: ignore[misc]
    share_examples_when_merging()
    if "--skip-validation" in arguments:
        rasa.shared.utils.validation.validate_yaml_schema = _validated_already
    from rasa.__main__ import main as rasa_main

    force = [] if arguments[:1] and arguments[0] in SUBCOMMANDS else ["--force"]
    sys.argv = ["rasa", "train", *arguments, *force]
    rasa_main()


if __name__ == "__main__":
    main(sys.argv[1:])
