-- What an account says about others on its profile or keeps to itself: private notes,
-- endorsed accounts, featured hashtags; and the threads it muted. The SQLite twin has
-- the same tables.

-- One private note per account and target; an empty note is no row.
CREATE TABLE account_notes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    comment TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_id)
);

-- Accounts featured on a profile; the id is the paging key.
CREATE TABLE endorsements (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, target_id)
);
CREATE INDEX endorsements_target ON endorsements (target_id);

-- Hashtags featured on a profile.
CREATE TABLE featured_tags (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    tag_id BIGINT NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    UNIQUE (account_id, tag_id)
);

-- Muted threads, by the id of the thread's first status: nothing in the thread notifies.
CREATE TABLE thread_mutes (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    root_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, root_id)
);
