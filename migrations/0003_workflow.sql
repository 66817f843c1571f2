-- minqing schema, version 3: the closed loop, and who may do what.
--
-- * escalation: how far an overdue case has been raised (0 grid, 1 community, 2 street,
--   3 district); escalated_at: when it last was. Raised on a schedule by any instance; the
--   UPDATE's own WHERE makes concurrent raisers harmless.
-- * resolved_at: when the case was last resolved (time to resolve = resolved_at -
--   reported_at); satisfied: the reporter's answer at the return visit.
-- * merged_into: a duplicate closed into another case.
-- * reporter_token: the reporter-role token that submitted the case (a reporter follows
--   their own reports); not personal data, but never shown on public endpoints either.
-- * tokens: bearer tokens, stored as SHA-256 of the secret only. Scope is an area code:
--   codes outlive the boundary versions a redraw creates.

ALTER TABLE events
    ADD COLUMN escalation     smallint NOT NULL DEFAULT 0 CHECK (escalation BETWEEN 0 AND 3),
    ADD COLUMN escalated_at   timestamptz,
    ADD COLUMN resolved_at    timestamptz,
    ADD COLUMN satisfied      boolean,
    ADD COLUMN merged_into    bigint REFERENCES events (id),
    ADD COLUMN reporter_token bigint;

-- Cases resolved before this version: their last change is the best known resolution time.
UPDATE events SET resolved_at = updated_at WHERE status IN ('resolved', 'closed');

-- Overdue open cases, for the escalation sweep.
CREATE INDEX events_open_due ON events (due_at)
    WHERE status IN ('reported', 'accepted', 'assigned', 'in_progress', 'reopened');
-- Lists by report time (Open311's default window, exports by date).
CREATE INDEX events_reported_at ON events (reported_at);
CREATE INDEX events_reporter_token ON events (reporter_token) WHERE reporter_token IS NOT NULL;

ALTER TABLE event_history
    ADD COLUMN action   text,
    ADD COLUMN assignee text;

CREATE TABLE tokens (
    id         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    name       text NOT NULL,
    role       text NOT NULL CHECK (role IN ('admin', 'command', 'planner', 'field', 'reporter')),
    area_code  text,
    hash       text NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now(),
    revoked_at timestamptz
);
