-- A remote status's attachments, stored by reference: `remote_url` is the file on its
-- server, which is not fetched or cached here (no file_key, no bytes counted). Local
-- uploads leave it NULL. The other backend's twin is the same.

ALTER TABLE media_attachments ADD COLUMN remote_url TEXT;
