-- Alert intake, timers and outgoing notifications: the engine's durable work queues.

-- Every alert notification the intake accepted, in arrival order. Append-only: the intake
-- answers "accepted" only once a row is committed here.
CREATE TABLE alert_events (
    seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    integration TEXT COLLATE "C" NOT NULL,
    alert_key TEXT COLLATE "C" NOT NULL,
    action TEXT COLLATE "C" NOT NULL,
    -- Identity of this exact notification; a resend with the same value is not stored twice.
    dedup TEXT COLLATE "C",
    received_at BIGINT NOT NULL,
    -- JSON of the normalised alert.
    body TEXT COLLATE "C" NOT NULL
);
CREATE UNIQUE INDEX alert_events_dedup ON alert_events (integration, dedup) WHERE dedup IS NOT NULL;

CREATE TRIGGER alert_events_refuse_update BEFORE UPDATE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();
CREATE TRIGGER alert_events_refuse_delete BEFORE DELETE ON alert_events
    FOR EACH ROW EXECUTE FUNCTION events_refuse_change();

-- The current state of each alert (by integration and key), as processed.
CREATE TABLE alerts (
    integration TEXT COLLATE "C" NOT NULL,
    alert_key TEXT COLLATE "C" NOT NULL,
    status TEXT COLLATE "C" NOT NULL,
    summary TEXT COLLATE "C" NOT NULL,
    severity TEXT COLLATE "C",
    route TEXT COLLATE "C" NOT NULL,
    grp TEXT COLLATE "C" NOT NULL,
    disposition TEXT COLLATE "C" NOT NULL,
    incident TEXT COLLATE "C",
    first_seen BIGINT NOT NULL,
    last_seen BIGINT NOT NULL,
    last_seq BIGINT NOT NULL,
    occurrences BIGINT NOT NULL,
    labels TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (integration, alert_key)
);
CREATE INDEX alerts_by_incident ON alerts (incident, last_seen);
CREATE INDEX alerts_by_disposition ON alerts (disposition, status, last_seen);

-- Which incident serves an alert group; replaced when that incident is finished.
CREATE TABLE alert_groups (
    grp TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    incident TEXT COLLATE "C" NOT NULL
);

-- How far a background processor has read a queue.
CREATE TABLE cursors (
    name TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    position BIGINT NOT NULL
);

-- Which instance does a singleton job, until when.
CREATE TABLE leases (
    name TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    holder TEXT COLLATE "C" NOT NULL,
    until BIGINT NOT NULL
);

-- Timers are rows, never sleeps: one per (kind, subject), deleted when it fires or is cancelled
-- (what it did is on the incident's timeline). Re-arming replaces the row, with a new id, so a
-- firing of the old one cannot complete.
CREATE TABLE timers (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind TEXT COLLATE "C" NOT NULL,
    subject TEXT COLLATE "C" NOT NULL,
    due_at BIGINT NOT NULL,
    payload TEXT COLLATE "C" NOT NULL,
    claimed_by TEXT COLLATE "C",
    claimed_until BIGINT,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX timers_one_per_subject ON timers (kind, subject);
CREATE INDEX timers_due ON timers (due_at);

-- Notifications to send, sent, folded into another, or given up on.
CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    incident TEXT COLLATE "C",
    channel TEXT COLLATE "C" NOT NULL,
    destination TEXT COLLATE "C" NOT NULL,
    person TEXT COLLATE "C",
    message TEXT COLLATE "C" NOT NULL,
    state TEXT COLLATE "C" NOT NULL,
    attempts BIGINT NOT NULL,
    next_at BIGINT NOT NULL,
    claimed_by TEXT COLLATE "C",
    claimed_until BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT,
    folded_into BIGINT,
    last_error TEXT COLLATE "C"
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_incident ON deliveries (incident, id);
CREATE INDEX deliveries_by_destination ON deliveries (destination, state);

-- When each destination (a contact method or channel) was last sent to, for throttling.
CREATE TABLE destinations (
    destination TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    last_sent_at BIGINT NOT NULL
);

-- Integration keys made through the API (keys from the plan live in the environment).
CREATE TABLE integration_keys (
    secret_hash TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    integration TEXT COLLATE "C" NOT NULL,
    name TEXT COLLATE "C" NOT NULL,
    created_at BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Server-wide settings that must survive restarts and be shared by instances (the key that
-- signs acknowledge links).
CREATE TABLE settings (
    name TEXT COLLATE "C" PRIMARY KEY NOT NULL,
    value TEXT COLLATE "C" NOT NULL
);
