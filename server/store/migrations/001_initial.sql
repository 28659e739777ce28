-- Residents, their hubs, the people who use the console, readings, alarms,
-- dead letters, alerts and the alert audit trail.

CREATE TABLE residents (
    id          bigserial PRIMARY KEY,
    name        text NOT NULL UNIQUE,
    timezone    text NOT NULL DEFAULT 'Europe/London',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE hubs (
    id            text PRIMARY KEY,
    resident_id   bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    password_hash text,
    created_at    timestamptz NOT NULL DEFAULT now(),
    state         text,
    last_seen_at  timestamptz,
    last_status   jsonb
);

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    username      text NOT NULL UNIQUE,
    password_hash text NOT NULL,
    role          text NOT NULL CHECK (role IN ('admin', 'responder', 'carer', 'resident')),
    created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_tokens (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL
);

-- A batch is stored once: (hub_id, seq) de-duplicates redelivery.
CREATE TABLE reading_batches (
    hub_id       text NOT NULL,
    seq          bigint NOT NULL,
    sent_at      timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    readings     integer NOT NULL,
    PRIMARY KEY (hub_id, seq)
);

CREATE TABLE readings (
    hub_id       text NOT NULL,
    seq          bigint NOT NULL,
    sensor       text NOT NULL,
    kind         text NOT NULL,
    ts           timestamptz NOT NULL,
    value        double precision NOT NULL,
    received_at  timestamptz NOT NULL
);
CREATE INDEX readings_hub_ts ON readings (hub_id, ts DESC);

CREATE TABLE alarms (
    hub_id       text NOT NULL,
    id           text NOT NULL,
    sensor       text NOT NULL,
    kind         text NOT NULL,
    ts           timestamptz NOT NULL,
    received_at  timestamptz NOT NULL,
    PRIMARY KEY (hub_id, id)
);

CREATE TABLE dead_letters (
    id           bigserial PRIMARY KEY,
    received_at  timestamptz NOT NULL,
    topic        text NOT NULL,
    hub_id       text,
    reason       text NOT NULL,
    payload_size integer NOT NULL,
    payload      text NOT NULL
);
CREATE INDEX dead_letters_received ON dead_letters (received_at DESC);

CREATE TABLE alerts (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    resident_id      bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    hub_id           text,
    kind             text NOT NULL,
    severity         text NOT NULL CHECK (severity IN ('emergency', 'urgent', 'advisory', 'technical')),
    status           text NOT NULL CHECK (status IN ('open', 'acknowledged', 'resolved')),
    raised_at        timestamptz NOT NULL DEFAULT now(),
    event_at         timestamptz NOT NULL,
    reason           text NOT NULL,
    details          jsonb NOT NULL DEFAULT '{}',
    acknowledged_at  timestamptz,
    acknowledged_by  text,
    resolved_at      timestamptz,
    resolved_by      text,
    outcome          text,
    updated_at       timestamptz NOT NULL DEFAULT now()
);
-- The same condition does not raise twice while an alert for it is active.
CREATE UNIQUE INDEX alerts_one_active ON alerts (resident_id, kind) WHERE status <> 'resolved';
CREATE INDEX alerts_status_raised ON alerts (status, raised_at DESC);

CREATE TABLE alert_events (
    id        bigserial PRIMARY KEY,
    alert_id  uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    at        timestamptz NOT NULL DEFAULT now(),
    actor     text NOT NULL,
    action    text NOT NULL,
    note      text,
    details   jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX alert_events_alert ON alert_events (alert_id, at);
