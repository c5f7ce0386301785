"""A disk cache of sentence embeddings for training: text -> vector, per encoder version.

Embedding the ~10,400 training examples costs minutes of CPU (multilingual-e5 about two,
MiniLM about one), and a text's embedding never changes for one encoder version. So the
featurizers keep each vector on disk and a retrain only embeds new or changed examples.
Parsing never uses the cache: a shopper's message is embedded as it comes.

Why packs: the cache used to hold one ``.npy`` per text, and a warm training opened ~22,000
of them (e5 and MiniLM), about 5.5 s of an 80 s run spent in ``np.load``. Now every
``embed()`` that encodes new texts appends one pack, ``directory/encoder_id/pack-*.npz``,
with those texts' SHA-256 digests (``(k, 32)`` uint8) and vectors (``(k, dim)`` float32,
exactly as the encoder gave them). A cache instance reads all packs once, on its first
``embed()``, which takes tens of milliseconds. Packs are written to a temporary file and
renamed, under a name no other process or thread uses, so concurrent trainings never
clash; when there are more than ``max_packs`` of them, ``embed()`` writes one merged pack
and then deletes the packs it merged. A pack that cannot be read is skipped (its texts are
encoded again) and deleted by the next merge: the cache never stops a training, and a
read-only or missing directory only makes it slower.

The committed seed: a fresh checkout has no packs, and embedding every example once took
over three minutes of a first training here (e5 ~80 s, MiniLM ~30 s wall on two cores). So
the project ships, next to the data, the vectors of its examples as they were at the last
``make embeddings`` (``seed_dir/encoder_id/digests.npy`` and ``vectors.npy``, float16,
sorted by digest; files that the same content rewrites byte for byte). They are read
before the packs, never written by a training and never merged into a pack; a text the
seed lacks is encoded and packed as before. Float16 halves the files (10 MB an encoder
for 13,000 texts); the featurizers round every training vector to the float16 grid
(``half_precision``), whether it came from the seed, a pack or the encoder, so a model
trained from the seed is the model trained without it. A missing or unreadable seed
only makes the training slower.

The older one-``.npy``-per-text files (``directory/encoder_id/xx/<sha256>.npy``) are
ignored, not migrated; delete them to free the space. The encoder id stays a directory
of its own, so vectors of different encoder versions never mix.
"""

from __future__ import annotations

import contextlib
import hashlib
import logging
import os
import threading
import uuid
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

DIGEST_SIZE = 32  # bytes of a SHA-256 digest
PACK_GLOB = "pack-*.npz"
SEED_DIGESTS, SEED_VECTORS = "digests.npy", "vectors.npy"


def half_precision(vectors: np.ndarray) -> np.ndarray:
    """Float32 vectors rounded to what float16 keeps (the seed's precision; about three
    significant digits, far below what moves a classifier trained on them)."""
    return np.asarray(vectors, dtype=np.float32).astype(np.float16).astype(np.float32)


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode("utf-8")).digest()


