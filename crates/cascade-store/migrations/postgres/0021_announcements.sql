-- Announcements administrators publish to every user, with each user's dismissals and
-- emoji reactions. The SQLite twin has the same tables.

CREATE TABLE announcements (
    id BIGINT PRIMARY KEY NOT NULL,
    text TEXT NOT NULL,
    content_html TEXT NOT NULL,
    starts_at BIGINT,
    ends_at BIGINT,
    all_day BOOLEAN NOT NULL DEFAULT FALSE,
    published_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

CREATE TABLE announcement_dismissals (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, account_id)
);

CREATE TABLE announcement_reactions (
    announcement_id BIGINT NOT NULL REFERENCES announcements (id) ON DELETE CASCADE,
    account_id BIGINT NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (announcement_id, account_id, name)
);
CREATE INDEX announcement_reactions_name ON announcement_reactions (announcement_id, name);
