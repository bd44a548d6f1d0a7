"""halfvec, bit and sparsevec through asyncpg and psycopg2 (pgvector's register_vector), the
SQLAlchemy ORM (HALFVEC, BIT, SPARSEVEC columns), and index searches against brute force."""

from __future__ import annotations

import asyncio

import asyncpg
import numpy as np
import psycopg
import psycopg2
import pytest
import sqlalchemy
from pgvector import HalfVector, SparseVector
from pgvector.asyncpg import register_vector as register_asyncpg
from pgvector.psycopg2 import register_vector as register_psycopg2
from pgvector.sqlalchemy import BIT, HALFVEC, SPARSEVEC
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from sqlvec.testing import ServerProcess


def test_asyncpg_halfvec_and_sparsevec(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS a_types")
        conn.execute(
            "CREATE TABLE a_types (id bigint PRIMARY KEY, h halfvec(3), s sparsevec(6), b bit(5))"
        )

    async def run() -> None:
        conn = await asyncpg.connect(
            host="127.0.0.1", port=server.port, user="sqlvec", database="sqlvec"
        )
        try:
            await register_asyncpg(conn)
            for i in range(4):
                sparse = SparseVector({i: float(i + 1), 5: 0.5}, 6)
                bits = asyncpg.BitString("10" + format(i, "03b"))
                await conn.execute(
                    "INSERT INTO a_types VALUES ($1, $2, $3, $4)", i, [i, i + 0.5, 1], sparse, bits
                )
            row = await conn.fetchrow("SELECT h, s, b FROM a_types WHERE id = 3")
            assert row["h"].to_list() == [3.0, 3.5, 1.0]
            assert row["s"].indices() == [3, 5] and row["s"].values() == [4.0, 0.5]
            assert row["b"] == asyncpg.BitString("10011")
            nearest = await conn.fetch(
                "SELECT id FROM a_types ORDER BY h <-> $1 LIMIT 2", HalfVector([2, 2.5, 1])
            )
            assert [r["id"] for r in nearest] == [2, 1]
            nearest = await conn.fetch(
                "SELECT id FROM a_types ORDER BY s <#> $1 LIMIT 1",
                SparseVector({1: 1.0}, 6),
            )
            assert nearest[0]["id"] == 1
            nearest = await conn.fetch(
                "SELECT id FROM a_types ORDER BY b <~> $1 LIMIT 1", asyncpg.BitString("10010")
            )
            assert nearest[0]["id"] == 2
        finally:
            await conn.close()

    asyncio.run(run())


def test_psycopg2_register_vector(server: ServerProcess) -> None:
    conn = psycopg2.connect(server.dsn)
    conn.autocommit = True
    try:
        register_psycopg2(conn)
        cur = conn.cursor()
        cur.execute("DROP TABLE IF EXISTS p2_types")
        cur.execute("CREATE TABLE p2_types (id bigint PRIMARY KEY, h halfvec(2), s sparsevec(4))")
        cur.execute(
            "INSERT INTO p2_types VALUES (1, %s, %s), (2, %s, %s)",
            (
                HalfVector([1, 2]),
                SparseVector({0: 1.0}, 4),
                HalfVector([5, 5]),
                SparseVector({3: 2.0}, 4),
            ),
        )
        cur.execute(
            "SELECT id, h, s FROM p2_types ORDER BY h <-> %s LIMIT 1", (HalfVector([4, 4]),)
        )
        row = cur.fetchone()
        assert row[0] == 2 and row[1].to_list() == [5.0, 5.0]
        assert row[2].indices() == [3] and row[2].values() == [2.0]
    finally:
        conn.close()


def test_sqlalchemy_orm_types(server: ServerProcess) -> None:
    class Base(DeclarativeBase):
        pass

    class Item(Base):
        __tablename__ = "orm_types"
        id: Mapped[int] = mapped_column(sqlalchemy.BigInteger, primary_key=True)
        half = mapped_column(HALFVEC(3))
        bits = mapped_column(BIT(4))
        sparse = mapped_column(SPARSEVEC(5))

    engine = sqlalchemy.create_engine(f"postgresql+psycopg://sqlvec@127.0.0.1:{server.port}/sqlvec")
    try:
        Base.metadata.drop_all(engine)
        Base.metadata.create_all(engine)
        with Session(engine) as session:
            session.add_all(
                [
                    Item(id=1, half=[1, 1, 1], bits="0000", sparse=SparseVector({0: 1.0}, 5)),
                    Item(id=2, half=[2, 2, 2], bits="1100", sparse=SparseVector({1: 1.0}, 5)),
                    Item(id=3, half=[3, 3, 3], bits="1111", sparse=SparseVector({4: 3.0}, 5)),
                ]
            )
            session.commit()
            nearest = session.scalars(
                sqlalchemy.select(Item).order_by(Item.half.l2_distance([2.9, 3, 3])).limit(2)
            ).all()
            assert [item.id for item in nearest] == [3, 2]
            assert list(nearest[0].half) == [3.0, 3.0, 3.0]
            by_bits = session.scalars(
                sqlalchemy.select(Item).order_by(Item.bits.hamming_distance("1110")).limit(1)
            ).all()
            assert by_bits[0].id == 2 and by_bits[0].bits == "1100"
            by_sparse = session.scalars(
                sqlalchemy.select(Item)
                .order_by(Item.sparse.max_inner_product(SparseVector({4: 1.0}, 5)))
                .limit(1)
            ).all()
            assert by_sparse[0].id == 3
        for column, opclass in (
            ("half", "halfvec_l2_ops"),
            ("bits", "bit_hamming_ops"),
            ("sparse", "sparsevec_l2_ops"),
        ):
            index = sqlalchemy.Index(
                f"orm_types_{column}_idx",
                getattr(Item, column),
                postgresql_using="hnsw",
                postgresql_ops={column: opclass},
            )
            index.create(engine)
        inspector = sqlalchemy.inspect(engine)
        columns = {c["name"]: c["type"] for c in inspector.get_columns("orm_types")}
        assert isinstance(columns["half"], HALFVEC) and columns["half"].dim == 3
        assert isinstance(columns["sparse"], SPARSEVEC) and columns["sparse"].dim == 5
        assert type(columns["bits"]).__name__ == "BIT" and columns["bits"].length == 4
        names = sorted(i["name"] for i in inspector.get_indexes("orm_types"))
        assert names == ["orm_types_bits_idx", "orm_types_half_idx", "orm_types_sparse_idx"]
    finally:
        Base.metadata.drop_all(engine)
        engine.dispose()


def _recall(found: list[list[int]], truth: np.ndarray) -> float:
    hits = sum(len(set(f) & set(t.tolist())) for f, t in zip(found, truth, strict=True))
    return hits / truth.size


def test_halfvec_hnsw_recall(conn: psycopg.Connection) -> None:
    rng = np.random.default_rng(3)
    data = rng.normal(size=(2000, 16)).astype(np.float16).astype(np.float32)
    conn.execute("DROP TABLE IF EXISTS hv_idx")
    conn.execute("CREATE TABLE hv_idx (id bigint PRIMARY KEY, e halfvec(16))")
    with conn.cursor().copy("COPY hv_idx (id, e) FROM STDIN") as copy:
        for i, row in enumerate(data):
            copy.write_row((i, "[" + ",".join(map(str, row.tolist())) + "]"))
    conn.execute("CREATE INDEX ON hv_idx USING hnsw (e halfvec_l2_ops)")
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT id FROM hv_idx ORDER BY e <-> '[" + ",".join(["0"] * 16) + "]' LIMIT 10"
        )
    )
    assert "hnsw" in plan
    queries = rng.normal(size=(20, 16)).astype(np.float16).astype(np.float32)
    truth = np.argsort(((data[None] - queries[:, None]) ** 2).sum(-1), axis=1)[:, :10]
    found = []
    for query in queries:
        text = "[" + ",".join(map(str, query.tolist())) + "]"
        rows = conn.execute("SELECT id FROM hv_idx ORDER BY e <-> %s LIMIT 10", (text,))
        found.append([r[0] for r in rows])
    assert _recall(found, truth) >= 0.9


