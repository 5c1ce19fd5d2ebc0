-- Metrics measure detection from the start of impact, and repeat incidents by root cause: both
-- move onto the narrow `incidents` rows. Action items get a table of their own, so the overdue
-- report and the completion rate read no incident state.

ALTER TABLE incidents ADD COLUMN started_at BIGINT;
ALTER TABLE incidents ADD COLUMN root_cause TEXT;

UPDATE incidents SET started_at = (s.state::jsonb ->> 'started_at')::BIGINT
FROM incident_states s WHERE s.id = incidents.id;

DROP INDEX incidents_by_drill_declared;
CREATE INDEX incidents_by_drill_declared ON incidents (drill, declared_at, severity, category, status, started_at, detected_at, acknowledged_at, resolved_at, root_cause);
CREATE INDEX incidents_by_root_cause ON incidents (root_cause, declared_at) WHERE root_cause IS NOT NULL;

CREATE TABLE action_items (
    incident TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    item BIGINT NOT NULL,
    title TEXT NOT NULL,
    owner TEXT NOT NULL,
    horizon TEXT NOT NULL,
    status TEXT NOT NULL,
    root_cause TEXT,
    created_at BIGINT NOT NULL,
    due_at BIGINT NOT NULL,
    closed_at BIGINT,
    drill BOOLEAN NOT NULL,
    PRIMARY KEY (incident, item)
);

CREATE INDEX action_items_by_status_due ON action_items (status, due_at);
CREATE INDEX action_items_by_created ON action_items (created_at);
