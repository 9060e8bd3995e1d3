-- Content filters (Mastodon's v2 filters): a filter per row, its keywords and the statuses
-- it filters by id. `context` is a comma-separated list of context names, `action` is
-- warn, hide or blur. The SQLite twin has the same tables.
CREATE TABLE filters (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    title TEXT NOT NULL,
    context TEXT NOT NULL,
    action TEXT NOT NULL DEFAULT 'warn',
    expires_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX filters_account ON filters (account_id);

CREATE TABLE filter_keywords (
    id BIGINT PRIMARY KEY NOT NULL,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    keyword TEXT NOT NULL,
    whole_word BOOLEAN NOT NULL DEFAULT TRUE
);
CREATE INDEX filter_keywords_filter ON filter_keywords (filter_id);

-- A status is filtered once per filter; the status's deletion removes its rules.
CREATE TABLE filter_statuses (
    id BIGINT PRIMARY KEY NOT NULL,
    filter_id BIGINT NOT NULL REFERENCES filters (id) ON DELETE CASCADE,
    status_id BIGINT NOT NULL REFERENCES statuses (id) ON DELETE CASCADE
);
CREATE UNIQUE INDEX filter_statuses_once ON filter_statuses (filter_id, status_id);
