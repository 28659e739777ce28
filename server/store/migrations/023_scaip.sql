-- Social-alarm units that speak SCAIP (SS 91100) over SIP: the unit's
-- controller id (cid), whose home it is in, the carewatch hub there if any,
-- and its heartbeat, so a unit gone quiet raises a technical alert.
CREATE TABLE scaip_units (
    id                text PRIMARY KEY,
    resident_id       bigint NOT NULL REFERENCES residents (id) ON DELETE CASCADE,
    hub_id            text REFERENCES hubs (id) ON DELETE SET NULL,
    heartbeat_s       integer CHECK (heartbeat_s > 0),
    created_at        timestamptz NOT NULL DEFAULT now(),
    last_heard_at     timestamptz,
    last_heartbeat_at timestamptz,
    -- Where the unit last spoke from (transport, host and port), for the installer.
    last_address      text
);
CREATE INDEX scaip_units_resident ON scaip_units (resident_id);
