-- Passwords people manage themselves: an admin's one-time reset link, and
-- accounts an admin has turned off (kept, with their history, but no sign-in).
ALTER TABLE users ADD COLUMN disabled_at timestamptz;

CREATE TABLE password_resets (
    -- sha256 of the link's token: the token itself is only ever in the link.
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    issued_by   text NOT NULL,
    issued_at   timestamptz NOT NULL DEFAULT now(),
    expires_at  timestamptz NOT NULL,
    used_at     timestamptz
);
CREATE INDEX password_resets_user ON password_resets (user_id);
