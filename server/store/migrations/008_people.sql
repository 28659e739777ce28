-- The people's side: which service a resident belongs to, what responders need
-- on a call, the resident's own choices, signed-in browser sessions, the daily
-- "I'm OK" check-in and a log of every read of a resident's record.

-- A responder works the alerts of their own service (an alarm receiving centre
-- or a council team); everything made before services existed is 'default'.
ALTER TABLE residents
    ADD COLUMN service text NOT NULL DEFAULT 'default',
    ADD COLUMN address text NOT NULL DEFAULT '',
    -- Key safe code and how to get in: shown to responders only.
    ADD COLUMN access_info text NOT NULL DEFAULT '',
    ADD COLUMN health_notes text NOT NULL DEFAULT '',
    -- The resident's consent: health notes to responders, the daily picture to carers.
    ADD COLUMN share_health_notes boolean NOT NULL DEFAULT false,
    ADD COLUMN share_activity_with_carers boolean NOT NULL DEFAULT true,
    -- Local time by which the resident says "I'm OK" each day; NULL = no check-in.
    ADD COLUMN checkin_by time;

ALTER TABLE users
    ADD COLUMN service text,
    -- A resident's own account.
    ADD COLUMN resident_id bigint REFERENCES residents (id) ON DELETE CASCADE;
CREATE UNIQUE INDEX users_one_per_resident ON users (resident_id) WHERE resident_id IS NOT NULL;
-- Responders from before services answer the residents they always did.
UPDATE users SET service = 'default' WHERE role = 'responder';

-- Browser sessions: the cookie holds a random id, the table its hash and the
-- CSRF token that every state-changing request must echo in a header.
CREATE TABLE web_sessions (
    id_hash     bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    csrf_token  text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);
CREATE INDEX web_sessions_expiry ON web_sessions (expires_at);

CREATE TABLE checkins (
    resident_id  bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    at           timestamptz NOT NULL DEFAULT now(),
    source       text NOT NULL,
    PRIMARY KEY (resident_id, at)
);

-- Who read which resident's record, when, what part, and whether they were let in.
CREATE TABLE record_reads (
    id           bigserial PRIMARY KEY,
    at           timestamptz NOT NULL DEFAULT now(),
    user_id      bigint REFERENCES users (id) ON DELETE SET NULL,
    username     text NOT NULL,
    role         text NOT NULL,
    resident_id  bigint NOT NULL,
    what         text NOT NULL,
    allowed      boolean NOT NULL
);
CREATE INDEX record_reads_resident ON record_reads (resident_id, at DESC);
