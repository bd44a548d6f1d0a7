"""avg(vector) / sum(vector) over the wire: typed `vector` in RowDescription, parameters."""

from __future__ import annotations

import numpy as np
import psycopg

from sqlvec.testing import ServerProcess
from sqlvec.types import VECTOR


def test_vector_aggregates_are_typed_vector_and_take_parameters(server: ServerProcess) -> None:
    vectors = np.random.default_rng(3).standard_normal((50, 8)).astype(np.float32)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS agg_e2e")
        conn.execute("CREATE COLLECTION agg_e2e (id BIGINT PRIMARY KEY, embedding VECTOR(8))")
        values = ", ".join(
            f"({i}, '[{','.join(map(repr, v.tolist()))}]')" for i, v in enumerate(vectors)
        )
        conn.execute(f"INSERT INTO agg_e2e VALUES {values}")
        query = "[" + ",".join(["0.1"] * 8) + "]"
        cursor = conn.execute(
            "SELECT avg(embedding), sum(embedding) FROM (SELECT embedding FROM agg_e2e "
            "ORDER BY embedding <-> %s LIMIT 10) s",
            (query,),
        )
        assert [c.type_code for c in cursor.description] == [VECTOR.oid, VECTOR.oid]
        average, total = (np.array(v[1:-1].split(","), np.float32) for v in cursor.fetchone())
        nearest = np.argsort(np.linalg.norm(vectors - np.float32(0.1), axis=1))[:10]
        np.testing.assert_allclose(average, vectors[nearest].mean(axis=0), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(total, vectors[nearest].sum(axis=0), rtol=1e-5, atol=1e-5)
        try:
            conn.execute("SELECT sum(v::vector) FROM (VALUES ('[1,2]'), ('[1,2,3]')) t(v)")
        except psycopg.Error as error:
            assert error.sqlstate == "22000"
        else:
            raise AssertionError("a dimension mismatch must fail")
        assert conn.execute("SELECT count(*) FROM agg_e2e").fetchone() == (50,)
