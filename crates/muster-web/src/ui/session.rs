//! Signing in and out, the session cookie, and the checks every form passes.
//!
//! A session is an API token held in an `HttpOnly`, `SameSite=Strict` cookie: signing in with a
//! token checks it like the API does, and every request re-checks it, so revoking the token ends
//! the session at once. Forms carry an anti-forgery token bound to the session (an HMAC under a
//! key the instances share); a form without it, with another session's, or sent from another
//! origin is refused before anything in it is read.

use std::fmt::Write as _;
use std::sync::Arc;

use askama::Template;
use axum::body::Bytes;
use axum::extract::{FromRequest, FromRequestParts, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use muster_core::access::Role;
use muster_engine::{Engine, Principal};
use serde::Deserialize;

use crate::ui::{Chrome, error_page, render};

/// The session cookie's name.
pub(crate) const COOKIE: &str = "muster_session";
/// The sign-in form's own anti-forgery cookie (there is no session yet to bind a token to).
const LOGIN_COOKIE: &str = "muster_login";
/// A session lasts a working day and a night shift.
const SESSION_SECONDS: u32 = 16 * 3600;
/// The largest form accepted, in bytes.
const FORM_LIMIT: usize = 64 * 1024;

/// The signed-in user of a page.
#[derive(Debug, Clone)]
pub(crate) struct Session {
    pub principal: Principal,
    /// The token the cookie holds (never shown, never logged).
    secret: String,
    /// The anti-forgery token this session's forms carry.
    pub form_token: String,
}

impl Session {
    /// A 403 page unless the user's role allows `role`.
    pub(crate) fn require(&self, chrome: &Chrome, role: Role) -> Result<(), Response> {
        if self.principal.role.allows(role) {
            return Ok(());
        }
        Err(error_page(
            StatusCode::FORBIDDEN,
            Some(chrome),
            "Not allowed",
            &format!(
                "You are signed in as {} with the {} role; this needs {role} or above. Ask an \
                 admin for a token with that role.",
                self.principal.name, self.principal.role
            ),
        ))
    }
}

/// The value of cookie `name`, if the request carries it.
fn cookie<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(key, _)| *key == name)
        .map(|(_, value)| value)
}

/// Where to send someone who is not signed in: the sign-in page, coming back here after.
fn to_login(parts: &Parts) -> Response {
    let back = parts.uri.path_and_query().map_or("/", |path| path.as_str());
    let next: String = form_urlencoded::byte_serialize(back.as_bytes()).collect();
    Redirect::to(&format!("/login?next={next}")).into_response()
}

impl FromRequestParts<Arc<Engine>> for Session {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, engine: &Arc<Engine>) -> Result<Self, Response> {
        let Some(secret) = cookie(&parts.headers, COOKIE).filter(|secret| !secret.is_empty())
        else {
            return Err(to_login(parts));
        };
        let Ok(principal) = engine.authenticate(secret).await else {
            // Revoked, or never a token: sign in again.
            return Err(to_login(parts));
        };
        let form_token = engine
            .form_token(secret)
            .await
            .map_err(|error| crate::ui::refused(None, &error))?;
        Ok(Self {
            principal,
            secret: secret.to_owned(),
            form_token,
        })
    }
}

/// A submitted form of a signed-in user, already checked for forgery.
#[derive(Debug)]
pub(crate) struct ActionForm {
    pub session: Session,
    fields: Vec<(String, String)>,
}

impl ActionForm {
    /// The first value of a field, trimmed; `None` when absent or blank.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.trim())
            .filter(|value| !value.is_empty())
    }

    /// Every non-blank value of a field (checkboxes, multi-selects).
    pub(crate) fn all(&self, name: &str) -> Vec<String> {
        self.fields
            .iter()
            .filter(|(key, _)| key == name)
            .map(|(_, value)| value.trim().to_owned())
            .filter(|value| !value.is_empty())
            .collect()
    }
}

