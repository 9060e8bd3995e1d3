-- Polls on statuses, their voters and votes. Counts are read from the vote rows, so they
-- are exact however many votes arrive at once; one voter row per account and poll is the
-- lock that keeps anyone from voting twice. The PostgreSQL twin has the same tables.

CREATE TABLE polls (
    id BIGINT PRIMARY KEY NOT NULL,
    status_id BIGINT NOT NULL UNIQUE REFERENCES statuses (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    -- A JSON list of the options' titles.
    options TEXT NOT NULL,
    multiple BOOLEAN NOT NULL DEFAULT FALSE,
    hide_totals BOOLEAN NOT NULL DEFAULT FALSE,
    expires_at BIGINT NOT NULL,
    -- When the clock queued the end's notifications; NULL while the poll runs.
    ended_at BIGINT,
    created_at BIGINT NOT NULL
);
CREATE INDEX polls_open ON polls (expires_at) WHERE ended_at IS NULL;

CREATE TABLE poll_voters (
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (poll_id, account_id)
);

CREATE TABLE poll_votes (
    poll_id BIGINT NOT NULL REFERENCES polls (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    choice BIGINT NOT NULL,
    PRIMARY KEY (poll_id, account_id, choice)
);
