//! Data functions for tenants; operator-only by construction (the server functions require
//! `ManageTenants`).

use sqlx::Row;

use super::{MAX_TENANT_NAME_CHARS, NewTenant, TenantSummary};
use crate::auth::guard::TenantScope;
use crate::auth::{ProfileKind, password};
use crate::db::{Db, flag};
use crate::error::{AppError, Field, Problem, required_text};
use crate::users::store as users;

pub async fn list(db: &Db) -> Result<Vec<TenantSummary>, AppError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.is_operator, t.active, t.currency, t.time_zone, \
                (SELECT COUNT(*) FROM users u WHERE u.tenant_id = t.id) AS user_count \
         FROM tenants t ORDER BY t.is_operator DESC, t.name",
    )
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(TenantSummary {
                id: row.try_get("id")?,
                name: row.try_get("name")?,
                is_operator: row.try_get::<i64, _>("is_operator")? != 0,
                active: row.try_get::<i64, _>("active")? != 0,
                currency: row.try_get("currency")?,
                time_zone: row.try_get("time_zone")?,
                user_count: row.try_get("user_count")?,
            })
        })
        .collect()
}

/// Creates the tenant and its first client administrator in one transaction.
pub async fn create(db: &Db, new: &NewTenant, now: i64) -> Result<i64, AppError> {
    let name = required_text(&new.name, Field::TenantName, MAX_TENANT_NAME_CHARS)?;
    let currency = validate_currency(&new.currency)?;
    let time_zone = validate_time_zone(&new.time_zone)?;
    let mut admin = new.admin.clone();
    admin.profiles = vec![ProfileKind::ClientAdmin];
    let admin = users::validate_new_user(&admin, false)?;
    if find_by_name(db, &name).await?.is_some() {
        return Err(AppError::Duplicate { field: Field::TenantName });
    }
    users::ensure_login_free(db, &admin.login).await?;
    let hash = password::hash(new.admin.password.clone()).await?;

    let mut tx = db.pool().begin().await?;
    let tenant_id: i64 = sqlx::query(
        "INSERT INTO tenants (name, is_operator, active, currency, time_zone, created_at) \
         VALUES ($1, 0, 1, $2, $3, $4) RETURNING id",
    )
    .bind(&name)
    .bind(&currency)
    .bind(&time_zone)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(|error| match error.as_database_error() {
        Some(e) if e.is_unique_violation() => AppError::Duplicate { field: Field::TenantName },
        _ => error.into(),
    })?
    .try_get("id")?;
    users::insert(&mut tx, TenantScope::trusted(tenant_id), &admin, &hash, now).await?;
    tx.commit().await?;
    Ok(tenant_id)
}

pub async fn find_by_name(db: &Db, name: &str) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query("SELECT id FROM tenants WHERE lower(name) = lower($1)")
        .bind(name.trim())
        .fetch_optional(db.pool())
        .await?
        .map(|row| row.try_get("id"))
        .transpose()?)
}

/// Suspends or resumes a client tenant. A suspended tenant's users cannot sign in and their
/// sessions end at once. The operator's own tenant cannot be suspended.
pub async fn set_active(db: &Db, tenant_id: i64, active: bool) -> Result<(), AppError> {
    let mut tx = db.pool().begin().await?;
    let changed = sqlx::query("UPDATE tenants SET active = $2 WHERE id = $1 AND is_operator = 0")
        .bind(tenant_id)
        .bind(flag(active))
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if changed == 0 {
        return Err(AppError::NotFound);
    }
    if !active {
        sqlx::query("DELETE FROM sessions WHERE user_id IN (SELECT id FROM users WHERE tenant_id = $1)")
            .bind(tenant_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// ISO 4217 code: three capital letters.
pub fn validate_currency(code: &str) -> Result<String, AppError> {
    let code = code.trim().to_uppercase();
    if code.is_empty() {
        return Err(AppError::invalid(Field::Currency, Problem::Required));
    }
    if code.len() != 3 || !code.chars().all(|c| c.is_ascii_uppercase()) {
        return Err(AppError::invalid(Field::Currency, Problem::Unknown));
    }
    Ok(code)
}

/// An IANA time zone name known to the bundled time zone database.
pub fn validate_time_zone(name: &str) -> Result<String, AppError> {
    let name = name.trim();
    if name.is_empty() {
        return Err(AppError::invalid(Field::TimeZone, Problem::Required));
    }
    jiff::tz::TimeZone::get(name)
        .map(|_| name.to_string())
        .map_err(|_| AppError::invalid(Field::TimeZone, Problem::Unknown))
}
