"""The ID selector of a filtered search admits exactly the allowed ids.

Faiss' IDSelectorBitmap takes the bitmap's size in bytes; given the number of bits instead, it
read past the bitmap for ids above the largest allowed one, and a filtered search could return
a row its WHERE clause excludes (seen: a 10 % filter over 10000 rows returned id 9994)."""

from __future__ import annotations

import numpy as np

from sqlvec.engine import vector_index
from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.index_types import define_index
from sqlvec.engine.vector_index import BuiltIndex, IdSet, SearchSettings, _excluding, build


def test_a_bitmap_selector_covers_its_bytes_only() -> None:
    allowed = np.sort(np.random.default_rng(4).choice(900, 90, replace=False))
    selector = IdSet(allowed).selector()
    assert isinstance(selector, faiss.IDSelectorBitmap)
    assert selector.n == int(allowed.max()) // 8 + 1  # bytes, not bits
    members = {i for i in range(8 * int(allowed.max()) + 64) if selector.is_member(i)}
    assert members == set(allowed.tolist())


def test_a_filtered_hnsw_search_returns_allowed_ids_only() -> None:
    vectors = np.random.default_rng(5).standard_normal((3000, 16)).astype(np.float32)
    index = faiss.IndexIDMap2(faiss.IndexHNSWFlat(16, 16))
    index.add_with_ids(vectors, np.arange(3000, dtype=np.int64))
    allowed = np.sort(np.random.default_rng(6).choice(2000, 200, replace=False))
    params = faiss.SearchParametersHNSW()
    params.efSearch = 64
    params.sel = IdSet(allowed).selector()
    queries = np.random.default_rng(7).standard_normal((100, 16)).astype(np.float32)
    _, ids = index.search(queries, 10, params=params)
    assert set(ids.ravel().tolist()) <= set(allowed.tolist())


def _built(count: int = 3000, dim: int = 16) -> tuple[BuiltIndex, np.ndarray]:
    vectors = np.random.default_rng(5).standard_normal((count, dim)).astype(np.float32)
    definition = define_index("i", "e", dim, "hnsw", "l2", {"m": 16})
    return build(definition, vectors, np.arange(count, dtype=np.int64)), vectors


def test_a_segment_s_deleted_ids_are_excluded_through_one_cached_selector() -> None:
    index, vectors = _built()
    deleted = np.sort(np.random.default_rng(8).choice(3000, 500, replace=False))
    settings = SearchSettings(ef_search=64)
    first = _excluding(deleted)
    assert first is not None and _excluding(deleted) is first  # the same array: the same set
    replaced = deleted.copy()  # the next delete's array: a set of its own
    assert _excluding(replaced) is not first
    key = id(replaced)
    del replaced  # gone with its array: the cache holds neither it nor its selector
    assert key not in vector_index._EXCLUDING
    assert _excluding(np.empty(0, np.int64)) is None
    params = first.parameters("hnsw", None, settings, 10)
    assert first.parameters("hnsw", None, settings, 10) is params
    assert first.parameters("hnsw", None, SearchSettings(ef_search=80), 10) is not params
    for query in vectors[deleted[:50]]:  # each one's nearest row is itself, deleted
        _, ids = index.search(query, 10, settings, deleted)
        assert len(ids) == 10 and not set(ids.tolist()) & set(deleted.tolist())


def test_cached_parameters_keep_each_search_s_settings() -> None:
    index, vectors = _built()
    allowed = IdSet(np.arange(0, 3000, 3, dtype=np.int64))
    wide = index.search(vectors[1], 5, SearchSettings(ef_search=200), None, allowed)
    narrow = index.search(vectors[1], 5, SearchSettings(ef_search=16), None, allowed)
    again = index.search(vectors[1], 5, SearchSettings(ef_search=200), None, allowed)
    assert [set(ids.tolist()) <= set(allowed.ids.tolist()) for _, ids in (wide, narrow)] == [
        True,
        True,
    ]
    assert again[1].tolist() == wide[1].tolist()
    assert len(allowed._parameters) == 2  # one per ef_search: reused, never mixed up
