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

import json
from dataclasses import dataclass
from enum import StrEnum

__all__ = [
    "ResidentScope",
    "Role",
    "Viewer",
    "address_shown",
    "failure_shown",
    "may_act_on_alerts",
    "may_change_choices",
    "may_check_in",
    "may_edit_care_record",
    "may_see",
    "may_see_access_info",
    "may_see_activity",
    "may_see_contact_details",
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


def may_edit_care_record(viewer: Viewer, home: ResidentScope) -> bool:
    """The care record and contacts: the responders who work from it, and admins.

    >>> home = ResidentScope(resident_id=7, service="north", carer_ids=frozenset({3}))
    >>> may_edit_care_record(Viewer(5, "desk", Role.RESPONDER, service="north"), home)
    True
    >>> may_edit_care_record(Viewer(3, "amy", Role.CARER), home)
    False
    """
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


def may_see_contact_details(viewer: Viewer) -> bool:
    """Where notifications went and a failure's own words: admins only.

    Trails are read by residents, carers and responders, who need to know who
    was told, by name and role, not a co-carer's e-mail address, webhook URL or
    phone subscription; and a failure's text may quote the address or whatever
    the receiving service replied. Admins set those channels up and mend them.

    >>> may_see_contact_details(Viewer(1, "admin", Role.ADMIN))
    True
    >>> any(may_see_contact_details(Viewer(2, "x", r)) for r in Role if r is not Role.ADMIN)
    False
    """
    return viewer.role is Role.ADMIN


def address_shown(viewer: Viewer, channel: str, address: str) -> str | None:
    """A notification's address as ``viewer`` sees it: None unless they may see contact details.

    A push subscription is shown by its endpoint: its keys are secrets even
    from admins, who never need them.

    >>> admin, carer = Viewer(1, "admin", Role.ADMIN), Viewer(3, "amy", Role.CARER)
    >>> address_shown(carer, "email", "ben@example.org") is None
    True
    >>> address_shown(admin, "email", "ben@example.org")
    'ben@example.org'
    >>> push = '{"endpoint": "https://fcm.googleapis.com/x", "keys": {"auth": "s3cret"}}'
    >>> address_shown(admin, "webpush", push)
    'https://fcm.googleapis.com/x'
    """
    if not may_see_contact_details(viewer):
        return None
    if channel != "webpush":
        return address
    try:
        return str(json.loads(address)["endpoint"])
    except (ValueError, KeyError, TypeError):
        return "a push subscription that could not be read"


# A failure's reason in fixed words, by what its text says; first match wins.
# Only these words reach people who may not see contact details, so no
# address or reply quoted in the text can.
_PLAIN_REASONS = (
    (("timed out", "timeout", "did not answer", "no answer"), "no answer in time"),
    (
        (
            "not sent:",
            "cannot use",
            "must be",
            "cannot send",
            "no outgoing mail",
            "unknown channel",
        ),
        "the address cannot be used: it must be set up again",
    ),
    (("unreachable", "connect", "resolve", "name or service", "network"), "could not connect"),
    (("answered", "refused", "rejected", "error", "denied", "failed"), "refused by the receiver"),
)


def failure_shown(viewer: Viewer, error: str | None) -> str | None:
    """A failed delivery's reason as ``viewer`` sees it: word for word to admins, else plain.

    >>> carer = Viewer(3, "amy", Role.CARER)
    >>> failure_shown(carer, "push service answered 403 Forbidden")
    'refused by the receiver'
    >>> failure_shown(carer, "Failed to send to 10.0.0.5:8080: HTTPConnectionPool timed out")
    'no answer in time'
    >>> failure_shown(carer, "something odd")
    'not delivered'
    >>> failure_shown(Viewer(1, "admin", Role.ADMIN), "something odd")
    'something odd'
    """
    if error is None or may_see_contact_details(viewer):
        return error
    text = error.lower()
    for words, reason in _PLAIN_REASONS:
        if any(word in text for word in words):
            return reason
    return "not delivered"
