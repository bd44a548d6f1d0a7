"""set_config / current_setting and the startup `options` (PGOPTIONS) act on the session's
settings, as in Postgres: what SHOW and the searches read."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from sqlvec.session_statements import startup_options
from sqlvec.testing import ServerProcess


def test_set_config_changes_the_setting_and_current_setting_reads_it(
    conn: psycopg.Connection,
) -> None:
    assert conn.execute("SELECT set_config('ef_search', '77', false)").fetchone() == ("77",)
    assert conn.execute("SHOW ef_search").fetchone() == ("77",)
    assert conn.execute("SELECT current_setting('ef_search')").fetchone() == ("77",)
    conn.execute("SET ef_search = 88")  # a cached SQL text must not keep the old value
    assert conn.execute("SELECT current_setting('ef_search')").fetchone() == ("88",)
    row = conn.execute(
        "SELECT pg_catalog.set_config('statement_timeout', '2s', false) AS t, "
        "current_setting('statement_timeout')"
    )
    assert [c.name for c in row.description] == ["t", "current_setting"]
    assert row.fetchone() == ("2s", "2s")
    conn.execute("RESET ALL")


def test_current_setting_of_an_unknown_name(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.UndefinedObject):
        conn.execute("SELECT current_setting('no_such_setting')")
    assert conn.execute("SELECT current_setting('no_such_setting', true)").fetchone() == (None,)


def test_local_set_config_ends_with_the_block(server: ServerProcess) -> None:
    with psycopg.connect(server.dsn) as conn:  # a block
        conn.execute("SELECT set_config('nprobe', '5', true)")
        assert conn.execute("SHOW nprobe").fetchone() == ("5",)
        conn.commit()
        assert conn.execute("SHOW nprobe").fetchone() == ("16",)


def test_bad_values_are_refused(conn: psycopg.Connection) -> None:
    with pytest.raises(errors.InvalidParameterValue):
        conn.execute("SELECT set_config('ef_search', '0', false)")
    assert conn.execute("SELECT 1").fetchone() == (1,)


def test_startup_options_set_settings(server: ServerProcess) -> None:
    options = "-c statement_timeout=1234 -c ef_search=99 --nprobe=4"
    with psycopg.connect(server.dsn, options=options, autocommit=True) as conn:
        assert conn.execute("SHOW statement_timeout").fetchone() == ("1234ms",)
        assert conn.execute("SHOW ef_search").fetchone() == ("99",)
        assert conn.execute("SHOW nprobe").fetchone() == ("4",)


def test_startup_options_parsing() -> None:
    assert startup_options(r"-c a=1 -cb=2 --c-d=x\ y") == [("a", "1"), ("b", "2"), ("c_d", "x y")]
    assert startup_options("") == []
