"""The care record and contacts a call handler works from, and the key safe code on demand."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, HTTPException, status
from pydantic import BaseModel, Field, field_validator

from server.api.deps import CurrentUser, ResidentId, Services, ServicesDep, viewer_of
from server.domain.access import (
    ResidentScope,
    Viewer,
    may_edit_care_record,
    may_see,
    may_see_access_info,
)
from server.domain.record import (
    MAX_CONTACTS,
    MAX_HAZARDS,
    CareRecord,
    ContactKind,
    Part,
    RecordContact,
    ResuscitationStatus,
    hazard_list,
    parts_shown,
)
from server.phones import phone_display, phone_number, tel_uri
from server.store import care_record as record_sql
from server.store import people
from server.store import residents as residents_sql

__all__ = ["PhoneOut", "phone_out", "record_in_reach", "router"]

router = APIRouter(prefix="/api/v1/residents", tags=["care record"])

_REFUSED: dict[int | str, dict[str, Any]] = {
    403: {"description": "not allowed this part of the resident's record (logged)"},
    404: {"description": "no such resident"},
}


class PhoneOut(BaseModel):
    """A number as stored (E.164), as read out, and the link that dials it."""

    e164: str
    display: str
    tel: str = Field(description="an RFC 3966 tel: URI: one click dials it")


def phone_out(e164: str) -> PhoneOut | None:
    """The number for the page, or None when there is none."""
    if not e164:
        return None
    return PhoneOut(e164=e164, display=phone_display(e164), tel=tel_uri(e164))


class HealthOut(BaseModel):
    """What a crew asks for first."""

    medical_summary: str
    allergies: str
    medication: str
    resuscitation: ResuscitationStatus
    resuscitation_words: str
    resuscitation_form_at: str = Field(description="where the DNACPR or ReSPECT form is kept")


class AccessOut(BaseModel):
    """How to get in; the key safe code itself only through POST .../record/key-safe."""

    notes: str
    has_key_safe_code: bool


class ContactOut(BaseModel):
    """Someone to call, in call order."""

    id: str = Field(description="the contact's own id, kept when the order changes")
    position: int
    name: str
    relationship: str
    kind: ContactKind
    keyholder: bool
    username: str | None = Field(description="their login, if they have one")
    phone: PhoneOut | None = Field(description="for responders, admins and the resident")


class CareRecordOut(BaseModel):
    """The care record as the viewer may see it: parts withheld are null."""

    resident_id: int
    name: str
    phone: PhoneOut | None
    address: str
    hazards: list[str]
    language: str
    hearing_sight: str
    access: AccessOut | None = Field(description="responders and admins only")
    health: HealthOut | None = Field(
        description="the resident; responders and admins if the resident agreed"
    )
    contacts: list[ContactOut]
    may_edit: bool
    may_reveal_key_safe: bool


def _checked_phone(value: str) -> str:
    return phone_number(value) if value.strip() else ""


class CareRecordChange(BaseModel):
    """A new care record; fields left out (or null) stay as they are."""

    phone: str | None = Field(default=None, max_length=40, description="'' removes it")
    address: str | None = Field(default=None, max_length=500)
    access_notes: str | None = Field(default=None, max_length=1_000)
    key_safe_code: str | None = Field(
        default=None, max_length=40, description="'' removes it; never shown in the record"
    )
    medical_summary: str | None = Field(default=None, max_length=4_000)
    allergies: str | None = Field(default=None, max_length=1_000)
    medication: str | None = Field(default=None, max_length=2_000)
    resuscitation: ResuscitationStatus | None = None
    resuscitation_form_at: str | None = Field(default=None, max_length=300)
    hazards: list[str] | None = Field(default=None, max_length=MAX_HAZARDS)
    language: str | None = Field(default=None, max_length=100)
    hearing_sight: str | None = Field(default=None, max_length=500)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else _checked_phone(value)

    @field_validator("hazards")
    @classmethod
    def _hazards(cls, value: list[str] | None) -> list[str] | None:
        return None if value is None else list(hazard_list(value))


class ContactIn(BaseModel):
    """A contact, as entered."""

    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(default="", max_length=100, description="daughter, GP, warden…")
    phone: str = Field(min_length=1, max_length=40)
    kind: ContactKind = ContactKind.FAMILY_OR_FRIEND
    keyholder: bool = False
    username: str | None = Field(default=None, max_length=100, description="if they sign in")
    id: str = Field(
        default="",
        max_length=40,
        description="as the record gave it, so an open alert's ticks stay on this person;"
        " '' (or left out): matched by name, else a new contact",
    )

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str) -> str:
        return phone_number(value)

    @field_validator("name", "relationship")
    @classmethod
    def _trimmed(cls, value: str) -> str:
        return " ".join(value.split())


class ContactsIn(BaseModel):
    """The resident's contacts, first to call first."""

    contacts: list[ContactIn] = Field(max_length=MAX_CONTACTS)


class KeySafeOut(BaseModel):
    """The code, and that showing it was logged."""

    code: str = Field(description="'' when none is on file")
    shown_at: datetime
    logged_as: str


async def record_in_reach(
    services: Services,
    user: people.User,
    resident_id: int,
    what: str,
    rule: Callable[[Viewer, ResidentScope], bool] = may_see,
    refusal: str = "you are not one of this resident's carers or responders",
) -> ResidentScope:
    """The resident's scope if ``rule`` lets the user do ``what``; every attempt logged once.

    Unlike ``resident_in_reach`` followed by a rule, the one log row says whether
    the attempt was let through: a carer asking for the key safe code is logged
    as refused, not as a read.
    """
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        home = await residents_sql.scope(conn, resident_id)
        if home is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {resident_id}")
        allowed = may_see(viewer, home) and rule(viewer, home)
        await residents_sql.log_read(conn, viewer, resident_id, what, allowed=allowed)
    if not allowed:
        raise HTTPException(
            status.HTTP_403_FORBIDDEN, detail=f"{refusal}; the attempt has been logged"
        )
    return home


