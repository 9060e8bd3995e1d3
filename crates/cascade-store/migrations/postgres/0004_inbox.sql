-- Grouped notifications, the notification policy and its requests, accounts limited by
-- moderators, and direct conversations. The SQLite twin has the same tables.

-- Each notification's group (favourites of one status, reblogs of one status, follows of
-- one day; `ungrouped-<id>` otherwise), and whether the recipient's policy filtered it.
ALTER TABLE notifications ADD COLUMN group_key TEXT NOT NULL DEFAULT '';
ALTER TABLE notifications ADD COLUMN filtered BOOLEAN NOT NULL DEFAULT FALSE;
UPDATE notifications SET group_key = CASE
    WHEN kind IN ('favourite', 'reblog') AND status_id IS NOT NULL THEN kind || '-' || status_id
    WHEN kind = 'follow' THEN 'follow-' || (created_at / 86400000)
    ELSE 'ungrouped-' || id END;
CREATE INDEX notifications_group ON notifications (account_id, group_key, id);

-- When a moderator limited the account (its notifications fall under for_limited_accounts).
ALTER TABLE accounts ADD COLUMN limited_at BIGINT;

-- Mastodon 4.3's notification policy: accept, filter or drop per kind of sender.
CREATE TABLE notification_policies (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    for_not_following TEXT NOT NULL,
    for_not_followers TEXT NOT NULL,
    for_new_accounts TEXT NOT NULL,
    for_private_mentions TEXT NOT NULL,
    for_limited_accounts TEXT NOT NULL
);

-- Filtered notifications, one request per sending account.
CREATE TABLE notification_requests (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    last_status_id BIGINT,
    notifications_count BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (account_id, from_account_id)
);

-- Senders whose requests the user accepted: their notifications are never filtered again.
CREATE TABLE notification_permissions (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    from_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    PRIMARY KEY (account_id, from_account_id)
);

-- Direct conversations as each participant sees them: the other participants (sorted ids,
-- comma-separated), the latest status and whether it is unread.
CREATE TABLE conversations (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    participants TEXT NOT NULL,
    last_status_id BIGINT,
    unread BOOLEAN NOT NULL DEFAULT FALSE,
    UNIQUE (account_id, participants)
);
CREATE INDEX conversations_recent ON conversations (account_id, last_status_id);
