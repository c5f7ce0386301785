"""EmbeddingCache: packs of (digest, vector) rows, read once, merged when there are many."""

from __future__ import annotations

import threading
from pathlib import Path

import numpy as np
import pytest

from components import embedding_cache
from components.embedding_cache import EmbeddingCache, half_precision

DIM = 8
ENCODER = "enc-1"


class FakeEncoder:
    """A deterministic vector per text, recording every call."""

    def __init__(self) -> None:
        self.calls: list[list[str]] = []

    def vector(self, text: str) -> np.ndarray:
        seed = int.from_bytes(text.encode("utf-8")[:8].ljust(8, b"\0"), "little") + len(text)
        rng = np.random.default_rng(seed)
        # values a round trip through float64 or text would not keep bit for bit
        return (rng.standard_normal(DIM) / 3).astype(np.float32)

    def __call__(self, texts: list[str]) -> np.ndarray:
        self.calls.append(list(texts))
        return np.stack([self.vector(t) for t in texts])

    @property
    def encoded(self) -> list[str]:
        return [t for call in self.calls for t in call]


def refuse(texts: list[str]) -> np.ndarray:
    raise AssertionError(f"encoded although cached: {texts}")


def expected(texts: list[str]) -> np.ndarray:
    return FakeEncoder()(texts)


def packs(directory: Path) -> list[Path]:
    return sorted((directory / ENCODER).glob("pack-*.npz"))


def bits(vectors: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(vectors, dtype=np.float32).view(np.uint32)


def test_vectors_round_trip_bit_for_bit(tmp_path: Path) -> None:
    texts = ["where is my parcel", "Var är mitt paket?", "Missä on pakettini?", ""]
    encoder = FakeEncoder()
    first = EmbeddingCache(tmp_path / "missing", ENCODER, DIM).embed(texts, encoder)
    assert first.dtype == np.float32 and first.shape == (len(texts), DIM)
    np.testing.assert_array_equal(bits(first), bits(expected(texts)))
    assert len(packs(tmp_path / "missing")) == 1
    again = EmbeddingCache(tmp_path / "missing", ENCODER, DIM).embed(texts, refuse)
    np.testing.assert_array_equal(bits(again), bits(first))


def test_a_new_instance_encodes_only_unknown_texts(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path, ENCODER, DIM).embed(["a", "b", "c"], FakeEncoder())
    encoder = FakeEncoder()
    cache = EmbeddingCache(tmp_path, ENCODER, DIM)
    out = cache.embed(["c", "d", "a", "e"], encoder)
    assert encoder.calls == [["d", "e"]]
    np.testing.assert_array_equal(bits(out), bits(expected(["c", "d", "a", "e"])))
    # the same instance knows its own new texts without reading the disk again
    cache.embed(["d", "e", "b"], refuse)
    assert len(packs(tmp_path)) == 2


def test_other_encoder_versions_do_not_share_vectors(tmp_path: Path) -> None:
    EmbeddingCache(tmp_path, ENCODER, DIM).embed(["a"], FakeEncoder())
    encoder = FakeEncoder()
    EmbeddingCache(tmp_path, "enc-2", DIM).embed(["a"], encoder)
    assert encoder.encoded == ["a"]


def test_a_text_given_twice_is_encoded_once(tmp_path: Path) -> None:
    encoder = FakeEncoder()
    texts = ["hello", "bye", "hello", "hello"]
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts, encoder)
    assert encoder.calls == [["hello", "bye"]]
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))
    with np.load(packs(tmp_path)[0]) as pack:
        assert pack["digests"].shape == (2, 32)


def test_many_packs_are_merged_into_one_keeping_every_vector(tmp_path: Path) -> None:
    texts = [f"text {i}" for i in range(20)]
    for i in range(17):  # one pack each
        EmbeddingCache(tmp_path, ENCODER, DIM, max_packs=100).embed(texts[i : i + 2], FakeEncoder())
    assert len(packs(tmp_path)) == 17
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts[:18], refuse)
    np.testing.assert_array_equal(bits(out), bits(expected(texts[:18])))
    assert len(packs(tmp_path)) == 1
    with np.load(packs(tmp_path)[0]) as pack:
        assert len(pack["digests"]) == 18
    encoder = FakeEncoder()
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts, encoder)
    assert encoder.encoded == texts[18:]
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))


