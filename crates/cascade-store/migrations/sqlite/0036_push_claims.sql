-- Web Push deliveries are claimed by one node's worker at a time (on PostgreSQL): until
-- `claimed_until` (milliseconds) no other node sends the row; a claim that ran out (its
-- node died mid-send) lets another node send it. The other backend's twin is the same.

ALTER TABLE push_deliveries ADD COLUMN claimed_until BIGINT;
