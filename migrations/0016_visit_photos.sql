-- A visit's photo (走访 "outcome, note and photo"): JPEG, PNG or WebP, told by its bytes, at
-- most 5 MB (checked before it is stored); shown to the staff who may see the visit.
CREATE TABLE visit_photos (
    visit_id     bigint PRIMARY KEY REFERENCES visits (id),
    content_type text NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png', 'image/webp')),
    bytes        bytea NOT NULL
);
