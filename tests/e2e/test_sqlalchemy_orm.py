"""SQLAlchemy 2 ORM and Core with pgvector's `Vector` type against a real server, over
psycopg 3, psycopg2 and asyncpg: create_all (SERIAL key, HNSW index with operator class and
WITH options), insertmanyvalues with RETURNING, kNN ordering by l2/cosine/inner product,
get/update/delete, the inspector, reflect() and drop_all."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import numpy as np
import pytest
from pgvector.sqlalchemy import Vector
from sqlalchemy import (
    Engine,
    Index,
    MetaData,
    String,
    create_engine,
    delete,
    func,
    inspect,
    select,
    update,
)
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column

from sqlvec.testing import ServerProcess

N = 30
K = 4


class Base(DeclarativeBase):
    pass


class Item(Base):
    __tablename__ = "sa_orm_items"
    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(100))
    score: Mapped[float | None]
    embedding: Mapped[np.ndarray] = mapped_column(Vector(3))


Index(
    "sa_orm_items_hnsw",
    Item.embedding,
    postgresql_using="hnsw",
    postgresql_with={"m": 16, "ef_construction": 64},
    postgresql_ops={"embedding": "vector_l2_ops"},
)

VECTORS = np.random.default_rng(5).standard_normal((N, 3)).astype(np.float32)
QUERY = np.array([0.5, -0.25, 1.0], dtype=np.float32)


def _expected(distances: np.ndarray, mask: np.ndarray | None = None) -> list[str]:
    order = [int(i) for i in np.argsort(distances, kind="stable") if mask is None or mask[i]]
    return [f"item {i}" for i in order[:K]]


def _cosine() -> np.ndarray:
    norms = np.linalg.norm(VECTORS, axis=1) * np.linalg.norm(QUERY)
    return 1 - VECTORS @ QUERY / norms


@pytest.fixture(params=["psycopg", "psycopg2"])
def engine(request: pytest.FixtureRequest, server: ServerProcess) -> Iterator[Engine]:
    url = f"postgresql+{request.param}://sqlvec@127.0.0.1:{server.port}/sqlvec"
    engine = create_engine(url)
    Base.metadata.drop_all(engine)
    yield engine
    Base.metadata.drop_all(engine)
    engine.dispose()


def _sqlstate(error: DBAPIError) -> str | None:
    orig = error.orig
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def test_orm_create_insert_knn_update_delete(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        items = [
            Item(title=f"item {i}", score=float(i), embedding=v) for i, v in enumerate(VECTORS)
        ]
        session.add_all(items)  # one INSERT ... SELECT FROM (VALUES ...) RETURNING id
        session.commit()
        assert sorted(item.id for item in items) == list(range(1, N + 1))
        ids = {item.title: item.id for item in items}

        def titles(order_by: object, *where: object) -> list[str]:
            query = select(Item).where(*where).order_by(order_by).limit(K)
            return [item.title for item in session.scalars(query)]

        l2 = np.linalg.norm(VECTORS - QUERY, axis=1)
        assert titles(Item.embedding.l2_distance(QUERY)) == _expected(l2)
        assert titles(Item.embedding.cosine_distance(QUERY)) == _expected(_cosine())
        assert titles(Item.embedding.max_inner_product(QUERY)) == _expected(-(VECTORS @ QUERY))
        high = np.arange(N) > 10
        assert titles(Item.embedding.l2_distance(QUERY), Item.score > 10) == _expected(l2, high)

        distance = Item.embedding.l2_distance(QUERY).label("distance")
        rows = session.execute(select(Item.title, distance).order_by(distance).limit(K)).all()
        assert [r.title for r in rows] == _expected(l2)
        np.testing.assert_allclose([r.distance for r in rows], np.sort(l2)[:K], rtol=1e-5)

        item = session.get(Item, ids["item 7"])
        assert item is not None and item.title == "item 7"
        np.testing.assert_array_equal(np.asarray(item.embedding, np.float32), VECTORS[7])
        item.title = "renamed"
        session.commit()
        session.execute(update(Item).where(Item.id == ids["item 8"]).values(score=-1.5))
        session.delete(session.get(Item, ids["item 9"]))
        session.commit()

    with Session(engine) as session:
        assert session.scalar(select(Item.title).where(Item.id == ids["item 7"])) == "renamed"
        assert session.scalar(select(Item.score).where(Item.id == ids["item 8"])) == -1.5
        assert session.get(Item, ids["item 9"]) is None
        session.execute(delete(Item).where(Item.score < 3))
        session.commit()
        assert session.scalar(select(func.count()).select_from(Item)) == N - 1 - 4


def test_orm_bad_vector_is_an_error_and_session_recovers(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    with Session(engine) as session:
        session.add(Item(title="bad", embedding=[1.0, 2.0]))
        with pytest.raises(DBAPIError) as caught:
            session.commit()
        assert _sqlstate(caught.value) == "22000"
        assert "expected 3 dimensions, not 2" in str(caught.value)
        session.rollback()
        session.add(Item(title="good", embedding=[1.0, 2.0, 3.0]))
        session.commit()
        assert session.scalars(select(Item.title)).all() == ["good"]


def test_inspector_reflect_and_drop_all(engine: Engine) -> None:
    Base.metadata.create_all(engine)
    inspector = inspect(engine)
    columns = {c["name"]: c for c in inspector.get_columns("sa_orm_items")}
    assert list(columns) == ["id", "title", "score", "embedding"]
    assert isinstance(columns["embedding"]["type"], Vector)
    assert columns["embedding"]["type"].dim == 3
    assert [columns[name]["nullable"] for name in columns] == [False, False, True, False]
    assert columns["id"]["autoincrement"] is True  # SERIAL: nextval(...) default
    pk = inspector.get_pk_constraint("sa_orm_items")
    assert (pk["name"], pk["constrained_columns"]) == ("sa_orm_items_pkey", ["id"])
    [index] = inspector.get_indexes("sa_orm_items")
    assert (index["name"], index["column_names"], index["unique"]) == (
        "sa_orm_items_hnsw",
        ["embedding"],
        False,
    )
    options = index["dialect_options"]
    assert options["postgresql_using"] == "hnsw"
    assert options["postgresql_with"] == {"m": "16", "ef_construction": "64"}
    assert options["postgresql_ops"] == {"embedding": "vector_l2_ops"}

    metadata = MetaData()
    metadata.reflect(engine)
    table = metadata.tables["sa_orm_items"]
    assert isinstance(table.c.embedding.type, Vector)
    assert [i.name for i in table.indexes] == ["sa_orm_items_hnsw"]

    Base.metadata.drop_all(engine)
    assert not inspect(engine).has_table("sa_orm_items")


def test_asyncpg_async_engine(server: ServerProcess) -> None:
    async def run() -> None:
        url = f"postgresql+asyncpg://sqlvec@127.0.0.1:{server.port}/sqlvec"
        engine = create_async_engine(url)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
                await conn.run_sync(Base.metadata.create_all)
            async with AsyncSession(engine, expire_on_commit=False) as session:
                session.add_all(
                    [Item(title=f"item {i}", embedding=v) for i, v in enumerate(VECTORS)]
                )
                await session.commit()
                query = select(Item).order_by(Item.embedding.l2_distance(QUERY)).limit(K)
                found = (await session.scalars(query)).all()
                assert [item.title for item in found] == _expected(
                    np.linalg.norm(VECTORS - QUERY, axis=1)
                )
                found[0].title = "renamed"
                await session.commit()
                renamed = await session.get(Item, found[0].id)
                assert renamed is not None and renamed.title == "renamed"
                await session.delete(renamed)
                await session.commit()
                count = await session.scalar(select(func.count()).select_from(Item))
                assert count == N - 1
            async with engine.connect() as conn:
                columns = await conn.run_sync(lambda c: inspect(c).get_columns("sa_orm_items"))
                assert [c["name"] for c in columns] == ["id", "title", "score", "embedding"]
                assert all("computed" not in c for c in columns)  # "char" '' is one zero byte
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.drop_all)
        finally:
            await engine.dispose()

    asyncio.run(run())


def test_insert_select_from_values_statement(server: ServerProcess) -> None:
    """The statement insertmanyvalues sends (read as VALUES), and other INSERT ... SELECT forms
    (run as a query)."""
    import psycopg

    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS sa_values")
        conn.execute("CREATE TABLE sa_values (id SERIAL PRIMARY KEY, t TEXT, e vector(2))")
        try:
            rows = conn.execute(
                "INSERT INTO sa_values (t, e) SELECT p0::VARCHAR, p1::VECTOR(2) FROM "
                "(VALUES (%s, %s, 1), ('b', '[2,2]', 0), (%s, '[3,3]', 2)) "
                "AS imp_sen(p0, p1, sen_counter) ORDER BY sen_counter DESC RETURNING id, t",
                ["a", "[1,1]", "c"],
            ).fetchall()
            assert rows == [(1, "c"), (2, "a"), (3, "b")]  # inserted in ORDER BY order
            conn.execute("INSERT INTO sa_values (t, e) SELECT * FROM (VALUES ('d', '[4,4]')) v")
            row = conn.execute("SELECT t, e FROM sa_values WHERE id = 4").fetchone()
            assert row == ("d", "[4,4]")
            # Other INSERT ... SELECT forms run as a query whose rows are inserted.
            general = [
                ("INSERT INTO sa_values (t, e) SELECT t, e FROM sa_values", 4),
                (
                    "INSERT INTO sa_values (t, e) SELECT a, b FROM (VALUES ('x', '[1,1]')) v(a, b) "
                    "WHERE a = 'x'",
                    1,
                ),
                (
                    "INSERT INTO sa_values (t, e) SELECT a, b FROM (VALUES ('x', '[1,1]', 'z')) "
                    "v(a, b, n) ORDER BY n",
                    1,
                ),
            ]
            for sql, count in general:
                assert conn.execute(sql).statusmessage == f"INSERT 0 {count}"
            with pytest.raises(psycopg.errors.UndefinedColumn):
                conn.execute(
                    "INSERT INTO sa_values (t, e) SELECT a, nope FROM (VALUES (1, 2)) v(a, b)"
                )
            with pytest.raises(psycopg.errors.DataException):
                conn.execute(
                    "INSERT INTO sa_values (t, e) SELECT a, b FROM (VALUES ('x', '[1]')) v(a, b)"
                )
            assert conn.execute("SELECT count(*) FROM sa_values").fetchone() == (10,)
        finally:
            conn.execute("DROP TABLE sa_values")
