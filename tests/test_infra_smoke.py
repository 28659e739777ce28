"""The test services themselves work: a sanity check that fails early and clearly."""

from __future__ import annotations

import psycopg


def test_database_is_empty_and_writable(database_url: str) -> None:
    with psycopg.connect(database_url) as conn:
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        row = conn.execute("SELECT count(*) FROM t").fetchone()
    assert row == (1,)
