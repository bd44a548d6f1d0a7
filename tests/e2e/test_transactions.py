"""Transaction blocks with real effect, over psycopg 3 (autocommit off and on).

Each test names its own collection. "other" is a second connection: it must not see a block's
writes before COMMIT, and must see them after.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import psycopg
import pytest
from psycopg import errors
from psycopg.pq import TransactionStatus

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

DIM = 4
IDLE, INTRANS, INERROR = (
    TransactionStatus.IDLE,
    TransactionStatus.INTRANS,
    TransactionStatus.INERROR,
)


@pytest.fixture
def other(server: ServerProcess) -> Iterator[psycopg.Connection]:
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        yield connection


def make_collection(conn: psycopg.Connection, name: str, rows: int = 20) -> np.ndarray:
    """`rows` rows with ids 1..rows, title 't<id>' and random vectors (returned, row i-1)."""
    vectors = np.random.default_rng(len(name)).standard_normal((rows, DIM)).astype(np.float32)
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(
        f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, title TEXT, embedding vector({DIM}))"
    )
    values = ", ".join(
        f"({i + 1}, 't{i + 1}', '{format_vector(v)}')" for i, v in enumerate(vectors)
    )
    conn.execute(f"INSERT INTO {name} (id, title, embedding) VALUES {values}")
    return vectors


def count(conn: psycopg.Connection, name: str) -> int:
    row = conn.execute(f"SELECT count(*) FROM {name}").fetchone()
    assert row is not None
    return int(row[0])


def nearest(conn: psycopg.Connection, name: str, query: str, k: int = 1) -> list[tuple]:
    return conn.execute(
        f"SELECT id, title, embedding <-> %s AS d FROM {name} ORDER BY d LIMIT %s", (query, k)
    ).fetchall()


FAR = "[100,100,100,100]"


def test_rollback_undoes_insert_delete_and_update(server: ServerProcess, other) -> None:
    make_collection(other, "tx_undo")
    with psycopg.connect(server.dsn) as conn:  # psycopg's default: BEGIN before the first query
        conn.execute("INSERT INTO tx_undo (id, title, embedding) VALUES (100, 'new', %s)", (FAR,))
        assert conn.info.transaction_status == INTRANS
        assert conn.execute("DELETE FROM tx_undo WHERE id <= 5").rowcount == 5
        assert conn.execute("UPDATE tx_undo SET title = 'changed' WHERE id = 6").rowcount == 1
        # The block sees its own writes, the vector search included; the other connection not.
        assert count(conn, "tx_undo") == 16
        assert nearest(conn, "tx_undo", FAR)[0][:2] == (100, "new")
        assert conn.execute("SELECT title FROM tx_undo WHERE id = 6").fetchone() == ("changed",)
        assert count(other, "tx_undo") == 20
        assert nearest(other, "tx_undo", FAR)[0][0] != 100
        conn.rollback()
        assert conn.info.transaction_status == IDLE
    for reader in (other,):
        assert count(reader, "tx_undo") == 20
        assert nearest(reader, "tx_undo", FAR)[0][0] != 100
        assert reader.execute("SELECT title FROM tx_undo WHERE id = 6").fetchone() == ("t6",)
        ids = [row[0] for row in nearest(reader, "tx_undo", "[0,0,0,0]", 20)]
        assert sorted(ids) == list(range(1, 21))


def test_commit_publishes_writes_to_searches(server: ServerProcess, other) -> None:
    vectors = make_collection(other, "tx_commit")
    with psycopg.connect(server.dsn) as conn:
        conn.execute("INSERT INTO tx_commit (id, title, embedding) VALUES (100, 'new', %s)", (FAR,))
        conn.execute("DELETE FROM tx_commit WHERE id = 1")
        conn.execute("UPDATE tx_commit SET title = 'changed' WHERE id = 2")
        conn.commit()
    assert count(other, "tx_commit") == 20
    assert nearest(other, "tx_commit", FAR)[0][:2] == (100, "new")
    # The in-memory copy that searches read has the delete and the update.
    assert nearest(other, "tx_commit", format_vector(vectors[0]))[0][0] != 1
    assert nearest(other, "tx_commit", format_vector(vectors[1]))[0][:2] == (2, "changed")


def test_insert_returning_inside_a_block(server: ServerProcess, other) -> None:
    make_collection(other, "tx_returning", rows=3)
    with psycopg.connect(server.dsn) as conn:
        rows = conn.execute(
            "INSERT INTO tx_returning (id, title, embedding) VALUES (7, 'x', '[3,4,0,0]') "
            "RETURNING id, title, embedding <-> '[0,0,0,0]' AS d"
        ).fetchall()
        assert rows == [(7, "x", 5.0)]
        conn.rollback()
    assert other.execute("SELECT count(*) FROM tx_returning WHERE id = 7").fetchone() == (0,)


def test_knn_in_a_block_types_match_outside(server: ServerProcess, other) -> None:
    """After a write, the block's searches run in DuckDB: same columns, types and values."""
    make_collection(other, "tx_types", rows=10)
    query = "SELECT id, embedding, embedding <-> %s AS d FROM tx_types ORDER BY d LIMIT 3"
    expected = other.execute(query, ("[0,0,0,0]",), binary=True).fetchall()
    with psycopg.connect(server.dsn) as conn:
        conn.execute("UPDATE tx_types SET title = 'x' WHERE id = 1")
        for binary in (True, False):
            cursor = conn.execute(query, ("[0,0,0,0]",), binary=binary)
            rows = cursor.fetchall()
            assert [r[0] for r in rows] == [r[0] for r in expected]
            assert [r[2] for r in rows] == pytest.approx([r[2] for r in expected], rel=1e-6)
            assert cursor.description is not None
            assert [c.type_code for c in cursor.description] == [
                c.type_code for c in other.execute(query, ("[0,0,0,0]",)).description or []
            ]
        conn.rollback()


