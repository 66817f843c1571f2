-- minqing schema, version 4: a report's photo, stored with the report (one transaction).
-- Type-checked (JPEG, PNG or WebP by their magic bytes) and size-limited before it is stored;
-- served only to those who may see the case.
CREATE TABLE event_photos (
    event_id     bigint PRIMARY KEY REFERENCES events (id) ON DELETE CASCADE,
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes        bytea NOT NULL
);
