-- Jobs owe every consequence of a write, not only fan-out: who acted, on whom, and what a
-- job needs that the write removed (a deleted status's audience). Workers take them by
-- lane, in id order.
ALTER TABLE jobs ADD COLUMN actor_id BIGINT;
ALTER TABLE jobs ADD COLUMN target_id BIGINT;
ALTER TABLE jobs ADD COLUMN payload TEXT;
CREATE INDEX jobs_kind ON jobs (kind, id);
