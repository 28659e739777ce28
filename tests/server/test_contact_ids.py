"""Migration 040 against the real PostgreSQL: ticks made by place move onto the contact."""

from __future__ import annotations

import psycopg
from psycopg.types.json import Jsonb

from server.store.migrate import apply_migrations, available_migrations

BY_ID = 40


def test_ticks_by_place_on_an_open_alert_move_onto_the_contact_at_that_place(
    empty_database_url: str,
) -> None:
    with psycopg.connect(empty_database_url, autocommit=True) as conn:
        # The schema as it was before contacts had ids.
        conn.execute(
            "CREATE TABLE schema_migrations (version integer PRIMARY KEY, name text NOT NULL,"
            " applied_at timestamptz NOT NULL DEFAULT now())"
        )
        for migration in available_migrations():
            if migration.version < BY_ID:
                conn.execute(migration.sql.encode())
                conn.execute(
                    "INSERT INTO schema_migrations (version, name) VALUES (%s, %s)",
                    (migration.version, migration.name),
                )
        (resident,) = (
            conn.execute(
                "INSERT INTO residents (name) VALUES ('Edith Clarke') RETURNING id"
            ).fetchone()
            or ()
        )
        for position, name in ((1, "Jo Clarke"), (2, "Dr Ahmed")):
            conn.execute(
                "INSERT INTO resident_contacts (resident_id, position, name, phone, kind)"
                " VALUES (%s, %s, %s, '+442079460011', 'next_of_kin')",
                (resident, position, name),
            )
        ticked = ["call-resident", "call-contact-2", "call-contact-7"]
        alerts = {
            status: conn.execute(
                "INSERT INTO alerts (resident_id, kind, severity, status, event_at, reason,"
                " details) VALUES (%s, %s, 'emergency', %s, now(), 'Fall detected', %s)"
                " RETURNING id",
                (resident, kind, status, Jsonb({"steps_done": ticked})),
            ).fetchone()
            for status, kind in (("acknowledged", "fall"), ("resolved", "pendant"))
        }

        assert [m for m in apply_migrations(conn) if m.startswith("040_")] == [
            "040_contact_ids.sql"
        ]

        ids: dict[str, str] = dict(
            conn.execute(
                "SELECT name, contact_id::text FROM resident_contacts WHERE resident_id = %s",
                (resident,),
            ).fetchall()
        )
        assert len(set(ids.values())) == 2

        def done(status: str) -> object:
            row = alerts[status]
            assert row is not None
            return conn.execute(
                "SELECT details->'steps_done' FROM alerts WHERE id = %s", (row[0],)
            ).fetchone()

        # Dr Ahmed was second when it was ticked; a place nobody holds stays as it was.
        assert done("acknowledged") == (
            ["call-resident", f"call-contact-{ids['Dr Ahmed']}", "call-contact-7"],
        )
        # A closed alert's ticks are history: left alone, its trail has the words.
        assert done("resolved") == (ticked,)
