"""Who hears of an alert, in what order, and how long each has to acknowledge. Pure.

Severity decides the route: an emergency goes to every on-duty responder at
once; an urgent alert to the resident's carers one by one, each with an
acknowledge timeout, then to the responders; an advisory to the carers in the
app only, never waking anyone; a technical alert to the installers' queue.

>>> from datetime import timedelta
>>> from server.domain.contacts import Channel
>>> amy = Contact(1, "Amy", (Channel("email", "amy@example.org"),))
>>> ben = Contact(2, "Ben", ())
>>> desk = Contact(9, "ARC desk", ())
>>> rungs = ladder(Severity.URGENT, carers=[amy, ben], responders=[desk], installers=[],
...     ack_timeout=timedelta(minutes=5))
>>> [([c.name for c in r.contacts], r.wait, r.escalates) for r in rungs]
[(['Amy'], datetime.timedelta(seconds=300), False), (['Ben'], datetime.timedelta(seconds=300), False), (['ARC desk'], None, True)]

A carer who said they are away is left off until they are back; the next
one is called instead:

>>> from datetime import UTC, datetime
>>> now = datetime(2026, 12, 2, 9, 0, tzinfo=UTC)
>>> away = Contact(1, "Amy", (), away_until=now + timedelta(days=2))
>>> rungs = ladder(Severity.URGENT, carers=[away, ben], responders=[desk], installers=[],
...     ack_timeout=timedelta(minutes=5), now=now)
>>> [[c.name for c in r.contacts] for r in rungs]
[['Ben'], ['ARC desk']]
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from server.domain.alerts import Severity
from server.domain.contacts import Contact

__all__ = ["Rung", "deadline_after", "ladder", "pass_on_rung", "realert_round"]


@dataclass(slots=True, frozen=True)
class Rung:
    """One step of the ladder.

    ``wait`` is how long the rung's contacts have to acknowledge before the
    next rung (None: the last rung). ``notify`` False means in the app only.
    ``escalates`` marks the hand-over to responders.
    """

    contacts: tuple[Contact, ...]
    wait: timedelta | None
    notify: bool = True
    escalates: bool = False


def ladder(
    severity: Severity,
    *,
    carers: Sequence[Contact],
    responders: Sequence[Contact],
    installers: Sequence[Contact],
    ack_timeout: timedelta,
    now: datetime | None = None,
) -> tuple[Rung, ...]:
    """The rungs an alert of ``severity`` climbs until someone acknowledges it.

    Given ``now``, carers away then are left off. Quiet hours do not change
    the ladder: an urgent alert or an emergency never waits for them (advisories
    wait anyway, for the digest).
    """
    if now is not None:
        carers = [c for c in carers if not c.away_at(now)]
    match severity:
        case Severity.EMERGENCY:
            return (Rung(tuple(responders), None),)
        case Severity.URGENT:
            if not carers:
                return (Rung(tuple(responders), None),)
            rungs = [Rung((carer,), ack_timeout) for carer in carers]
            return (*rungs, Rung(tuple(responders), None, escalates=True))
        case Severity.ADVISORY:
            return (Rung(tuple(carers), None, notify=False),)
        case Severity.TECHNICAL:
            return (Rung(tuple(installers), None),)


def deadline_after(
    rungs: Sequence[Rung], done: int, now: datetime, *, reached: bool
) -> datetime | None:
    """When the rung after ``done`` is due, or None when the ladder is climbed.

    A rung where nobody could be reached (every channel failed) does not make
    the alert wait out its timeout: the next rung is due at once.
    """
    if done + 1 >= len(rungs):
        return None
    wait = rungs[done].wait
    if wait is None:
        return None
    return now + wait if reached else now


def pass_on_rung(rungs: Sequence[Rung], *, passer: int, climbed: int) -> int | None:
    """The rung an alert goes to, now, when ``passer`` (a user id) passes it on; None: nobody.

    The first rung after both the passer's own and the ``climbed`` rungs already
    sent that would tell someone other than the passer. Those already told had
    their turn: passing on never calls them again, nor the passer.

    >>> amy, ben, cat = Contact(1, "Amy", ()), Contact(2, "Ben", ()), Contact(3, "Cat", ())
    >>> desk = Contact(9, "ARC desk", ())
    >>> rungs = ladder(Severity.URGENT, carers=[amy, ben, cat], responders=[desk],
    ...     installers=[], ack_timeout=timedelta(minutes=5))
    >>> pass_on_rung(rungs, passer=1, climbed=1)  # Amy, told first, took it: Ben next
    1
    >>> pass_on_rung(rungs, passer=2, climbed=1)  # Ben took it before his turn: Cat
    2
    >>> pass_on_rung(rungs, passer=1, climbed=2)  # Ben was told already: Cat
    2
    >>> pass_on_rung(rungs, passer=3, climbed=3)  # the last carer: the responders
    3
    >>> pass_on_rung(rungs, passer=9, climbed=4) is None  # the responders: nobody after
    True
    """
    own = max(
        (i for i, rung in enumerate(rungs) if any(c.user_id == passer for c in rung.contacts)),
        default=-1,
    )
    for index in range(max(own + 1, climbed), len(rungs)):
        rung = rungs[index]
        if rung.notify and any(c.user_id != passer for c in rung.contacts):
            return index
    return None


def realert_round(
    severity: Severity,
    *,
    acknowledger: Contact | None,
    notified: Sequence[Contact],
    responders: Sequence[Contact],
) -> tuple[Contact, ...]:
    """Who hears that a person asked again on an alert already being worked, each once.

    The one who took it on first, then everyone told of it so far, then, for an
    emergency, the responders now on duty (a shift may have changed since).

    >>> amy = Contact(1, "Amy", ())
    >>> desk = Contact(9, "ARC desk", ())
    >>> sam = Contact(7, "Sam", ())
    >>> [c.name for c in realert_round(Severity.EMERGENCY, acknowledger=amy,
    ...     notified=[desk, amy], responders=[desk, sam])]
    ['Amy', 'ARC desk', 'Sam']
    >>> [c.name for c in realert_round(Severity.URGENT, acknowledger=None,
    ...     notified=[amy], responders=[desk])]
    ['Amy']
    """
    candidates = [*([acknowledger] if acknowledger else []), *notified]
    if severity is Severity.EMERGENCY:
        candidates.extend(responders)
    seen: set[int] = set()
    chosen: list[Contact] = []
    for contact in candidates:
        if contact.user_id not in seen:
            seen.add(contact.user_id)
            chosen.append(contact)
    return tuple(chosen)