def test_error_fails_the_block_until_rollback(server: ServerProcess, other) -> None:
    make_collection(other, "tx_failed", rows=2)
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute("INSERT INTO tx_failed (id, title, embedding) VALUES (10, 'a', %s)", (FAR,))
        with pytest.raises(errors.UniqueViolation):
            conn.execute(
                "INSERT INTO tx_failed (id, title, embedding) VALUES (1, 'dup', %s)", (FAR,)
            )
        assert conn.info.transaction_status == INERROR
        with pytest.raises(errors.InFailedSqlTransaction):
            conn.execute("SELECT 1")
        with pytest.raises(errors.InFailedSqlTransaction):
            conn.execute("SAVEPOINT s")
        assert conn.info.transaction_status == INERROR
        # COMMIT of a failed block answers ROLLBACK, as Postgres does.
        assert conn.execute("COMMIT").statusmessage == "ROLLBACK"
        assert conn.info.transaction_status == IDLE
        assert count(conn, "tx_failed") == 2
    assert count(other, "tx_failed") == 2


def test_savepoints_roll_back_part_of_a_block(server: ServerProcess, other) -> None:
    make_collection(other, "tx_savepoint", rows=2)
    insert = "INSERT INTO tx_savepoint (id, title, embedding) VALUES (%s, 'x', %s)"
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("BEGIN")
        conn.execute(insert, (10, FAR))
        assert conn.execute("SAVEPOINT a").statusmessage == "SAVEPOINT"
        conn.execute(insert, (11, FAR))
        conn.execute("DELETE FROM tx_savepoint WHERE id = 1")
        assert conn.execute("ROLLBACK TO SAVEPOINT a").statusmessage == "ROLLBACK"
        assert conn.execute("SELECT id FROM tx_savepoint ORDER BY id").fetchall() == [
            (1,),
            (2,),
            (10,),
        ]
        # An error after a savepoint: ROLLBACK TO leaves the failed state and keeps the rest.
        conn.execute("SAVEPOINT b")
        conn.execute(insert, (12, FAR))
        with pytest.raises(errors.UniqueViolation):
            conn.execute(insert, (2, FAR))
        assert conn.info.transaction_status == INERROR
        conn.execute("ROLLBACK TO b")
        assert conn.info.transaction_status == INTRANS
        conn.execute(insert, (13, FAR))
        assert conn.execute("RELEASE SAVEPOINT b").statusmessage == "RELEASE"
        with pytest.raises(errors.InvalidSavepointSpecification):
            conn.execute("ROLLBACK TO b")  # released
        conn.execute("ROLLBACK TO a")  # the error failed the block; this leaves it again
        conn.execute(insert, (14, FAR))
        assert nearest(conn, "tx_savepoint", FAR, 3)[0][0] in (10, 14)
        conn.execute("COMMIT")
    rows = other.execute("SELECT id FROM tx_savepoint ORDER BY id").fetchall()
    assert rows == [(1,), (2,), (10,), (14,)]
    assert sorted(r[0] for r in nearest(other, "tx_savepoint", FAR, 10)) == [1, 2, 10, 14]