def test_the_merge_keeps_texts_encoded_in_the_same_call(tmp_path: Path) -> None:
    for i in range(3):
        EmbeddingCache(tmp_path, ENCODER, DIM).embed([f"old {i}"], FakeEncoder())
    cache = EmbeddingCache(tmp_path, ENCODER, DIM, max_packs=3)
    cache.embed(["new"], FakeEncoder())  # a 4th pack, then all are merged
    assert len(packs(tmp_path)) == 1
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(["old 0", "old 2", "new"], refuse)
    np.testing.assert_array_equal(bits(out), bits(expected(["old 0", "old 2", "new"])))
    cache.embed(["new", "old 1"], refuse)


@pytest.mark.parametrize(
    "damage",
    [
        lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),
        lambda path: path.write_bytes(b"not an array"),
        lambda path: path.write_bytes(b""),
        lambda path: np.savez(path, digests=np.zeros((1, 32), np.uint8)),  # no vectors
        lambda path: np.savez(
            path, digests=np.zeros((1, 32), np.uint8), vectors=np.zeros((1, DIM + 1), np.float32)
        ),
    ],
    ids=["truncated", "garbage", "empty", "no-vectors", "other-dim"],
)
def test_a_broken_pack_is_skipped_and_its_texts_encoded_again(tmp_path: Path, damage) -> None:
    EmbeddingCache(tmp_path, ENCODER, DIM).embed(["lost", "also lost"], FakeEncoder())
    EmbeddingCache(tmp_path, ENCODER, DIM).embed(["kept"], FakeEncoder())
    broken = [
        p
        for p in packs(tmp_path)
        if p.stat().st_size == max(q.stat().st_size for q in packs(tmp_path))
    ]
    assert len(broken) == 1
    damage(broken[0])
    encoder = FakeEncoder()
    texts = ["kept", "lost", "also lost"]
    out = EmbeddingCache(tmp_path, ENCODER, DIM, max_packs=2).embed(texts, encoder)
    assert encoder.calls == [["lost", "also lost"]]
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))
    # the 3rd pack made a merge, which also removed the broken one
    assert len(packs(tmp_path)) == 1
    EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts, refuse)


def test_concurrent_writers_lose_nothing(tmp_path: Path) -> None:
    one = EmbeddingCache(tmp_path, ENCODER, DIM)
    two = EmbeddingCache(tmp_path, ENCODER, DIM)
    one.embed(["shared"], FakeEncoder())  # both have read the (empty) directory
    two.embed(["shared"], FakeEncoder())
    one.embed(["first a", "first b"], FakeEncoder())
    two.embed(["second a"], FakeEncoder())
    texts = ["shared", "first a", "first b", "second a"]
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts, refuse)
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))


def test_writers_in_threads_with_merges_lose_nothing(tmp_path: Path) -> None:
    start = threading.Barrier(4)
    errors: list[BaseException] = []

    def writer(worker: int) -> None:
        try:
            start.wait()
            for batch in range(10):
                cache = EmbeddingCache(tmp_path, ENCODER, DIM, max_packs=4)
                cache.embed([f"w{worker} b{batch} {i}" for i in range(3)], FakeEncoder())
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=writer, args=(w,)) for w in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    texts = [f"w{w} b{b} {i}" for w in range(4) for b in range(10) for i in range(3)]
    out = EmbeddingCache(tmp_path, ENCODER, DIM).embed(texts, refuse)
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))
    assert not list((tmp_path / ENCODER).glob(".*.tmp"))


def test_a_directory_that_cannot_be_created_still_gives_the_vectors(tmp_path: Path) -> None:
    not_a_directory = tmp_path / "cache"
    not_a_directory.write_text("a file where the cache would go")
    texts = ["a", "b", "a"]
    encoder = FakeEncoder()
    cache = EmbeddingCache(not_a_directory, ENCODER, DIM)
    out = cache.embed(texts, encoder)
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))
    assert encoder.calls == [["a", "b"]]
    again = FakeEncoder()
    EmbeddingCache(not_a_directory, ENCODER, DIM).embed(texts, again)
    assert again.calls == [["a", "b"]]


def test_a_read_only_cache_is_read_and_never_emptied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        EmbeddingCache(tmp_path, ENCODER, DIM).embed([f"known {i}"], FakeEncoder())

    def read_only(src: object, dst: object) -> None:
        raise PermissionError("read-only file system")

    monkeypatch.setattr(embedding_cache.os, "replace", read_only)
    encoder = FakeEncoder()
    texts = ["known 0", "new", "known 2", "known 1"]
    out = EmbeddingCache(tmp_path, ENCODER, DIM, max_packs=2).embed(texts, encoder)
    assert encoder.calls == [["new"]]
    np.testing.assert_array_equal(bits(out), bits(expected(texts)))
    # the merge could not be written, so no pack was deleted and no temporary file is left
    assert len(packs(tmp_path)) == 3
    assert not list((tmp_path / ENCODER).glob(".*.tmp"))


