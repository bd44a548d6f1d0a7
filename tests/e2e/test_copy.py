"""COPY against a real server: psycopg and asyncpg in the three formats, bad data, CopyFail,
COPY TO STDOUT of a collection and of a query, and COPY through the extended protocol (libpq)."""

from __future__ import annotations

import asyncio
import io
import shutil
import socket
import struct
import subprocess
from collections.abc import Iterator
from pathlib import Path

import asyncpg
import numpy as np
import psycopg
import pytest
from pgvector.asyncpg import register_vector as register_vector_asyncpg
from pgvector.psycopg import register_vector
from psycopg import errors, pq

from sqlvec.testing import ServerProcess
from sqlvec.vectors import format_vector

DIM = 4
TITLES = [
    "plain",
    "tab\there",
    "new\nline",
    "back\\slash",
    'quote " and , comma',
    "",
    "ünïcødé",
    None,
]


@pytest.fixture
def conn(server: ServerProcess) -> Iterator[psycopg.Connection]:
    with psycopg.connect(server.dsn, autocommit=True) as connection:
        yield connection


def fresh(conn: psycopg.Connection, name: str) -> None:
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(
        f"CREATE TABLE {name} (id BIGINT PRIMARY KEY, title TEXT, score FLOAT8, flag BOOL, "
        f"embedding vector({DIM}))"
    )


def sample(count: int, seed: int = 1) -> np.ndarray:
    vectors = np.random.default_rng(seed).standard_normal((count, DIM)).astype(np.float32)
    vectors[0] = [1e-7, -0.0, 3.4028235e38, -1.1754944e-38]  # extremes of float4 text forms
    return vectors


def rows_of(conn: psycopg.Connection, name: str) -> list[tuple[object, ...]]:
    return conn.execute(
        f"SELECT id, title, score, flag, embedding FROM {name} ORDER BY id"
    ).fetchall()


def count(conn: psycopg.Connection, name: str) -> int:
    return int(conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0])  # type: ignore[index]


def vector_of(value: object) -> np.ndarray:
    """A vector read back: text, or pgvector's Vector once register_vector ran."""
    if not isinstance(value, str):
        return np.asarray(value.to_numpy(), dtype=np.float32)  # type: ignore[attr-defined]
    return np.array(value.strip("[]").split(","), dtype=np.float32)


def assert_written(conn: psycopg.Connection, name: str, vectors: np.ndarray) -> None:
    rows = rows_of(conn, name)
    assert [r[0] for r in rows] == list(range(len(vectors)))
    for i, row in enumerate(rows):
        assert row[1] == TITLES[i % len(TITLES)]
        assert row[2] == (None if i % 3 == 2 else i / 7)
        assert row[3] is (i % 2 == 0)
        assert np.array_equal(vector_of(row[4]), vectors[i])  # exact, bit for bit


def test_text_format_round_trip(conn: psycopg.Connection) -> None:
    fresh(conn, "cp_text")
    vectors = sample(20)
    with conn.cursor().copy("COPY cp_text (id, title, score, flag, embedding) FROM STDIN") as copy:
        for i, vector in enumerate(vectors):
            score = None if i % 3 == 2 else i / 7
            copy.write_row((i, TITLES[i % len(TITLES)], score, i % 2 == 0, format_vector(vector)))
    assert count(conn, "cp_text") == 20
    assert_written(conn, "cp_text", vectors)
    # Out again in text format: psycopg parses the lines back (escapes, \N).
    with conn.cursor().copy("COPY cp_text TO STDOUT") as copy:
        out = list(copy.rows())
    assert len(out) == 20
    for i, row in enumerate(sorted(out, key=lambda r: int(r[0]))):
        assert row[1] == TITLES[i % len(TITLES)]
        assert np.array_equal(vector_of(row[4]), vectors[i])
    # Back in through text COPY: the same rows.
    conn.execute("DELETE FROM cp_text")
    with conn.cursor().copy("COPY cp_text FROM STDIN") as copy:
        for row in out:
            copy.write_row(row)
    assert_written(conn, "cp_text", vectors)


