"""Erasing a resident (the right to erasure): their hubs locked out first, then every row."""

from __future__ import annotations

from pathlib import Path

from server.broker_accounts import BrokerAccounts
from server.store import erasure as erasure_sql
from server.store.erasure import ErasedResident
from server.store.pool import DbConn

__all__ = ["ErasedResident", "erase_resident"]


async def erase_resident(
    conn: DbConn, resident_id: int, *, credentials_dir: Path | None
) -> ErasedResident | None:
    """Remove the hubs' broker accounts, then everything held about the resident."""
    hubs = await erasure_sql.hubs_of(conn, resident_id)
    # The broker first: from now on the home's hub cannot publish, so nothing new
    # about the resident arrives while (and after) the rows go.
    if credentials_dir is not None:
        accounts = BrokerAccounts(credentials_dir)
        for hub in hubs:
            accounts.remove(hub)
    return await erasure_sql.erase_resident(conn, resident_id)
