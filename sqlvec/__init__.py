"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

import os

# numpy's OpenBLAS runs a matrix product on every core and then keeps its threads spinning
# for a while: in a server that runs one statement per pool thread (and Faiss' OpenMP threads
# for a batch), they take the cores from whatever searches next. Measured: a small numpy
# product (1000 x 128 by 128 x 64) before each LATERAL batch made the statement 49-58 ms
# instead of 36. Set before anything imports numpy, as OMP_NUM_THREADS is set before Faiss
# (engine/faiss_setup.py); numpy's exact products (inner product, cosine without an index)
# then run on their statement's thread.
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

__version__ = "0.3.8"
POSTGRES_VERSION = "16.4"
