-- Grid workers (网格员) as records, and their duties (定格定人): which worker holds which
-- grid, from when to when. A grid may have several workers (一格多员) and a worker several
-- grids. Grids are named by code, which survives a redrawn boundary.
CREATE TABLE workers (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    code         text NOT NULL UNIQUE CHECK (char_length(code) BETWEEN 1 AND 64),
    name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 50),
    -- Personal data: sealed with the registers' key, a keyed hash beside it (0009).
    phone_sealed bytea,
    phone_lookup bytea,
    kind         text NOT NULL CHECK (kind IN ('full_time', 'part_time', 'volunteer')),
    active       boolean NOT NULL DEFAULT true,
    generated    boolean NOT NULL DEFAULT false,
    created_at   timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX workers_phone_lookup ON workers (phone_lookup) WHERE phone_lookup IS NOT NULL;

CREATE TABLE worker_duties (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id  bigint NOT NULL REFERENCES workers (id),
    grid_code  text NOT NULL,
    valid_from timestamptz NOT NULL DEFAULT now(),
    valid_to   timestamptz,
    CHECK (valid_to IS NULL OR valid_to >= valid_from)
);
-- One current duty per worker and grid; the current duties of a grid by code.
CREATE UNIQUE INDEX worker_duties_current ON worker_duties (worker_id, grid_code)
    WHERE valid_to IS NULL;
CREATE INDEX worker_duties_grid ON worker_duties (grid_code) WHERE valid_to IS NULL;

-- A field token may belong to a worker (its scope: the worker's grids); a case may be
-- handled by a worker.
ALTER TABLE tokens ADD COLUMN worker_id bigint REFERENCES workers (id);
ALTER TABLE events ADD COLUMN worker_id bigint REFERENCES workers (id);
CREATE INDEX events_worker ON events (worker_id) WHERE worker_id IS NOT NULL;