def test_savepoint_statements_outside_a_block(conn: psycopg.Connection) -> None:
    for sql, verb in (
        ("SAVEPOINT x", "SAVEPOINT"),
        ("RELEASE x", "RELEASE SAVEPOINT"),
        ("ROLLBACK TO x", "ROLLBACK TO SAVEPOINT"),
    ):
        with pytest.raises(errors.NoActiveSqlTransaction, match=f"{verb} can only be used"):
            conn.execute(sql)
    assert conn.info.transaction_status == IDLE


def test_commit_and_rollback_outside_a_block_warn(conn: psycopg.Connection) -> None:
    notices: list[tuple[str | None, ...]] = []
    conn.add_notice_handler(lambda n: notices.append((n.severity, n.sqlstate, n.message_primary)))
    assert conn.execute("COMMIT").statusmessage == "COMMIT"
    assert conn.execute("ROLLBACK").statusmessage == "ROLLBACK"
    assert notices == [("WARNING", "25P01", "there is no transaction in progress")] * 2
    conn.execute("BEGIN")
    conn.execute("BEGIN")
    assert notices[-1][1] == "25001"
    conn.execute("ROLLBACK")


def test_transaction_modes_are_accepted(conn: psycopg.Connection) -> None:
    for begin, tag in (
        ("BEGIN ISOLATION LEVEL SERIALIZABLE", "BEGIN"),
        ("BEGIN TRANSACTION READ WRITE, NOT DEFERRABLE", "BEGIN"),
        ("START TRANSACTION ISOLATION LEVEL REPEATABLE READ", "START TRANSACTION"),
    ):
        assert conn.execute(begin).statusmessage == tag
        assert conn.info.transaction_status == INTRANS
        assert conn.execute("SET TRANSACTION ISOLATION LEVEL READ COMMITTED").statusmessage == "SET"
        assert conn.execute("END").statusmessage == "COMMIT"
        assert conn.info.transaction_status == IDLE


def test_ddl_after_a_write_in_a_block_is_refused(server: ServerProcess, other) -> None:
    make_collection(other, "tx_ddl", rows=2)
    with psycopg.connect(server.dsn) as conn:
        for sql in (
            "CREATE TABLE tx_ddl_new (id BIGINT PRIMARY KEY, e vector(2))",
            "DROP TABLE tx_ddl",
            "CREATE INDEX ON tx_ddl USING ivf_flat (embedding) WITH (nlist = 2)",
            "FLUSH",
        ):
            conn.execute("INSERT INTO tx_ddl (id, title, embedding) VALUES (3, 'x', %s)", (FAR,))
            with pytest.raises(
                errors.ActiveSqlTransaction, match="cannot run inside a transaction block"
            ):
                conn.execute(sql)
            assert conn.info.transaction_status == INERROR
            conn.rollback()
    assert count(other, "tx_ddl") == 2
    with pytest.raises(errors.UndefinedTable):
        other.execute("SELECT * FROM tx_ddl_new")


