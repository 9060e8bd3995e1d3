-- Follow suggestions a user dismissed: never suggested again.
CREATE TABLE suggestion_dismissals (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    target_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (account_id, target_id)
);

-- The follow-back rule: follow back new followers whose interest overlap reaches this
-- (0 to 1). NULL: the rule is off.
ALTER TABLE accounts ADD COLUMN follow_back_min_overlap REAL;
