-- Reaching carers the way they answer: SMS and voice calls as contact channels,
-- each voice call's outcome as the provider reports it, and a carer's quiet hours
-- and time away.
ALTER TABLE user_channels DROP CONSTRAINT user_channels_kind_check;
ALTER TABLE user_channels ADD CONSTRAINT user_channels_kind_check
    CHECK (kind IN ('email', 'webhook', 'webpush', 'sms', 'voice'));

-- Quiet hours are wall-clock times in the service's time zone; a span that
-- ends before it starts runs over midnight. Away: left off the carers' rungs
-- until then.
ALTER TABLE users
    ADD COLUMN quiet_from time,
    ADD COLUMN quiet_until time,
    ADD COLUMN away_until timestamptz,
    ADD CONSTRAINT users_quiet_hours_both
        CHECK ((quiet_from IS NULL) = (quiet_until IS NULL));

-- One row per call placed. The provider calls back with the call's token (only
-- its hash is kept); the caller waits on the row for the outcome.
CREATE TABLE voice_calls (
    id           bigserial PRIMARY KEY,
    token_hash   bytea NOT NULL UNIQUE,
    alert_id     uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    user_id      bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    number       text NOT NULL,
    provider_id  text,
    -- The provider's last word on the call: queued, ringing, in-progress,
    -- completed, busy, no-answer, failed, canceled.
    status       text NOT NULL DEFAULT 'requested',
    placed_at    timestamptz NOT NULL DEFAULT now(),
    answered_at  timestamptz,
    accepted_at  timestamptz,
    ended_at     timestamptz
);
CREATE INDEX voice_calls_alert ON voice_calls (alert_id);