def test_ddl_before_any_write_runs_at_once_with_a_notice(server: ServerProcess, other) -> None:
    """SQLAlchemy's create_all and Alembic send DDL inside BEGIN ... COMMIT."""
    with psycopg.connect(server.dsn) as conn:
        notices: list[str | None] = []
        conn.add_notice_handler(lambda n: notices.append(n.message_primary))
        conn.execute("CREATE TABLE tx_ddl_early (id BIGINT PRIMARY KEY, e vector(2))")
        assert conn.info.transaction_status == INTRANS
        assert notices == [
            "CREATE TABLE inside a transaction block commits at once; ROLLBACK does not undo it"
        ]
        conn.execute("INSERT INTO tx_ddl_early (id, e) VALUES (1, '[0,0]')")
        conn.rollback()
    # The table stays (it committed at once); the row written after it is rolled back.
    assert count(other, "tx_ddl_early") == 0


def test_write_write_conflict_is_a_serialization_failure(server: ServerProcess, other) -> None:
    make_collection(other, "tx_conflict", rows=3)
    with psycopg.connect(server.dsn) as first, psycopg.connect(server.dsn) as second:
        first.execute("UPDATE tx_conflict SET title = 'first' WHERE id = 1")
        with pytest.raises(errors.SerializationFailure):
            second.execute("UPDATE tx_conflict SET title = 'second' WHERE id = 1")
        assert second.info.transaction_status == INERROR
        second.rollback()
        first.commit()
        # Both insert id 50: the later COMMIT loses with a unique violation, as in Postgres.
        first.execute("INSERT INTO tx_conflict (id, title, embedding) VALUES (50, 'a', %s)", (FAR,))
        second.execute(
            "INSERT INTO tx_conflict (id, title, embedding) VALUES (50, 'b', %s)", (FAR,)
        )
        first.commit()
        with pytest.raises(errors.UniqueViolation):
            second.commit()
        assert second.info.transaction_status == IDLE
    assert other.execute(
        "SELECT title FROM tx_conflict WHERE id IN (1, 50) ORDER BY id"
    ).fetchall() == [
        ("first",),
        ("a",),
    ]
    assert nearest(other, "tx_conflict", FAR)[0][:2] == (50, "a")


def test_concurrent_blocks_insert_generated_ids(server: ServerProcess, other) -> None:
    other.execute("DROP TABLE IF EXISTS tx_serial")
    other.execute("CREATE TABLE tx_serial (id BIGSERIAL PRIMARY KEY, embedding vector(2))")
    with psycopg.connect(server.dsn) as first, psycopg.connect(server.dsn) as second:
        a = first.execute("INSERT INTO tx_serial (embedding) VALUES ('[1,1]') RETURNING id")
        b = second.execute("INSERT INTO tx_serial (embedding) VALUES ('[2,2]') RETURNING id")
        ids = [a.fetchall()[0][0], b.fetchall()[0][0]]
        second.rollback()
        first.commit()
    assert len(set(ids)) == 2
    assert other.execute("SELECT id FROM tx_serial").fetchall() == [(ids[0],)]
    # The rolled-back id is skipped, as a Postgres sequence does.
    other.execute("INSERT INTO tx_serial (embedding) VALUES ('[3,3]')")
    assert other.execute("SELECT max(id) FROM tx_serial").fetchone() == (max(ids) + 1,)


def test_multi_statement_query_is_one_transaction(conn: psycopg.Connection) -> None:
    make_collection(conn, "tx_implicit", rows=1)
    insert = "INSERT INTO tx_implicit (id, title, embedding) VALUES ({}, 'x', '[0,0,0,0]')"
    with pytest.raises(errors.UniqueViolation):
        conn.execute(f"{insert.format(5)}; {insert.format(1)}")  # no parameters: simple query
    assert conn.info.transaction_status == IDLE
    assert count(conn, "tx_implicit") == 1
    conn.execute(f"{insert.format(5)}; {insert.format(6)}")
    assert count(conn, "tx_implicit") == 3
    assert sorted(r[0] for r in nearest(conn, "tx_implicit", "[0,0,0,0]", 5)) == [1, 5, 6]
    # DDL in a multi-statement query commits what came before it.
    conn.execute(
        "DROP TABLE IF EXISTS tx_implicit2; CREATE TABLE tx_implicit2 (id BIGINT PRIMARY KEY); "
        "INSERT INTO tx_implicit2 VALUES (1); INSERT INTO tx_implicit2 VALUES (2)"
    )
    assert count(conn, "tx_implicit2") == 2


