"""The ARC accounts' SQL: one service's unusable row leaves the others' forwarding alone."""

from __future__ import annotations

import psycopg

from server.domain.arc import ArcAccount, ReceiverPath
from server.store import arc as arc_sql
from server.store.pool import migrate


async def test_a_row_with_a_bad_key_is_left_out_and_the_others_are_kept(database_url: str) -> None:
    migrate(database_url)
    async with await psycopg.AsyncConnection.connect(database_url) as conn:
        for service in ("north", "south"):
            account = ArcAccount(
                service=service, account="0A12", primary=ReceiverPath("arc.example", 5000)
            )
            await arc_sql.put_account(conn, account, key_text=None)
        # Edited by hand, past what `carewatch arc set` and the API accept.
        await conn.execute(
            "UPDATE arc_accounts SET encryption_key = 'short' WHERE service = 'south'"
        )
        found = await arc_sql.accounts(conn)
    assert [a.service for a in found] == ["north"]
