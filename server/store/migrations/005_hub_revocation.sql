-- A revoked hub keeps its history but is locked out: the broker refuses it and
-- the server dead-letters anything that still arrives under its name.
ALTER TABLE hubs ADD COLUMN revoked_at timestamptz;