def test_copy_inside_a_block(server: ServerProcess, other) -> None:
    make_collection(other, "tx_copy", rows=1)
    for commit in (False, True):
        with psycopg.connect(server.dsn) as conn:
            with conn.cursor().copy("COPY tx_copy (id, title, embedding) FROM STDIN") as copy:
                copy.write_row((10, "copied", "[9,9,9,9]"))
                copy.write_row((11, "copied", "[8,8,8,8]"))
            assert count(conn, "tx_copy") == 3
            assert count(other, "tx_copy") == 1
            conn.commit() if commit else conn.rollback()
        assert count(other, "tx_copy") == (3 if commit else 1)
    assert nearest(other, "tx_copy", "[9,9,9,9]")[0][:2] == (10, "copied")


def test_closed_connection_rolls_back_its_block(server: ServerProcess, other) -> None:
    make_collection(other, "tx_abandon", rows=1)
    conn = psycopg.connect(server.dsn)
    conn.execute("UPDATE tx_abandon SET title = 'lost' WHERE id = 1")
    conn.close()
    # No conflict with the abandoned block: it is gone.
    other.execute("UPDATE tx_abandon SET title = 'kept' WHERE id = 1")
    assert other.execute("SELECT title FROM tx_abandon").fetchall() == [("kept",)]


def test_committed_block_survives_kill_9_and_open_one_leaves_no_trace(
    own_server: ServerProcess,
) -> None:
    with psycopg.connect(own_server.dsn, autocommit=True) as setup:
        make_collection(setup, "tx_durable", rows=2)
    committed = psycopg.connect(own_server.dsn)
    committed.execute("INSERT INTO tx_durable (id, title, embedding) VALUES (10, 'c', %s)", (FAR,))
    committed.execute("DELETE FROM tx_durable WHERE id = 1")
    committed.commit()
    pending = psycopg.connect(own_server.dsn)
    pending.execute("INSERT INTO tx_durable (id, title, embedding) VALUES (11, 'p', %s)", (FAR,))
    pending.execute("DELETE FROM tx_durable WHERE id = 2")
    own_server.kill()
    committed.close()
    pending.close()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        assert conn.execute("SELECT id FROM tx_durable ORDER BY id").fetchall() == [(2,), (10,)]
        assert nearest(conn, "tx_durable", FAR)[0][:2] == (10, "c")


def test_delete_then_insert_the_same_ids_in_a_block(server: ServerProcess, other) -> None:
    make_collection(other, "tx_reinsert", rows=3)
    insert = "INSERT INTO tx_reinsert (id, title, embedding) VALUES (%s, %s, %s)"
    with psycopg.connect(server.dsn) as conn:
        conn.execute("DELETE FROM tx_reinsert WHERE id IN (1, 2)")
        conn.execute(insert, (1, "again", FAR))
        with conn.cursor().copy("COPY tx_reinsert (id, title, embedding) FROM STDIN") as copy:
            copy.write_row((2, "copied", "[99,99,99,99]"))
        with pytest.raises(errors.UniqueViolation), conn.transaction():  # a savepoint
            conn.execute(insert, (3, "dup", FAR))  # fails the savepoint, not the block
        conn.commit()
    rows = other.execute("SELECT id, title FROM tx_reinsert ORDER BY id").fetchall()
    assert rows == [(1, "again"), (2, "copied"), (3, "t3")]
    found = nearest(other, "tx_reinsert", FAR, 10)
    assert [(r[0], r[1]) for r in found[:2]] == [(1, "again"), (2, "copied")]
    assert len(found) == 3


