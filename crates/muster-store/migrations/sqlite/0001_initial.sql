-- The event log, the incident projection used for listing, per-day incident numbers and API
-- tokens. Events are the record; everything else can be rebuilt from them.

CREATE TABLE events (
    incident TEXT NOT NULL,
    seq INTEGER NOT NULL,
    at INTEGER NOT NULL,
    actor TEXT NOT NULL,
    -- JSON of the event kind, exactly the bytes written.
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (incident, seq)
);

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
BEGIN
    SELECT RAISE(ABORT, 'events are append-only');
END;

CREATE TABLE incidents (
    id TEXT PRIMARY KEY NOT NULL,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    category TEXT,
    drill INTEGER NOT NULL,
    declared_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    last_hash TEXT NOT NULL,
    -- JSON of the incident after its last event.
    state TEXT NOT NULL
);

CREATE INDEX incidents_by_declared ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_by_status ON incidents (status, declared_at);
CREATE INDEX incidents_by_severity ON incidents (severity, declared_at);
CREATE INDEX incidents_by_category ON incidents (category, declared_at);

CREATE TABLE incident_tags (
    incident TEXT NOT NULL REFERENCES incidents (id),
    tag TEXT NOT NULL,
    PRIMARY KEY (incident, tag)
);

CREATE INDEX incident_tags_by_tag ON incident_tags (tag, incident);

CREATE TABLE incident_days (
    -- YYYY-MM-DD
    day TEXT PRIMARY KEY NOT NULL,
    last INTEGER NOT NULL
);

CREATE TABLE tokens (
    name TEXT PRIMARY KEY NOT NULL,
    -- Hex SHA-256 of the secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    person TEXT,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
