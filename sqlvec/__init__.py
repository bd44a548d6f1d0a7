"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

__version__ = "0.3.3"
POSTGRES_VERSION = "16.4"
