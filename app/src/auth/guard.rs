//! The one guard of every server function: it reads the session cookie from the request in
//! context, resolves the session, checks the permission asked for and hands out the tenant scope
//! that data functions require. It also sets the HTTP status of failed calls.

use std::net::SocketAddr;

use axum::extract::ConnectInfo;
use cookie::{Cookie, SameSite};
use http::header::{COOKIE, SET_COOKIE};
use http::{HeaderMap, HeaderValue, StatusCode, request::Parts};
use leptos::prelude::use_context;
use leptos_axum::ResponseOptions;

use super::sessions::{self, COOKIE_NAME, SessionSettings};
use super::throttle::ThrottleSettings;
use super::{Permission, SessionState, SessionUser};
use crate::db::{Db, now_ms};
use crate::error::AppError;

/// Settings of the auth capability, provided as context by the server.
#[derive(Clone, Debug, Default)]
pub struct AuthSettings {
    pub sessions: SessionSettings,
    pub throttle: ThrottleSettings,
    /// Take the client address from the last `X-Forwarded-For` hop (behind one reverse proxy).
    pub trust_proxy: bool,
}

/// A resolved session: who is calling, and the token that identifies the session.
pub struct Session {
    pub user: SessionUser,
    pub token: String,
}

/// The tenant a data function may touch. Only the guard (from a session) and trusted callers
/// with no browser (command line, demo seeder) can make one, so no request can name a tenant
/// it does not belong to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TenantScope {
    tenant_id: i64,
}

impl TenantScope {
    pub fn tenant_id(self) -> i64 {
        self.tenant_id
    }

    /// For callers that act with the server's own authority (never from a request).
    pub fn trusted(tenant_id: i64) -> Self {
        TenantScope { tenant_id }
    }
}

impl Session {
    /// The scope for tenant-owned data. Operator administrators may act inside any tenant they
    /// name; everyone else gets their own tenant, and naming another one is refused.
    pub fn tenant_scope(&self, requested: Option<i64>) -> Result<TenantScope, AppError> {
        scope_for(&self.user, requested)
    }
}

pub fn scope_for(user: &SessionUser, requested: Option<i64>) -> Result<TenantScope, AppError> {
    match requested {
        None => Ok(TenantScope { tenant_id: user.tenant_id }),
        Some(id) if id == user.tenant_id => Ok(TenantScope { tenant_id: id }),
        Some(id) if user.is_operator && user.can(Permission::ManageTenants) => {
            Ok(TenantScope { tenant_id: id })
        }
        Some(_) => Err(AppError::Forbidden),
    }
}

pub fn settings() -> AuthSettings {
    use_context::<AuthSettings>().unwrap_or_default()
}

/// The session of the current request: `Ok(None)` without a cookie, `Err(SessionExpired)` when
/// the cookie names no valid session (the cookie is then cleared).
pub async fn current_session() -> Result<Option<Session>, AppError> {
    let Some(token) = session_cookie() else { return Ok(None) };
    let db = Db::from_context()?;
    match sessions::resolve(&db, &token, now_ms(), &settings().sessions).await? {
        Some(user) => Ok(Some(Session { user, token })),
        None => {
            clear_session_cookie();
            Err(AppError::SessionExpired)
        }
    }
}

pub async fn require_user() -> Result<Session, AppError> {
    current_session().await?.ok_or(AppError::NotSignedIn)
}

pub async fn require(permission: Permission) -> Result<Session, AppError> {
    let session = require_user().await?;
    if session.user.can(permission) { Ok(session) } else { Err(AppError::Forbidden) }
}

/// Sets the response status from the outcome: every server function returns through here.
pub fn respond<T>(result: Result<T, AppError>) -> Result<T, AppError> {
    if let Err(error) = &result
        && let Some(response) = use_context::<ResponseOptions>()
    {
        response.set_status(
            StatusCode::from_u16(error.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR),
        );
    }
    result
}

fn request_parts() -> Option<Parts> {
    use_context::<Parts>()
}

fn session_cookie() -> Option<String> {
    cookie_token(&request_parts()?.headers)
}