def test_text_format_escapes_null_and_options(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_opts")
    conn.execute("CREATE TABLE cp_opts (id BIGINT PRIMARY KEY, title TEXT, embedding vector(2))")
    data = (
        "id|title|embedding\n"
        "1|a\\|b\\x41\\101\\n\\\\|[1,2]\n"
        "2|NULL|[3,4]\r\n"
        "3||[5,6]\n"
        "\\.\n"
        "4|ignored after the end marker|[7,8]\n"
    )
    with conn.cursor().copy(
        "COPY cp_opts FROM STDIN WITH (DELIMITER '|', NULL 'NULL', HEADER true)"
    ) as copy:
        copy.write(data)
    rows = conn.execute("SELECT id, title FROM cp_opts ORDER BY id").fetchall()
    assert rows == [(1, "a|bAA\n\\"), (2, None), (3, "")]
    with conn.cursor().copy("COPY cp_opts (title, id) TO STDOUT (DELIMITER '|', HEADER)") as copy:
        text = b"".join(bytes(chunk) for chunk in copy).decode()
    assert text == "title|id\na\\|bAA\\n\\\\|1\n\\N|2\n|3\n"


def test_csv_round_trip_with_header(conn: psycopg.Connection) -> None:
    fresh(conn, "cp_csv")
    vectors = sample(16, seed=2)
    with conn.cursor().copy(
        "COPY cp_csv (id, title, score, flag, embedding) FROM STDIN WITH (FORMAT csv, HEADER)"
    ) as copy:
        copy.write("id,title,score,flag,embedding\n")
        for i, vector in enumerate(vectors):
            title = TITLES[i % len(TITLES)]
            quoted = "" if title is None else '"' + title.replace('"', '""') + '"'
            score = "" if i % 3 == 2 else repr(i / 7)
            copy.write(
                f'{i},{quoted},{score},{"t" if i % 2 == 0 else "f"},"{format_vector(vector)}"\n'
            )
    assert_written(conn, "cp_csv", vectors)
    with conn.cursor().copy("COPY cp_csv TO STDOUT WITH CSV HEADER") as copy:
        text = b"".join(bytes(chunk) for chunk in copy)
    conn.execute("DROP TABLE cp_csv")
    fresh(conn, "cp_csv")
    with conn.cursor().copy("COPY cp_csv FROM STDIN WITH CSV HEADER") as copy:
        copy.write(text)
    assert_written(conn, "cp_csv", vectors)


def test_csv_quoting_rules(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_quotes")
    conn.execute("CREATE TABLE cp_quotes (id BIGINT PRIMARY KEY, title TEXT, note TEXT)")
    data = '1,"",\n2,a"b,c"d,"x\ny"\n3,"\\"q\\"",NA\n4,NA,"NA"\n'
    with conn.cursor().copy(
        "COPY cp_quotes FROM STDIN (FORMAT csv, ESCAPE '\\', NULL 'NA', FORCE_NOT_NULL (note))"
    ) as copy:
        copy.write(data)
    rows = conn.execute("SELECT id, title, note FROM cp_quotes ORDER BY id").fetchall()
    assert rows == [(1, "", ""), (2, "ab,cd", "x\ny"), (3, '"q"', "NA"), (4, None, "NA")]
    with conn.cursor().copy(
        "COPY cp_quotes TO STDOUT (FORMAT csv, NULL 'NA', FORCE_QUOTE (note))"
    ) as copy:
        text = b"".join(bytes(chunk) for chunk in copy).decode()
    # An empty string is quoted only where it would read as NULL (here NULL is 'NA').
    assert text == '1,,""\n2,"ab,cd","x\ny"\n3,"""q""","NA"\n4,NA,"NA"\n'


def test_binary_round_trip_with_pgvector_types(conn: psycopg.Connection) -> None:
    register_vector(conn)
    fresh(conn, "cp_bin")
    vectors = sample(30, seed=3)
    with conn.cursor().copy(
        "COPY cp_bin (id, title, score, flag, embedding) FROM STDIN WITH (FORMAT BINARY)"
    ) as copy:
        copy.set_types(["int8", "text", "float8", "bool", "vector"])
        for i, vector in enumerate(vectors):
            score = None if i % 3 == 2 else i / 7
            copy.write_row((i, TITLES[i % len(TITLES)], score, i % 2 == 0, vector))
    assert_written(conn, "cp_bin", vectors)
    with conn.cursor().copy("COPY cp_bin TO STDOUT WITH (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "text", "float8", "bool", "vector"])
        out = list(copy.rows())
    assert [row[0] for row in out] == list(range(30))
    for i, row in enumerate(out):
        assert row[1] == TITLES[i % len(TITLES)]
        assert np.array_equal(row[4].to_numpy(), vectors[i])


def binary_copy(ids: np.ndarray, vectors: np.ndarray) -> bytes:
    """A whole binary COPY stream of (id int8, embedding vector), built in bulk."""
    dim = vectors.shape[1]
    layout = np.dtype(
        [
            ("count", ">i2"),
            ("id_length", ">i4"),
            ("id", ">i8"),
            ("vector_length", ">i4"),
            ("dim", ">i2"),
            ("unused", ">i2"),
            ("values", ">f4", (dim,)),
        ]
    )
    rows = np.zeros(len(ids), dtype=layout)
    rows["count"], rows["id_length"], rows["id"] = 2, 8, ids
    rows["vector_length"], rows["dim"], rows["values"] = 4 + 4 * dim, dim, vectors
    header = b"PGCOPY\n\xff\r\n\x00" + struct.pack("!ii", 0, 0)
    return header + rows.tobytes() + struct.pack("!h", -1)


def test_binary_raw_buffer_in_bulk_with_nulls_between(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_raw")
    conn.execute("CREATE TABLE cp_raw (id BIGINT PRIMARY KEY, embedding vector(8))")
    vectors = np.random.default_rng(4).standard_normal((5000, 8)).astype(np.float32)
    data = binary_copy(np.arange(5000), vectors)
    with conn.cursor().copy("COPY cp_raw (id, embedding) FROM STDIN WITH (FORMAT BINARY)") as copy:
        for start in range(0, len(data), 7777):  # messages that cut rows anywhere
            copy.write(data[start : start + 7777])
    assert count(conn, "cp_raw") == 5000
    register_vector(conn)
    got = conn.execute("SELECT id, embedding FROM cp_raw WHERE id IN (0, 4321, 4999) ORDER BY id")
    for row_id, vector in got.fetchall():
        assert np.array_equal(vector.to_numpy(), vectors[row_id])
    # A table with a nullable scalar: rows with a NULL leave the bulk path and come back to it.
    conn.execute("DROP TABLE IF EXISTS cp_mixed")
    conn.execute("CREATE TABLE cp_mixed (id BIGINT PRIMARY KEY, year INT, embedding vector(2))")
    with conn.cursor().copy("COPY cp_mixed FROM STDIN (FORMAT BINARY)") as copy:
        copy.set_types(["int8", "int4", "vector"])
        for i in range(300):
            year = None if i % 50 == 7 else 2000 + i
            copy.write_row((i, year, np.array([i, -i], dtype=np.float32)))
    rows = conn.execute("SELECT id, year, embedding FROM cp_mixed ORDER BY id").fetchall()
    assert len(rows) == 300
    assert [r[1] for r in rows[:9]] == [2000, 2001, 2002, 2003, 2004, 2005, 2006, None, 2008]
    assert np.array_equal(rows[299][2].to_numpy(), [299, -299])


def test_generated_ids_and_column_subset(conn: psycopg.Connection) -> None:
    conn.execute("DROP COLLECTION IF EXISTS cp_gen")
    conn.execute("CREATE COLLECTION cp_gen (embedding vector(2), tag TEXT)")
    with conn.cursor().copy("COPY cp_gen (embedding) FROM STDIN") as copy:
        copy.write("[1,2]\n[3,4]\n")
    with conn.cursor().copy("COPY cp_gen (tag, embedding) FROM STDIN (FORMAT csv)") as copy:
        copy.write('x,"[5,6]"\n')
    rows = conn.execute("SELECT id, tag, embedding FROM cp_gen ORDER BY id").fetchall()
    assert rows == [(1, None, "[1,2]"), (2, None, "[3,4]"), (3, "x", "[5,6]")]


def test_copy_to_stdout_of_a_query(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_query")
    conn.execute("CREATE TABLE cp_query (id BIGINT PRIMARY KEY, embedding vector(2))")
    conn.execute("INSERT INTO cp_query VALUES (1, '[0,0]'), (2, '[1,1]'), (3, '[5,5]')")
    sql = "COPY (SELECT id, embedding <-> '[1,1]' AS d FROM cp_query ORDER BY d LIMIT 2) TO STDOUT"
    with conn.cursor().copy(sql) as copy:
        assert list(copy.rows()) == [("2", "0"), ("1", "1.4142135623730951")]
    with conn.cursor().copy(
        "COPY (SELECT count(*) AS n, max(id) AS top FROM cp_query) TO STDOUT WITH CSV HEADER"
    ) as copy:
        assert b"".join(bytes(c) for c in copy) == b"n,top\n3,3\n"
    with conn.cursor().copy(
        "COPY (SELECT id FROM cp_query WHERE id > 10) TO STDOUT (FORMAT binary)"
    ) as copy:
        assert list(copy.rows()) == []
    cursor = conn.cursor()
    with cursor.copy("COPY cp_query (embedding) TO STDOUT") as copy:
        assert sorted(row[0] for row in copy.rows()) == ["[0,0]", "[1,1]", "[5,5]"]
    assert cursor.rowcount == 3  # from the COPY 3 tag
    conn.execute("SELECT 1")


@pytest.mark.parametrize(
    ("data", "sqlstate", "message", "context"),
    [
        (
            "1\t[1,2,3,4]\nx\t[1,2,3,4]\n",
            "22P02",
            'invalid input syntax for type bigint: "x"',
            'COPY cp_bad, line 2, column id: "x"',
        ),
        (
            "1\t[1,2,3,4]\n2\t[1,2,oops,4]\n",
            "22P02",
            'invalid input syntax for type vector: "[1,2,oops,4]"',
            'COPY cp_bad, line 2, column embedding: "[1,2,oops,4]"',
        ),
        (
            "1\t[1,2,3,4]\n2\t[1,2,3]\n",
            "22000",
            "expected 4 dimensions, not 3",
            'COPY cp_bad, line 2, column embedding: "[1,2,3]"',
        ),
        (
            "1\t[1,2,3,4]\n2\t[1,2,3,4]\n1\t[1,2,3,4]\n",
            "23505",
            'duplicate key value violates unique constraint "cp_bad_pkey"',
            "COPY cp_bad, line 3",
        ),
        (
            "7\t[1,2,3,4]\n",
            "23505",
            'duplicate key value violates unique constraint "cp_bad_pkey"',
            "COPY cp_bad, line 1",
        ),
        (
            "1\t[1,2,3,4]\n2\t\\N\n",
            "23502",
            'null value in column "embedding" of relation "cp_bad" violates not-null constraint',
            'COPY cp_bad, line 2: "2\t\\N"',
        ),
        (
            "1\t[1,2,3,4]\t9\n",
            "22P04",
            "extra data after last expected column",
            'COPY cp_bad, line 1: "1\t[1,2,3,4]\t9"',
        ),
        (
            "1\t[NaN,2,3,4]\n",
            "22000",
            "NaN not allowed in vector",
            'COPY cp_bad, line 1, column embedding: "[NaN,2,3,4]"',
        ),
    ],
)
def test_bad_rows_are_rejected_and_nothing_is_written(
    conn: psycopg.Connection, data: str, sqlstate: str, message: str, context: str
) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_bad")
    conn.execute("CREATE TABLE cp_bad (id BIGINT PRIMARY KEY, embedding vector(4))")
    conn.execute("INSERT INTO cp_bad VALUES (7, '[7,7,7,7]')")
    with pytest.raises(psycopg.Error) as info, conn.cursor().copy("COPY cp_bad FROM STDIN") as copy:
        copy.write(data)
    diag = info.value.diag
    assert (diag.sqlstate, diag.message_primary, diag.context) == (sqlstate, message, context)
    assert count(conn, "cp_bad") == 1
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_bad_binary_rows(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_badbin")
    conn.execute("CREATE TABLE cp_badbin (id BIGINT PRIMARY KEY, embedding vector(4))")
    good = binary_copy(np.arange(100), np.ones((100, 4), dtype=np.float32))
    wrong_dim = binary_copy(np.arange(100, 101), np.ones((1, 3), dtype=np.float32))
    nan = np.ones((3, 4), dtype=np.float32)
    nan[2, 1] = np.nan
    cases = [
        (
            good[:-2] + wrong_dim[19:],
            "22000",
            "expected 4 dimensions, not 3",
            "COPY cp_badbin, line 101, column embedding",
        ),
        (
            binary_copy(np.arange(3), nan),
            "22000",
            "NaN not allowed in vector",
            "COPY cp_badbin, line 3",
        ),
        (b"PGCOPY\n\xff\r\n\x01" + bytes(8), "22P04", "COPY file signature not recognized", None),
        (
            good[:-2] + b"\x00\x03",
            "22P04",
            "row field count is 3, expected 2",
            "COPY cp_badbin, line 101",
        ),
        (good[:-5], "22P04", "unexpected EOF in COPY data", None),
        (good + b"\x00", "22P04", "received copy data after EOF marker", None),
        (
            good[:-2] + good[19:],
            "23505",
            'duplicate key value violates unique constraint "cp_badbin_pkey"',
            "COPY cp_badbin, line 101",
        ),
    ]
    for data, sqlstate, message, context in cases:
        with (
            pytest.raises(psycopg.Error) as info,
            conn.cursor().copy("COPY cp_badbin FROM STDIN (FORMAT binary)") as copy,
        ):
            copy.write(data)
        diag = info.value.diag
        assert (diag.sqlstate, diag.message_primary, diag.context) == (sqlstate, message, context)
        assert count(conn, "cp_badbin") == 0
    with conn.cursor().copy("COPY cp_badbin FROM STDIN (FORMAT binary)") as copy:
        copy.write(good)
    assert count(conn, "cp_badbin") == 100


def test_copy_fail_from_the_client(server: ServerProcess, conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_fail")
    conn.execute("CREATE TABLE cp_fail (id BIGINT PRIMARY KEY, embedding vector(2))")
    # psycopg sends CopyFail when the block raises, and re-raises the block's own exception.
    with pytest.raises(RuntimeError), conn.cursor().copy("COPY cp_fail FROM STDIN") as copy:
        copy.write("1\t[1,2]\n")
        raise RuntimeError("changed my mind")
    assert count(conn, "cp_fail") == 0
    assert conn.execute("SELECT 1").fetchone() == (1,)
    # What the server answers to CopyFail, seen through libpq.
    pgconn = pq.PGconn.connect(server.dsn.encode())
    try:
        pgconn.send_query(b"COPY cp_fail FROM STDIN")
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.COPY_IN
        pgconn.put_copy_data(b"1\t[1,2]\n")
        pgconn.put_copy_end(b"changed my mind")
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.FATAL_ERROR
        assert result.error_field(pq.DiagnosticField.SQLSTATE) == b"57014"
        assert result.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) == (
            b"COPY from stdin failed: changed my mind"
        )
        assert pgconn.get_result() is None
        assert pgconn.exec_(b"SELECT count(*) FROM cp_fail").get_value(0, 0) == b"0"
    finally:
        pgconn.finish()


def test_refusals(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_refuse")
    conn.execute("CREATE TABLE cp_refuse (id BIGINT PRIMARY KEY, embedding vector(2))")
    cases = [
        ("COPY cp_refuse FROM '/etc/passwd'", errors.FeatureNotSupported),
        ("COPY cp_refuse TO '/tmp/out.csv' WITH CSV", errors.FeatureNotSupported),
        ("COPY cp_refuse FROM PROGRAM 'cat /etc/passwd'", errors.FeatureNotSupported),
        ("COPY nope FROM STDIN", errors.UndefinedTable),
        ("COPY cp_refuse (nope) FROM STDIN", errors.UndefinedColumn),
        ("COPY cp_refuse FROM STDIN (FORMAT xml)", errors.InvalidParameterValue),
        ("COPY cp_refuse FROM STDIN (FORMAT binary, DELIMITER ',')", errors.SyntaxError),
        ("COPY cp_refuse FROM STDIN (FORMAT csv, FORMAT text)", errors.SyntaxError),
        ("COPY cp_refuse TO STDOUT (FORCE_QUOTE *)", errors.FeatureNotSupported),
        ("COPY cp_refuse FROM STDIN WHERE id > 1", errors.FeatureNotSupported),
    ]
    for sql, error in cases:
        with pytest.raises(error):
            conn.execute(sql)
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_copy_in_a_failed_transaction_block(conn: psycopg.Connection) -> None:
    conn.execute("DROP TABLE IF EXISTS cp_tx")
    conn.execute("CREATE TABLE cp_tx (id BIGINT PRIMARY KEY, embedding vector(2))")
    conn.autocommit = False
    with pytest.raises(errors.UndefinedTable):
        conn.execute("SELECT * FROM nope")
    with (
        pytest.raises(errors.InFailedSqlTransaction),
        conn.cursor().copy("COPY cp_tx FROM STDIN") as copy,
    ):
        copy.write("1\t[1,2]\n")
    conn.rollback()
    with conn.cursor().copy("COPY cp_tx FROM STDIN") as copy:
        copy.write("1\t[1,2]\n")
    conn.commit()
    assert count(conn, "cp_tx") == 1


def test_asyncpg_copy_records_and_copy_out(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cp_apg")
        conn.execute("CREATE TABLE cp_apg (id BIGINT PRIMARY KEY, title TEXT)")
        conn.execute("DROP TABLE IF EXISTS cp_apgv")
        conn.execute("CREATE TABLE cp_apgv (id BIGINT PRIMARY KEY, embedding vector(3))")
    vectors = np.random.default_rng(5).standard_normal((500, 3)).astype(np.float32)

    async def run() -> None:
        conn = await asyncpg.connect(host="127.0.0.1", port=server.port, user="sqlvec")
        try:
            # Binary COPY; asyncpg sends its CopyData before it has seen CopyInResponse.
            records = [(i, None if i % 10 == 3 else f"title {i}") for i in range(1000)]
            tag = await conn.copy_records_to_table(
                "cp_apg", records=records, columns=["id", "title"]
            )
            assert tag == "COPY 1000"
            assert await conn.fetchval("SELECT count(*) FROM cp_apg WHERE title IS NULL") == 100
            with pytest.raises(asyncpg.UniqueViolationError):
                await conn.copy_records_to_table("cp_apg", records=[(5, "again")])
            assert await conn.fetchval("SELECT count(*) FROM cp_apg") == 1000
            # Vectors need pgvector's codec, which reads the vector type from the catalog.
            await register_vector_asyncpg(conn)
            await conn.copy_records_to_table(
                "cp_apgv", records=[(i, v) for i, v in enumerate(vectors)]
            )
            rows = await conn.fetch("SELECT id, embedding FROM cp_apgv ORDER BY id")
            assert all(np.array_equal(r["embedding"].to_numpy(), vectors[r["id"]]) for r in rows)
            out = io.BytesIO()
            await conn.copy_from_query(
                "SELECT id, title FROM cp_apg WHERE id < 3 ORDER BY id", output=out, format="csv"
            )
            assert out.getvalue() == b"0,title 0\n1,title 1\n2,title 2\n"
            out = io.BytesIO()
            await conn.copy_from_table("cp_apgv", columns=["embedding"], output=out)
            assert len(out.getvalue().splitlines()) == 500
            assert await conn.fetchval("SELECT 1") == 1
        finally:
            await conn.close()

    asyncio.run(run())


def test_copy_through_the_extended_protocol(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cp_ext")
        conn.execute("CREATE TABLE cp_ext (id BIGINT PRIMARY KEY, embedding vector(2))")
    pgconn = pq.PGconn.connect(server.dsn.encode())
    try:
        assert pgconn.status == pq.ConnStatus.OK
        # PQsendQueryParams: Parse/Bind/Describe/Execute/Sync; the Sync arrives during COPY.
        pgconn.send_query_params(b"COPY cp_ext FROM STDIN", None)
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.COPY_IN
        pgconn.put_copy_data(b"1\t[1,2]\n2\t[3,4]\n")
        pgconn.put_copy_end()
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.COMMAND_OK
        assert result.command_status == b"COPY 2"
        assert pgconn.get_result() is None
        pgconn.send_query_params(b"COPY cp_ext TO STDOUT (FORMAT csv)", None)
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.COPY_OUT
        lines = []
        while True:
            size, data = pgconn.get_copy_data(0)
            if size < 0:
                break
            lines.append(bytes(data))
        assert sorted(lines) == [b'1,"[1,2]"\n', b'2,"[3,4]"\n']
        result = pgconn.get_result()
        assert result is not None and result.command_status == b"COPY 2"
        assert pgconn.get_result() is None
        # A bad row: ErrorResponse, then the messages up to Sync are skipped.
        pgconn.send_query_params(b"COPY cp_ext FROM STDIN", None)
        pgconn.get_result()
        pgconn.put_copy_data(b"3\t[oops]\n")
        pgconn.put_copy_end()
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.FATAL_ERROR
        assert result.error_field(pq.DiagnosticField.SQLSTATE) == b"22P02"
        while pgconn.get_result() is not None:
            pass
        # A simple Query with COPY and a statement after it.
        pgconn.send_query(b"COPY cp_ext FROM STDIN; SELECT count(*) FROM cp_ext")
        result = pgconn.get_result()
        assert result is not None and result.status == pq.ExecStatus.COPY_IN
        pgconn.put_copy_data(b"5\t[5,5]\n")
        pgconn.put_copy_end()
        result = pgconn.get_result()
        assert result is not None and result.command_status == b"COPY 1"
        result = pgconn.get_result()
        assert result is not None and result.get_value(0, 0) == b"3"
        assert pgconn.get_result() is None
    finally:
        pgconn.finish()


def test_copy_size_limit(own_server: ServerProcess, monkeypatch: pytest.MonkeyPatch) -> None:
    own_server.stop()
    monkeypatch.setenv("SQLVEC_MAX_COPY_BYTES", "1000")
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE cp_limit (id BIGINT PRIMARY KEY, embedding vector(2))")
        with (
            pytest.raises(errors.ProgramLimitExceeded),
            conn.cursor().copy("COPY cp_limit FROM STDIN") as copy,
        ):
            for i in range(200):
                copy.write(f"{i}\t[1,2]\n")
        assert count(conn, "cp_limit") == 0
        with conn.cursor().copy("COPY cp_limit FROM STDIN") as copy:
            copy.write("1\t[1,2]\n")
        assert count(conn, "cp_limit") == 1


def test_acknowledged_bulk_copy_survives_kill_9(own_server: ServerProcess) -> None:
    """More rows than a DuckDB row group, so DuckDB writes them to its file during the COPY,
    and a second COPY into the same table after the first: all there, bit for bit."""
    vectors = np.random.default_rng(8).standard_normal((140_000, 8)).astype(np.float32)
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE cp_kill (id BIGINT PRIMARY KEY, embedding vector(8))")
        for part in (slice(0, 130_000), slice(130_000, None)):
            ids = np.arange(len(vectors))[part]
            with conn.cursor().copy("COPY cp_kill FROM STDIN (FORMAT BINARY)") as copy:
                copy.write(binary_copy(ids, vectors[part]))
    own_server.kill()
    own_server.start()
    with psycopg.connect(own_server.dsn, autocommit=True) as conn:
        assert count(conn, "cp_kill") == len(vectors)
        register_vector(conn)
        got = conn.execute(
            "SELECT id, embedding FROM cp_kill WHERE id IN (0, 77777, 129999, 130000, 139999)"
        ).fetchall()
        assert len(got) == 5
        for row_id, vector in got:
            assert np.array_equal(vector.to_numpy(), vectors[row_id])
        nearest = conn.execute(
            "SELECT id FROM cp_kill ORDER BY embedding <-> %s LIMIT 1", (vectors[135_000],)
        ).fetchone()
        assert nearest == (135_000,)


def test_copy_data_pipelined_before_copy_in_response(server: ServerProcess) -> None:
    """Query, CopyData and CopyDone in one write, as asyncpg sends them, and a Sync and a
    Flush inside the COPY (ignored): the server reads them in order."""
    with psycopg.connect(server.dsn, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS cp_pipe")
        conn.execute("CREATE TABLE cp_pipe (id BIGINT PRIMARY KEY, embedding vector(2))")

    def message(type_byte: bytes, body: bytes = b"") -> bytes:
        return type_byte + struct.pack("!i", len(body) + 4) + body

    def replies(sock: socket.socket) -> list[tuple[bytes, bytes]]:
        """Messages up to and including ReadyForQuery."""
        received: list[tuple[bytes, bytes]] = []
        data = b""
        while not received or received[-1][0] != b"Z":
            while len(data) < 5 or len(data) < 1 + struct.unpack("!i", data[1:5])[0]:
                chunk = sock.recv(65536)
                assert chunk, "the server closed the connection"
                data += chunk
            size = struct.unpack("!i", data[1:5])[0]
            received.append((data[:1], data[5 : 1 + size]))
            data = data[1 + size :]
        return received

    with socket.create_connection(("127.0.0.1", server.port)) as sock:
        params = b"user\0sqlvec\0database\0sqlvec\0\0"
        sock.sendall(struct.pack("!ii", len(params) + 8, 196608) + params)
        replies(sock)
        sock.sendall(
            message(b"Q", b"COPY cp_pipe FROM STDIN\0")
            + message(b"d", b"1\t[1,2]\n2\t")
            + message(b"S")
            + message(b"H")
            + message(b"d", b"[3,4]\n")
            + message(b"c")
            + message(b"Q", b"SELECT count(*) FROM cp_pipe\0")
        )
        first = replies(sock)
        assert [t for t, _ in first] == [b"G", b"C", b"Z"]
        assert first[0][1] == b"\x00" + struct.pack("!hhh", 2, 0, 0)  # text, 2 columns
        assert first[1][1] == b"COPY 2\0"
        second = replies(sock)
        assert [t for t, _ in second] == [b"T", b"D", b"C", b"Z"]
        assert second[1][1].endswith(b"2")
        # A bad row ends the COPY at once (ErrorResponse, ReadyForQuery); what the client
        # still sends for that COPY is ignored, and the connection goes on.
        sock.sendall(
            message(b"Q", b"COPY cp_pipe FROM STDIN\0")
            + message(b"d", b"3\t[oops]\n")
            + message(b"d", b"4\t[4,4]\n")
            + message(b"c")
            + message(b"Q", b"SELECT count(*) FROM cp_pipe\0")
        )
        failed = replies(sock)
        assert [t for t, _ in failed] == [b"G", b"E", b"Z"]
        assert b"C22P02\0" in failed[1][1]
        after = replies(sock)
        assert [t for t, _ in after] == [b"T", b"D", b"C", b"Z"]
        assert after[1][1].endswith(b"2")
        # Any other message during COPY is an error (08P01); the connection stays usable.
        sock.sendall(
            message(b"Q", b"COPY cp_pipe FROM STDIN\0") + message(b"P", b"\0SELECT 1\0\0\0")
        )
        odd = replies(sock)
        assert [t for t, _ in odd] == [b"G", b"E", b"Z"]
        assert b"C08P01\0" in odd[1][1]
        assert b"unexpected message type 0x50 during COPY from stdin" in odd[1][1]
        sock.sendall(message(b"Q", b"SELECT 1\0"))
        assert [t for t, _ in replies(sock)] == [b"T", b"D", b"C", b"Z"]
        sock.sendall(message(b"X"))


def test_psql_backslash_copy(server: ServerProcess, tmp_path: Path) -> None:
    """psql's \\copy sends a local file through COPY FROM STDIN / TO STDOUT."""
    binary = shutil.which("psql")
    if binary is None:
        pytest.fail("psql is not installed (make test installs postgresql-client)")
    source = tmp_path / "in.tsv"
    source.write_text("1\t[1,2]\n2\t[3,4]\n")
    target = tmp_path / "out.csv"
    script = (
        "DROP TABLE IF EXISTS cp_psql;\n"
        "CREATE TABLE cp_psql (id BIGINT PRIMARY KEY, embedding vector(2));\n"
        f"\\copy cp_psql from '{source}'\n"
        f"\\copy (SELECT * FROM cp_psql ORDER BY id) to '{target}' with csv header\n"
    )
    command = [binary, "-X", "-h", "127.0.0.1", "-p", str(server.port), "-U", "sqlvec", "sqlvec"]
    result = subprocess.run(
        [*command, "-v", "ON_ERROR_STOP=1"],
        input=script,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n").count("COPY 2") == 2
    assert target.read_text() == 'id,embedding\n1,"[1,2]"\n2,"[3,4]"\n'
