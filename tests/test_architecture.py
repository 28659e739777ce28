"""The house's rules: the domain at the bottom, every dependency pointing one way.

Read from the source (every ``import``, at any depth in a module), so a change
that breaks a rule fails here, with the module and the import named.
See docs/architecture.md for what each room holds and why.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
STDLIB = frozenset(sys.stdlib_module_names) | {"__future__"}


def _imports(path: Path) -> Iterator[str]:
    """Every module a file imports, absolute."""
    package = ".".join(path.relative_to(ROOT).with_suffix("").parts[:-1])
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                yield f"{base}.{node.module}" if node.module else base
            elif node.module:
                yield node.module


def _modules(folder: str) -> list[Path]:
    return sorted((ROOT / folder).rglob("*.py")) if (ROOT / folder).is_dir() else [ROOT / folder]


def _within(name: str, allowed: tuple[str, ...]) -> bool:
    return any(name == a or name.startswith(a + ".") for a in allowed)


def _top(name: str) -> str:
    return name.split(".")[0]


def _edge(name: str) -> bool:
    return _top(name) not in {"server", "firmware_sim"}


def _protocol(name: str) -> bool:
    return _top(name) in STDLIB


def _domain(name: str) -> bool:
    return _top(name) in STDLIB or _within(name, ("edge.protocol", "server.domain"))


def _detect(name: str) -> bool:
    return (
        _top(name) in STDLIB
        # msgpack: the checkpoint's form (bytes in, bytes out), no I/O.
        or _top(name) in {"numpy", "sklearn", "msgpack"}
        or _within(name, ("edge.protocol", "server.domain", "server.detect"))
    )


def _store(name: str) -> bool:
    ours = _top(name) in {"server", "edge", "firmware_sim"}
    return not ours or _within(name, ("edge.protocol", "server.domain", "server.store"))


def _not_api(name: str) -> bool:
    return not _within(name, ("server.api",))


def _simulator(name: str) -> bool:
    return _top(name) != "server"


BELOW_THE_API = (
    "server/domain",
    "server/detect",
    "server/store",
    "server/alerts",
    "server/jobs",
    "server/arc",
    "server/scaip",
    "server/ingest",
    "server/routine",
    "server/evaluation",
    "server/cluster",
)

# (what the rule says, the modules it is about, what each of their imports must pass)
RULES: list[tuple[str, str, Callable[[str], bool]]] = [
    ("the hub's code imports nothing of the server or the simulator", "edge", _edge),
    ("the wire contract imports only the standard library", "edge/protocol.py", _protocol),
    (
        "the domain imports only the standard library and the wire contract",
        "server/domain",
        _domain,
    ),
    (
        "detectors import only the domain (and numpy, scikit-learn, msgpack)",
        "server/detect",
        _detect,
    ),
    ("the store imports only the domain (and its database driver)", "server/store", _store),
    *(
        (f"{below} is below the API and never imports it", below, _not_api)
        for below in BELOW_THE_API
    ),
    ("the simulator imports nothing of the server", "firmware_sim", _simulator),
    (
        "the cluster's partition plan imports only the standard library and the wire contract",
        "server/cluster/partitions.py",
        _domain,
    ),
]


@pytest.mark.parametrize(("what", "folder", "check"), RULES, ids=[r[0] for r in RULES])
def test_the_rule_holds(what: str, folder: str, check: Callable[[str], bool]) -> None:
    broken = [
        f"{path.relative_to(ROOT)} imports {name}"
        for path in _modules(folder)
        for name in _imports(path)
        if not check(name)
    ]
    assert not broken, f"{what}:\n" + "\n".join(broken)


def test_the_rules_see_the_imports() -> None:
    # A rule that reads nothing would pass for ever.
    names = set(_imports(ROOT / "server" / "ingest" / "service.py"))
    assert "server.domain.homes" in names
    assert "edge.protocol" in names
