"""Response plans: what a call handler does, step by step, for each kind of alert.

One table for every kind, so a smoke alarm's plan (get them out, call the
fire service) is not a pendant press's (speak to them, find out what is
wrong). A resident may have her own steps for a kind ("Ring her daughter
first, she lives next door"), which replace the kind's. Either way the
checklist calls her contacts by name, in call order, one rung each, known by
the contact's own id. Pure
data; the console shows the checklist and every step ticked goes on the
alert's audit trail.

>>> [step.id for step in plan_for(AlertKind.SMOKE)][:2]
['call-resident', 'get-out']
>>> plan_for(AlertKind.SMOKE) != plan_for(AlertKind.PENDANT)
True
>>> "fire-service" in [step.id for step in plan_for(AlertKind.SMOKE)]
True
>>> jo = RecordContact("Jo Clarke", "daughter", "+447700900123", keyholder=True, id="5f0c")
>>> [(s.id, s.words) for s in checklist(AlertKind.FALL, ("Ring her daughter first",), [jo])]
... # doctest: +NORMALIZE_WHITESPACE
[('own-1', 'Ring her daughter first'),
 ('call-contact-5f0c', 'Call Jo Clarke (daughter, has a key)'),
 ('record', 'Write what happened and who was called, then choose the outcome.')]

A rung is the contact's, wherever she is in the call order:

>>> gp = RecordContact("Dr Ahmed", "GP", "+441134960000", id="9a7e")
>>> [s.id for s in checklist(AlertKind.CHECKIN_MISSED, (), [gp, jo])]
['call-resident', 'call-contact-9a7e', 'call-contact-5f0c', 'record']
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from server.domain.alerts import AlertKind
from server.domain.record import RecordContact

__all__ = [
    "MAX_OWN_STEPS",
    "MAX_STEP_LENGTH",
    "PLANS",
    "Step",
    "checklist",
    "own_steps",
    "plan_for",
]

# A plan longer than this is a care plan, not a call handler's checklist.
MAX_OWN_STEPS = 12
MAX_STEP_LENGTH = 300


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do, in the call handler's words; ``id`` is what the trail records.

    ``phone`` (E.164) is the number a rung that calls someone dials; '' for other steps.
    """

    id: str
    words: str
    phone: str = ""


_CALL = Step("call-resident", "Call the resident. Ask what has happened and whether they are hurt.")
_CONTACTS = Step("call-contacts", "Call their contacts in order until someone can go round.")
_AMBULANCE = Step(
    "ambulance", "If they are hurt, cannot answer or cannot get up: call 999 for an ambulance."
)
_ACCESS = Step("access", "Give the crew or visitor the access details (key safe) if they need in.")
_RECORD = Step("record", "Write what happened and who was called, then choose the outcome.")

