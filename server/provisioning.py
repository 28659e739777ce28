"""Provisioning a hub (its record, password, broker account, the agent's settings) and revoking it."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from edge.protocol import ProtocolError, validate_hub_id
from server.broker_accounts import BrokerAccounts, reserved_name_reason
from server.passwords import generate_password, hash_password
from server.store import people
from server.store.pool import DbConn

__all__ = ["HubTaken", "ProvisionedHub", "RevokedHub", "provision_hub", "revoke_hub"]


class HubTaken(ValueError):
    """A hub with that id is already provisioned."""


@dataclass(slots=True, frozen=True)
class ProvisionedHub:
    """What the installer needs, shown once."""

    hub: str
    resident: str
    password: str
    broker_url: str
    broker_account_written: bool

    def agent_settings(self) -> dict[str, str]:
        """The agent's settings for /etc/carewatch/agent.env."""
        scheme, _, address = self.broker_url.partition("://")
        return {
            "CAREWATCH_AGENT_HUB_ID": self.hub,
            "CAREWATCH_AGENT_MQTT_URL": f"{scheme}://{self.hub}:{quote(self.password, safe='')}@{address}",
        }


async def provision_hub(
    conn: DbConn,
    hub: str,
    *,
    resident: str,
    timezone: str,
    credentials_dir: Path | None,
    broker_url: str | None,
    server_names: Collection[str] = (),
) -> ProvisionedHub:
    """Create the hub in the resident's home (the resident too if new); ValueError says what is wrong.

    ``server_names`` are the server's broker account and client ids: a hub of
    such a name would log in with, or take over, one of the server's sessions.
    """
    try:
        validate_hub_id(hub)
        ZoneInfo(timezone)
    except ZoneInfoNotFoundError:
        raise ValueError(f"unknown time zone {timezone!r}; use e.g. Europe/London") from None
    except ProtocolError as exc:
        raise ValueError(exc.reason) from None
    # Before anything is written: the database and both password files stay as they were.
    if reason := reserved_name_reason(hub, server_names=server_names):
        raise ValueError(reason)
    if not resident.strip():
        raise ValueError("the resident's name is empty")
    password = generate_password()
    async with conn.transaction():
        resident_id = await people.ensure_resident(conn, resident, timezone=timezone)
        if not await people.add_hub(conn, hub, resident_id, password_hash=hash_password(password)):
            raise HubTaken(f"hub {hub} is already provisioned")
    if credentials_dir is not None:
        BrokerAccounts(credentials_dir).set(hub, password)
    return ProvisionedHub(
        hub=hub,
        resident=resident,
        password=password,
        broker_url=broker_url or "mqtts://BROKER-ADDRESS:8883",
        broker_account_written=credentials_dir is not None,
    )


@dataclass(slots=True, frozen=True)
class RevokedHub:
    """What revoking changed: the hub's record, its broker account."""

    in_database: bool
    broker_account_removed: bool


async def revoke_hub(conn: DbConn, hub: str, *, credentials_dir: Path | None) -> RevokedHub:
    """Lock the hub out: refused by the server, its broker account gone; its history stays."""
    revoked = await people.revoke_hub(conn, hub)
    removed = credentials_dir is not None and BrokerAccounts(credentials_dir).remove(hub)
    return RevokedHub(in_database=revoked, broker_account_removed=removed)
