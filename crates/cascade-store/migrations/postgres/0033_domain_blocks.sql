-- Blocks of whole servers (federation, issue 17). The other backend's twin has the same
-- tables and columns.

-- A moderator's block of a domain and its subdomains: `silence` limits its accounts,
-- `suspend` refuses everything from it and sends nothing to it, `noop` only carries the
-- flags. `applied_at` is the time written into the limits or suspensions of the accounts
-- it acted on, so that lifting it lifts exactly those and not a moderator's own.
CREATE TABLE domain_blocks (
    id BIGINT PRIMARY KEY NOT NULL,
    domain TEXT NOT NULL UNIQUE,
    severity TEXT NOT NULL,
    reject_media BOOLEAN NOT NULL DEFAULT FALSE,
    reject_reports BOOLEAN NOT NULL DEFAULT FALSE,
    private_comment TEXT NOT NULL DEFAULT '',
    public_comment TEXT NOT NULL DEFAULT '',
    obfuscate BOOLEAN NOT NULL DEFAULT FALSE,
    applied_at BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A person's block of one domain: its accounts are hidden from them as blocked accounts
-- are, cannot follow them, and lose them as a follower.
CREATE TABLE account_domain_blocks (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    domain TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX account_domain_blocks_pair ON account_domain_blocks (account_id, domain);
CREATE INDEX accounts_domain ON accounts (domain);
