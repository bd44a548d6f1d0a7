"""pgvector's halfvec, bit and sparsevec types over the wire: psycopg 3 with pgvector's
register_vector (binary and text), exact kNN against numpy, errors, and restarts."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from pgvector import Bit, HalfVector, SparseVector
from pgvector.psycopg import register_vector

from sqlvec.testing import ServerProcess


@pytest.fixture
def vconn(server: ServerProcess) -> Iterator[psycopg.Connection]:
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        register_vector(connection)
        yield connection


def _fresh(conn: psycopg.Connection, name: str, columns: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (id bigint PRIMARY KEY, {columns})")


def _hamming(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (a != b).sum(axis=-1)


def _jaccard(rows: np.ndarray, query: np.ndarray) -> np.ndarray:
    both = (rows & query).sum(axis=1)
    union = (rows | query).sum(axis=1)
    return np.where(both == 0, 1.0, 1.0 - both / np.maximum(union, 1))


@pytest.mark.parametrize("binary", [False, True])
def test_halfvec_roundtrip_and_knn(vconn: psycopg.Connection, binary: bool) -> None:
    _fresh(vconn, "hv", "embedding halfvec(4)")
    rng = np.random.default_rng(7)
    data = rng.normal(size=(200, 4)).astype(np.float16)
    with vconn.cursor(binary=binary) as cur:
        cur.executemany(
            "INSERT INTO hv (id, embedding) VALUES (%s, %s)",
            [(i, HalfVector(row)) for i, row in enumerate(data)],
        )
        query = data[3].astype(np.float32) + 0.01
        cur.execute(
            "SELECT id, embedding, embedding <-> %s AS d FROM hv ORDER BY embedding <-> %s LIMIT 5",
            (HalfVector(query), HalfVector(query)),
        )
        rows = cur.fetchall()
    half_query = query.astype(np.float16).astype(np.float64)
    exact = np.sqrt(((data.astype(np.float64) - half_query) ** 2).sum(axis=1))
    assert [r[0] for r in rows] == np.argsort(exact, kind="stable")[:5].tolist()
    assert isinstance(rows[0][1], HalfVector)
    assert rows[0][1].to_list() == data[rows[0][0]].astype(np.float32).tolist()
    assert rows[0][2] == pytest.approx(exact[rows[0][0]], rel=1e-3)


def test_halfvec_text_forms_and_casts(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT '[1.5, 2, 0.1]'::halfvec, '[1,2]'::halfvec(2) <-> '[4,6]'::halfvec(2), "
        "'[1,2,3]'::vector::halfvec, '[0.1]'::halfvec::vector"
    ).fetchone()
    assert row == ("[1.5,2,0.099975586]", 5.0, "[1,2,3]", "[0.099975586]")


def test_halfvec_errors(conn: psycopg.Connection) -> None:
    _fresh(conn, "hv_err", "embedding halfvec(3)")
    with pytest.raises(psycopg.errors.DataException, match="expected 3 dimensions, not 2"):
        conn.execute("INSERT INTO hv_err VALUES (1, '[1,2]')")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("INSERT INTO hv_err VALUES (1, '[1,x,2]')")
    with pytest.raises(
        psycopg.errors.NumericValueOutOfRange, match="out of range for type halfvec"
    ):
        conn.execute("INSERT INTO hv_err VALUES (1, '[1,2,70000]')")
    with pytest.raises(psycopg.errors.DataException, match="different halfvec dimensions 3 and 4"):
        conn.execute("SELECT id FROM hv_err ORDER BY embedding <-> '[1,2,3,4]' LIMIT 1")
    with pytest.raises(psycopg.errors.UndefinedFunction, match="halfvec <~> halfvec"):
        conn.execute("SELECT id FROM hv_err ORDER BY embedding <~> '[1,2,3]' LIMIT 1")
    conn.execute("INSERT INTO hv_err VALUES (1, '[1,2,3]')")
    assert conn.execute("SELECT count(*) FROM hv_err").fetchone() == (1,)


@pytest.mark.parametrize("binary", [False, True])
def test_bit_hamming_and_jaccard(vconn: psycopg.Connection, binary: bool) -> None:
    _fresh(vconn, "bits", "embedding bit(12)")
    rng = np.random.default_rng(11)
    data = rng.integers(0, 2, size=(150, 12)).astype(bool)
    with vconn.cursor(binary=binary) as cur:
        cur.executemany(
            "INSERT INTO bits (id, embedding) VALUES (%s, %s)",
            [(i, Bit(row)) for i, row in enumerate(data)],
        )
        query = rng.integers(0, 2, size=12).astype(bool)
        for operator, exact in (("<~>", _hamming(data, query)), ("<%%>", _jaccard(data, query))):
            cur.execute(
                f"SELECT id, embedding {operator} %s FROM bits ORDER BY embedding {operator} %s, id"
                " LIMIT 10",
                (Bit(query), Bit(query)),
            )
            rows = cur.fetchall()
            assert [d for _, d in rows] == pytest.approx(np.sort(exact)[:10].tolist())
            assert [r[0] for r in rows] == np.lexsort((np.arange(150), exact))[:10].tolist()
    text = "".join("1" if b else "0" for b in data[5])
    assert vconn.execute("SELECT embedding FROM bits WHERE id = 5").fetchone() == (text,)


def test_bit_functions_and_errors(conn: psycopg.Connection) -> None:
    row = conn.execute(
        "SELECT '1011'::bit(4) <~> '0011'::bit(4), '1011'::bit(4) <%> '0011'::bit(4)"
    ).fetchone()
    assert row == (1.0, pytest.approx(1 / 3))
    _fresh(conn, "bits_err", "embedding bit(4)")
    with pytest.raises(psycopg.errors.StringDataLengthMismatch):
        conn.execute("INSERT INTO bits_err VALUES (1, '101')")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation, match="not a valid binary digit"):
        conn.execute("INSERT INTO bits_err VALUES (1, '10a1')")
    with pytest.raises(psycopg.errors.DataException, match="different bit lengths 4 and 3"):
        conn.execute("SELECT id FROM bits_err ORDER BY embedding <~> '101' LIMIT 1")
    with pytest.raises(psycopg.errors.UndefinedFunction, match="bit <-> bit"):
        conn.execute("SELECT id FROM bits_err ORDER BY embedding <-> '1011' LIMIT 1")
    conn.execute("INSERT INTO bits_err VALUES (1, '1011')")
    assert conn.execute("SELECT id FROM bits_err ORDER BY embedding <~> '1011' LIMIT 1").fetchone()


@pytest.mark.parametrize("binary", [False, True])
def test_sparsevec_roundtrip_and_knn(vconn: psycopg.Connection, binary: bool) -> None:
    _fresh(vconn, "sv", "embedding sparsevec(30)")
    rng = np.random.default_rng(5)
    dense = np.where(rng.random((120, 30)) < 0.2, rng.normal(size=(120, 30)), 0).astype(np.float32)
    with vconn.cursor(binary=binary) as cur:
        cur.executemany(
            "INSERT INTO sv (id, embedding) VALUES (%s, %s)",
            [(i, SparseVector(row)) for i, row in enumerate(dense)],
        )
        query = dense[9] + 0.05
        for operator, exact in (
            ("<->", np.sqrt(((dense - query) ** 2).sum(axis=1))),
            ("<#>", -(dense @ query)),
            ("<+>", np.abs(dense - query).sum(axis=1)),
        ):
            cur.execute(
                f"SELECT id, embedding FROM sv ORDER BY embedding {operator} %s LIMIT 5",
                (SparseVector(query),),
            )
            rows = cur.fetchall()
            assert [r[0] for r in rows] == np.argsort(exact, kind="stable")[:5].tolist()
            stored = np.asarray(rows[0][1].to_list(), dtype=np.float32)
            assert np.array_equal(stored, dense[rows[0][0]])


def test_sparsevec_text_and_errors(conn: psycopg.Connection) -> None:
    assert conn.execute("SELECT '{3:2, 1:1.5}/5'::sparsevec").fetchone() == ("{1:1.5,3:2}/5",)
    assert conn.execute(
        "SELECT '{1:3}/1000000000'::sparsevec <-> '{2:4}/1000000000'::sparsevec"
    ).fetchone() == (5.0,)
    _fresh(conn, "sv_err", "embedding sparsevec(5)")
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        conn.execute("INSERT INTO sv_err VALUES (1, '[1,2]')")
    with pytest.raises(psycopg.errors.DataException, match="expected 5 dimensions, not 4"):
        conn.execute("INSERT INTO sv_err VALUES (1, '{1:1}/4')")
    with pytest.raises(psycopg.errors.DataException, match="index must be less than or equal"):
        conn.execute("INSERT INTO sv_err VALUES (1, '{6:1}/5')")
    with pytest.raises(psycopg.errors.DataException, match="different sparsevec dimensions 5 and"):
        conn.execute("SELECT id FROM sv_err ORDER BY embedding <-> '{1:1}/6' LIMIT 1")
    conn.execute("INSERT INTO sv_err VALUES (1, '{2:1}/5')")
    assert conn.execute("SELECT embedding FROM sv_err").fetchone() == ("{2:1}/5",)


def test_types_and_binary_index_survive_restart(own_server: ServerProcess) -> None:
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        conn.execute(
            "CREATE TABLE kept (id bigint PRIMARY KEY, h halfvec(2), b bit(9), s sparsevec(4)) "
            "WITH (segment_rows = 2)"
        )
        conn.execute(
            "INSERT INTO kept VALUES (1, '[0.1,2]', '101010101', '{4:2.5}/4'), "
            "(2, '[3,4]', '000000001', '{1:1,2:-1}/4'), (3, '[5,5]', '111111111', '{}/4')"
        )
        conn.execute("CREATE INDEX ON kept USING hnsw (b)")
        before = conn.execute("SELECT id, h, b, s FROM kept ORDER BY id").fetchall()
    own_server.stop()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        assert conn.execute("SELECT id, h, b, s FROM kept ORDER BY id").fetchall() == before
        assert before[0][1:] == ("[0.099975586,2]", "101010101", "{4:2.5}/4")
        rows = conn.execute(
            "SELECT id, h, b, s FROM kept ORDER BY b <~> '000000011' LIMIT 3"
        ).fetchall()
        assert [r[0] for r in rows] == [2, 1, 3] and rows[0] == before[1]
        plan = "\n".join(
            r[0]
            for r in conn.execute("EXPLAIN SELECT id FROM kept ORDER BY b <~> '000000011' LIMIT 1")
        )
        assert "hnsw" in plan
