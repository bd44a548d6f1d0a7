"""Import faiss with its OpenMP parallelism chosen explicitly.

Faiss searches run on worker threads (one query per thread); OpenMP inside each of them
oversubscribes the cores: measured 5.6x slower until OMP_NUM_THREADS=1 was set before faiss was
imported. So every module imports faiss from here, never directly.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss

SEARCH_THREADS = int(os.environ["OMP_NUM_THREADS"])
faiss.omp_set_num_threads(SEARCH_THREADS)

# A batch of many queries (a LATERAL statement) is one Faiss call on one worker thread: there
# OpenMP across the queries uses every core. OpenMP's thread count is per calling thread
# (libgomp keeps it in the thread's own task ICVs), so single searches elsewhere stay at one.
BATCH_THREADS = int(os.environ.get("SQLVEC_BATCH_THREADS", str(os.cpu_count() or 1)))
MIN_BATCH_FOR_THREADS = 32


@contextmanager
def batch_threads(queries: int) -> Iterator[None]:
    """OpenMP threads for one batched Faiss call of `queries` queries on this thread."""
    if queries < MIN_BATCH_FOR_THREADS or BATCH_THREADS <= SEARCH_THREADS:
        yield
        return
    faiss.omp_set_num_threads(BATCH_THREADS)
    try:
        yield
    finally:
        faiss.omp_set_num_threads(SEARCH_THREADS)


__all__ = ["batch_threads", "faiss"]
