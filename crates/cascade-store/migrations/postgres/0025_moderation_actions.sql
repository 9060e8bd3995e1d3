-- The rest of the moderators' actions: accounts marked sensitive, logins disabled,
-- sign-ups waiting for approval, the warnings moderators send with an action, and the
-- blocks on canonical email addresses and client addresses. The SQLite twin has the
-- same tables and columns.

-- When a moderator marked the account's media sensitive, if one did.
ALTER TABLE accounts ADD COLUMN sensitized_at BIGINT;
-- When a moderator disabled the account's login, if one did.
ALTER TABLE accounts ADD COLUMN disabled_at BIGINT;
-- Since when a sign-up waits for a moderator's approval; NULL once approved, and for
-- accounts that never needed it.
ALTER TABLE accounts ADD COLUMN pending_since BIGINT;
-- Why the person asked to join, when sign-ups need approval.
ALTER TABLE accounts ADD COLUMN sign_up_reason TEXT;

-- What a moderator did to an account and told its owner.
CREATE TABLE account_warnings (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT,
    target_account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    action TEXT NOT NULL,
    text TEXT NOT NULL,
    report_id BIGINT,
    status_ids TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL
);
CREATE INDEX account_warnings_target ON account_warnings (target_account_id, id);

-- Sign-ups refused by the SHA-256 of their canonical email address.
CREATE TABLE canonical_email_blocks (
    id BIGINT PRIMARY KEY NOT NULL,
    canonical_email_hash TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL
);

-- Client addresses (one address or a CIDR range) and what they may not do:
-- `sign_up_requires_approval`, `sign_up_block` or `no_access`.
CREATE TABLE ip_blocks (
    id BIGINT PRIMARY KEY NOT NULL,
    ip TEXT NOT NULL,
    severity TEXT NOT NULL,
    comment TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    expires_at BIGINT
);
