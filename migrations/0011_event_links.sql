-- Events by the register record they name (0009 added the columns): the linked view of a
-- building lists the cases that name it, its households, or the places and organisations
-- in it. Partial: most events name nothing.
CREATE INDEX events_building ON events (building_id) WHERE building_id IS NOT NULL;
CREATE INDEX events_place ON events (place_id) WHERE place_id IS NOT NULL;
CREATE INDEX events_organisation ON events (organisation_id) WHERE organisation_id IS NOT NULL;
CREATE INDEX events_household ON events (household_id) WHERE household_id IS NOT NULL;
