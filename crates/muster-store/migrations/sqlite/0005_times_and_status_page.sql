-- The times the dashboards and metrics measure move onto the narrow `incidents` rows, so a chart
-- over many incidents reads no JSON; and the status page gets its own index of what responders
-- published (only `update_published` events ever reach it).

ALTER TABLE incidents ADD COLUMN detected_at INTEGER;
ALTER TABLE incidents ADD COLUMN acknowledged_at INTEGER;
ALTER TABLE incidents ADD COLUMN resolved_at INTEGER;

UPDATE incidents SET
    detected_at = (SELECT json_extract(state, '$.detected_at') FROM incident_states s WHERE s.id = incidents.id),
    acknowledged_at = (SELECT json_extract(state, '$.acknowledged_at') FROM incident_states s WHERE s.id = incidents.id),
    resolved_at = (SELECT json_extract(state, '$.resolved_at') FROM incident_states s WHERE s.id = incidents.id);

CREATE INDEX incidents_by_drill_declared ON incidents (drill, declared_at, severity, status, detected_at, acknowledged_at, resolved_at);

-- One row per incident ever published: its public state and when it was first and last updated.
CREATE TABLE public_incidents (
    incident TEXT PRIMARY KEY NOT NULL REFERENCES incidents (id),
    state TEXT NOT NULL,
    first_at INTEGER NOT NULL,
    last_at INTEGER NOT NULL
);

CREATE INDEX public_incidents_by_last ON public_incidents (last_at);
CREATE INDEX public_incidents_by_state ON public_incidents (state);

-- Which events are public updates; their text is the event itself.
CREATE TABLE public_updates (
    incident TEXT NOT NULL REFERENCES public_incidents (incident),
    seq INTEGER NOT NULL,
    PRIMARY KEY (incident, seq)
);
