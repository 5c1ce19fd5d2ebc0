-- An integration's live API keys have distinct names (a revoked key's name may be reused), and
-- an integration's keys are listed by name.
CREATE UNIQUE INDEX integration_keys_live_name ON integration_keys (integration, name)
    WHERE revoked_at IS NULL;
CREATE INDEX integration_keys_by_integration ON integration_keys (integration, name, created_at);
