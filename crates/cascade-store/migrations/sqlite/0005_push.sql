-- Web Push and out-of-office. The PostgreSQL twin has the same tables.

-- The instance's own keys, made once on first start: today the VAPID key pair that signs
-- Web Push requests (`name` = 'vapid'). The private half is stored as is: it must be usable.
CREATE TABLE instance_keys (
    name TEXT PRIMARY KEY NOT NULL,
    private_key TEXT NOT NULL,
    public_key TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- Web Push subscriptions, one per access token as in Mastodon. `alerts` lists the enabled
-- notification types, space-separated; `policy` is all, followed, follower or none.
CREATE TABLE push_subscriptions (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    token_id BIGINT NOT NULL UNIQUE REFERENCES tokens (id) ON DELETE CASCADE,
    endpoint TEXT NOT NULL,
    p256dh TEXT NOT NULL,
    auth TEXT NOT NULL,
    standard BOOLEAN NOT NULL DEFAULT FALSE,
    alerts TEXT NOT NULL DEFAULT '',
    policy TEXT NOT NULL DEFAULT 'all',
    created_at BIGINT NOT NULL
);
CREATE INDEX push_subscriptions_account ON push_subscriptions (account_id);

-- Pushes waiting to go out: the durable job of the push worker. A row names either the
-- notification whose group's latest state is sent (`notification_id`) or a ready payload
-- (an away digest). `coalesced` rows are the one delayed delivery of a burst. A row is
-- deleted once the push service took it, gave up on it, or the subscription went.
CREATE TABLE push_deliveries (
    id BIGINT PRIMARY KEY NOT NULL,
    subscription_id BIGINT NOT NULL REFERENCES push_subscriptions (id) ON DELETE CASCADE,
    notification_id BIGINT,
    payload TEXT,
    coalesced BOOLEAN NOT NULL DEFAULT FALSE,
    due_at BIGINT NOT NULL,
    attempts BIGINT NOT NULL DEFAULT 0,
    created_at BIGINT NOT NULL
);
CREATE INDEX push_deliveries_due ON push_deliveries (due_at);

-- Out-of-office periods (a Cascade extension). A row lives until its period has ended and
-- the worker sent the digest of the pushes it held; a new period ends the current one.
CREATE TABLE away_periods (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message TEXT NOT NULL,
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX away_periods_account ON away_periods (account_id, ends_at);
CREATE INDEX away_periods_end ON away_periods (ends_at);

-- The automatic replies sent: one per period and sender, enforced by the primary key so
-- concurrent messages cannot both win. Rows outlive their period (no reference to it):
-- they mark the reply statuses as automatic for good.
CREATE TABLE away_replies (
    period_id BIGINT NOT NULL,
    sender_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    message_id BIGINT NOT NULL,
    reply_id BIGINT,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (period_id, sender_id)
);
CREATE INDEX away_replies_reply ON away_replies (reply_id);
CREATE INDEX away_replies_message ON away_replies (account_id, message_id);
