-- The signatures of inbound ActivityPub requests already accepted, kept until their Date
-- is too old to be accepted anyway: the same signed request sent again is a replay, and
-- is refused. Swept hourly. The other backend's twin has the same table.

CREATE TABLE seen_signatures (
    digest TEXT PRIMARY KEY NOT NULL,
    expires_at BIGINT NOT NULL
);
CREATE INDEX seen_signatures_expires ON seen_signatures (expires_at);
