-- Each hub's sensor map as the installer gave it (carewatch hub import): the
-- sensor's kind and room. The server's own copy, so that detectors place a
-- sensor by its room from the first reading, before the hub's first heartbeat
-- reports the map it was configured with.

CREATE TABLE hub_sensors (
    hub_id  text NOT NULL REFERENCES hubs (id) ON DELETE CASCADE,
    sensor  text NOT NULL,
    kind    text NOT NULL,
    room    text NOT NULL,
    PRIMARY KEY (hub_id, sensor)
);
