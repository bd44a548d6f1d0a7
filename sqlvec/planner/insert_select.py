"""INSERT ... SELECT over a VALUES list, as SQLAlchemy's insertmanyvalues sends it.

For a table with a server-generated key, SQLAlchemy (2.0+) inserts many rows in one statement
and relies on the order of RETURNING:

    INSERT INTO t (a, b) SELECT p0::VARCHAR, p1::VECTOR(3)
    FROM (VALUES ($1, $2, 0), ($3, $4, 1)) AS imp_sen(p0, p1, sen_counter)
    ORDER BY sen_counter RETURNING t.id, t.id AS id__1

That is an INSERT ... VALUES with each row run through the select list, in ORDER BY order;
this module returns those rows, read as VALUES are (parameters typed by their columns). Any
other SELECT raises FeatureNotSupported here and is planned as a query instead
(planner/insert.py).
"""

from __future__ import annotations

from sqlglot import exp

from sqlvec.errors import FeatureNotSupported, UndefinedColumn

_UNSUPPORTED = "not a projection of a VALUES list"  # caught by plan_insert
# Select clauses a plain projection of a VALUES list may have.
_ALLOWED = frozenset({"expressions", "from", "from_", "order"})


def values_rows(select: exp.Expr) -> list[list[exp.Expr]]:
    """The rows to insert: the select list evaluated over each VALUES row, in order."""
    values = _values_source(select)
    assert isinstance(select, exp.Select)
    rows = [list(r.expressions) if isinstance(r, exp.Tuple) else [r] for r in values.expressions]
    if len({len(row) for row in rows}) != 1:
        raise FeatureNotSupported(_UNSUPPORTED)
    alias = values.args.get("alias")
    named = [c.name.lower() for c in alias.columns] if alias is not None else []
    # Postgres names the columns of VALUES column1, column2, ... unless the alias renames them.
    columns = named + [f"column{i}" for i in range(len(named) + 1, len(rows[0]) + 1)]
    rows = _ordered(rows, columns, select.args.get("order"))
    return [_project(select.expressions, dict(zip(columns, row, strict=True))) for row in rows]


def _values_source(select: exp.Expr) -> exp.Values:
    if not isinstance(select, exp.Select):
        raise FeatureNotSupported(_UNSUPPORTED)
    if any(value for key, value in select.args.items() if key not in _ALLOWED):
        raise FeatureNotSupported(_UNSUPPORTED)
    source = select.args.get("from_") or select.args.get("from")
    values = source.this if isinstance(source, exp.From) else None
    if not isinstance(values, exp.Values) or not values.expressions:
        raise FeatureNotSupported(_UNSUPPORTED)
    return values


def _ordered(
    rows: list[list[exp.Expr]], columns: list[str], order: exp.Order | None
) -> list[list[exp.Expr]]:
    """Rows sorted by ORDER BY <column>, which must hold integer literals (a row counter)."""
    if order is None:
        return rows
    if len(order.expressions) != 1:
        raise FeatureNotSupported(_UNSUPPORTED)
    ordered = order.expressions[0]
    key = ordered.this
    if not isinstance(key, exp.Column) or key.name.lower() not in columns:
        raise FeatureNotSupported(_UNSUPPORTED)
    position = columns.index(key.name.lower())
    counters = [row[position] for row in rows]
    if not all(isinstance(c, exp.Literal) and c.is_int for c in counters):
        raise FeatureNotSupported(_UNSUPPORTED)
    pairs = sorted(zip(counters, rows, strict=True), key=lambda pair: int(pair[0].this))
    result = [row for _, row in pairs]
    return result[::-1] if ordered.args.get("desc") else result


def _project(items: list[exp.Expr], row: dict[str, exp.Expr]) -> list[exp.Expr]:
    projected: list[exp.Expr] = []
    for item in items:
        if isinstance(item, exp.Star):
            projected.extend(value.copy() for value in row.values())
            continue
        node = item.this if isinstance(item, exp.Alias) else item
        projected.append(node.copy().transform(lambda n: _substitute(n, row)))
    return projected


def _substitute(node: exp.Expr, row: dict[str, exp.Expr]) -> exp.Expr:
    if not isinstance(node, exp.Column):
        return node
    name = node.name.lower()
    if name not in row:
        raise UndefinedColumn(f'column "{name}" does not exist')
    return row[name].copy()
