-- Account migration (ActivityPub `Move`): the actor ids a local account says it also is
-- (published as its actor's `alsoKnownAs`, so that an account elsewhere may move here),
-- and, for an account that moved, the account it moved to. The other backend's twin has
-- the same tables.

CREATE TABLE account_aliases (
    account_id BIGINT NOT NULL,
    uri TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, uri)
);

CREATE TABLE account_moves (
    account_id BIGINT PRIMARY KEY NOT NULL,
    moved_to_account_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
