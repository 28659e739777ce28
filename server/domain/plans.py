"""Response plans: what a call handler does, step by step, for each kind of alert.

One table for every kind, so a smoke alarm's plan (get them out, call the
fire service) is not a pendant press's (speak to them, find out what is
wrong). Pure data; the console shows the steps as a checklist and every step
ticked goes on the alert's audit trail.

>>> [step.id for step in plan_for(AlertKind.SMOKE)][:2]
['call-resident', 'get-out']
>>> plan_for(AlertKind.SMOKE) != plan_for(AlertKind.PENDANT)
True
>>> step_in_plan(AlertKind.SMOKE, "fire-service")
True
"""

from __future__ import annotations

from dataclasses import dataclass

from server.domain.alerts import AlertKind

__all__ = ["PLANS", "Step", "plan_for", "step_in_plan"]


@dataclass(frozen=True, slots=True)
class Step:
    """One thing to do, in the call handler's words; ``id`` is what the trail records."""

    id: str
    words: str


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


def step_in_plan(kind: AlertKind, step_id: str) -> bool:
    """Whether ``step_id`` is one of the steps of ``kind``'s plan."""
    return any(step.id == step_id for step in plan_for(kind))
