-- Health systems (a GP system, a shared care record) that read residents'
-- records over FHIR, each with its own client credentials; and the resident's
-- consent to that sharing, off until they (or an admin on their behalf) say yes.

CREATE TABLE health_systems (
    id            bigserial PRIMARY KEY,
    name          text NOT NULL UNIQUE,
    -- The service whose residents it may read (as users' and residents' service).
    service       text NOT NULL,
    client_id     text NOT NULL UNIQUE,
    secret_hash   text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    revoked_at    timestamptz
);

-- Access tokens issued to health systems, stored hashed, short-lived.
CREATE TABLE health_tokens (
    token_hash    bytea PRIMARY KEY,
    system_id     bigint NOT NULL REFERENCES health_systems (id) ON DELETE CASCADE,
    expires_at    timestamptz NOT NULL
);
CREATE INDEX health_tokens_expiry ON health_tokens (expires_at);

ALTER TABLE residents
    ADD COLUMN share_with_health boolean NOT NULL DEFAULT false,
    -- The NHS number, where the service knows it (ten digits, checked on entry).
    ADD COLUMN nhs_number text;
