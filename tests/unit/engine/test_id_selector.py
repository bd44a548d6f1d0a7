"""The ID selector of a filtered search admits exactly the allowed ids.

Faiss' IDSelectorBitmap takes the bitmap's size in bytes; given the number of bits instead, it
read past the bitmap for ids above the largest allowed one, and a filtered search could return
a row its WHERE clause excludes (seen: a 10 % filter over 10000 rows returned id 9994)."""

from __future__ import annotations

import numpy as np

from sqlvec.engine.faiss_setup import faiss
from sqlvec.engine.vector_index import IdSet


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
