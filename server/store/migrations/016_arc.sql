-- Forwarding alarms to an alarm receiving centre (ARC) over SIA DC-09.
-- Per service: the account the ARC knows it by and where its receivers listen.
CREATE TABLE arc_accounts (
    service        text PRIMARY KEY,
    account        text NOT NULL CHECK (account ~ '^[0-9A-F]{3,16}$'),
    receiver       text CHECK (receiver ~ '^[0-9A-F]{1,6}$'),
    prefix         text NOT NULL DEFAULT '0' CHECK (prefix ~ '^[0-9A-F]{1,6}$'),
    primary_host   text NOT NULL,
    primary_port   integer NOT NULL CHECK (primary_port BETWEEN 1 AND 65535),
    backup_host    text,
    backup_port    integer CHECK (backup_port BETWEEN 1 AND 65535),
    -- As the ARC's receiver holds it (see server.domain.arc.key_bytes); never shown by the API.
    encryption_key text,
    event_format   text NOT NULL DEFAULT 'SIA-DCS' CHECK (event_format IN ('SIA-DCS', 'ADM-CID')),
    urgent_kinds   text[] NOT NULL DEFAULT '{}',
    supervision_s  double precision NOT NULL DEFAULT 0 CHECK (supervision_s >= 0),
    -- Alerts raised before the account existed are not sent: the ARC never heard of them.
    created_at     timestamptz NOT NULL DEFAULT now(),
    CHECK ((backup_host IS NULL) = (backup_port IS NULL))
);

-- One row per alert (and per further press of a pendant on an open alert)
-- considered for an ARC: the outbox the forwarder works from, so a restart
-- loses no alarm and sends none twice once acknowledged.
CREATE TABLE arc_deliveries (
    alert_id      uuid NOT NULL REFERENCES alerts (id) ON DELETE CASCADE,
    -- 1 for the alert; 2, 3… for the person pressing again while it is open.
    press         integer NOT NULL DEFAULT 1 CHECK (press >= 1),
    service       text NOT NULL,
    -- DC-09 sequence number: the same for every attempt of one event.
    seq           integer NOT NULL CHECK (seq BETWEEN 1 AND 9999),
    state         text NOT NULL DEFAULT 'pending'
                  CHECK (state IN ('pending', 'delivered', 'refused', 'not_forwarded')),
    rounds        integer NOT NULL DEFAULT 0,
    created_at    timestamptz NOT NULL DEFAULT now(),
    next_at       timestamptz NOT NULL DEFAULT now(),
    delivered_at  timestamptz,
    -- Every path failed since this instant (NULL while the last round reached one).
    failing_since timestamptz,
    -- The technical alert raised for this delivery, cleared when it is delivered.
    reported      boolean NOT NULL DEFAULT false,
    PRIMARY KEY (alert_id, press)
);
CREATE INDEX arc_deliveries_pending ON arc_deliveries (next_at) WHERE state = 'pending';
CREATE SEQUENCE arc_seq;
-- The forwarder looks for alerts raised recently that have no delivery yet.
CREATE INDEX alerts_raised_at ON alerts (raised_at);
