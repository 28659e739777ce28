-- A batch belongs to a provisioned hub. Without this, a server that had not yet
-- heard of a hub's erasure stored its next batch as an orphan no erasure finds;
-- now the database refuses it and the writer dead-letters it. NOT VALID: rows
-- already stored are not checked (an old deployment may hold orphans from
-- before), new ones are.
ALTER TABLE reading_batches
    ADD CONSTRAINT reading_batches_hub_fkey FOREIGN KEY (hub_id) REFERENCES hubs (id)
    ON DELETE CASCADE NOT VALID;
