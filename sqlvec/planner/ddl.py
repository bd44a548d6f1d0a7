"""CREATE COLLECTION / CREATE TABLE as a collection spec; DROP."""

from __future__ import annotations

from sqlglot import exp

from sqlvec.engine.catalog import CollectionSpec, ColumnSpec, check_metric
from sqlvec.engine.partition_key import (
    COUNT_OPTION,
    DEFAULT_NUM_PARTITIONS,
    KEY_OPTION,
    NUM_PARTITIONS_RANGE,
)
from sqlvec.errors import DuplicateColumn, FeatureNotSupported, InvalidParameterValue
from sqlvec.parser.nodes import CreateCollection, DropCollection
from sqlvec.planner.plans import CreateCollectionPlan, DropCollectionPlan
from sqlvec.planner.values import declared_type
from sqlvec.types import (
    BIT,
    INT2,
    INT4,
    INT8,
    SPARSEVEC,
    TEXT,
    VARCHAR,
    VECTOR_COLUMN_TYPES,
    VECTOR_VALUE_TYPES,
    PgType,
)
from sqlvec.vector_kinds import kind_of

_OPTIONS = ("metric", "segment_rows", "index_file_size", KEY_OPTION, COUNT_OPTION)
MAX_VARCHAR_LENGTH = 10485760  # Postgres' limit on n in varchar(n)
_KEY_TYPES = {INT2.oid, INT4.oid, INT8.oid, TEXT.oid, VARCHAR.oid}  # Milvus: int64, varchar
SEGMENT_ROWS_RANGE = (1, 100_000_000)
INDEX_FILE_SIZE_MB_RANGE = (1, 4096)  # Milvus 1.x: the size of a segment's vectors, in MB
_SERIAL_TYPES = {"bigserial": INT8, "serial8": INT8, "serial": INT4, "serial4": INT4}
_INTEGER_KEYS = {INT2.oid, INT4.oid, INT8.oid}


def plan_create(node: CreateCollection) -> CreateCollectionPlan:
    schema = node.this
    name = schema.this.name
    options = _options(node)
    metric = check_metric(str(options.pop("metric", "l2")))
    columns = _columns(schema, name)
    options = _segment_rows(options, columns)
    options = _partition_key(options, columns)
    spec = CollectionSpec(name, tuple(columns), metric, options)
    tag = "CREATE COLLECTION" if node.args.get("kind") == "COLLECTION" else "CREATE TABLE"
    return CreateCollectionPlan(spec, bool(node.args.get("exists")), tag)


def plan_drop(node: DropCollection) -> DropCollectionPlan:
    names = tuple(table.name for table in node.expressions)
    tag = "DROP COLLECTION" if node.args.get("kind") == "COLLECTION" else "DROP TABLE"
    return DropCollectionPlan(names, bool(node.args.get("exists")), tag)


def _options(node: CreateCollection) -> dict[str, object]:
    options: dict[str, object] = {}
    for prop in node.args.get("options") or []:
        key = prop.name.lower()
        if key not in _OPTIONS:
            raise InvalidParameterValue(
                f'unrecognized parameter "{key}"', hint=f"Valid options: {', '.join(_OPTIONS)}."
            )
        value = prop.args.get("value")
        options[key] = value.name if isinstance(value, exp.Expr) else value
    return options


