-- Each version of an edited status keeps the poll and the attachments it had, as
-- Mastodon's history shows them. The SQLite twin has the same columns.

-- The poll's option titles as a JSON list; NULL for a version without a poll.
ALTER TABLE status_edits ADD COLUMN poll_options TEXT;
-- The attachments' ids, comma-separated, in order.
ALTER TABLE status_edits ADD COLUMN media_ids TEXT NOT NULL DEFAULT '';
