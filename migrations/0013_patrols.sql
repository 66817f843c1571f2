-- Patrols (巡查): a worker's walk, recorded by the phone as a track of points sent in
-- batches. A batch sent twice is stored once: points are keyed by the phone's sequence
-- number, a patrol by the phone's id for it.
CREATE TABLE patrols (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id  bigint NOT NULL REFERENCES workers (id),
    client_id  text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
    started_at timestamptz NOT NULL,
    ended_at   timestamptz,
    -- The grids the worker held when the patrol started.
    grid_codes text[] NOT NULL,
    generated  boolean NOT NULL DEFAULT false,
    UNIQUE (worker_id, client_id),
    CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE INDEX patrols_started ON patrols (started_at);
CREATE INDEX patrols_grids ON patrols USING gin (grid_codes);

CREATE TABLE patrol_points (
    patrol_id  bigint NOT NULL REFERENCES patrols (id),
    seq        integer NOT NULL CHECK (seq >= 0),
    at         timestamptz NOT NULL,
    geom       geometry(Point, 4326) NOT NULL,
    accuracy_m real CHECK (accuracy_m IS NULL OR accuracy_m >= 0),
    PRIMARY KEY (patrol_id, seq)
);
CREATE INDEX patrol_points_geom ON patrol_points USING gist (geom);
