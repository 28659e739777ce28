"""Sensor drivers, found by name in the ``carewatch.drivers`` entry-point group.

The agent knows no driver's package: zigbee2mqtt registers from
``edge.agent.zigbee_driver``, the simulator from its own package (installed
only with ``carewatch[sim]``), and a council's own driver from its own
package. Each entry point names a factory ``(AgentSettings) -> Driver``.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import TYPE_CHECKING, Final

from edge.agent.drivers import Driver

if TYPE_CHECKING:
    from edge.agent.settings import AgentSettings

__all__ = ["DRIVER_GROUP", "DriverFactory", "installed_drivers", "load_driver"]

DRIVER_GROUP: Final = "carewatch.drivers"

DriverFactory = Callable[["AgentSettings"], Driver]


def installed_drivers() -> list[str]:
    """The names of the drivers this installation has, sorted."""
    return sorted({ep.name for ep in entry_points(group=DRIVER_GROUP)})


def load_driver(settings: AgentSettings) -> Driver:
    """The driver the settings name, made from them; ValueError says what to configure."""
    installed = installed_drivers()
    names = ", ".join(installed) or "none"
    if settings.driver is None:
        # A hub left unconfigured must not quietly watch a simulated resident.
        raise ValueError(
            'no sensor driver is configured: set driver = "zigbee2mqtt" in agent.toml '
            "(or --driver / CAREWATCH_AGENT_DRIVER). 'sim' simulates a resident and is for "
            f"trials only. Installed drivers: {names}"
        )
    found = [ep for ep in entry_points(group=DRIVER_GROUP) if ep.name == settings.driver]
    if not found:
        hint = (
            " (the simulator comes with: pip install 'carewatch[sim]')"
            if settings.driver == "sim"
            else ""
        )
        raise ValueError(f"no driver {settings.driver!r} is installed{hint}; installed: {names}")
    factory: DriverFactory = found[0].load()
    return factory(settings)
