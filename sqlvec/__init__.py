"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

__version__ = "0.1.0"
POSTGRES_VERSION = "16.4"
