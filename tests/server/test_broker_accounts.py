"""The broker's two password files: hubs' accounts apart from the server's."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.broker_accounts import (
    HUB_ACCOUNTS,
    SERVER_ACCOUNTS,
    BrokerAccounts,
    ensure_server_account,
)


def test_the_servers_account_goes_to_its_own_file_and_the_hubs_file_exists(
    tmp_path: Path,
) -> None:
    assert ensure_server_account(tmp_path, "carewatch-server", "s3cret")
    assert BrokerAccounts(tmp_path, file=SERVER_ACCOUNTS).usernames() == ["carewatch-server"]
    # Mosquitto will not start without the hubs' file, empty before the first hub.
    assert (tmp_path / HUB_ACCOUNTS).read_text() == ""
    assert not ensure_server_account(tmp_path, "carewatch-server", "s3cret")


def test_the_servers_account_is_taken_out_of_the_hubs_file(tmp_path: Path) -> None:
    # Where versions before the split kept it: there it would log in on the hubs' listener.
    (tmp_path / HUB_ACCOUNTS).write_text("carewatch-server:$7$101$old$old\nhub-0001:$7$101$a$b\n")
    assert ensure_server_account(tmp_path, "carewatch-server", "s3cret")
    assert BrokerAccounts(tmp_path).usernames() == ["hub-0001"]
    assert BrokerAccounts(tmp_path, file=SERVER_ACCOUNTS).usernames() == ["carewatch-server"]


def test_the_hubs_file_refuses_reserved_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="reserved"):
        BrokerAccounts(tmp_path).set("carewatch-server", "x")
    assert not (tmp_path / HUB_ACCOUNTS).exists()
    BrokerAccounts(tmp_path, file=SERVER_ACCOUNTS).set("carewatch-sim", "x")  # a trial's simulator
