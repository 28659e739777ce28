-- What the detectors have learned about each home (server/detect/home_state.py),
-- saved every few seconds so a restart neither forgets a routine nor raises an
-- alert again; and the resident's "I'm away" (inactivity is not judged until then).

CREATE TABLE detector_state (
    hub_id    text PRIMARY KEY REFERENCES hubs (id) ON DELETE CASCADE,
    state     bytea NOT NULL,
    saved_at  timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE residents ADD COLUMN away_until timestamptz;

-- Feedback: alerts people closed as false alarms or "resident away", in order.
CREATE INDEX alerts_resolved_outcome ON alerts (resolved_at)
    WHERE outcome IN ('false_alarm', 'resident_away');
