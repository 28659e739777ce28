-- A person pressing again on an alert that is already being worked: each new
-- press is a round of notifications to whoever is working it. The round is a
-- row, due like a rung, so a restart loses none.
CREATE TABLE alert_realerts (
    id          bigserial PRIMARY KEY,
    alert_id    uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    press       integer NOT NULL,
    -- What the press was, in words, for the message.
    note        text NOT NULL,
    created_at  timestamptz NOT NULL DEFAULT now(),
    -- Due now; while a server sends it, the end of that server's lease; NULL once sent.
    due_at      timestamptz,
    done_at     timestamptz
);
CREATE INDEX alert_realerts_due ON alert_realerts (due_at) WHERE due_at IS NOT NULL;

-- Which press a delivery attempt was for (NULL: a rung of the ladder).
ALTER TABLE notifications ADD COLUMN press integer;