class EmbeddingCache:
    """Packs of (digest, vector) rows under ``directory/encoder_id``, shared by every run."""

    def __init__(
        self,
        directory: Path,
        encoder_id: str,
        dim: int,
        max_packs: int = 16,
        seed_dir: Path | None = None,
    ) -> None:
        self._dir = directory / encoder_id
        self._seed = seed_dir / encoder_id if seed_dir is not None else None
        self._dim = dim
        self._max_packs = max_packs
        self._lock = threading.Lock()
        self._loaded = False
        self._rows: dict[bytes, int] = {}  # digest -> row of self._vectors
        self._vectors = np.zeros((0, dim), dtype=np.float32)
        self._packs: list[Path] = []  # read (or written) by this instance
        self._broken: list[Path] = []  # could not be read: deleted by the next merge
        self._seeded: set[bytes] = set()  # digests whose vector came from the seed

    def embed(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> np.ndarray:
        """(n, dim) vectors: cached ones read, the others encoded in one call and stored."""
        with self._lock:
            if not self._loaded:
                self._load()
                self._loaded = True
            digests = [_digest(text) for text in texts]
            todo: dict[bytes, str] = {}  # a text given twice is encoded once
            for digest, text in zip(digests, texts, strict=True):
                if digest not in self._rows:
                    todo[digest] = text
            if todo:
                fresh = np.asarray(encode(list(todo.values())), dtype=np.float32)
                self._add(list(todo), fresh)
                self._write(list(todo), fresh)
            if len(self._packs) + len(self._broken) > self._max_packs:
                self._compact()
            logger.debug("embedding cache: %d of %d texts encoded", len(todo), len(texts))
            rows = np.fromiter((self._rows[d] for d in digests), dtype=np.intp, count=len(texts))
            return self._vectors[rows]

    def export(self, texts: Sequence[str], encode: Callable[[list[str]], np.ndarray]) -> int:
        """Writes the seed: the vectors of exactly these texts (encoding the unknown ones),
        float16, sorted by digest. Returns how many texts it holds."""
        if self._seed is None:
            raise ValueError("EmbeddingCache.export needs a seed_dir")
        vectors = self.embed(texts, encode)
        unique = {_digest(text): row for row, text in enumerate(texts)}
        order = sorted(unique)
        digests = np.frombuffer(b"".join(order), dtype=np.uint8).reshape(-1, DIGEST_SIZE)
        rows = vectors[[unique[d] for d in order]].astype(np.float16)
        self._seed.mkdir(parents=True, exist_ok=True)
        for name, array in ((SEED_DIGESTS, digests), (SEED_VECTORS, rows)):
            tmp = self._seed / f".{name}.tmp"
            with tmp.open("wb") as handle:
                np.save(handle, array, allow_pickle=False)
            os.replace(tmp, self._seed / name)
        return len(order)

    def _load_seed(self) -> None:
        if self._seed is None:
            return
        try:
            digests = np.load(self._seed / SEED_DIGESTS, allow_pickle=False)
            vectors = np.load(self._seed / SEED_VECTORS, allow_pickle=False)
        except FileNotFoundError:
            logger.debug("no embedding seed in %s", self._seed)
            return
        except Exception as error:  # unreadable or not an array: encode instead
            logger.warning("embedding seed %s not read (%s)", self._seed, error)
            return
        if not self._well_formed(digests, vectors, np.float16):
            logger.warning("embedding seed %s has the wrong shape; not used", self._seed)
            return
        found = [bytes(d) for d in digests]
        self._add(found, vectors.astype(np.float32))
        self._seeded.update(found)

    def _load(self) -> None:
        """Reads the seed, then every pack in the directory; a missing directory is an
        empty cache."""
        self._load_seed()
        try:
            paths = sorted(self._dir.glob(PACK_GLOB))
        except OSError as error:
            logger.debug("embedding cache not read (%s)", error)
            return
        found_digests: list[bytes] = []
        found_vectors: list[np.ndarray] = []
        for path in paths:
            try:
                with np.load(path, allow_pickle=False) as pack:
                    digests = pack["digests"]
                    vectors = pack["vectors"]
            except OSError as error:  # unreadable now, perhaps not later: left alone
                logger.debug("embedding cache pack %s not read (%s)", path.name, error)
                continue
            except Exception as error:  # truncated or not a pack: zip, npy or key errors
                logger.debug("embedding cache pack %s is broken (%s)", path.name, error)
                self._broken.append(path)
                continue
            if not self._well_formed(digests, vectors, np.float32):
                logger.debug("embedding cache pack %s has the wrong shape", path.name)
                self._broken.append(path)
                continue
            found_digests.extend(bytes(d) for d in digests)
            found_vectors.append(vectors)
            self._packs.append(path)
        if found_vectors:
            self._add(found_digests, np.concatenate(found_vectors))

    def _well_formed(self, digests: np.ndarray, vectors: np.ndarray, dtype: type) -> bool:
        """Whether a pack's or the seed's arrays are rows of this cache: one SHA-256 digest
        and one vector of this dimension and type per row."""
        k = len(digests)
        return (
            digests.dtype == np.uint8
            and digests.shape == (k, DIGEST_SIZE)
            and vectors.dtype == dtype
            and vectors.shape == (k, self._dim)
        )

    def _add(self, digests: Iterable[bytes], vectors: np.ndarray) -> None:
        start = len(self._vectors)
        self._vectors = np.concatenate([self._vectors, vectors])
        for offset, digest in enumerate(digests):
            self._rows.setdefault(digest, start + offset)  # a text in two packs: first wins

    def _write(self, digests: list[bytes], vectors: np.ndarray) -> Path | None:
        """One new pack, atomically; None if the directory cannot be written."""
        array = np.frombuffer(b"".join(digests), dtype=np.uint8).reshape(-1, DIGEST_SIZE)
        name = f"pack-{os.getpid()}-{threading.get_ident()}-{uuid.uuid4().hex}.npz"
        path = self._dir / name
        tmp = self._dir / f".{name}.tmp"
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            with tmp.open("wb") as handle:
                np.savez(handle, digests=array, vectors=vectors)
            os.replace(tmp, path)
        except OSError as error:  # a read-only checkout still trains, only slower
            logger.debug("embedding cache not written (%s)", error)
            with contextlib.suppress(OSError):
                tmp.unlink(missing_ok=True)
            return None
        self._packs.append(path)
        return path

    def _compact(self) -> None:
        """One pack of every vector known but the seed's, written before the packs it
        replaces go."""
        merged = [d for d in self._rows if d not in self._seeded]
        vectors = self._vectors[[self._rows[d] for d in merged]]
        old_packs, old = self._packs, self._packs + self._broken
        self._packs = []
        if merged and self._write(merged, vectors) is None:
            self._packs = old_packs  # nothing deleted; perhaps the next run can write
            return
        self._broken = []
        for stale in old:
            try:
                stale.unlink(missing_ok=True)  # another run may have merged it already
            except OSError as error:
                logger.debug("embedding cache pack %s not deleted (%s)", stale.name, error)
