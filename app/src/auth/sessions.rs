//! Server-side sessions. The browser holds a random 256-bit token in an HttpOnly, SameSite=Strict
//! cookie; the database holds only its SHA-256. A session ends on logout, after `idle_timeout`
//! without a request, after `max_age` in all, or when its user or tenant is deactivated.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::Row;

use super::{ProfileKind, QueueMembership, QueueRole, SessionUser};
use crate::db::Db;
use crate::error::AppError;

pub const COOKIE_NAME: &str = "relais_session";

#[derive(Clone, Debug)]
pub struct SessionSettings {
    /// A session unused for this long is over (default 10 minutes).
    pub idle_timeout_ms: i64,
    /// A session older than this is over however active it is.
    pub max_age_ms: i64,
    /// Adds `Secure` to the cookie: set when Relais is served over TLS.
    pub secure_cookie: bool,
}

impl Default for SessionSettings {
    fn default() -> Self {
        SessionSettings { idle_timeout_ms: 10 * 60_000, max_age_ms: 12 * 3_600_000, secure_cookie: false }
    }
}

impl SessionSettings {
    /// Activity is written back at most this often, so that busy pages do not write on every
    /// request while idle expiry stays precise to a tenth of the timeout.
    fn touch_interval_ms(&self) -> i64 {
        (self.idle_timeout_ms / 10).min(5_000)
    }
}

pub fn new_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    URL_SAFE_NO_PAD.encode(bytes)
}

pub(crate) fn token_hash(token: &str) -> String {
    URL_SAFE_NO_PAD.encode(Sha256::digest(token.as_bytes()))
}

/// Opens a session for `user_id` and returns the token to put in the cookie.
pub async fn create(db: &Db, user_id: i64, address: &str, now: i64) -> Result<String, AppError> {
    let token = new_token();
    sqlx::query(
        "INSERT INTO sessions (token_hash, user_id, created_at, last_seen_at, address) \
         VALUES ($1, $2, $3, $3, $4)",
    )
    .bind(token_hash(&token))
    .bind(user_id)
    .bind(now)
    .bind(address)
    .execute(db.pool())
    .await?;
    Ok(token)
}

pub async fn revoke(db: &Db, token: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM sessions WHERE token_hash = $1")
        .bind(token_hash(token))
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Ends every session of a user but the one given (after a password change, say).
pub async fn revoke_others(db: &Db, user_id: i64, keep_token: Option<&str>) -> Result<(), AppError> {
    let keep = keep_token.map(token_hash).unwrap_or_default();
    sqlx::query("DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2")
        .bind(user_id)
        .bind(keep)
        .execute(db.pool())
        .await?;
    Ok(())
}

/// The user behind a token, or `None` when the session is unknown or over (an over session is
/// deleted on the way). A valid session's activity time moves forward.
pub async fn resolve(
    db: &Db,
    token: &str,
    now: i64,
    settings: &SessionSettings,
) -> Result<Option<SessionUser>, AppError> {
    let hash = token_hash(token);
    let Some(row) = sqlx::query(
        "SELECT user_id, created_at, last_seen_at FROM sessions WHERE token_hash = $1",
    )
    .bind(&hash)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let user_id: i64 = row.try_get("user_id")?;
    let created_at: i64 = row.try_get("created_at")?;
    let last_seen_at: i64 = row.try_get("last_seen_at")?;
    let over = now - last_seen_at > settings.idle_timeout_ms || now - created_at > settings.max_age_ms;
    let user = if over { None } else { load_active_user(db, user_id).await? };
    match user {
        None => {
            sqlx::query("DELETE FROM sessions WHERE token_hash = $1").bind(&hash).execute(db.pool()).await?;
            Ok(None)
        }
        Some(user) => {
            if now - last_seen_at >= settings.touch_interval_ms() {
                sqlx::query("UPDATE sessions SET last_seen_at = $2 WHERE token_hash = $1")
                    .bind(&hash)
                    .bind(now)
                    .execute(db.pool())
                    .await?;
            }
            Ok(Some(user))
        }
    }
}

/// Loads a user with tenant and profiles, if both the user and the tenant are active.
pub async fn load_active_user(db: &Db, user_id: i64) -> Result<Option<SessionUser>, AppError> {
    let Some(row) = sqlx::query(
        "SELECT u.id, u.login, u.first_name, u.last_name, u.tenant_id, t.name AS tenant_name, \
                t.is_operator, u.own_phone \
         FROM users u JOIN tenants t ON t.id = u.tenant_id \
         WHERE u.id = $1 AND u.active = 1 AND t.active = 1",
    )
    .bind(user_id)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let profiles = profiles_of(db, user_id).await?;
    let queues = queue_memberships(db, user_id).await?;
    Ok(Some(SessionUser {
        user_id: row.try_get("id")?,
        login: row.try_get("login")?,
        first_name: row.try_get("first_name")?,
        last_name: row.try_get("last_name")?,
        tenant_id: row.try_get("tenant_id")?,
        tenant_name: row.try_get("tenant_name")?,
        is_operator: row.try_get::<i64, _>("is_operator")? != 0,
        profiles,
        own_phone: row.try_get("own_phone")?,
        queues,
    }))
}

/// The queues whose SV or AG profile the user holds, in name order.
pub async fn queue_memberships(db: &Db, user_id: i64) -> Result<Vec<QueueMembership>, AppError> {
    let rows = sqlx::query(
        "SELECT q.id, q.name, 'supervisor' AS role FROM acd_queues q \
         JOIN user_profiles up ON up.profile_id = q.supervisor_profile_id WHERE up.user_id = $1 \
         UNION ALL \
         SELECT q.id, q.name, 'agent' AS role FROM acd_queues q \
         JOIN user_profiles up ON up.profile_id = q.agent_profile_id WHERE up.user_id = $1 \
         ORDER BY 2, 3",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(QueueMembership {
                queue_id: row.try_get("id")?,
                queue: row.try_get("name")?,
                role: if row.try_get::<String, _>("role")? == "supervisor" {
                    QueueRole::Supervisor
                } else {
                    QueueRole::Agent
                },
            })
        })
        .collect()
}

pub async fn profiles_of(db: &Db, user_id: i64) -> Result<Vec<ProfileKind>, AppError> {
    let rows = sqlx::query(
        "SELECT p.kind FROM user_profiles up JOIN profiles p ON p.id = up.profile_id \
         WHERE up.user_id = $1",
    )
    .bind(user_id)
    .fetch_all(db.pool())
    .await?;
    let mut kinds: Vec<ProfileKind> = rows
        .iter()
        .filter_map(|row| row.try_get::<String, _>("kind").ok())
        .filter_map(|code| ProfileKind::from_code(&code))
        .collect();
    kinds.sort();
    kinds.dedup();
    Ok(kinds)
}

/// Deletes sessions that can no longer be used; run periodically by the server.
pub async fn purge_expired(db: &Db, now: i64, settings: &SessionSettings) -> Result<u64, AppError> {
    let done = sqlx::query("DELETE FROM sessions WHERE last_seen_at < $1 OR created_at < $2")
        .bind(now - settings.idle_timeout_ms)
        .bind(now - settings.max_age_ms)
        .execute(db.pool())
        .await?;
    Ok(done.rows_affected())
}
