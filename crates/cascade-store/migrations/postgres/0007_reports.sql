-- Reports users file against accounts (and some of their statuses), and suspension by
-- moderators. The SQLite twin has the same tables.
CREATE TABLE reports (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    category TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    status_ids TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX reports_target ON reports (target_account_id, created_at);

ALTER TABLE accounts ADD COLUMN suspended_at BIGINT;
