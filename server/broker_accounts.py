"""Broker accounts in Mosquitto's password files, written the way ``mosquitto_passwd`` writes them.

Two files, one per listener (deploy/mosquitto/mosquitto.conf): ``passwords``
for hubs, who log in on the TLS listener with their hub id as username (and,
there, as client id; acl-hubs confines each to its own topics), and
``server-passwords`` for the server's own account on the internal listener.
Apart, no hub account can log in where the server's sessions live, nor take
their client ids. A file is replaced atomically under a lock, so the broker
never reads half of it; Mosquitto re-reads them on SIGHUP.

>>> line = password_line("hub-0001", "s3cret", salt=bytes(12))
>>> line.split("$")[:3]
['hub-0001:', '7', '101']
"""

from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import secrets
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = [
    "HUB_ACCOUNTS",
    "RESERVED_PREFIX",
    "SERVER_ACCOUNTS",
    "BrokerAccounts",
    "ensure_server_account",
    "password_line",
    "reserved_name_reason",
]

# The files the two listeners read (deploy/mosquitto/mosquitto.conf).
HUB_ACCOUNTS = "passwords"
SERVER_ACCOUNTS = "server-passwords"
# The platform's own broker accounts and client ids (carewatch-server,
# carewatch-server-alarms, the trial's carewatch-sim, any added later) begin
# so; a hub of that name would take one of their sessions over.
RESERVED_PREFIX = "carewatch-"

# Mosquitto 2's own format: $7$ is PBKDF2-SHA512, 101 iterations, 12-byte salt.
_ITERATIONS = 101


def password_line(username: str, password: str, *, salt: bytes | None = None) -> str:
    """``username:$7$101$salt$hash``, as ``mosquitto_passwd -b`` makes it."""
    if ":" in username or "\n" in username:
        raise ValueError("a broker username cannot contain ':' or a line break")
    salt = salt if salt is not None else secrets.token_bytes(12)
    digest = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, _ITERATIONS)
    encoded = (base64.b64encode(salt).decode(), base64.b64encode(digest).decode())
    return f"{username}:$7${_ITERATIONS}${encoded[0]}${encoded[1]}"


def reserved_name_reason(name: str, *, server_names: Iterable[str] = ()) -> str | None:
    """Why ``name`` cannot be a hub's broker account, or None.

    >>> reserved_name_reason("hub-0001") is None
    True
    >>> print(reserved_name_reason("carewatch-server"))
    carewatch-server is reserved for the platform's own broker accounts (names beginning carewatch-); choose another hub id, e.g. hub-0001
    >>> print(reserved_name_reason("cw", server_names=["cw", "cw-alarms"]))
    cw is the server's broker account or one of its client ids; choose another hub id, e.g. hub-0001
    """
    advice = "choose another hub id, e.g. hub-0001"
    if name in set(server_names):
        return f"{name} is the server's broker account or one of its client ids; {advice}"
    if name.casefold().startswith(RESERVED_PREFIX):
        return (
            f"{name} is reserved for the platform's own broker accounts "
            f"(names beginning {RESERVED_PREFIX}); {advice}"
        )
    return None


class BrokerAccounts:
    """One password file in ``directory`` (by default the hubs'), shared with the broker."""

    def __init__(self, directory: Path, *, file: str = HUB_ACCOUNTS) -> None:
        self.directory = directory
        self.path = directory / file
        self._hubs = file == HUB_ACCOUNTS

    def usernames(self) -> list[str]:
        """Accounts in the file, in order."""
        return [name for name, _ in self._read()]

    def set(self, username: str, password: str) -> None:
        """Create the account, or change its password; a reserved name is refused in the hubs' file."""
        if self._hubs and (reason := reserved_name_reason(username)):
            raise ValueError(reason)
        line = password_line(username, password)
        with self._locked():
            entries = [(n, text) for n, text in self._read() if n != username]
            entries.append((username, line))
            self._write(entries)

    def set_lines(self, lines: Mapping[str, str]) -> None:
        """Create or replace many accounts from ready-made :func:`password_line` lines, in one write.

        For a bulk import: the file is read and replaced once, not once an account.
        """
        if self._hubs:
            for username in lines:
                if reason := reserved_name_reason(username):
                    raise ValueError(reason)
        with self._locked():
            entries = [(n, text) for n, text in self._read() if n not in lines]
            entries += lines.items()
            self._write(entries)

    def ensure(self, username: str, password: str) -> bool:
        """Create the account if missing; True if it was written."""
        if username in self.usernames():
            return False
        self.set(username, password)
        return True

    def create_empty(self) -> bool:
        """Create the file with no accounts if it is missing (Mosquitto will not start without it)."""
        with self._locked():
            if self.path.exists():
                return False
            self._write([])
            return True

    def remove(self, username: str) -> bool:
        """Delete the account; False if there was none."""
        with self._locked():
            entries = self._read()
            kept = [(n, text) for n, text in entries if n != username]
            if len(kept) == len(entries):
                return False
            self._write(kept)
            return True

    def _read(self) -> list[tuple[str, str]]:
        if not self.path.exists():
            return []
        lines = self.path.read_text().splitlines()
        return [(line.split(":", 1)[0], line) for line in lines if ":" in line]

    def _write(self, entries: list[tuple[str, str]]) -> None:
        temporary = self.path.with_suffix(".new")
        temporary.write_text("".join(f"{text}\n" for _, text in entries))
        # Salted hashes, not passwords; the broker runs as its own user in its own
        # container and must be able to read the shared file.
        temporary.chmod(0o644)
        if self.path.exists():
            stat = self.path.stat()
            with suppress(PermissionError):
                os.chown(temporary, stat.st_uid, stat.st_gid)
        temporary.replace(self.path)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / f".{self.path.name}.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_server_account(directory: Path, username: str, password: str) -> bool:
    """Put the server's account in the internal listener's file, and only there; True if changed.

    Also creates the hubs' file, empty, before the first hub is added, and takes
    the server's account out of it, where versions before the split kept it.
    """
    changed = BrokerAccounts(directory, file=SERVER_ACCOUNTS).ensure(username, password)
    hubs = BrokerAccounts(directory)
    changed = hubs.create_empty() or changed
    return hubs.remove(username) or changed
