-- Escalation ladders, notification contacts, delivery log and one-tap links.

-- Carers and responders are reached through their contact channels, in order.
ALTER TABLE users
    ADD COLUMN display_name text,
    ADD COLUMN on_duty boolean NOT NULL DEFAULT false;

CREATE TABLE user_channels (
    user_id   bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position  integer NOT NULL,
    kind      text NOT NULL CHECK (kind IN ('email', 'webhook')),
    address   text NOT NULL,
    PRIMARY KEY (user_id, position)
);

-- A resident's carers in the order the escalation ladder tries them.
CREATE TABLE resident_carers (
    resident_id  bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    position     integer NOT NULL,
    PRIMARY KEY (resident_id, user_id)
);

ALTER TABLE alerts DROP CONSTRAINT alerts_status_check;
ALTER TABLE alerts ADD CONSTRAINT alerts_status_check
    CHECK (status IN ('open', 'acknowledged', 'escalated', 'resolved'));
-- The next rung of the ladder and when it is due: the deadline is a row, so a
-- restarted server, or another server process, picks it up where it was.
ALTER TABLE alerts
    ADD COLUMN escalation_rung integer NOT NULL DEFAULT 0,
    ADD COLUMN escalation_due_at timestamptz;
CREATE INDEX alerts_escalation_due ON alerts (escalation_due_at)
    WHERE escalation_due_at IS NOT NULL;

-- Every delivery attempt, with its result.
CREATE TABLE notifications (
    id        bigserial PRIMARY KEY,
    alert_id  uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id   bigint REFERENCES users (id) ON DELETE SET NULL,
    rung      integer NOT NULL,
    channel   text NOT NULL,
    address   text NOT NULL,
    attempt   integer NOT NULL,
    ok        boolean NOT NULL,
    error     text,
    at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX notifications_alert ON notifications (alert_id, at);

-- One-tap acknowledge links: each works once, until it expires.
CREATE TABLE ack_links (
    nonce       text PRIMARY KEY,
    alert_id    uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
