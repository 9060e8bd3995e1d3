-- Custom emojis that administrators upload: `:shortcode:` in a status, a display name or
-- a bio shows the picture in clients. The SQLite twin has the same table and columns.

CREATE TABLE custom_emojis (
    id BIGINT PRIMARY KEY NOT NULL,
    shortcode TEXT NOT NULL UNIQUE,
    -- The stored picture (an animated GIF stays animated) and its still first frame.
    image_key TEXT NOT NULL,
    static_key TEXT NOT NULL,
    category TEXT,
    visible_in_picker BOOLEAN NOT NULL DEFAULT TRUE,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
