//! API tokens: a random secret shown once, stored only as its SHA-256, carrying a role and
//! optionally the plan person it acts for.

use muster_core::access::Role;
use muster_core::incident::{Command, Millis, chain};
use muster_core::plan::{PersonId, Plan};
use muster_store::{AnyStore, Store, StoreError, TokenRecord};
use sha2::{Digest, Sha256};

use crate::EngineError;

/// Every secret starts with this, so a leaked one is easy to recognise and grep for.
pub const SECRET_PREFIX: &str = "mst_";

/// Who is calling, as established by their token.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The token's name.
    pub name: String,
    pub role: Role,
    pub person: Option<PersonId>,
}

impl Principal {
    /// Recorded as the actor of the events this principal causes: the person when the token
    /// acts for one, else `token:NAME`.
    #[must_use]
    pub fn actor(&self) -> String {
        self.person
            .as_ref()
            .map_or_else(|| format!("token:{}", self.name), ToString::to_string)
    }

    /// An approval is the approver's own act: a token that acts for a person approves only as
    /// that person; an admin token may record an approval given elsewhere; others may not.
    pub(crate) fn may_approve(&self, command: &Command) -> Result<(), EngineError> {
        let Command::Approve { approver, .. } = command else {
            return Ok(());
        };
        match &self.person {
            Some(person) if person == approver => Ok(()),
            Some(person) => Err(EngineError::Forbidden(format!(
                "token '{}' acts for {person}; it cannot approve on behalf of {approver}",
                self.name
            ))),
            None if self.role.allows(Role::Admin) => Ok(()),
            None => Err(EngineError::Forbidden(format!(
                "approvals must come from the approver: use a token created with --person {approver}, or an admin token to record an approval given elsewhere"
            ))),
        }
    }
}

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("this token is not known; check MUSTER_TOKEN or create one with `muster token create`")]
    Unknown,
    #[error("token '{0}' was revoked")]
    Revoked(String),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// SHA-256 of a secret, hex: what the store keeps.
#[must_use]
pub fn secret_hash(secret: &str) -> String {
    chain::to_hex(&Sha256::digest(secret.as_bytes()))
}

pub(crate) fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system provides random bytes");
    format!("{SECRET_PREFIX}{}", chain::to_hex(&bytes))
}

/// Creates a token; returns its secret. The name must be new; a person must exist in `plan`
/// when a plan is given.
pub async fn create_token(
    store: &AnyStore,
    plan: Option<&Plan>,
    name: &str,
    role: Role,
    person: Option<&str>,
    now: Millis,
) -> Result<String, TokenError> {
    let name = name.trim();
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '@'))
    {
        return Err(TokenError::Invalid(format!(
            "'{name}' is not a usable token name; use letters, digits, '-', '_', '.' or '@'"
        )));
    }
    if let (Some(plan), Some(person)) = (plan, person)
        && plan.person(person).is_none()
    {
        return Err(TokenError::Invalid(format!(
            "the plan has no person '{person}'"
        )));
    }
    let secret = new_secret();
    let record = TokenRecord {
        name: name.to_owned(),
        role,
        person: person.map(PersonId::from),
        created_at: now,
        revoked_at: None,
    };
    store.create_token(&record, &secret_hash(&secret)).await?;
    Ok(secret)
}

pub(crate) async fn authenticate(store: &AnyStore, secret: &str) -> Result<Principal, TokenError> {
    let record = store
        .token_by_hash(&secret_hash(secret.trim()))
        .await?
        .ok_or(TokenError::Unknown)?;
    if record.revoked_at.is_some() {
        return Err(TokenError::Revoked(record.name));
    }
    Ok(Principal {
        name: record.name,
        role: record.role,
        person: record.person,
    })
}
