-- Readings over time: a TimescaleDB hypertable with an hourly activity
-- aggregate where the extension is available; the same names on plain
-- PostgreSQL, as an indexed table and a view. Compression and retention
-- policies are set at server start from its settings (server/store/storage.py).

CREATE INDEX IF NOT EXISTS readings_kind_ts ON readings (hub_id, kind, ts);

DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'timescaledb') THEN
        CREATE EXTENSION IF NOT EXISTS timescaledb;
        PERFORM create_hypertable('readings', 'ts', migrate_data => true, if_not_exists => true);
        -- Movement per home, room sensor and hour, for the console's charts.
        EXECUTE $view$
            CREATE MATERIALIZED VIEW activity_hourly
            WITH (timescaledb.continuous, timescaledb.materialized_only = false) AS
            SELECT hub_id, sensor, time_bucket(INTERVAL '1 hour', ts) AS hour,
                   count(*) AS movements
            FROM readings WHERE kind = 'motion' AND value >= 1
            GROUP BY hub_id, sensor, time_bucket(INTERVAL '1 hour', ts)
            WITH NO DATA
        $view$;
    ELSE
        CREATE VIEW activity_hourly AS
            SELECT hub_id, sensor, date_trunc('hour', ts) AS hour, count(*) AS movements
            FROM readings WHERE kind = 'motion' AND value >= 1
            GROUP BY hub_id, sensor, date_trunc('hour', ts);
    END IF;
END
$$;
