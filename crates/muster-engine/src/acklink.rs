//! Signed acknowledge links: `incident.person.expiry` signed with HMAC-SHA256 under a key the
//! instances share through the database. A link acknowledges as that person, once the person
//! confirms on the page it opens (link previews in chat apps fetch URLs; only a POST acts).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{KeyInit, Mac};
use muster_core::incident::{IncidentId, Millis};
use muster_core::plan::PersonId;
use muster_store::Work;

use crate::{Engine, EngineError};

/// How long a link stays good.
pub const LINK_LIFETIME_MS: Millis = 7 * 24 * 3600 * 1000;

type HmacSha256 = hmac::Hmac<sha2::Sha256>;

/// Why a link does not acknowledge.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LinkError {
    #[error(
        "this acknowledge link is not one Muster made (it is malformed or its signature does not match)"
    )]
    Forged,
    #[error("this acknowledge link expired; acknowledge from the incident page or the CLI")]
    Expired,
}

/// What a valid link stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AckLink {
    pub incident: IncidentId,
    pub person: PersonId,
    pub expires_at: Millis,
}

fn sign(key: &[u8], payload: &str) -> Vec<u8> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC takes any key length");
    mac.update(payload.as_bytes());
    mac.finalize().into_bytes().to_vec()
}

fn form_payload(session_secret: &str) -> String {
    format!("form:{}", crate::auth::secret_hash(session_secret))
}

impl Engine {
    async fn link_key(&self) -> Result<&[u8], EngineError> {
        let key = self
            .ack_key
            .get_or_try_init(|| async {
                let mut fresh = [0u8; 32];
                getrandom::fill(&mut fresh).map_err(|error| {
                    EngineError::Store(muster_store::StoreError::Database(format!(
                        "no randomness for the link key: {error}"
                    )))
                })?;
                let proposed = URL_SAFE_NO_PAD.encode(fresh);
                let stored = self.store.setting("ack-link-key", &proposed).await?;
                URL_SAFE_NO_PAD.decode(stored).map_err(|_| {
                    EngineError::Store(muster_store::StoreError::Corrupt {
                        what: "the acknowledge link key".to_owned(),
                        reason: "not base64".to_owned(),
                    })
                })
            })
            .await?;
        Ok(key)
    }

    /// The anti-forgery token the web UI's forms carry for a signed-in session: an HMAC of the
    /// session secret's hash under the key the instances share, so any instance can check it and
    /// it is worthless without the session cookie it is bound to.
    pub async fn form_token(&self, session_secret: &str) -> Result<String, EngineError> {
        let key = self.link_key().await?;
        Ok(URL_SAFE_NO_PAD.encode(sign(key, &form_payload(session_secret))))
    }

    /// Whether `token` is the form token of `session_secret` (compared in constant time).
    pub async fn check_form_token(
        &self,
        session_secret: &str,
        token: &str,
    ) -> Result<bool, EngineError> {
        let Ok(given) = URL_SAFE_NO_PAD.decode(token.trim()) else {
            return Ok(false);
        };
        let mut mac =
            HmacSha256::new_from_slice(self.link_key().await?).expect("HMAC takes any key length");
        mac.update(form_payload(session_secret).as_bytes());
        Ok(mac.verify_slice(&given).is_ok())
    }

    /// A link token acknowledging `incident` as `person`.
    pub async fn ack_link(&self, incident: &str, person: &PersonId) -> Result<String, EngineError> {
        let expires = self.now() + LINK_LIFETIME_MS;
        let payload = format!("{incident}.{person}.{expires}");
        let signature = sign(self.link_key().await?, &payload);
        Ok(format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(payload),
            URL_SAFE_NO_PAD.encode(signature)
        ))
    }

    /// Checks a link token's signature and expiry.
    pub async fn check_ack_link(&self, token: &str) -> Result<AckLink, EngineError> {
        let forged = || EngineError::Forbidden(LinkError::Forged.to_string());
        let (payload, signature) = token.split_once('.').ok_or_else(forged)?;
        let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| forged())?;
        let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| forged())?;
        let mut mac =
            HmacSha256::new_from_slice(self.link_key().await?).expect("HMAC takes any key length");
        mac.update(&payload);
        mac.verify_slice(&signature).map_err(|_| forged())?;
        let payload = String::from_utf8(payload).map_err(|_| forged())?;
        let (incident, rest) = payload.split_once('.').ok_or_else(forged)?;
        let (person, expires) = rest.rsplit_once('.').ok_or_else(forged)?;
        let expires_at: Millis = expires.parse().map_err(|_| forged())?;
        if expires_at < self.now() {
            return Err(EngineError::Forbidden(LinkError::Expired.to_string()));
        }
        Ok(AckLink {
            incident: incident.parse().map_err(|_| forged())?,
            person: PersonId(person.to_owned()),
            expires_at,
        })
    }
}

impl Engine {
    /// Acknowledges the incident of a link as the link's person. A link used again finds the
    /// incident acknowledged and is refused (`already-acknowledged`); nothing changes.
    pub async fn acknowledge_by_link(&self, token: &str) -> Result<crate::Outcome, EngineError> {
        let link = self.check_ack_link(token).await?;
        let principal = crate::Principal {
            name: format!("ack-link:{}", link.person),
            role: muster_core::access::Role::Responder,
            person: Some(link.person.clone()),
        };
        self.execute(
            &principal,
            &link.incident,
            &muster_core::incident::Command::Acknowledge {
                person: Some(link.person),
            },
        )
        .await
    }
}