/// The session cookie's value among request headers, if it is present and plausible.
pub fn cookie_token(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|header| Cookie::split_parse(header.to_string()).filter_map(Result::ok))
        .find(|cookie| cookie.name() == COOKIE_NAME)
        .map(|cookie| cookie.value().to_string())
        .filter(|value| !value.is_empty() && value.len() <= 128)
}

/// The session of a page request, resolved by the server before the page renders (the
/// `page_session` middleware puts it in the request's extensions), so that the page, and the
/// browser that hydrates it, build the signed-in frame at once and exactly once.
#[derive(Clone, Debug)]
pub struct PageSession(pub Result<SessionState, AppError>);

/// What a session cookie stands for now: nobody, a user, or a session that ended.
pub async fn session_state(db: &Db, token: Option<&str>, settings: &AuthSettings) -> Result<SessionState, AppError> {
    let Some(token) = token else { return Ok(SessionState::Anonymous) };
    Ok(match sessions::resolve(db, token, now_ms(), &settings.sessions).await? {
        Some(user) => SessionState::SignedIn(user),
        None => SessionState::Expired,
    })
}

/// The session of the page being rendered, as the middleware resolved it.
pub fn page_session() -> Result<SessionState, AppError> {
    request_parts()
        .and_then(|parts| parts.extensions.get::<PageSession>().cloned())
        .map_or(Ok(SessionState::Anonymous), |session| session.0)
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn removal_cookie(settings: &AuthSettings) -> Option<HeaderValue> {
    let mut cookie = base_cookie_with(String::new(), settings.sessions.secure_cookie);
    cookie.make_removal();
    HeaderValue::from_str(&cookie.to_string()).ok()
}

pub fn session_token() -> Option<String> {
    session_cookie()
}

fn write_cookie(cookie: Cookie<'static>) {
    if let (Some(response), Ok(value)) =
        (use_context::<ResponseOptions>(), HeaderValue::from_str(&cookie.to_string()))
    {
        response.append_header(SET_COOKIE, value);
    }
}

fn base_cookie(value: String) -> Cookie<'static> {
    base_cookie_with(value, settings().sessions.secure_cookie)
}

fn base_cookie_with(value: String, secure: bool) -> Cookie<'static> {
    Cookie::build((COOKIE_NAME, value)).http_only(true).same_site(SameSite::Strict).secure(secure).path("/").build()
}

pub fn set_session_cookie(token: String) {
    write_cookie(base_cookie(token));
}

pub fn clear_session_cookie() {
    let mut cookie = base_cookie(String::new());
    cookie.make_removal();
    write_cookie(cookie);
}

/// The caller's address, for throttling and the session record.
pub fn client_address() -> String {
    let Some(parts) = request_parts() else { return "unknown".into() };
    if settings().trust_proxy
        && let Some(forwarded) = parts
            .headers
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.rsplit(',').next())
            .map(str::trim)
            .filter(|v| !v.is_empty())
    {
        return forwarded.to_string();
    }
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::ProfileKind;

    fn user(tenant_id: i64, is_operator: bool, profiles: Vec<ProfileKind>) -> SessionUser {
        SessionUser {
            user_id: 1,
            login: "u".into(),
            first_name: "U".into(),
            last_name: "V".into(),
            tenant_id,
            tenant_name: "T".into(),
            is_operator,
            profiles,
            own_phone: String::new(),
            queues: vec![],
        }
    }

    #[test]
    fn client_users_are_pinned_to_their_tenant() {
        let admin = user(7, false, vec![ProfileKind::ClientAdmin]);
        assert_eq!(scope_for(&admin, None).unwrap().tenant_id(), 7);
        assert_eq!(scope_for(&admin, Some(7)).unwrap().tenant_id(), 7);
        assert_eq!(scope_for(&admin, Some(8)), Err(AppError::Forbidden));
    }

    #[test]
    fn operator_admins_may_pick_a_tenant() {
        let operator = user(1, true, vec![ProfileKind::OperatorAdmin]);
        assert_eq!(scope_for(&operator, Some(8)).unwrap().tenant_id(), 8);
        // An operator user without the admin profile may not.
        let operator_agent = user(1, true, vec![ProfileKind::Agent]);
        assert_eq!(scope_for(&operator_agent, Some(8)), Err(AppError::Forbidden));
    }
}
