-- Bulk load of events (text COPY; rows built by write.rs in this column order).
COPY events (id, category, title, description, status, priority, grid_id, reported_at,
             due_at, updated_at, generated, resolved_at, satisfied, geom) FROM STDIN
