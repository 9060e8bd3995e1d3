-- Virality: every reshare (reblog or quote) knows the cascade it belongs to and the
-- status through which its author saw it; views are counted per status and per hour.
-- The PostgreSQL twin differs only in the binary type (BYTEA for BLOB).

-- The original status at the root of the cascade this status belongs to (NULL for a
-- root), the status it was reshared from, and the resharer's follower count then.
ALTER TABLE statuses ADD COLUMN cascade_root_id BIGINT;
ALTER TABLE statuses ADD COLUMN cascade_parent_id BIGINT;
ALTER TABLE statuses ADD COLUMN cascade_followers BIGINT NOT NULL DEFAULT 0;
-- New distinct accounts this reshare exposed the cascade to (an estimate, filled by the
-- background job that walks the resharer's followers).
ALTER TABLE statuses ADD COLUMN cascade_exposed BIGINT;
CREATE INDEX statuses_cascade ON statuses (cascade_root_id, id);

-- Impressions and a HyperLogLog sketch of distinct viewers, flushed in batches.
CREATE TABLE status_views (
    status_id BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    views BIGINT NOT NULL DEFAULT 0,
    -- The sketch's estimate, kept beside it so rendering need not decode the sketch.
    reach BIGINT NOT NULL DEFAULT 0,
    viewers BLOB NOT NULL
);

-- Impressions per status and hour, for the cascade's views-over-time chart.
CREATE TABLE status_view_hours (
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    hour BIGINT NOT NULL,
    views BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (status_id, hour)
);

-- A HyperLogLog sketch of the accounts a cascade reached (followers of its nodes).
CREATE TABLE cascade_exposure (
    root_id BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    sketch BLOB NOT NULL
);

-- Whether an account shows the view counts of its posts to everyone (default: to itself only).
ALTER TABLE accounts ADD COLUMN public_view_counts BOOLEAN NOT NULL DEFAULT FALSE;
