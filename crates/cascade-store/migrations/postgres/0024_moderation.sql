-- Moderation through the admin API: staff roles on accounts, and reports assigned to a
-- moderator and resolved. The SQLite twin has the same table and columns.

-- `admin` or `moderator`; an account without a row has no role.
CREATE TABLE account_roles (
    account_id BIGINT PRIMARY KEY NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    role TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

ALTER TABLE reports ADD COLUMN assigned_account_id BIGINT;
ALTER TABLE reports ADD COLUMN action_taken_by_account_id BIGINT;
ALTER TABLE reports ADD COLUMN action_taken_at BIGINT;
ALTER TABLE reports ADD COLUMN updated_at BIGINT;