/// Whether the request says it comes from this very site: its `Origin` (or, lacking one, its
/// `Referer`) names the host it was sent to. Browsers send `Origin` on every form post.
fn same_origin(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
        return false;
    };
    let source = headers
        .get(header::ORIGIN)
        .or_else(|| headers.get(header::REFERER))
        .and_then(|value| value.to_str().ok());
    match source {
        // A client that sends neither (curl, scripts) is judged by the form token alone.
        None => true,
        Some(source) => {
            let rest = source
                .strip_prefix("https://")
                .or_else(|| source.strip_prefix("http://"))
                .unwrap_or("");
            let authority = rest.split('/').next().unwrap_or("");
            authority.eq_ignore_ascii_case(host)
        }
    }
}

fn forged(chrome: Option<&Chrome>) -> Response {
    error_page(
        StatusCode::FORBIDDEN,
        chrome,
        "Form refused",
        "This form did not come from this Muster session (it is stale, was sent from another \
         site, or its anti-forgery token is missing). Nothing was changed. Go back, reload the \
         page and send it again.",
    )
}

async fn read_form(request: Request) -> Result<Vec<(String, String)>, Response> {
    let body = Bytes::from_request(request, &())
        .await
        .map_err(IntoResponse::into_response)?;
    if body.len() > FORM_LIMIT {
        return Err(error_page(
            StatusCode::PAYLOAD_TOO_LARGE,
            None,
            "Form too large",
            "The form is larger than 64 KiB; shorten the text and send it again.",
        ));
    }
    Ok(form_urlencoded::parse(&body).into_owned().collect())
}

impl FromRequest<Arc<Engine>> for ActionForm {
    type Rejection = Response;

    async fn from_request(request: Request, engine: &Arc<Engine>) -> Result<Self, Response> {
        let (mut parts, body) = request.into_parts();
        let session = Session::from_request_parts(&mut parts, engine).await?;
        if !same_origin(&parts.headers) {
            return Err(forged(None));
        }
        let fields = read_form(Request::from_parts(parts, body)).await?;
        let token = fields
            .iter()
            .find(|(key, _)| key == "_csrf")
            .map_or("", |(_, value)| value.as_str());
        let genuine = engine
            .check_form_token(&session.secret, token)
            .await
            .map_err(|error| crate::ui::refused(None, &error))?;
        if !genuine {
            tracing::warn!(user = %session.principal.name, "refused a form without this session's anti-forgery token");
            return Err(forged(None));
        }
        Ok(Self { session, fields })
    }
}

#[derive(Template)]
#[template(path = "login.html")]
struct LoginPage<'a> {
    organization: &'a str,
    next: &'a str,
    form_token: &'a str,
    problem: Option<&'a str>,
}

#[derive(Debug, Deserialize)]
pub(crate) struct Next {
    #[serde(default)]
    next: Option<String>,
}

/// Only paths on this site are followed after signing in (no open redirect).
fn local_path(next: Option<&str>) -> &str {
    match next {
        Some(path) if path.starts_with('/') && !path.starts_with("//") && !path.contains('\\') => {
            path
        }
        _ => "/",
    }
}

fn secure(engine: &Engine) -> &'static str {
    if engine.options().public_url.starts_with("https://") {
        "; Secure"
    } else {
        ""
    }
}

fn login_page(engine: &Engine, status: StatusCode, next: &str, problem: Option<&str>) -> Response {
    let mut nonce = [0u8; 18];
    if getrandom::fill(&mut nonce).is_err() {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
            "Cannot sign in",
            "The server has no randomness for the sign-in form; see its log.",
        );
    }
    let form_token = nonce.iter().fold(String::new(), |mut hex, byte| {
        let _ = write!(hex, "{byte:02x}");
        hex
    });
    let running = engine.plan();
    let mut response = render(&LoginPage {
        organization: &running.plan.organization.name,
        next,
        form_token: &form_token,
        problem,
    });
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&format!(
        "{LOGIN_COOKIE}={form_token}; Path=/login; HttpOnly; SameSite=Strict; Max-Age=3600{}",
        secure(engine)
    )) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
    response
}

