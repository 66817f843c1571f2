-- Assessment (考核) and review reports, derived from the record.
--
-- * events.reporter_worker: the grid worker whose token reported the case. A case in a grid
--   first reported by anyone but a worker holding that grid at the time is "missed" (漏报)
--   for the grid.
-- * assessment_weights: the weights of the composite score (configurable; README,
--   "Assessment"). A measure with no cases to judge is left out and the rest re-weighted.
-- * report_snapshots: each period's review report as generated at its end, kept unchanged.
ALTER TABLE events ADD COLUMN reporter_worker bigint REFERENCES workers (id);
CREATE INDEX events_reporter_worker ON events (reported_at) WHERE reporter_worker IS NOT NULL;
CREATE INDEX events_worker_reported ON events (worker_id, reported_at) WHERE worker_id IS NOT NULL;

CREATE TABLE assessment_weights (
    measure text PRIMARY KEY
        CHECK (measure IN ('kept', 'found', 'on_time', 'visits', 'satisfaction')),
    weight  real NOT NULL CHECK (weight >= 0 AND weight <= 100)
);
INSERT INTO assessment_weights (measure, weight) VALUES
    ('kept', 15), ('found', 20), ('on_time', 25), ('visits', 25), ('satisfaction', 15);

CREATE TABLE report_snapshots (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    area_code  text NOT NULL,
    period     text NOT NULL CHECK (period IN ('day', 'week', 'month')),
    starts     date NOT NULL,
    body       jsonb NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    UNIQUE (area_code, period, starts)
);
