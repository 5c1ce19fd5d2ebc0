-- Alert intake, timers and outgoing notifications: the engine's durable work queues.

-- Every alert notification the intake accepted, in arrival order. Append-only: the intake
-- answers "accepted" only once a row is committed here.
CREATE TABLE alert_events (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    integration TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    action TEXT NOT NULL,
    -- Identity of this exact notification; a resend with the same value is not stored twice.
    dedup TEXT,
    received_at INTEGER NOT NULL,
    -- JSON of the normalised alert.
    body TEXT NOT NULL
);
CREATE UNIQUE INDEX alert_events_dedup ON alert_events (integration, dedup) WHERE dedup IS NOT NULL;

CREATE TRIGGER alert_events_refuse_update BEFORE UPDATE ON alert_events
BEGIN
    SELECT RAISE(ABORT, 'alert events are append-only');
END;
CREATE TRIGGER alert_events_refuse_delete BEFORE DELETE ON alert_events
BEGIN
    SELECT RAISE(ABORT, 'alert events are append-only');
END;

-- The current state of each alert (by integration and key), as processed.
CREATE TABLE alerts (
    integration TEXT NOT NULL,
    alert_key TEXT NOT NULL,
    status TEXT NOT NULL,
    summary TEXT NOT NULL,
    severity TEXT,
    route TEXT NOT NULL,
    grp TEXT NOT NULL,
    disposition TEXT NOT NULL,
    incident TEXT,
    first_seen INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    last_seq INTEGER NOT NULL,
    occurrences INTEGER NOT NULL,
    labels TEXT NOT NULL,
    PRIMARY KEY (integration, alert_key)
);
CREATE INDEX alerts_by_incident ON alerts (incident, last_seen);
CREATE INDEX alerts_by_disposition ON alerts (disposition, status, last_seen);

-- Which incident serves an alert group; replaced when that incident is finished.
CREATE TABLE alert_groups (
    grp TEXT PRIMARY KEY NOT NULL,
    incident TEXT NOT NULL
);

-- How far a background processor has read a queue.
CREATE TABLE cursors (
    name TEXT PRIMARY KEY NOT NULL,
    position INTEGER NOT NULL
);

-- Which instance does a singleton job, until when.
CREATE TABLE leases (
    name TEXT PRIMARY KEY NOT NULL,
    holder TEXT NOT NULL,
    until INTEGER NOT NULL
);

-- Timers are rows, never sleeps: one per (kind, subject), deleted when it fires or is cancelled
-- (what it did is on the incident's timeline). Re-arming replaces the row, with a new id, so a
-- firing of the old one cannot complete.
CREATE TABLE timers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    kind TEXT NOT NULL,
    subject TEXT NOT NULL,
    due_at INTEGER NOT NULL,
    payload TEXT NOT NULL,
    claimed_by TEXT,
    claimed_until INTEGER,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX timers_one_per_subject ON timers (kind, subject);
CREATE INDEX timers_due ON timers (due_at);

-- Notifications to send, sent, folded into another, or given up on.
CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    incident TEXT,
    channel TEXT NOT NULL,
    destination TEXT NOT NULL,
    person TEXT,
    message TEXT NOT NULL,
    state TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    next_at INTEGER NOT NULL,
    claimed_by TEXT,
    claimed_until INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER,
    folded_into INTEGER,
    last_error TEXT
);
CREATE INDEX deliveries_due ON deliveries (next_at) WHERE state = 'pending';
CREATE INDEX deliveries_by_incident ON deliveries (incident, id);
CREATE INDEX deliveries_by_destination ON deliveries (destination, state);

-- When each destination (a contact method or channel) was last sent to, for throttling.
CREATE TABLE destinations (
    destination TEXT PRIMARY KEY NOT NULL,
    last_sent_at INTEGER NOT NULL
);

-- Integration keys made through the API (keys from the plan live in the environment).
CREATE TABLE integration_keys (
    secret_hash TEXT PRIMARY KEY NOT NULL,
    integration TEXT NOT NULL,
    name TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);

-- Server-wide settings that must survive restarts and be shared by instances (the key that
-- signs acknowledge links).
CREATE TABLE settings (
    name TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
);