/// `GET /login`.
pub(crate) async fn login_form(
    State(engine): State<Arc<Engine>>,
    Query(next): Query<Next>,
) -> Response {
    login_page(
        &engine,
        StatusCode::OK,
        local_path(next.next.as_deref()),
        None,
    )
}

/// `POST /login`: checks the token and sets the session cookie.
pub(crate) async fn login(State(engine): State<Arc<Engine>>, request: Request) -> Response {
    let headers = request.headers().clone();
    let fields = match read_form(request).await {
        Ok(fields) => fields,
        Err(response) => return response,
    };
    let field = |name: &str| {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map_or("", |(_, value)| value.trim())
    };
    let next = local_path(Some(field("next"))).to_owned();
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or("");
    if !same_origin(&headers) || expected.is_empty() || field("_csrf") != expected {
        return login_page(
            &engine,
            StatusCode::FORBIDDEN,
            &next,
            Some("The sign-in form expired or came from another site; try again."),
        );
    }
    let token = field("token");
    if token.is_empty() {
        return login_page(
            &engine,
            StatusCode::BAD_REQUEST,
            &next,
            Some("Paste your API token (it starts with mst_)."),
        );
    }
    match engine.authenticate(token).await {
        Ok(principal) => {
            tracing::info!(user = %principal.name, role = %principal.role, "signed in to the web UI");
            let mut response = Redirect::to(&next).into_response();
            let cookie = format!(
                "{COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={SESSION_SECONDS}{}",
                secure(&engine)
            );
            match HeaderValue::from_str(&cookie) {
                Ok(value) => {
                    response.headers_mut().append(header::SET_COOKIE, value);
                    response
                }
                Err(_) => login_page(
                    &engine,
                    StatusCode::BAD_REQUEST,
                    &next,
                    Some("That token contains characters no token has; paste it again."),
                ),
            }
        }
        Err(error) => login_page(
            &engine,
            StatusCode::UNAUTHORIZED,
            &next,
            Some(&format!("Not signed in: {error}.")),
        ),
    }
}

/// `POST /logout`: forgets the session cookie.
pub(crate) async fn logout(form: ActionForm) -> Response {
    tracing::info!(user = %form.session.principal.name, "signed out of the web UI");
    let mut response = Redirect::to("/login").into_response();
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("muster_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    response
}

#[cfg(test)]
mod tests {
    use axum::http::{HeaderMap, HeaderValue, header};

    use super::{cookie, local_path, same_origin};

    #[test]
    fn reads_one_cookie_among_many() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::COOKIE,
            HeaderValue::from_static("a=1; muster_session=mst_x; b=2"),
        );
        assert_eq!(cookie(&headers, "muster_session"), Some("mst_x"));
        assert_eq!(cookie(&headers, "muster"), None);
    }

    #[test]
    fn follows_only_local_paths_after_sign_in() {
        assert_eq!(
            local_path(Some("/incidents?status=triage")),
            "/incidents?status=triage"
        );
        for outside in [
            "https://evil.example/",
            "//evil.example",
            "/\\evil.example",
            "",
        ] {
            assert_eq!(local_path(Some(outside)), "/", "{outside}");
        }
    }

    #[test]
    fn origin_must_name_the_host_posted_to() {
        let mut headers = HeaderMap::new();
        headers.insert(
            header::HOST,
            HeaderValue::from_static("muster.example:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("http://muster.example:8080"),
        );
        assert!(same_origin(&headers));
        headers.insert(
            header::ORIGIN,
            HeaderValue::from_static("https://evil.example"),
        );
        assert!(!same_origin(&headers));
        headers.insert(header::ORIGIN, HeaderValue::from_static("null"));
        assert!(!same_origin(&headers));
    }
}
