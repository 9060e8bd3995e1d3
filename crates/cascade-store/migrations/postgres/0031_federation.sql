-- Federation (ActivityPub), first slice: remote accounts beside local ones, each local
-- account's key pair, remote statuses' ActivityPub ids, and delayed retries of jobs.

-- A remote account is an `accounts` row with a `domain` (NULL for local accounts), its
-- actor id (`uri`) and profile page (`url`). Local-only lookups (sign-in, WebFinger,
-- mentions, profile pages) ask for `domain IS NULL`; a username is unique per domain.
ALTER TABLE accounts ADD COLUMN domain TEXT;
ALTER TABLE accounts ADD COLUMN uri TEXT;
ALTER TABLE accounts ADD COLUMN url TEXT;
DROP INDEX accounts_username;
CREATE UNIQUE INDEX accounts_username ON accounts (lower(username), COALESCE(domain, ''));
CREATE UNIQUE INDEX accounts_uri ON accounts (uri);

-- What delivering to and verifying a remote actor takes, refreshed when it is fetched.
CREATE TABLE remote_actors (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    inbox TEXT NOT NULL,
    shared_inbox TEXT,
    followers_url TEXT,
    key_id TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    fetched_at BIGINT NOT NULL
);
CREATE INDEX remote_actors_key_id ON remote_actors (key_id);

-- A local account's RSA key pair, made on first need. The private key never leaves the
-- server: nothing renders this table.
CREATE TABLE account_keys (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    public_key_pem TEXT NOT NULL,
    private_key_pem TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A remote status's ActivityPub id and page, so that a Delete or a repeated Create finds
-- it again.
CREATE TABLE remote_statuses (
    status_id BIGINT PRIMARY KEY NOT NULL REFERENCES statuses (id) ON DELETE CASCADE,
    uri TEXT NOT NULL,
    url TEXT
);
CREATE UNIQUE INDEX remote_statuses_uri ON remote_statuses (uri);

-- The id of a remote Follow waiting for the local account's answer, which the Accept or
-- Reject names.
ALTER TABLE follow_requests ADD COLUMN uri TEXT;

-- A job that failed waits until then before it is tried again (deliveries back off).
ALTER TABLE jobs ADD COLUMN run_after BIGINT;
