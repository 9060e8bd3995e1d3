-- Media attachments: uploads, unattached until a status takes them (status_id). Each row
-- names its stored files by key (random, so a URL cannot be guessed); deleting a row owes
-- a `remove_media` job that removes its files. A status's attachments go with it.
CREATE TABLE media_attachments (
    id BIGINT PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    status_id BIGINT REFERENCES statuses (id) ON DELETE CASCADE,
    position BIGINT NOT NULL DEFAULT 0,
    kind TEXT NOT NULL,
    -- processing, ready or failed
    state TEXT NOT NULL,
    content_type TEXT NOT NULL,
    file_key TEXT,
    preview_key TEXT,
    -- MediaAttachment.meta without the focus, as JSON
    meta_json TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    focus_x DOUBLE PRECISION,
    focus_y DOUBLE PRECISION,
    blurhash TEXT,
    -- stored bytes of all its files, counted against the account's quota
    bytes BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX media_attachments_status ON media_attachments (status_id, position);
CREATE INDEX media_attachments_account ON media_attachments (account_id);
CREATE INDEX media_attachments_unattached ON media_attachments (created_at) WHERE status_id IS NULL;

-- Uploaded avatar and header pictures by storage key; NULL: the generated default.
ALTER TABLE accounts ADD COLUMN avatar_key TEXT;
ALTER TABLE accounts ADD COLUMN header_key TEXT;