@pytest.mark.parametrize("method", ["hnsw", "ivf_flat", "flat"])
def test_bit_binary_index_recall(conn: psycopg.Connection, method: str) -> None:
    rng = np.random.default_rng(4)
    data = rng.integers(0, 2, size=(2000, 64)).astype(np.uint8)
    conn.execute("DROP TABLE IF EXISTS bit_idx")
    conn.execute("CREATE TABLE bit_idx (id bigint PRIMARY KEY, e bit(64), tag int)")
    with conn.cursor().copy("COPY bit_idx (id, e, tag) FROM STDIN") as copy:
        for i, row in enumerate(data):
            copy.write_row((i, "".join(map(str, row.tolist())), i % 2))
    options = " WITH (lists = 16)" if method == "ivf_flat" else ""
    conn.execute(f"CREATE INDEX ON bit_idx USING {method} (e bit_hamming_ops){options}")
    conn.execute("SET nprobe = 16")
    queries = rng.integers(0, 2, size=(20, 64)).astype(np.uint8)
    distances = (data[None] != queries[:, None]).sum(-1)
    found, found_even = [], []
    for query, row in zip(queries, distances, strict=True):
        text = "".join(map(str, query.tolist()))
        rows = conn.execute(
            "SELECT id, e <~> %s FROM bit_idx ORDER BY e <~> %s LIMIT 10", (text, text)
        ).fetchall()
        # Ties make ids ambiguous: compare the distances found with the true ones.
        assert [d for _, d in rows] == sorted(row.tolist())[:10] or method != "flat"
        found.append([d for _, d in rows])
        filtered = conn.execute(
            "SELECT id FROM bit_idx WHERE tag = 0 ORDER BY e <~> %s LIMIT 5", (text,)
        ).fetchall()
        found_even.append([r[0] for r in filtered])
    truth = np.sort(distances, axis=1)[:, :10]
    # Recall by distance: how many of the true 10 smallest distances were found.
    hits = sum(
        sum(min(f.count(d), t.tolist().count(d)) for d in set(t.tolist()))
        for f, t in zip(found, truth, strict=True)
    )
    assert hits / truth.size >= 0.9
    assert all(i % 2 == 0 for ids in found_even for i in ids)
    assert all(len(ids) == 5 for ids in found_even)
    plan = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT id FROM bit_idx ORDER BY e <~> %s LIMIT 3", ("0" * 64,)
        )
    )
    assert method in plan
    jaccard = "\n".join(
        r[0]
        for r in conn.execute(
            "EXPLAIN SELECT id FROM bit_idx ORDER BY e <%%> %s LIMIT 3", ("0" * 64,)
        )
    )
    assert method not in jaccard.split("Index:")[-1] or "exact" in jaccard.lower()
