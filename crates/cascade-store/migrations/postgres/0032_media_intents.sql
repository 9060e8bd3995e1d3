-- Files about to be written to media storage, each recorded before its write: a process
-- that dies between writing a file and committing the row that names it leaves the key
-- here, and the hourly sweep removes the file unless a row names it. Settled (deleted)
-- once the row is committed. The other backend's twin has the same table.

CREATE TABLE media_intents (
    file_key TEXT PRIMARY KEY NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_intents_created ON media_intents (created_at);
