-- Brand watch (a Cascade extension): saved watches, the statuses each matched (written
-- when a status is created or edited, so a watch's timeline is a range of one index), and
-- the items an owner dismissed from their unanswered queue. The PostgreSQL twin has the
-- same tables.
CREATE TABLE watches (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    -- Normalized terms, one per line.
    keywords TEXT NOT NULL DEFAULT '',
    hashtags TEXT NOT NULL DEFAULT '',
    mentions BOOLEAN NOT NULL DEFAULT FALSE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX watches_account ON watches (account_id, id);

CREATE TABLE watch_hits (
    watch_id BIGINT NOT NULL REFERENCES watches (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    -- The watch's owner, so the all-watches queue and statistics need no join.
    account_id BIGINT NOT NULL,
    -- The status's created_at.
    created_at BIGINT NOT NULL,
    PRIMARY KEY (watch_id, status_id)
);
CREATE INDEX watch_hits_account ON watch_hits (account_id, status_id);
CREATE INDEX watch_hits_status ON watch_hits (status_id);

CREATE TABLE watch_dismissals (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, status_id)
);
CREATE INDEX watch_dismissals_status ON watch_dismissals (status_id);