async def _record_out(services: Services, user: people.User, home: ResidentScope) -> CareRecordOut:
    viewer = viewer_of(user)
    async with services.pool.connection() as conn:
        stored = await record_sql.care_record(conn, home.resident_id)
        listed = await record_sql.contacts(conn, home.resident_id)
        found = await residents_sql.record(conn, home.resident_id)
    if stored is None or found is None:  # erased between the check and now
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {home.resident_id}")
    parts = parts_shown(viewer.role, health_shared=found.share_health_notes)
    record = stored.record
    return CareRecordOut(
        resident_id=home.resident_id,
        name=found.name,
        phone=phone_out(record.phone),
        address=record.address,
        hazards=list(record.hazards),
        language=record.language,
        hearing_sight=record.hearing_sight,
        access=AccessOut(notes=record.access_notes, has_key_safe_code=stored.has_key_safe_code)
        if Part.ACCESS in parts
        else None,
        health=HealthOut(
            medical_summary=record.medical_summary,
            allergies=record.allergies,
            medication=record.medication,
            resuscitation=record.resuscitation,
            resuscitation_words=record.resuscitation.words,
            resuscitation_form_at=record.resuscitation_form_at,
        )
        if Part.HEALTH in parts
        else None,
        contacts=[
            ContactOut(
                id=c.id,
                position=c.position,
                name=c.name,
                relationship=c.relationship,
                kind=c.kind,
                keyholder=c.keyholder,
                username=c.username,
                phone=phone_out(c.phone) if Part.CONTACT_PHONES in parts else None,
            )
            for c in listed
        ],
        may_edit=may_edit_care_record(viewer, home),
        may_reveal_key_safe=may_see_access_info(viewer, home),
    )


@router.get("/{resident_id}/record", responses=_REFUSED)
async def get_care_record(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId
) -> CareRecordOut:
    """The care record and contacts in call order, as much as you may see (the read is logged)."""
    home = await record_in_reach(services, user, resident_id, "care record")
    return await _record_out(services, user, home)


# The fields of a change and the CareRecord fields they set.
_RECORD_FIELDS = (
    "phone",
    "address",
    "access_notes",
    "medical_summary",
    "allergies",
    "medication",
    "resuscitation",
    "resuscitation_form_at",
    "hazards",
    "language",
    "hearing_sight",
)


@router.put("/{resident_id}/record", responses={**_REFUSED, 422: {}})
async def change_care_record(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, change: CareRecordChange
) -> CareRecordOut:
    """Change the care record (responders and admins); fields left out stay as they are.

    The change is logged with the names of the fields it changed (never their values).
    """
    given = change.model_dump(exclude_none=True)
    changed = sorted(k for k in given if k in _RECORD_FIELDS or k == "key_safe_code")
    home = await record_in_reach(
        services,
        user,
        resident_id,
        f"care record (change: {', '.join(changed) or 'nothing'})",
        may_edit_care_record,
        "responders and admins change the care record",
    )
    async with services.pool.connection() as conn:
        stored = await record_sql.care_record(conn, resident_id)
        if stored is None:
            raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {resident_id}")
        fields = {k: v for k, v in given.items() if k in _RECORD_FIELDS}
        if "hazards" in fields:
            fields["hazards"] = tuple(fields["hazards"])
        try:
            record: CareRecord = replace(stored.record, **fields)
        except ValueError as problem:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT, detail=str(problem)
            ) from None
        await record_sql.save_care_record(
            conn, resident_id, record, key_safe_code=change.key_safe_code
        )
    return await _record_out(services, user, home)


@router.put("/{resident_id}/record/contacts", responses={**_REFUSED, 422: {}})
async def set_contacts(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId, new: ContactsIn
) -> CareRecordOut:
    """Replace the resident's contacts (responders and admins), first to call first."""
    home = await record_in_reach(
        services,
        user,
        resident_id,
        "contacts (change)",
        may_edit_care_record,
        "responders and admins change the contacts",
    )
    usernames = [c.username for c in new.contacts if c.username]
    async with services.pool.connection() as conn:
        unknown = await record_sql.unknown_usernames(conn, usernames)
        if unknown:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_CONTENT,
                detail=f"no account {unknown[0]!r}: leave the login empty for someone who "
                "does not sign in",
            )
        await record_sql.replace_contacts(
            conn,
            resident_id,
            [
                RecordContact(
                    name=c.name,
                    relationship=c.relationship,
                    phone=c.phone,
                    kind=c.kind,
                    keyholder=c.keyholder,
                    username=c.username or None,
                    id=c.id,
                )
                for c in new.contacts
            ],
        )
    return await _record_out(services, user, home)


@router.post("/{resident_id}/record/key-safe", responses=_REFUSED)
async def reveal_key_safe_code(
    services: ServicesDep, user: CurrentUser, resident_id: ResidentId
) -> KeySafeOut:
    """Show the key safe code (responders and admins); who asked and when goes in the read log."""
    what = "key safe code"
    await record_in_reach(
        services,
        user,
        resident_id,
        what,
        may_see_access_info,
        "the key safe code is for responders and admins",
    )
    async with services.pool.connection() as conn:
        code = await record_sql.key_safe_code(conn, resident_id)
    if code is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, detail=f"no resident {resident_id}")
    return KeySafeOut(code=code, shown_at=datetime.now(UTC), logged_as=what)
