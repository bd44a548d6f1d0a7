"""Collection specs: what a collection is, independent of where it is stored."""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

from sqlvec.errors import InvalidParameterValue, UndefinedColumn
from sqlvec.types import BY_OID, HALFVEC, VECTOR, VECTOR_COLUMN_TYPES, PgType

METRICS = ("l2", "ip", "cosine")
VARHDRSZ = 4  # in a varchar(n) typmod


@dataclass(frozen=True)
class ColumnSpec:
    name: str
    type: PgType
    dim: int | None = None  # vector(d)
    primary_key: bool = False
    generated: bool = False  # ids the engine assigns when an INSERT leaves them out
    not_null: bool = False
    max_length: int | None = None  # varchar(n); specs saved before it read back as None

    @property
    def is_vector(self) -> bool:
        """A column searched by distance, held as a float32 matrix: vector, halfvec, bit(n),
        sparsevec (see sqlvec/vector_kinds.py)."""
        return self.type.oid in VECTOR_COLUMN_TYPES

    @property
    def duckdb_type(self) -> str:
        if self.type.oid in (VECTOR.oid, HALFVEC.oid):
            return f"{self.type.duckdb[:-2]}[{self.dim}]"  # FLOAT[d] / DOUBLE[d]
        return self.type.duckdb

    @property
    def typmod(self) -> int:
        """Postgres' atttypmod: the dimension of a vector, n + 4 for varchar(n) (Postgres counts
        the varlena header in it), else -1."""
        if self.max_length is not None:
            return self.max_length + VARHDRSZ
        return self.dim if self.is_vector and self.dim is not None else -1


@dataclass(frozen=True)
class CollectionSpec:
    name: str
    columns: tuple[ColumnSpec, ...]
    metric: str = "l2"
    options: dict[str, Any] = field(default_factory=dict)

    def column(self, name: str) -> ColumnSpec:
        column = self._by_name.get(name)
        if column is None:
            raise UndefinedColumn(f'column "{name}" does not exist')
        return column

    def has_column(self, name: str) -> bool:
        return name in self._by_name

    # Looked up on every search (the spec is frozen, so worked out once).
    @cached_property
    def _by_name(self) -> dict[str, ColumnSpec]:
        return {column.name: column for column in reversed(self.columns)}

    @cached_property
    def id_column(self) -> ColumnSpec:
        """The int64 primary key that is also the Faiss id."""
        return next(column for column in self.columns if column.primary_key)

    @property
    def vector_columns(self) -> tuple[ColumnSpec, ...]:
        return tuple(column for column in self.columns if column.is_vector)

    def to_json(self) -> str:
        data = asdict(self)
        for column in data["columns"]:
            column["type"] = column["type"]["oid"]
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> CollectionSpec:
        data = json.loads(text)
        columns = tuple(
            ColumnSpec(**{**column, "type": BY_OID[column["type"]]}) for column in data["columns"]
        )
        return cls(data["name"], columns, data["metric"], data["options"])


def check_metric(metric: str) -> str:
    normalized = metric.lower()
    if normalized not in METRICS:
        raise InvalidParameterValue(
            f'invalid value for parameter "metric": "{metric}"',
            hint="Valid values are 'l2', 'ip' and 'cosine'.",
        )
    return normalized
