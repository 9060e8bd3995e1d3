-- Statuses to publish later: the parameters they were posted with, until the clock
-- publishes them at `scheduled_at` (the row is deleted then). The SQLite twin has the
-- same table.

CREATE TABLE scheduled_statuses (
    id BIGINT PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    scheduled_at BIGINT NOT NULL,
    -- The status's parameters, as JSON.
    params TEXT NOT NULL,
    -- The request's Idempotency-Key: a repeated request schedules nothing more.
    idem_key TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX scheduled_statuses_due ON scheduled_statuses (scheduled_at);
CREATE INDEX scheduled_statuses_account ON scheduled_statuses (account_id, id);
CREATE UNIQUE INDEX scheduled_statuses_once ON scheduled_statuses (account_id, idem_key) WHERE idem_key IS NOT NULL;
