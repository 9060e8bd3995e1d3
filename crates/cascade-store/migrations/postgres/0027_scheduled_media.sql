-- Uploads kept for a scheduled status until it is published: the sweep of day-old
-- unattached uploads leaves them alone while this is set. The SQLite twin has the
-- same column.
ALTER TABLE media_attachments ADD COLUMN scheduled_status_id BIGINT;
CREATE INDEX media_attachments_scheduled ON media_attachments (scheduled_status_id);