# --- the committed seed (`make embeddings`) --------------------------------------------


def seed_files(seed_dir: Path) -> list[bytes]:
    return [(seed_dir / ENCODER / name).read_bytes() for name in ("digests.npy", "vectors.npy")]


def test_a_seeded_cache_encodes_nothing_it_holds(tmp_path: Path) -> None:
    texts = ["where is my parcel", "Var är mitt paket?", "Missä on pakettini?"]
    written = EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=tmp_path / "seed")
    assert written.export(texts, FakeEncoder()) == 3
    # a fresh checkout: no packs, only the committed seed
    fresh = EmbeddingCache(tmp_path / "b", ENCODER, DIM, seed_dir=tmp_path / "seed")
    out = fresh.embed([texts[2], texts[0], texts[2]], refuse)
    np.testing.assert_array_equal(
        bits(out), bits(half_precision(expected([texts[2], texts[0], texts[2]])))
    )
    assert not packs(tmp_path / "b")


def test_texts_the_seed_lacks_are_encoded_and_packed_and_the_seed_never_merged(
    tmp_path: Path,
) -> None:
    seed = tmp_path / "seed"
    EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=seed).export(["old"], FakeEncoder())
    encoder = FakeEncoder()
    cache = EmbeddingCache(tmp_path / "b", ENCODER, DIM, max_packs=1, seed_dir=seed)
    cache.embed(["old", "new 1"], encoder)
    cache.embed(["new 2"], encoder)  # a second pack: merged
    assert encoder.encoded == ["new 1", "new 2"]
    (merged,) = packs(tmp_path / "b")
    with np.load(merged) as pack:
        assert len(pack["digests"]) == 2  # the new texts, not the seed's
    out = EmbeddingCache(tmp_path / "b", ENCODER, DIM, seed_dir=seed).embed(
        ["new 2", "old", "new 1"], refuse
    )
    np.testing.assert_array_equal(out[1], half_precision(expected(["old"]))[0])
    np.testing.assert_array_equal(bits(out[[0, 2]]), bits(expected(["new 2", "new 1"])))


def test_the_same_texts_write_the_same_seed_bytes(tmp_path: Path) -> None:
    texts = [f"example {i}" for i in range(30)]
    one, two = tmp_path / "one", tmp_path / "two"
    EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=one).export(texts, FakeEncoder())
    # another order, a duplicate, and vectors read from packs instead of encoded
    EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=two).export(
        [*reversed(texts), texts[3]], refuse
    )
    assert seed_files(one) == seed_files(two)
    digests = np.load(one / ENCODER / "digests.npy")
    assert np.load(one / ENCODER / "vectors.npy").dtype == np.float16
    assert [bytes(d) for d in digests] == sorted(bytes(d) for d in digests)
    # texts that are no longer examples leave the seed when it is written again
    EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=one).export(texts[:5], refuse)
    assert len(np.load(one / ENCODER / "digests.npy")) == 5


@pytest.mark.parametrize(
    "damage",
    [
        lambda seed: (seed / "vectors.npy").write_bytes(b"garbage"),
        lambda seed: (seed / "digests.npy").unlink(),
        lambda seed: np.save(seed / "vectors.npy", np.zeros((2, DIM), np.float32)),
        lambda seed: np.save(seed / "vectors.npy", np.zeros((1, DIM), np.float16)),
    ],
    ids=["garbage", "missing", "float32", "other-length"],
)
def test_a_damaged_seed_only_makes_the_training_encode(tmp_path: Path, damage) -> None:
    seed = tmp_path / "seed"
    EmbeddingCache(tmp_path / "a", ENCODER, DIM, seed_dir=seed).export(["a", "b"], FakeEncoder())
    damage(seed / ENCODER)
    encoder = FakeEncoder()
    out = EmbeddingCache(tmp_path / "b", ENCODER, DIM, seed_dir=seed).embed(["a", "b"], encoder)
    assert encoder.encoded == ["a", "b"]
    np.testing.assert_array_equal(bits(out), bits(expected(["a", "b"])))


def test_half_precision_is_what_float16_keeps() -> None:
    vectors = expected(["one", "two"])
    rounded = half_precision(vectors)
    assert rounded.dtype == np.float32
    np.testing.assert_array_equal(rounded, vectors.astype(np.float16).astype(np.float32))
    np.testing.assert_allclose(rounded, vectors, rtol=1e-3)
    assert not np.array_equal(rounded, vectors)  # it does round
    np.testing.assert_array_equal(half_precision(rounded), rounded)
