"""Who may see and do what with a resident's record. Pure: the API asks, the database answers.

A carer sees the residents they are assigned to; a responder the residents of
their own service; a resident their own record; an admin everything. The
resident decides whether responders see their health notes and whether carers
see their daily activity.

>>> home = ResidentScope(resident_id=7, service="north", carer_ids=frozenset({3}))
>>> may_see(Viewer(3, "amy", Role.CARER), home)
True
>>> may_see(Viewer(4, "ben", Role.CARER), home)
False
>>> may_see(Viewer(5, "arc", Role.RESPONDER, service="south"), home)
False
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ResidentScope",
    "Role",
    "Viewer",
    "may_act_on_alerts",
    "may_change_choices",
    "may_check_in",
    "may_see",
    "may_see_access_info",
    "may_see_activity",
    "may_see_health_notes",
    "may_see_who_read",
    "may_set_away",
]


class Role(StrEnum):
    """What a user is to the service."""

    ADMIN = "admin"
    RESPONDER = "responder"
    CARER = "carer"
    RESIDENT = "resident"


@dataclass(frozen=True, slots=True)
class Viewer:
    """The signed-in user, as far as access is concerned."""

    user_id: int
    username: str
    role: Role
    # The service a responder works for; a resident's own record.
    service: str | None = None
    resident_id: int | None = None


@dataclass(frozen=True, slots=True)
class ResidentScope:
    """What decides who may see one resident."""

    resident_id: int
    service: str
    carer_ids: frozenset[int]
    share_health_notes: bool = False
    share_activity_with_carers: bool = True


def may_see(viewer: Viewer, home: ResidentScope) -> bool:
    """Whether the viewer may open the resident's record and alerts at all."""
    match viewer.role:
        case Role.ADMIN:
            return True
        case Role.RESPONDER:
            return viewer.service == home.service
        case Role.CARER:
            return viewer.user_id in home.carer_ids
        case Role.RESIDENT:
            return viewer.resident_id == home.resident_id


def may_act_on_alerts(viewer: Viewer, home: ResidentScope) -> bool:
    """Acknowledge, escalate, resolve and annotate the resident's alerts."""
    return viewer.role is not Role.RESIDENT and may_see(viewer, home)


def may_see_access_info(viewer: Viewer, home: ResidentScope) -> bool:
    """The key safe code and how to get in: for the people who may have to go in."""
    return viewer.role in (Role.RESPONDER, Role.ADMIN) and may_see(viewer, home)


def may_see_health_notes(viewer: Viewer, home: ResidentScope) -> bool:
    """The resident's own notes always; responders only with the resident's consent."""
    if viewer.role is Role.RESIDENT:
        return may_see(viewer, home)
    return (
        viewer.role in (Role.RESPONDER, Role.ADMIN)
        and home.share_health_notes
        and may_see(viewer, home)
    )


def may_see_activity(viewer: Viewer, home: ResidentScope) -> bool:
    """The room-by-room picture and the routine: carers only if the resident agreed."""
    if viewer.role is Role.CARER:
        return home.share_activity_with_carers and may_see(viewer, home)
    return may_see(viewer, home)


def may_set_away(viewer: Viewer, home: ResidentScope) -> bool:
    """The resident, their carers (a daughter taking her mother away) and admins."""
    return viewer.role in (Role.RESIDENT, Role.CARER, Role.ADMIN) and may_see(viewer, home)


def may_check_in(viewer: Viewer, home: ResidentScope) -> bool:
    """Only the resident says "I'm OK" for themselves."""
    return viewer.role is Role.RESIDENT and may_see(viewer, home)


def may_change_choices(viewer: Viewer, home: ResidentScope) -> bool:
    """Consent and the check-in time are the resident's (an admin may set them on their behalf)."""
    return viewer.role in (Role.RESIDENT, Role.ADMIN) and may_see(viewer, home)


def may_see_who_read(viewer: Viewer, home: ResidentScope) -> bool:
    """The record's read log: the resident, and admins who answer for it."""
    return viewer.role in (Role.RESIDENT, Role.ADMIN) and may_see(viewer, home)
