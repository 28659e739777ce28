-- Carers' phones: a Web Push subscription is a contact channel too.
ALTER TABLE user_channels DROP CONSTRAINT user_channels_kind_check;
ALTER TABLE user_channels ADD CONSTRAINT user_channels_kind_check
    CHECK (kind IN ('email', 'webhook', 'webpush'));

-- One advisory digest per carer per day, whichever server process sends it.
CREATE TABLE digests (
    user_id  bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    day      date NOT NULL,
    sent_at  timestamptz NOT NULL DEFAULT now(),
    alerts   integer NOT NULL,
    ok       boolean NOT NULL,
    error    text,
    PRIMARY KEY (user_id, day)
);
