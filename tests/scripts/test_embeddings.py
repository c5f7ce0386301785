"""The committed seed of training-example vectors (`make embeddings`, embeddings/).

What a conversation designer would notice: a fresh checkout's first training embeds every
example the seed lacks (about 8 ms of CPU each, e5 and MiniLM), so a seed left far behind
the data brings back the three-minute first training. The seed must also never be a
stray file: each encoder config.yml uses has one, and no other does.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from types import ModuleType

import numpy as np
import pytest

from components.embedding_cache import SEED_DIGESTS, SEED_VECTORS, _digest

ROOT = Path(__file__).resolve().parents[2]
# a few hundred examples embed in a few seconds; more and the seed is due
MAX_MISSING = 300


def load_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "embeddings_script", ROOT / "scripts/embeddings.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def seeded() -> tuple[list[str], list[tuple[str, Path]]]:
    script = load_script()
    cwd = os.getcwd()
    os.chdir(ROOT)  # config.yml's paths are relative to the project
    try:
        texts = script.training_texts()
        seeds = [(alias, ROOT / f._cache._seed) for alias, f in script.seeded_featurizers()]
    finally:
        os.chdir(cwd)
    return texts, seeds


def test_both_encoders_of_the_pipeline_have_a_seed_and_nothing_else_does(seeded) -> None:
    texts, seeds = seeded
    assert len(texts) > 10_000
    assert sorted(alias for alias, _ in seeds) == ["e5", "minilm"]
    committed = sorted(p.parent for p in (ROOT / "embeddings").glob(f"*/{SEED_DIGESTS}"))
    assert committed == sorted(seed for _, seed in seeds), (
        "embeddings/ holds a seed no encoder of config.yml reads (an old encoder version?): "
        "delete it"
    )


def test_the_seed_covers_the_training_examples(seeded) -> None:
    texts, seeds = seeded
    for alias, seed in seeds:
        digests = np.load(seed / SEED_DIGESTS)
        vectors = np.load(seed / SEED_VECTORS)
        assert vectors.dtype == np.float16 and len(vectors) == len(digests)
        known = {bytes(d) for d in digests}
        missing = [t for t in texts if _digest(t) not in known]
        assert len(missing) <= MAX_MISSING, (
            f"{alias}: {len(missing)} training examples are not in {seed} (e.g. "
            f"{missing[:3]}); a fresh checkout would embed them all. Run `make embeddings` "
            "and commit embeddings/."
        )
        # texts that are no examples any more are dead weight in the repository
        assert len(known) - (len(texts) - len(missing)) <= MAX_MISSING
