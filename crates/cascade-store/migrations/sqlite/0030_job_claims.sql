-- Several nodes on one store: a worker claims a job before it runs it, for a lease it
-- renews while it saves progress; a job whose lease ran out (its node died mid-job) is
-- claimed again and resumes from its progress. Only PostgreSQL claims (SQLite is one
-- process), but both stores have the columns.
ALTER TABLE jobs ADD COLUMN claimed_by TEXT;
ALTER TABLE jobs ADD COLUMN claimed_until BIGINT;
