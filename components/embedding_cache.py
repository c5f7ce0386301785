"""A disk cache of sentence embeddings for training: text -> vector, per encoder version.

Embedding the ~10,400 training examples costs minutes of CPU (multilingual-e5 about two,
MiniLM about one), and a text's embedding never changes for one encoder version. So the
featurizers keep each vector on disk and a retrain only embeds new or changed examples.
Parsing never uses the cache: a shopper's message is embedded as it comes.
"""

from __future__ import annotations

import hashlib
import logging
import os
import threading
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)


class EmbeddingCache:
    """One .npy per text hash under ``directory/encoder_id``, shared by every training run."""

    def __init__(self, directory: Path, encoder_id: str, dim: int) -> None:
        self._dir = directory / encoder_id
        self._dim = dim

    def _path(self, text: str) -> Path:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        return self._dir / digest[:2] / f"{digest}.npy"

    def get(self, text: str) -> np.ndarray | None:
        """The stored vector, or None (absent, unreadable or of another shape)."""
        try:
            vector = np.load(self._path(text), allow_pickle=False)
        except (OSError, ValueError):
            return None
        return vector if vector.shape == (self._dim,) else None

    def put(self, text: str, vector: np.ndarray) -> None:
        """Stores atomically, so a crashed run leaves no half-written file."""
        path = self._path(text)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(f".{os.getpid()}.{threading.get_ident()}.tmp")
            with tmp.open("wb") as handle:
                np.save(handle, vector.astype(np.float32), allow_pickle=False)
            tmp.replace(path)
        except OSError as error:  # a read-only checkout still trains, only slower
            logger.debug("embedding cache not written (%s)", error)

    def embed(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """(n, dim) vectors: cached ones read, the others encoded in one call and stored."""
        out = np.zeros((len(texts), self._dim), dtype=np.float32)
        todo: dict[str, list[int]] = {}
        for index, text in enumerate(texts):
            cached = self.get(text)
            if cached is None:
                todo.setdefault(text, []).append(index)
            else:
                out[index] = cached
        if todo:
            fresh = encode(list(todo))
            for (text, indices), vector in zip(todo.items(), fresh, strict=True):
                out[indices] = vector
                self.put(text, vector)
        logger.debug("embedding cache: %d of %d texts encoded", len(todo), len(texts))
        return out
