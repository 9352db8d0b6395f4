//! Login throttling, kept in the database so that several server instances share it. Failures
//! are counted per account name (whether or not it exists, so the lock reveals nothing) and per
//! client address; reaching the limit within the window locks the key for `lockout_ms`.

use sqlx::Row;

use crate::db::Db;
use crate::error::AppError;

#[derive(Clone, Debug)]
pub struct ThrottleSettings {
    pub max_failures_per_account: i64,
    pub max_failures_per_address: i64,
    pub window_ms: i64,
    pub lockout_ms: i64,
}

impl Default for ThrottleSettings {
    fn default() -> Self {
        ThrottleSettings {
            max_failures_per_account: 5,
            max_failures_per_address: 20,
            window_ms: 15 * 60_000,
            lockout_ms: 15 * 60_000,
        }
    }
}

pub fn account_key(login: &str) -> String {
    format!("account:{login}")
}

pub fn address_key(address: &str) -> String {
    format!("address:{address}")
}

/// `Err(TooManyAttempts)` while any of the keys is locked.
pub async fn check(db: &Db, keys: &[&str], now: i64) -> Result<(), AppError> {
    for key in keys {
        let locked_until: Option<i64> =
            sqlx::query("SELECT locked_until FROM login_throttle WHERE throttle_key = $1")
                .bind(*key)
                .fetch_optional(db.pool())
                .await?
                .map(|row| row.try_get("locked_until"))
                .transpose()?;
        if locked_until.is_some_and(|until| until > now) {
            return Err(AppError::TooManyAttempts);
        }
    }
    Ok(())
}

/// Counts one failure against `key`, locking it when `limit` failures fall within the window.
pub async fn record_failure(
    db: &Db,
    key: &str,
    limit: i64,
    settings: &ThrottleSettings,
    now: i64,
) -> Result<(), AppError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "INSERT INTO login_throttle (throttle_key, failures, window_started_at, locked_until) \
         VALUES ($1, 1, $2, 0) \
         ON CONFLICT (throttle_key) DO UPDATE SET \
           failures = CASE WHEN login_throttle.window_started_at < $3 THEN 1 \
                           ELSE login_throttle.failures + 1 END, \
           window_started_at = CASE WHEN login_throttle.window_started_at < $3 THEN $2 \
                                    ELSE login_throttle.window_started_at END",
    )
    .bind(key)
    .bind(now)
    .bind(now - settings.window_ms)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE login_throttle SET locked_until = $2, failures = 0, window_started_at = $3 \
         WHERE throttle_key = $1 AND failures >= $4",
    )
    .bind(key)
    .bind(now + settings.lockout_ms)
    .bind(now)
    .bind(limit)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(())
}

/// A successful login clears the account's count (not the address's: one good password must not
/// reset an address that is guessing at other accounts).
pub async fn clear(db: &Db, key: &str) -> Result<(), AppError> {
    sqlx::query("DELETE FROM login_throttle WHERE throttle_key = $1").bind(key).execute(db.pool()).await?;
    Ok(())
}