# The plan for each kind; a kind not listed gets the general plan.
PLANS: dict[AlertKind, tuple[Step, ...]] = {
    AlertKind.PENDANT: (
        _CALL,
        Step("reassure", "Stay on the line; tell them help is arranged if it is needed."),
        _AMBULANCE,
        _CONTACTS,
        _RECORD,
    ),
    AlertKind.PULL_CORD: (
        _CALL,
        Step("where", "Ask which room they are in; a cord is often pulled after a fall."),
        _AMBULANCE,
        _CONTACTS,
        _RECORD,
    ),
    AlertKind.FALL: (
        _CALL,
        Step("do-not-lift", "If they are hurt, tell them not to get up and not to be lifted."),
        _AMBULANCE,
        _CONTACTS,
        _ACCESS,
        _RECORD,
    ),
    AlertKind.SMOKE: (
        Step("call-resident", "Call the resident at once. Ask if there is smoke or fire."),
        Step("get-out", "If there is fire or no answer: tell them to get out and close doors."),
        Step(
            "fire-service", "Call 999 for the fire service with the address; say who lives there."
        ),
        _CONTACTS,
        Step("reset", "If it was cooking or steam: check the alarm has stopped and is reset."),
        _RECORD,
    ),
    AlertKind.CO: (
        Step("call-resident", "Call the resident. Ask about headache, dizziness or sickness."),
        Step("air", "Tell them to open windows, stop using appliances and go outside."),
        Step(
            "gas-emergency", "Call the gas emergency line (0800 111 999); 999 if they feel unwell."
        ),
        _CONTACTS,
        _RECORD,
    ),
    AlertKind.FLOOD: (
        _CALL,
        Step("stopcock", "Ask them to turn the water off at the stopcock if they safely can."),
        Step("electrics", "Tell them to keep away from wet sockets and switches."),
        _CONTACTS,
        _RECORD,
    ),
    AlertKind.NO_MOVEMENT: (
        _CALL,
        _CONTACTS,
        Step("visit", "If nobody can go within the hour: send a responder, or 999 if at risk."),
        _ACCESS,
        _RECORD,
    ),
    AlertKind.NOT_UP: (
        _CALL,
        _CONTACTS,
        Step("visit", "If there is no answer: arrange a visit to check on them."),
        _RECORD,
    ),
    AlertKind.DOOR_AT_NIGHT: (
        _CALL,
        Step("check-home", "Ask a contact nearby to check the house and the street."),
        Step("police", "If they cannot be found: call 999 and report a vulnerable person missing."),
        _RECORD,
    ),
    AlertKind.CHECKIN_MISSED: (
        _CALL,
        _CONTACTS,
        _RECORD,
    ),
}

_GENERAL: tuple[Step, ...] = (_CALL, _CONTACTS, _RECORD)


def plan_for(kind: AlertKind) -> tuple[Step, ...]:
    """The steps for an alert of ``kind``, in order."""
    return PLANS.get(kind, _GENERAL)


def own_steps(items: Iterable[str]) -> tuple[str, ...]:
    """A resident's own steps as entered: trimmed, blanks dropped, order kept.

    Raises ValueError, saying what to change, past MAX_OWN_STEPS or MAX_STEP_LENGTH.

    >>> own_steps(["  Ring her daughter   first ", "", "Then the GP"])
    ('Ring her daughter first', 'Then the GP')
    """
    kept = tuple(text for text in (" ".join(item.split()) for item in items) if text)
    if len(kept) > MAX_OWN_STEPS:
        raise ValueError(f"at most {MAX_OWN_STEPS} steps; put the rest in the access notes")
    for text in kept:
        if len(text) > MAX_STEP_LENGTH:
            raise ValueError(
                f"a step is at most {MAX_STEP_LENGTH} characters; shorten {text[:30]!r}…"
            )
    return kept


def _rungs(contacts: Sequence[RecordContact]) -> tuple[Step, ...]:
    """One step per contact, in call order, each dialling that contact.

    A rung's id is the contact's own (a tick stays on the person when the
    order changes); a contact not yet stored has none and is known by place.
    """
    rungs = []
    for order, contact in enumerate(contacts, start=1):
        key = "has a key" if contact.keyholder else ""
        about = ", ".join(part for part in (contact.relationship, key) if part)
        words = f"Call {contact.name} ({about})" if about else f"Call {contact.name}"
        rungs.append(Step(f"call-contact-{contact.id or order}", words, phone=contact.phone))
    return tuple(rungs)


def checklist(
    kind: AlertKind, own: Sequence[str], contacts: Sequence[RecordContact]
) -> tuple[Step, ...]:
    """The steps a handler ticks for one resident's alert of ``kind``.

    ``own``: the resident's own steps for the kind (empty: the kind's plan).
    ``contacts``: hers in call order; the plan's "call their contacts" becomes
    one rung per contact (kept as it is if she has none). Her own steps are
    followed by the rungs, and the record step always comes last, so an own
    plan never loses the outcome.
    """
    rungs = _rungs(contacts)
    if own:
        steps = tuple(Step(f"own-{i}", words) for i, words in enumerate(own, start=1))
        return (*steps, *rungs, _RECORD)
    expanded: list[Step] = []
    for step in plan_for(kind):
        expanded.extend(rungs if step.id == _CONTACTS.id and rungs else (step,))
    return tuple(expanded)
