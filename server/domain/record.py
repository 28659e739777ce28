"""The care record: what a call handler needs to help a resident, and who to call.

Pure values. The resident's phone, how to get in, the health facts a crew
asks for first (allergies, medication, a DNACPR or ReSPECT form and where it
is), what to watch for on the way in (a dog, oxygen), how to talk to them
(language, hearing or sight), and their contacts in the order to call them,
with or without a login. The key safe code is kept apart: it is never part of
the record's ordinary payload and is shown only on demand, logged.

>>> ResuscitationStatus("dnacpr").words
'DNACPR in place'
>>> hazard_list(["Dog (friendly)", " dog (friendly) ", "", "Oxygen in use"])
('Dog (friendly)', 'Oxygen in use')
>>> Part.HEALTH in parts_shown(Role.CARER, health_shared=True)
False
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum

from server.domain.access import Role

__all__ = [
    "MAX_CONTACTS",
    "MAX_HAZARDS",
    "CareRecord",
    "ContactKind",
    "Part",
    "RecordContact",
    "ResuscitationStatus",
    "hazard_list",
    "kept_ids",
    "parts_shown",
]

MAX_HAZARDS = 20
MAX_HAZARD_LENGTH = 200
MAX_CONTACTS = 20


class ResuscitationStatus(StrEnum):
    """What the resident has decided about resuscitation: a closed list, read out on a 999 call."""

    NONE = "none"
    DNACPR = "dnacpr"
    RESPECT = "respect"

    @property
    def words(self) -> str:
        """How the console says it."""
        return _RESUSCITATION_WORDS[self]


_RESUSCITATION_WORDS = {
    ResuscitationStatus.NONE: "None recorded",
    ResuscitationStatus.DNACPR: "DNACPR in place",
    ResuscitationStatus.RESPECT: "ReSPECT form in place",
}


class ContactKind(StrEnum):
    """Who a contact is to the resident; keyholding is said apart (a neighbour or a GP may hold one)."""

    NEXT_OF_KIN = "next_of_kin"
    FAMILY_OR_FRIEND = "family_or_friend"
    NEIGHBOUR = "neighbour"
    PROFESSIONAL = "professional"


class Part(StrEnum):
    """A part of the record, shown or withheld as a whole."""

    # Phone, address, hazards, language, hearing and sight: what anyone helping needs.
    ESSENTIALS = "essentials"
    # How to get in (notes; the code itself only on demand): for those who may go in.
    ACCESS = "access"
    # Medical summary, allergies, medication, DNACPR/ReSPECT: with the resident's consent.
    HEALTH = "health"
    # The contacts' phone numbers (their names and order are part of the essentials).
    CONTACT_PHONES = "contact_phones"


def parts_shown(role: Role, *, health_shared: bool) -> frozenset[Part]:
    """The parts of a record a viewer in ``role`` (who may see the resident at all) is shown.

    Follows the rules of ``server.domain.access``: access for responders and
    admins, health for the resident and, if the resident agreed, responders
    and admins; a carer gets the essentials and the contacts' names.

    >>> sorted(str(p) for p in parts_shown(Role.RESPONDER, health_shared=False))
    ['access', 'contact_phones', 'essentials']
    >>> sorted(str(p) for p in parts_shown(Role.RESIDENT, health_shared=False))
    ['contact_phones', 'essentials', 'health']
    """
    parts = {Part.ESSENTIALS}
    if role in (Role.RESPONDER, Role.ADMIN):
        parts |= {Part.ACCESS, Part.CONTACT_PHONES}
        if health_shared:
            parts.add(Part.HEALTH)
    elif role is Role.RESIDENT:
        parts |= {Part.HEALTH, Part.CONTACT_PHONES}
    return frozenset(parts)


def hazard_list(items: Iterable[str]) -> tuple[str, ...]:
    """Hazards as entered, trimmed, blanks and repeats (ignoring case) dropped, order kept.

    Raises ValueError, saying what to change, past MAX_HAZARDS or MAX_HAZARD_LENGTH.
    """
    seen: set[str] = set()
    kept: list[str] = []
    for item in items:
        text = " ".join(item.split())
        if not text or text.casefold() in seen:
            continue
        if len(text) > MAX_HAZARD_LENGTH:
            raise ValueError(
                f"a hazard is at most {MAX_HAZARD_LENGTH} characters; shorten {text[:30]!r}…"
            )
        seen.add(text.casefold())
        kept.append(text)
    if len(kept) > MAX_HAZARDS:
        raise ValueError(f"at most {MAX_HAZARDS} hazards; put the rest in the access notes")
    return tuple(kept)


@dataclass(frozen=True, slots=True)
class CareRecord:
    """The resident's care record, without the key safe code. Phones are E.164 (``+44…``)."""

    phone: str = ""
    address: str = ""
    access_notes: str = ""
    medical_summary: str = ""
    allergies: str = ""
    medication: str = ""
    resuscitation: ResuscitationStatus = ResuscitationStatus.NONE
    # Where the DNACPR or ReSPECT form is kept (crews must see the original).
    resuscitation_form_at: str = ""
    hazards: tuple[str, ...] = ()
    language: str = ""
    hearing_sight: str = ""

    def __post_init__(self) -> None:
        if self.resuscitation is ResuscitationStatus.NONE and self.resuscitation_form_at:
            raise ValueError(
                "a form's place is given but no DNACPR or ReSPECT is recorded: choose which,"
                " or clear where the form is kept"
            )


@dataclass(frozen=True, slots=True)
class RecordContact:
    """Someone to call about the resident, in call order; ``username`` if they also sign in."""

    name: str
    relationship: str
    phone: str
    kind: ContactKind = ContactKind.FAMILY_OR_FRIEND
    keyholder: bool = False
    username: str | None = None
    # Where this contact is in the call order, 1 first; given by the list's order when stored.
    position: int = field(default=0, compare=False)
    # The contact's own id, kept when the list is reordered or edited: a checklist
    # tick follows the person, not the place. '' until stored (the store gives one).
    id: str = field(default="", compare=False)


def kept_ids(stored: Iterable[RecordContact], new: Iterable[RecordContact]) -> list[str]:
    """The id each of ``new`` keeps from the stored contacts, '' for someone new.

    A contact sent back with its id keeps it; one sent without (an older page, an
    API client) keeps the id of the stored contact of the same name, so a list
    reordered or with a number corrected still calls the same people by the same ids.
    An id belonging to nobody stored is not taken: ids are never chosen by the sender.

    >>> jo = RecordContact("Jo Clarke", "daughter", "+447700900123", id="a1")
    >>> gp = RecordContact("Dr Ahmed", "GP", "+441134960000", id="b2")
    >>> kept_ids([jo, gp], [RecordContact("dr  ahmed", "GP", "+441134960001"), jo])
    ['b2', 'a1']
    >>> kept_ids([jo], [RecordContact("Ada Cole", "neighbour", "+441134960556", id="zz")])
    ['']
    """
    wanted = list(new)
    unused = {contact.id: contact for contact in stored if contact.id}
    # Ids sent back are claimed first, so a same-named newcomer never takes one.
    kept = [contact.id if unused.pop(contact.id, None) else "" for contact in wanted]
    for i, contact in enumerate(wanted):
        if not kept[i]:
            same = next((c.id for c in unused.values() if _same_name(c.name, contact.name)), "")
            unused.pop(same, None)
            kept[i] = same
    return kept


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()
