//! Data functions for users. Each takes a `TenantScope` and touches only that tenant's rows.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::{MAX_NAME_CHARS, NewUser, UserSummary, UserUpdate, validate_own_phone};
use crate::auth::guard::TenantScope;
use crate::auth::{ProfileKind, password, validate_login, validate_new_password};
use crate::db::{Db, flag};
use crate::error::{AppError, Field, Problem, required_text};

pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<UserSummary>, AppError> {
    let rows = sqlx::query(
        "SELECT id, login, first_name, last_name, active, own_phone FROM users WHERE tenant_id = $1 \
         ORDER BY last_name, first_name, login",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    // All the tenant's profile assignments in one query, not one per user.
    let mut profiles: HashMap<i64, Vec<ProfileKind>> = HashMap::new();
    for row in sqlx::query(
        "SELECT up.user_id, p.kind FROM user_profiles up \
         JOIN profiles p ON p.id = up.profile_id JOIN users u ON u.id = up.user_id \
         WHERE u.tenant_id = $1 AND p.tenant_id IS NULL",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?
    {
        if let Some(kind) = ProfileKind::from_code(&row.try_get::<String, _>("kind")?) {
            profiles.entry(row.try_get("user_id")?).or_default().push(kind);
        }
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get("id")?;
            let mut kinds = profiles.remove(&id).unwrap_or_default();
            kinds.sort();
            Ok(UserSummary {
                id,
                login: row.try_get("login")?,
                first_name: row.try_get("first_name")?,
                last_name: row.try_get("last_name")?,
                active: row.try_get::<i64, _>("active")? != 0,
                profiles: kinds,
                own_phone: row.try_get("own_phone")?,
            })
        })
        .collect()
}

/// Creates a user in the scope's tenant; all-or-nothing.
pub async fn create(db: &Db, scope: TenantScope, new: &NewUser, now: i64) -> Result<i64, AppError> {
    let operator_tenant = is_operator_tenant(db, scope).await?;
    let valid = validate_new_user(new, operator_tenant)?;
    ensure_login_free(db, &valid.login).await?;
    let hash = password::hash(new.password.clone()).await?;
    let mut tx = db.pool().begin().await?;
    let id = insert(&mut tx, scope, &valid, &hash, now).await?;
    tx.commit().await?;
    Ok(id)
}

/// A new user's fields after validation.
pub struct ValidNewUser {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub profiles: Vec<ProfileKind>,
    pub own_phone: String,
}

pub fn validate_new_user(new: &NewUser, operator_tenant: bool) -> Result<ValidNewUser, AppError> {
    let login = validate_login(&new.login)?;
    let first_name = required_text(&new.first_name, Field::FirstName, MAX_NAME_CHARS)?;
    let last_name = required_text(&new.last_name, Field::LastName, MAX_NAME_CHARS)?;
    validate_new_password(&new.password, &login, Field::Password)?;
    let profiles = validate_profiles(&new.profiles, operator_tenant)?;
    let own_phone = validate_own_phone(&new.own_phone)?;
    Ok(ValidNewUser { login, first_name, last_name, profiles, own_phone })
}

fn validate_profiles(profiles: &[ProfileKind], operator_tenant: bool) -> Result<Vec<ProfileKind>, AppError> {
    if profiles.iter().any(|kind| !kind.assignable_in(operator_tenant)) {
        return Err(AppError::invalid(Field::Profiles, Problem::NotAssignable));
    }
    let mut profiles = profiles.to_vec();
    profiles.sort();
    profiles.dedup();
    Ok(profiles)
}

pub async fn ensure_login_free(db: &Db, login: &str) -> Result<(), AppError> {
    let taken = sqlx::query("SELECT id FROM users WHERE login = $1")
        .bind(login)
        .fetch_optional(db.pool())
        .await?
        .is_some();
    if taken { Err(AppError::Duplicate { field: Field::Login }) } else { Ok(()) }
}

/// Inserts a validated user inside the caller's transaction (tenant creation reuses it).
pub async fn insert(
    conn: &mut AnyConnection,
    scope: TenantScope,
    user: &ValidNewUser,
    password_hash: &str,
    now: i64,
) -> Result<i64, AppError> {
    let id: i64 = sqlx::query(
        "INSERT INTO users (tenant_id, login, first_name, last_name, password_hash, active, \
                            created_at, password_changed_at, own_phone) \
         VALUES ($1, $2, $3, $4, $5, 1, $6, $6, $7) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&user.login)
    .bind(&user.first_name)
    .bind(&user.last_name)
    .bind(password_hash)
    .bind(now)
    .bind(&user.own_phone)
    .fetch_one(&mut *conn)
    .await
    .map_err(duplicate_login)?
    .try_get("id")?;
    set_profiles(conn, id, &user.profiles).await?;
    Ok(id)
}

/// A unique-index violation on insert means another request took the login first.
fn duplicate_login(error: sqlx::Error) -> AppError {
    match error.as_database_error() {
        Some(db_error) if db_error.is_unique_violation() => AppError::Duplicate { field: Field::Login },
        _ => error.into(),
    }
}

/// Replaces the user's built-in profiles; queue profiles (SV/AG) are managed with their queue.
async fn set_profiles(conn: &mut AnyConnection, user_id: i64, profiles: &[ProfileKind]) -> Result<(), AppError> {
    sqlx::query(
        "DELETE FROM user_profiles WHERE user_id = $1 \
         AND profile_id IN (SELECT id FROM profiles WHERE tenant_id IS NULL)",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    for kind in profiles {
        sqlx::query(
            "INSERT INTO user_profiles (user_id, profile_id) \
             SELECT $1, id FROM profiles WHERE kind = $2 AND tenant_id IS NULL",
        )
        .bind(user_id)
        .bind(kind.code())
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// Changes names, profiles and state. `actor_id` is the caller: nobody can deactivate themself
/// or take away their own right to manage users, so a tenant never locks itself out.
pub async fn update(
    db: &Db,
    scope: TenantScope,
    actor_id: i64,
    user_id: i64,
    update: &UserUpdate,
) -> Result<(), AppError> {
    let operator_tenant = is_operator_tenant(db, scope).await?;
    let first_name = required_text(&update.first_name, Field::FirstName, MAX_NAME_CHARS)?;
    let last_name = required_text(&update.last_name, Field::LastName, MAX_NAME_CHARS)?;
    let profiles = validate_profiles(&update.profiles, operator_tenant)?;
    let own_phone = validate_own_phone(&update.own_phone)?;
    if user_id == actor_id {
        let keeps_admin = profiles
            .iter()
            .any(|&kind| crate::auth::Permission::ManageUsers.granted_by(kind));
        if !update.active || !keeps_admin {
            return Err(AppError::invalid(Field::Profiles, Problem::OwnAccount));
        }
    }
    let mut tx = db.pool().begin().await?;
    let changed = sqlx::query(
        "UPDATE users SET first_name = $3, last_name = $4, active = $5, own_phone = $6 \
         WHERE id = $1 AND tenant_id = $2",
    )
    .bind(user_id)
    .bind(scope.tenant_id())
    .bind(&first_name)
    .bind(&last_name)
    .bind(flag(update.active))
    .bind(&own_phone)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    set_profiles(&mut tx, user_id, &profiles).await?;
    if !update.active {
        sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Sets a new password chosen by an administrator and ends the user's sessions.
pub async fn reset_password(
    db: &Db,
    scope: TenantScope,
    user_id: i64,
    new_password: &str,
    now: i64,
) -> Result<(), AppError> {
    let login: String = sqlx::query("SELECT login FROM users WHERE id = $1 AND tenant_id = $2")
        .bind(user_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?
        .try_get("login")?;
    validate_new_password(new_password, &login, Field::NewPassword)?;
    let hash = password::hash(new_password.to_string()).await?;
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE users SET password_hash = $3, password_changed_at = $4 WHERE id = $1 AND tenant_id = $2")
        .bind(user_id)
        .bind(scope.tenant_id())
        .bind(hash)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM sessions WHERE user_id = $1").bind(user_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

async fn is_operator_tenant(db: &Db, scope: TenantScope) -> Result<bool, AppError> {
    let row = sqlx::query("SELECT is_operator FROM tenants WHERE id = $1")
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(row.try_get::<i64, _>("is_operator")? != 0)
}
