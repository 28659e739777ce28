"""SQL for the care record: the resident's phone, access, health facts and contacts in call order.

The key safe code is read by its own function only, so no query that fills an
ordinary record can carry it by mistake.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from server.domain.record import (
    CareRecord,
    ContactKind,
    RecordContact,
    ResuscitationStatus,
    kept_ids,
)
from server.store.pool import DbConn

__all__ = [
    "StoredRecord",
    "care_record",
    "contacts",
    "key_safe_code",
    "replace_contacts",
    "save_care_record",
    "unknown_usernames",
]


@dataclass(slots=True, frozen=True)
class StoredRecord:
    """A resident's care record as stored, and whether a key safe code is on file."""

    record: CareRecord
    has_key_safe_code: bool


async def care_record(conn: DbConn, resident_id: int) -> StoredRecord | None:
    """The resident's care record (never the key safe code), or None if there is no such resident."""
    cursor = await conn.execute(
        "SELECT phone, address, access_info, health_notes, allergies, medication,"
        " resuscitation, resuscitation_form_at, hazards, language, hearing_sight,"
        " key_safe_code <> '' FROM residents WHERE id = %s",
        (resident_id,),
    )
    row = await cursor.fetchone()
    if row is None:
        return None
    (phone, address, access, health, allergies, medication, resus, form_at, hazards,
     language, hearing_sight, has_code) = row  # fmt: skip
    record = CareRecord(
        phone=phone,
        address=address,
        access_notes=access,
        medical_summary=health,
        allergies=allergies,
        medication=medication,
        resuscitation=ResuscitationStatus(resus),
        resuscitation_form_at=form_at,
        hazards=tuple(hazards),
        language=language,
        hearing_sight=hearing_sight,
    )
    return StoredRecord(record=record, has_key_safe_code=bool(has_code))


async def save_care_record(
    conn: DbConn, resident_id: int, record: CareRecord, *, key_safe_code: str | None
) -> None:
    """Replace the resident's care record; the key safe code too unless ``key_safe_code`` is None."""
    await conn.execute(
        "UPDATE residents SET phone = %s, address = %s, access_info = %s, health_notes = %s,"
        " allergies = %s, medication = %s, resuscitation = %s, resuscitation_form_at = %s,"
        " hazards = %s, language = %s, hearing_sight = %s,"
        " key_safe_code = coalesce(%s, key_safe_code) WHERE id = %s",
        (
            record.phone,
            record.address,
            record.access_notes,
            record.medical_summary,
            record.allergies,
            record.medication,
            record.resuscitation.value,
            record.resuscitation_form_at,
            list(record.hazards),
            record.language,
            record.hearing_sight,
            key_safe_code,
            resident_id,
        ),
    )


async def key_safe_code(conn: DbConn, resident_id: int) -> str | None:
    """The key safe code ('' if none is on file), or None if there is no such resident."""
    cursor = await conn.execute("SELECT key_safe_code FROM residents WHERE id = %s", (resident_id,))
    row = await cursor.fetchone()
    return None if row is None else str(row[0])


async def contacts(conn: DbConn, resident_id: int) -> list[RecordContact]:
    """The resident's contacts in call order, with the username of those who sign in."""
    cursor = await conn.execute(
        "SELECT c.position, c.name, c.relationship, c.phone, c.kind, c.keyholder, u.username,"
        " c.contact_id FROM resident_contacts c LEFT JOIN users u ON u.id = c.user_id"
        " WHERE c.resident_id = %s ORDER BY c.position",
        (resident_id,),
    )
    return [
        RecordContact(
            name=name,
            relationship=relationship,
            phone=phone,
            kind=ContactKind(kind),
            keyholder=keyholder,
            username=username,
            position=position,
            id=str(contact_id),
        )
        for position, name, relationship, phone, kind, keyholder, username, contact_id in (
            await cursor.fetchall()
        )
    ]


async def unknown_usernames(conn: DbConn, usernames: Sequence[str]) -> list[str]:
    """Which of ``usernames`` no account has, in the order given."""
    cursor = await conn.execute(
        "SELECT username FROM users WHERE username = ANY(%s)", (list(usernames),)
    )
    known = {name for (name,) in await cursor.fetchall()}
    return [name for name in usernames if name not in known]


async def replace_contacts(conn: DbConn, resident_id: int, new: Sequence[RecordContact]) -> None:
    """Replace the resident's contacts with ``new``, called in the order given (one transaction).

    Someone already on the list keeps their id (``kept_ids``); a newcomer gets a new one.
    """
    async with conn.transaction():
        ids = kept_ids(await contacts(conn, resident_id), new)
        await conn.execute("DELETE FROM resident_contacts WHERE resident_id = %s", (resident_id,))
        for position, (contact, contact_id) in enumerate(zip(new, ids, strict=True), start=1):
            await conn.execute(
                "INSERT INTO resident_contacts (resident_id, position, name, relationship,"
                " phone, kind, keyholder, user_id, contact_id)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s,"
                " (SELECT id FROM users WHERE username = %s), coalesce(%s::uuid, gen_random_uuid()))",
                (
                    resident_id,
                    position,
                    contact.name,
                    contact.relationship,
                    contact.phone,
                    contact.kind.value,
                    contact.keyholder,
                    contact.username,
                    contact_id or None,
                ),
            )
