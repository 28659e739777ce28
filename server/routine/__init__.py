"""A resident's routine for the carer's and responder's pages: pure functions, no I/O, no clock.

- :func:`timeline`: where the resident was, room by room (a span per stay), for
  the last-24-hours picture; :func:`rooms_in_order` gives its rows.
- :func:`daily_measures`: wake and bed times, night toilet visits, meals, time
  out, movements and sleep per local day, for the weekly trend chart.
- :func:`compare`: today so far against the resident's own usual days: "all as
  usual today", or what is different in a carer's words.

Readings go in as :class:`Activity` (``Activity.of(reading)`` converts a
wire-contract reading); everything time-dependent (the window, the home's time
zone, the local time now) is passed in.
"""

from server.routine.activity import Activity
from server.routine.measures import DayMeasures, daily_measures
from server.routine.timeline import OUT, OUT_AFTER, PRESENCE, Span, rooms_in_order, timeline
from server.routine.today import FLOORS, MIN_DAYS, Usual, Verdict, compare, usual_ranges

__all__ = [
    "FLOORS",
    "MIN_DAYS",
    "OUT",
    "OUT_AFTER",
    "PRESENCE",
    "Activity",
    "DayMeasures",
    "Span",
    "Usual",
    "Verdict",
    "compare",
    "daily_measures",
    "rooms_in_order",
    "timeline",
    "usual_ranges",
]
