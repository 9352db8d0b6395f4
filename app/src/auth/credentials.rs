//! Signing in and changing one's password: the rules, independent of HTTP.

use sqlx::Row;

use super::sessions;
use super::throttle::{self, ThrottleSettings};
use super::{MAX_LOGIN_CHARS, MAX_PASSWORD_CHARS, SessionUser, normalise_login, password};
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

/// Checks a login and password and opens a session. Every way of failing that could reveal
/// whether an account exists (unknown login, wrong password, inactive user or tenant) gives the
/// same `InvalidCredentials`, after the same hashing work.
pub async fn sign_in(
    db: &Db,
    throttle_settings: &ThrottleSettings,
    login: &str,
    password_attempt: &str,
    address: &str,
    now: i64,
) -> Result<(SessionUser, String), AppError> {
    let login = normalise_login(login);
    if login.is_empty()
        || password_attempt.is_empty()
        || login.chars().count() > MAX_LOGIN_CHARS as usize
        || password_attempt.chars().count() > MAX_PASSWORD_CHARS as usize
    {
        return Err(AppError::InvalidCredentials);
    }
    let account_key = throttle::account_key(&login);
    let address_key = throttle::address_key(address);
    throttle::check(db, &[&account_key, &address_key], now).await?;

    let row = sqlx::query(
        "SELECT u.id, u.password_hash FROM users u JOIN tenants t ON t.id = u.tenant_id \
         WHERE u.login = $1 AND u.active = 1 AND t.active = 1",
    )
    .bind(&login)
    .fetch_optional(db.pool())
    .await?;
    let (user_id, stored) = match row {
        Some(row) => (Some(row.try_get::<i64, _>("id")?), Some(row.try_get::<String, _>("password_hash")?)),
        None => (None, None),
    };
    let verified = password::verify(password_attempt.to_string(), stored).await;
    let user = match (verified, user_id) {
        (true, Some(id)) => sessions::load_active_user(db, id).await?,
        _ => None,
    };
    let Some(user) = user else {
        throttle::record_failure(db, &account_key, throttle_settings.max_failures_per_account, throttle_settings, now)
            .await?;
        throttle::record_failure(db, &address_key, throttle_settings.max_failures_per_address, throttle_settings, now)
            .await?;
        return Err(AppError::InvalidCredentials);
    };
    throttle::clear(db, &account_key).await?;
    let token = sessions::create(db, user.user_id, address, now).await?;
    Ok((user, token))
}

/// Changes the signed-in user's password after checking the current one; every other session
/// of the user ends.
pub async fn change_password(
    db: &Db,
    user: &SessionUser,
    current_token: &str,
    current: &str,
    new: &str,
    confirmation: &str,
    now: i64,
) -> Result<(), AppError> {
    if current.is_empty() {
        return Err(AppError::invalid(Field::CurrentPassword, Problem::Required));
    }
    super::validate_new_password(new, &user.login, Field::NewPassword)?;
    if new != confirmation {
        return Err(AppError::invalid(Field::Confirmation, Problem::Mismatch));
    }
    let stored: String = sqlx::query("SELECT password_hash FROM users WHERE id = $1")
        .bind(user.user_id)
        .fetch_one(db.pool())
        .await?
        .try_get("password_hash")?;
    if !password::verify(current.to_string(), Some(stored)).await {
        return Err(AppError::invalid(Field::CurrentPassword, Problem::Wrong));
    }
    let hash = password::hash(new.to_string()).await?;
    sqlx::query("UPDATE users SET password_hash = $2, password_changed_at = $3 WHERE id = $1")
        .bind(user.user_id)
        .bind(hash)
        .bind(now)
        .execute(db.pool())
        .await?;
    sessions::revoke_others(db, user.user_id, Some(current_token)).await
}
