"""Import faiss with its OpenMP parallelism chosen explicitly.

Faiss searches run on worker threads (one query per thread); OpenMP inside each of them
oversubscribes the cores: measured 5.6x slower until OMP_NUM_THREADS=1 was set before faiss was
imported. So every module imports faiss from here, never directly.
"""

from __future__ import annotations

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")

import faiss

faiss.omp_set_num_threads(int(os.environ["OMP_NUM_THREADS"]))

__all__ = ["faiss"]
