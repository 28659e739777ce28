"""Hub accounts in Mosquitto's password file, written the way ``mosquitto_passwd`` writes them.

Each hub logs in to the broker with its hub id as username; the broker's ACL
(deploy/mosquitto/acl) confines it to its own topics. The file is replaced
atomically under a lock, so the broker never reads half of it; Mosquitto
re-reads it on SIGHUP.

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
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

__all__ = ["BrokerAccounts", "password_line"]

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


class BrokerAccounts:
    """The ``passwords`` file in ``directory``, shared with the broker."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / "passwords"

    def usernames(self) -> list[str]:
        """Accounts in the file, in order."""
        return [name for name, _ in self._read()]

    def set(self, username: str, password: str) -> None:
        """Create the account, or change its password."""
        line = password_line(username, password)
        with self._locked():
            entries = [(n, text) for n, text in self._read() if n != username]
            entries.append((username, line))
            self._write(entries)

    def ensure(self, username: str, password: str) -> bool:
        """Create the account if missing; True if it was written."""
        if username in self.usernames():
            return False
        self.set(username, password)
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
        with (self.directory / ".passwords.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)
