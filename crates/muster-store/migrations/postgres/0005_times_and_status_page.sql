-- The times the dashboards and metrics measure move onto the narrow `incidents` rows, so a chart
-- over many incidents reads no JSON; and the status page gets its own index of what responders
-- published (only `update_published` events ever reach it).

ALTER TABLE incidents ADD COLUMN detected_at BIGINT;
ALTER TABLE incidents ADD COLUMN acknowledged_at BIGINT;
ALTER TABLE incidents ADD COLUMN resolved_at BIGINT;

UPDATE incidents SET
    detected_at = (s.state::jsonb ->> 'detected_at')::BIGINT,
    acknowledged_at = (s.state::jsonb ->> 'acknowledged_at')::BIGINT,
    resolved_at = (s.state::jsonb ->> 'resolved_at')::BIGINT
FROM incident_states s WHERE s.id = incidents.id;

CREATE INDEX incidents_by_drill_declared ON incidents (drill, declared_at, severity, status, detected_at, acknowledged_at, resolved_at);

-- One row per incident ever published: its public state and when it was first and last updated.
CREATE TABLE public_incidents (
    incident TEXT COLLATE "C" PRIMARY KEY REFERENCES incidents (id),
    state TEXT NOT NULL,
    first_at BIGINT NOT NULL,
    last_at BIGINT NOT NULL
);

CREATE INDEX public_incidents_by_last ON public_incidents (last_at);
CREATE INDEX public_incidents_by_state ON public_incidents (state);

-- Which events are public updates; their text is the event itself.
CREATE TABLE public_updates (
    incident TEXT COLLATE "C" NOT NULL REFERENCES public_incidents (incident),
    seq BIGINT NOT NULL,
    PRIMARY KEY (incident, seq)
);
