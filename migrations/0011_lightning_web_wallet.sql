-- The embedded node's chain remembers the block interval its height was counted with, so
-- a server started with another interval carries the height on from where it stood
-- instead of recounting the whole history at the new pace (600 s was the fixed interval).
ALTER TABLE lightning_node ADD COLUMN block_interval_ms bigint NOT NULL DEFAULT 600000;