def _segment_rows(options: dict[str, object], columns: list[ColumnSpec]) -> dict[str, object]:
    """Segment size in rows, from `segment_rows` or Milvus' `index_file_size` (MB of vectors)."""
    if "segment_rows" in options and "index_file_size" in options:
        raise InvalidParameterValue("give segment_rows or index_file_size, not both")
    if "segment_rows" in options:
        return {
            **options,
            "segment_rows": _bounded("segment_rows", options["segment_rows"], *SEGMENT_ROWS_RANGE),
        }
    if "index_file_size" in options:
        megabytes = _bounded(
            "index_file_size", options.pop("index_file_size"), *INDEX_FILE_SIZE_MB_RANGE
        )
        row_bytes = 4 * sum(c.dim or 0 for c in columns if c.is_vector) or 8
        return {**options, "segment_rows": max(1, megabytes * 2**20 // row_bytes)}
    return options


def _partition_key(options: dict[str, object], columns: list[ColumnSpec]) -> dict[str, object]:
    """`partition_key` names a scalar column; `num_partitions` needs it (as in Milvus)."""
    if KEY_OPTION not in options:
        if COUNT_OPTION in options:
            raise InvalidParameterValue(f"{COUNT_OPTION} needs a {KEY_OPTION}")
        return options
    key = str(options[KEY_OPTION])
    column = next((c for c in columns if c.name == key), None)
    if column is None:
        raise InvalidParameterValue(f'partition key column "{key}" does not exist')
    if column.primary_key or column.type.oid not in _KEY_TYPES:
        raise InvalidParameterValue(
            f'column "{key}" cannot be the partition key',
            hint="The partition key must be an integer or text column, not the primary key.",
        )
    count = _bounded(
        COUNT_OPTION,
        options.get(COUNT_OPTION, DEFAULT_NUM_PARTITIONS),
        *NUM_PARTITIONS_RANGE,
    )
    return {**options, KEY_OPTION: key, COUNT_OPTION: count}


def _bounded(name: str, value: object, low: int, high: int) -> int:
    try:
        number = int(str(value))
    except ValueError:
        raise InvalidParameterValue(f'invalid value for parameter "{name}": "{value}"') from None
    if not low <= number <= high:
        raise InvalidParameterValue(
            f'value {number} out of bounds for parameter "{name}"',
            detail=f"Valid values are between {low} and {high}.",
        )
    return number


def _columns(schema: exp.Schema, table: str) -> list[ColumnSpec]:
    table_keys = _table_primary_key(schema)
    columns: list[ColumnSpec] = []
    for definition in schema.expressions:
        if not isinstance(definition, exp.ColumnDef):
            continue
        column = _column(definition, table_keys)
        if any(c.name == column.name for c in columns):
            raise DuplicateColumn(f'column "{column.name}" specified more than once')
        columns.append(column)
    keys = [c for c in columns if c.primary_key]
    if len(keys) > 1:
        raise FeatureNotSupported("a collection's primary key must be a single column")
    if keys and keys[0].type.oid not in _INTEGER_KEYS:
        raise FeatureNotSupported(
            f'primary key "{keys[0].name}" must be an integer column: it is the vector id'
        )
    if not keys:
        if any(c.name == "id" for c in columns):
            raise FeatureNotSupported(
                'column "id" must be the primary key (or renamed): collections without a '
                'primary key get a generated "id" column'
            )
        columns.insert(0, ColumnSpec("id", INT8, primary_key=True, generated=True, not_null=True))
    return columns


def _column(definition: exp.ColumnDef, table_keys: set[str]) -> ColumnSpec:
    name = definition.name
    kind = definition.args.get("kind")
    if kind is None:
        raise FeatureNotSupported(f'column "{name}" needs a type')
    type_name = kind.sql("postgres").lower()
    constraints = [c.args.get("kind") for c in definition.constraints]
    primary = name in table_keys or any(
        isinstance(c, exp.PrimaryKeyColumnConstraint) for c in constraints
    )
    not_null = primary or any(
        isinstance(c, exp.NotNullColumnConstraint) and not c.args.get("allow_null")
        for c in constraints
    )
    identity = any(isinstance(c, exp.GeneratedAsIdentityColumnConstraint) for c in constraints)
    if type_name in _SERIAL_TYPES:
        return ColumnSpec(
            name, _SERIAL_TYPES[type_name], primary_key=primary, generated=True, not_null=True
        )
    pg_type, typmod = declared_type(kind)
    if pg_type.oid in VECTOR_COLUMN_TYPES:
        return _vector_column(name, pg_type, typmod)
    if pg_type.oid in VECTOR_VALUE_TYPES:
        raise FeatureNotSupported(
            f'column "{name}" is of type {pg_type.name}: bit strings are stored as bit(n)'
        )
    return ColumnSpec(
        name,
        pg_type,
        primary_key=primary,
        generated=identity,
        not_null=not_null,
        max_length=_varchar_length(pg_type, typmod),
    )


def _varchar_length(pg_type: PgType, typmod: int) -> int | None:
    """n of varchar(n), within Postgres' bounds; None for other types and plain varchar."""
    if pg_type.oid != VARCHAR.oid or typmod < 0:
        return None
    if typmod < 1:
        raise InvalidParameterValue("length for type varchar must be at least 1")
    if typmod > MAX_VARCHAR_LENGTH:
        raise InvalidParameterValue(f"length for type varchar cannot exceed {MAX_VARCHAR_LENGTH}")
    return typmod


def _vector_column(name: str, pg_type: PgType, typmod: int) -> ColumnSpec:
    kind = kind_of(pg_type)
    if typmod < 1:
        raise FeatureNotSupported(f'column "{name}" needs a dimension: {kind.name}(d)')
    if typmod > kind.max_column_dim:
        word = "length" if pg_type.oid == BIT.oid else "dimensions"
        raise InvalidParameterValue(
            f"{word} for type {kind.name} cannot exceed {kind.max_column_dim}",
            hint=(
                "sqlvec holds sparsevec columns dense in memory."
                if pg_type.oid == SPARSEVEC.oid
                else None
            ),
        )
    return ColumnSpec(name, pg_type, dim=typmod, not_null=True)


def _table_primary_key(schema: exp.Schema) -> set[str]:
    keys: set[str] = set()
    for item in schema.expressions:
        if isinstance(item, exp.PrimaryKey):
            keys.update(part.name for part in item.expressions)
    return keys
