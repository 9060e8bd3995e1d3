-- Notifications: one row per event a user is told about. `dedup_key` makes repeating an
-- action (favouriting twice) notify once. The PostgreSQL twin has the same table.
CREATE TABLE notifications (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    kind TEXT NOT NULL,
    status_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    dedup_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, dedup_key)
);
CREATE INDEX notifications_account ON notifications (account_id, id);

-- The followers who rang the bell for an author, found without scanning all its follows.
CREATE INDEX follows_notify ON follows (target_id) WHERE notify = TRUE;

-- Where a user stopped reading each timeline (Mastodon's markers), with a version that
-- counts the updates.
CREATE TABLE markers (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    timeline TEXT NOT NULL,
    last_read_id BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, timeline)
);
