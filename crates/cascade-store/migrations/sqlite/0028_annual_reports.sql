-- Annual reports ("wrapped"): a year of an account's activity, computed once when the
-- year is asked for and kept as it was then. The PostgreSQL twin has the same table.
CREATE TABLE annual_reports (
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    year BIGINT NOT NULL,
    -- The report's data as JSON, in the shape `schema_version` names.
    data TEXT NOT NULL,
    schema_version BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    viewed_at BIGINT,
    PRIMARY KEY (account_id, year)
);
