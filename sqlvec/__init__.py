"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

__version__ = "0.3.4"
POSTGRES_VERSION = "16.4"
