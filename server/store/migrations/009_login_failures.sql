-- Wrong passwords, by account ("user:<name>") and by client address ("addr:<ip>"),
-- kept in the database so the limit on guessing holds across server processes
-- and restarts. Rows older than the window are deleted as new ones come.

CREATE TABLE login_failures (
    key  text NOT NULL,
    at   timestamptz NOT NULL DEFAULT now()
);

CREATE INDEX login_failures_key_at ON login_failures (key, at);
CREATE INDEX login_failures_at ON login_failures (at);