def test_flush_and_compact_while_another_block_is_open(server: ServerProcess, other) -> None:
    make_collection(other, "tx_flush", rows=4)
    with psycopg.connect(server.dsn) as conn:
        conn.execute("DELETE FROM tx_flush WHERE id = 4")
        other.execute("DELETE FROM tx_flush WHERE id = 1")
        other.execute("FLUSH")
        other.execute("COMPACT tx_flush")
        assert count(conn, "tx_flush") == 3
        conn.commit()
    assert other.execute("SELECT id FROM tx_flush ORDER BY id").fetchall() == [(2,), (3,)]
    assert sorted(r[0] for r in nearest(other, "tx_flush", FAR, 10)) == [2, 3]


def test_partition_key_rows_in_a_block(server: ServerProcess, other) -> None:
    """Rows of a partition-key collection go to their key's partition at COMMIT, not before."""
    other.execute(
        "CREATE COLLECTION tx_keyed (id BIGINT PRIMARY KEY, tenant TEXT, e VECTOR(2)) "
        "WITH (partition_key = 'tenant', num_partitions = 4)"
    )
    insert = "INSERT INTO tx_keyed VALUES (1, 'a', '[0,0]'), (2, 'b', '[1,1]'), (3, NULL, '[2,2]')"
    search = "SELECT id FROM tx_keyed WHERE tenant = %s ORDER BY e <-> '[0,0]' LIMIT 5"
    with psycopg.connect(server.dsn) as conn:
        conn.execute(insert)
        assert [r[0] for r in conn.execute(search, ("a",))] == [1]  # its own rows, in the block
        assert other.execute(search, ("a",)).fetchall() == []
        conn.rollback()
        assert count(other, "tx_keyed") == 0
        conn.execute(insert)
        conn.commit()
    assert [r[0] for r in other.execute(search, ("b",))] == [2]
    assert [r[0] for r in other.execute(search, ("a",))] == [1]
    assert count(other, "tx_keyed") == 3


def test_drop_of_what_another_block_wrote_is_refused(server: ServerProcess, other) -> None:
    """DROP PARTITION / DROP TABLE while another connection's block has pending writes to the
    collection: 55006, both connections usable; after COMMIT the drops go through. (A write
    racing the DROP makes COMMIT fail with 40001: tests/unit/engine.)"""
    other.execute("DROP TABLE IF EXISTS tx_drop")
    other.execute("CREATE COLLECTION tx_drop (id BIGINT PRIMARY KEY, e VECTOR(2))")
    other.execute("CREATE PARTITION p ON tx_drop")
    with psycopg.connect(server.dsn) as conn:
        conn.execute("INSERT INTO tx_drop PARTITION (p) VALUES (1, '[0,0]')")
        for statement in ("DROP PARTITION p ON tx_drop", "DROP TABLE tx_drop"):
            with pytest.raises(errors.ObjectInUse) as refused:
                other.execute(statement)
            assert refused.value.sqlstate == "55006"
            assert "because it is being used by an open transaction" in str(refused.value)
        assert other.execute("SHOW PARTITIONS FROM tx_drop").fetchall() == [
            ("_default", 0),
            ("p", 0),
        ]
        conn.commit()
    assert count(other, "tx_drop") == 1
    other.execute("DROP PARTITION p ON tx_drop")
    assert count(other, "tx_drop") == 0
    other.execute("DROP TABLE tx_drop")


def test_generated_ids_after_a_block_and_a_restart_do_not_repeat(
    own_server: ServerProcess,
) -> None:
    with psycopg.connect(own_server.dsn, autocommit=True) as setup:
        setup.execute("CREATE TABLE tx_gen (id BIGSERIAL PRIMARY KEY, e vector(2))")
    with psycopg.connect(own_server.dsn) as conn:  # a block: its ids come from memory
        ids = [
            conn.execute("INSERT INTO tx_gen (e) VALUES ('[0,0]') RETURNING id").fetchone()[0]
            for _ in range(3)
        ]
        conn.commit()
    own_server.kill()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        after = conn.execute("INSERT INTO tx_gen (e) VALUES ('[1,1]') RETURNING id").fetchone()[0]
        assert after > max(ids)
        assert conn.execute("SELECT count(DISTINCT id), count(*) FROM tx_gen").fetchone() == (4, 4)
