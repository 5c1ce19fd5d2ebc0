//! Integration keys made through the API: a random secret (the same form as API tokens) shown
//! once, stored only as its SHA-256, named per integration. They work beside the plan's
//! `key_env` keys, for integrations of the running plan only.

use muster_core::access::Role;
use muster_core::plan::{Integration, Plan};
use muster_store::{IntegrationKeyRecord, StoreError, Work};

use crate::auth::{Principal, new_secret, secret_hash};
use crate::{Engine, EngineError, require};

/// The longest key name accepted.
pub const MAX_KEY_NAME: usize = 64;

/// A key just made; the secret is not stored and cannot be shown again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CreatedKey {
    pub record: IntegrationKeyRecord,
    pub secret: String,
}

/// The plan's integration `id`, or a refusal that lists the plan's integrations.
pub(crate) fn plan_integration<'a>(
    plan: &'a Plan,
    id: &str,
) -> Result<&'a Integration, EngineError> {
    plan.integration(id).ok_or_else(|| {
        let known: Vec<&str> = plan
            .integrations
            .iter()
            .map(|integration| integration.id.as_str())
            .collect();
        let choice = if known.is_empty() {
            "the plan has no integrations; add one under `integrations:`".to_owned()
        } else {
            format!("use one of {}", known.join(", "))
        };
        EngineError::rejected(
            "unknown-integration",
            format!("the plan has no integration '{id}'; {choice}"),
        )
    })
}

fn check_name(name: &str) -> Result<(), EngineError> {
    if name.is_empty() {
        return Err(EngineError::rejected(
            "invalid-key-name",
            "give the key a name, e.g. 'alertmanager-eu'".to_owned(),
        ));
    }
    if name.chars().count() > MAX_KEY_NAME {
        return Err(EngineError::rejected(
            "invalid-key-name",
            format!("the key name is over {MAX_KEY_NAME} characters; use a shorter one"),
        ));
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(EngineError::rejected(
            "invalid-key-name",
            format!("'{name}' is not a usable key name; use letters, digits, '-', '_', '.' or '@'"),
        ));
    }
    Ok(())
}

impl Engine {
    /// Whether the plan's `key_env` of this integration names a secret that is set.
    #[must_use]
    pub fn has_plan_key(&self, integration: &Integration) -> bool {
        self.plan_key(integration).is_some()
    }

    /// Makes a key for an integration of the running plan (admin only); the secret is in the
    /// answer and nowhere else.
    pub async fn create_integration_key(
        &self,
        principal: &Principal,
        integration: &str,
        name: &str,
    ) -> Result<CreatedKey, EngineError> {
        require(principal, Role::Admin)?;
        let running = self.plan();
        let integration = plan_integration(&running.plan, integration)?;
        let name = name.trim();
        check_name(name)?;
        let secret = new_secret();
        let record = IntegrationKeyRecord {
            integration: integration.id.to_string(),
            name: name.to_owned(),
            created_at: self.now(),
            revoked_at: None,
        };
        match self
            .store
            .create_integration_key(&record, &secret_hash(&secret))
            .await
        {
            Ok(()) => {}
            Err(error @ StoreError::IntegrationKeyNameTaken { .. }) => {
                return Err(EngineError::rejected(
                    "integration-key-exists",
                    error.to_string(),
                ));
            }
            Err(error) => return Err(error.into()),
        }
        tracing::info!(integration = %record.integration, key = %record.name, by = %principal.name, "integration key created");
        Ok(CreatedKey { record, secret })
    }

    /// An integration's API keys, revoked ones included (never their secrets).
    pub async fn integration_keys(
        &self,
        integration: &str,
    ) -> Result<Vec<IntegrationKeyRecord>, EngineError> {
        let running = self.plan();
        let integration = plan_integration(&running.plan, integration)?;
        Ok(self.store.integration_keys(integration.id.as_str()).await?)
    }

    /// Revokes an integration's live key (admin only); it is refused from the next request on.
    pub async fn revoke_integration_key(
        &self,
        principal: &Principal,
        integration: &str,
        name: &str,
    ) -> Result<(), EngineError> {
        require(principal, Role::Admin)?;
        let running = self.plan();
        let integration = plan_integration(&running.plan, integration)?;
        if self
            .store
            .revoke_integration_key(integration.id.as_str(), name, self.now())
            .await?
        {
            tracing::info!(integration = %integration.id, key = %name, by = %principal.name, "integration key revoked");
            Ok(())
        } else {
            Err(EngineError::rejected(
                "unknown-integration-key",
                format!(
                    "integration {} has no live key named '{name}'; list its keys with GET /api/integrations",
                    integration.id
                ),
            ))
        }
    }
}
