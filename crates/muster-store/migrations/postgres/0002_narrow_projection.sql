-- The incident's full state moves out of `incidents` into its own table, so the rows that
-- listings filter, sort and count stay small (a count over 100,000 incidents reads only them).

CREATE TABLE incident_states (
    id TEXT COLLATE "C" PRIMARY KEY REFERENCES incidents (id),
    -- JSON of the incident after its last event.
    state TEXT NOT NULL
);

INSERT INTO incident_states (id, state) SELECT id, state FROM incidents;

ALTER TABLE incidents DROP COLUMN state;

-- Covering indexes for the filters a dashboard combines, so counting the matches of a filter
-- reads an index, not the table.
CREATE INDEX incidents_by_severity_status ON incidents (severity, status, declared_at);
CREATE INDEX incidents_by_category_status ON incidents (category, status, declared_at);
CREATE INDEX incidents_by_drill ON incidents (drill, declared_at);
