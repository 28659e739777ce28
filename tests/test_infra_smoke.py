"""The test services themselves work: a sanity check that fails early and clearly."""

from __future__ import annotations

import psycopg

from server.store.migrate import available_migrations


def test_database_is_empty_and_writable(empty_database_url: str) -> None:
    with psycopg.connect(empty_database_url) as conn:
        tables = conn.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = 'public'"
        ).fetchone()
        conn.execute("CREATE TABLE t (x int)")
        conn.execute("INSERT INTO t VALUES (1)")
        row = conn.execute("SELECT count(*) FROM t").fetchone()
    assert tables == (0,)
    assert row == (1,)


def test_a_tests_database_comes_with_every_migration_and_is_its_own(
    database_url: str, postgres_server_url: str, migrated_template: str
) -> None:
    with psycopg.connect(database_url) as conn:
        applied = [v for (v,) in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
        conn.execute("INSERT INTO residents (name) VALUES ('Edith Clarke')")
    assert applied == [m.version for m in available_migrations()]
    # Copied from the template, not shared with it: a test's writes stay in its own database.
    template_url = psycopg.conninfo.make_conninfo(postgres_server_url, dbname=migrated_template)
    with psycopg.connect(template_url) as conn:
        assert conn.execute("SELECT count(*) FROM residents").fetchone() == (0,)
