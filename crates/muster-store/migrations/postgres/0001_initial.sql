-- The event log, the incident projection used for listing, per-day incident numbers and API
-- tokens. Events are the record; everything else can be rebuilt from them.
-- Identifiers compare byte by byte (COLLATE "C"), as in SQLite, so both backends order alike.

CREATE TABLE events (
    incident TEXT COLLATE "C" NOT NULL,
    seq BIGINT NOT NULL,
    at BIGINT NOT NULL,
    actor TEXT NOT NULL,
    -- JSON of the event kind, exactly the bytes written (TEXT, not jsonb, so nothing is
    -- normalised on the way in).
    body TEXT NOT NULL,
    hash TEXT NOT NULL,
    PRIMARY KEY (incident, seq)
);

CREATE FUNCTION events_refuse_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'events are append-only';
END;
$$;

CREATE TRIGGER events_refuse_update BEFORE UPDATE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_delete BEFORE DELETE ON events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

CREATE TRIGGER events_refuse_truncate BEFORE TRUNCATE ON events
    FOR EACH STATEMENT EXECUTE FUNCTION events_refuse_change();

CREATE TABLE incidents (
    id TEXT COLLATE "C" PRIMARY KEY,
    title TEXT NOT NULL,
    status TEXT NOT NULL,
    severity TEXT NOT NULL,
    category TEXT,
    drill BOOLEAN NOT NULL,
    declared_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    last_hash TEXT NOT NULL,
    -- JSON of the incident after its last event.
    state TEXT NOT NULL
);

CREATE INDEX incidents_by_declared ON incidents (declared_at DESC, id DESC);
CREATE INDEX incidents_by_status ON incidents (status, declared_at);
CREATE INDEX incidents_by_severity ON incidents (severity, declared_at);
CREATE INDEX incidents_by_category ON incidents (category, declared_at);

CREATE TABLE incident_tags (
    incident TEXT COLLATE "C" NOT NULL REFERENCES incidents (id),
    tag TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (incident, tag)
);

CREATE INDEX incident_tags_by_tag ON incident_tags (tag, incident);

CREATE TABLE incident_days (
    -- YYYY-MM-DD
    day TEXT PRIMARY KEY,
    last BIGINT NOT NULL
);

CREATE TABLE tokens (
    name TEXT COLLATE "C" PRIMARY KEY,
    -- Hex SHA-256 of the secret; the secret itself is never stored.
    secret_hash TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    person TEXT,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);
