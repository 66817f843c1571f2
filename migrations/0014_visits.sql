-- Visits (走访): a worker at a household, building, place or organisation of the registers,
-- with the outcome. A phone's id for the visit makes a resent visit one visit.
CREATE TABLE visits (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    worker_id   bigint NOT NULL REFERENCES workers (id),
    client_id   text NOT NULL CHECK (char_length(client_id) BETWEEN 1 AND 64),
    target_kind text NOT NULL CHECK (target_kind IN ('household', 'building', 'place', 'organisation')),
    target_id   bigint NOT NULL,
    -- The grid the target lay in when visited.
    grid_code   text,
    at          timestamptz NOT NULL,
    outcome     text NOT NULL CHECK (outcome IN ('normal', 'issue_found', 'not_home', 'refused')),
    note        text NOT NULL DEFAULT '' CHECK (char_length(note) <= 2000),
    patrol_id   bigint REFERENCES patrols (id),
    generated   boolean NOT NULL DEFAULT false,
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (worker_id, client_id)
);
CREATE INDEX visits_target ON visits (target_kind, target_id, at DESC);
CREATE INDEX visits_at ON visits (at);

-- How often what must be visited (configurable): households with a care tag, risk sites by
-- type. A subject never visited is due `every_days` after `since` (when the rule began).
CREATE TABLE visit_rules (
    subject    text NOT NULL CHECK (subject IN ('tag', 'place')),
    code       text NOT NULL,
    every_days integer NOT NULL CHECK (every_days BETWEEN 1 AND 366),
    since      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (subject, code)
);
INSERT INTO visit_rules (subject, code, every_days) VALUES
    ('tag', 'elderly_alone', 7),
    ('tag', 'very_old', 14),
    ('tag', 'disabled', 30),
    ('tag', 'left_behind_child', 14),
    ('tag', 'low_income', 30),
    ('tag', 'veteran', 90),
    ('tag', 'community_correction', 7),
    ('tag', 'released', 30),
    ('tag', 'mental_disorder', 14),
    ('place', 'fuel_station', 30),
    ('place', 'chemical_store', 30),
    ('place', 'construction_site', 14),
    ('place', 'flood_prone', 30),
    ('place', 'old_building', 30);
