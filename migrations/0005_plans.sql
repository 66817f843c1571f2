-- minqing schema, version 5: grid planning — drafts of grid boundaries, validated in
-- PostGIS, published as new area versions (see src/store/plans.rs for the whole design).
--
-- * plans: one draft over an area (a community usually). `status` draft → published, or
--   abandoned. The last validation report is kept with it (`report`).
-- * plan_parents: the areas whose grids the draft covers (the communities: the gap and
--   outside-the-parent checks are made against each).
-- * plan_base: the current grid rows (ids) the draft started from. Publishing checks under a
--   lock that every one of them is still current and that no other grid was added under the
--   parents since: otherwise another plan (or an import) changed the same grids first and
--   the publish is refused as a conflict, the draft kept.
-- * plan_grids: the draft's grids, keyed within the plan (`key`). `source_id` is the
--   current grid a draft grid continues (its code gets a new version on publish when
--   `changed`); NULL for a grid created in the draft. A base grid with no draft grid
--   continuing it is retired on publish.
-- * plan_operations: every operation applied to a draft, in order (who, when, the body).
-- * A statement trigger on areas NOTIFYs `minqing_areas`, so that every instance reloads
--   its area index when boundaries change.

CREATE TABLE plans (
    id              bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    area_id         bigint NOT NULL REFERENCES areas (id),
    name            text NOT NULL DEFAULT '',
    status          text NOT NULL DEFAULT 'draft'
                        CHECK (status IN ('draft', 'published', 'abandoned')),
    households_min  integer NOT NULL DEFAULT 200 CHECK (households_min >= 0),
    households_max  integer NOT NULL DEFAULT 500,
    population_min  integer,
    population_max  integer,
    created_by      text NOT NULL,
    created_at      timestamptz NOT NULL DEFAULT now(),
    updated_at      timestamptz NOT NULL DEFAULT now(),
    published_at    timestamptz,
    published_by    text,
    report          jsonb,
    CHECK (households_max >= households_min)
);
CREATE INDEX plans_status ON plans (status, id);

CREATE TABLE plan_parents (
    plan_id bigint NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    area_id bigint NOT NULL REFERENCES areas (id),
    PRIMARY KEY (plan_id, area_id)
);

CREATE TABLE plan_base (
    plan_id bigint NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    area_id bigint NOT NULL REFERENCES areas (id),
    PRIMARY KEY (plan_id, area_id)
);
CREATE INDEX plan_base_area ON plan_base (area_id);

CREATE TABLE plan_grids (
    plan_id     bigint NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    key         integer NOT NULL,
    source_id   bigint REFERENCES areas (id),
    parent_id   bigint NOT NULL REFERENCES areas (id),
    code        text NOT NULL,
    name        text NOT NULL,
    name_en     text,
    households  integer NOT NULL DEFAULT 0 CHECK (households >= 0),
    population  integer NOT NULL DEFAULT 0 CHECK (population >= 0),
    workers     jsonb NOT NULL DEFAULT '[]',
    changed     boolean NOT NULL DEFAULT false,
    geom        geometry(MultiPolygon, 4326) NOT NULL,
    PRIMARY KEY (plan_id, key)
);
CREATE UNIQUE INDEX plan_grids_code ON plan_grids (plan_id, code);
CREATE INDEX plan_grids_geom ON plan_grids USING gist (geom);

CREATE TABLE plan_operations (
    plan_id bigint NOT NULL REFERENCES plans (id) ON DELETE CASCADE,
    seq     integer NOT NULL,
    at      timestamptz NOT NULL DEFAULT now(),
    actor   text NOT NULL,
    body    jsonb NOT NULL,
    PRIMARY KEY (plan_id, seq)
);

-- Historical queries (`?at=`) look among the versions valid at a time.
CREATE INDEX areas_validity ON areas (level, valid_from, valid_to);

CREATE FUNCTION minqing_areas_notify() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    PERFORM pg_notify('minqing_areas', '');
    RETURN NULL;
END
$$;

CREATE TRIGGER areas_notify AFTER INSERT OR UPDATE OR DELETE ON areas
    FOR EACH STATEMENT EXECUTE FUNCTION minqing_areas_notify();
