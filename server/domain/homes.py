"""A home as the server sees it: a provisioned hub and the resident who lives there."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["HubHome"]


@dataclass(slots=True, frozen=True)
class HubHome:
    """A provisioned hub and the resident whose home it is in."""

    hub: str
    resident_id: int
    resident: str
    timezone: str
