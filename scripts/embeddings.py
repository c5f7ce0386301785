"""`make embeddings`: writes the committed vectors of the training examples (the seed).

A first training on a fresh checkout used to embed all ~13,000 examples with e5 and
MiniLM, over three minutes here. The seed (``embeddings/<encoder id>/``, float16, one
pair of ``.npy`` files per encoder; components/embedding_cache.py) lets it read them
instead, so it embeds only the examples written since the seed was made. Run this after
adding many examples and commit ``embeddings/``; tests/nlu/test_embedding_seed.py fails
when the seed lacks too many of the current examples.

The texts are the ones a training embeds: the user messages of Rasa's own training data
(``TrainingDataImporter``, as `rasa train` reads data/ with config.yml and domain/). The
vectors come from the training-time cache when it has them, from the encoders otherwise.
The same content writes the same bytes.

Usage: ``.venv/bin/python scripts/embeddings.py`` from the project's root.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path
from typing import Any

from rasa.shared.importers.importer import TrainingDataImporter
from rasa.shared.nlu.constants import TEXT
from rasa.shared.utils.io import read_yaml_file

from components.e5 import E5Featurizer
from components.minilm import MiniLMFeaturizer

FEATURIZERS: dict[str, Any] = {
    "components.e5.E5Featurizer": E5Featurizer,
    "components.minilm.MiniLMFeaturizer": MiniLMFeaturizer,
}


def training_texts(config: str = "config.yml") -> list[str]:
    """The user texts a training embeds, in data order, each once."""
    importer = TrainingDataImporter.load_from_config(config, "domain", ["data"])
    texts = (str(m.get(TEXT)) for m in importer.get_nlu_data().training_examples if m.get(TEXT))
    return list(dict.fromkeys(texts))


def seeded_featurizers(config: str = "config.yml") -> list[tuple[str, Any]]:
    """(alias, featurizer) for every pipeline featurizer with a seed_dir."""
    found = []
    for entry in read_yaml_file(config)["pipeline"]:
        cls = FEATURIZERS.get(entry.get("name"))
        if cls is None or not entry.get("seed_dir"):
            continue
        settings = {**cls.get_default_config(), **entry}
        found.append((str(entry.get("alias", entry["name"])), cls(settings, str(entry["name"]))))
    return found


def main() -> int:
    logging.basicConfig(level=logging.WARNING)
    texts = training_texts()
    featurizers = seeded_featurizers()
    if not featurizers:
        print("config.yml names no featurizer with a seed_dir: nothing to write")
        return 1
    folders = set()
    for alias, featurizer in featurizers:
        started = time.perf_counter()
        count = featurizer.export_seed(texts)
        folders.add(Path(featurizer._config["seed_dir"]))
        print(f"{alias}: {count} texts in {time.perf_counter() - started:.0f} s")
    for folder in sorted(folders):
        size = sum(p.stat().st_size for p in folder.rglob("*.npy")) / 1e6
        print(f"{folder}/: {size:.1f} MB; commit it")
    return 0


if __name__ == "__main__":
    sys.exit(main())
