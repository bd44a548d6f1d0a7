"""sqlvec: a vector database that speaks the PostgreSQL wire protocol."""

__version__ = "0.3.2"
POSTGRES_VERSION = "16.4"
