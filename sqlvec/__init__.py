"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

__version__ = "0.2.0"
POSTGRES_VERSION = "16.4"
