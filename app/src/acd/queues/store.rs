//! Data functions for queues. Each takes a `TenantScope` and touches only that tenant's rows.

use std::collections::HashMap;

use sqlx::{AnyConnection, Row};

use super::{QueueRecord, QueueSettings, UserChoice, validate};
use crate::auth::guard::TenantScope;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

const COLUMNS: &str = "id, pbx, name, description, strategy, music_class, agent_announce, wrapup_secs, \
    ring_timeout_secs, max_wait_secs, announce_frequency_secs, periodic_announce_secs, announce_holdtime, \
    announce_position, service_level_secs, supervisor_profile_id, agent_profile_id";

pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<QueueRecord>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM acd_queues WHERE tenant_id = $1 ORDER BY name"
    )))
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    // Every holder of every queue profile of the tenant, in one query.
    let mut holders: HashMap<i64, Vec<i64>> = HashMap::new();
    for row in sqlx::query(
        "SELECT up.profile_id, up.user_id FROM user_profiles up JOIN profiles p ON p.id = up.profile_id \
         WHERE p.tenant_id = $1 ORDER BY up.user_id",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?
    {
        holders.entry(row.try_get("profile_id")?).or_default().push(row.try_get("user_id")?);
    }
    rows.iter()
        .map(|row| {
            let supervisors = holders.get(&row.try_get::<i64, _>("supervisor_profile_id")?).cloned().unwrap_or_default();
            let agents = holders.get(&row.try_get::<i64, _>("agent_profile_id")?).cloned().unwrap_or_default();
            record(row, supervisors, agents)
        })
        .collect()
}

pub async fn get(db: &Db, scope: TenantScope, queue_id: i64) -> Result<QueueRecord, AppError> {
    list(db, scope).await?.into_iter().find(|q| q.id == queue_id).ok_or(AppError::NotFound)
}

fn record(row: &sqlx::any::AnyRow, supervisors: Vec<i64>, agents: Vec<i64>) -> Result<QueueRecord, AppError> {
    let secs = |column: &str| -> Result<u32, AppError> { Ok(row.try_get::<i64, _>(column)?.clamp(0, u32::MAX as i64) as u32) };
    Ok(QueueRecord {
        id: row.try_get("id")?,
        settings: QueueSettings {
            name: row.try_get("name")?,
            description: row.try_get("description")?,
            pbx: row.try_get("pbx")?,
            strategy: row.try_get("strategy")?,
            music_class: row.try_get("music_class")?,
            agent_announce: row.try_get("agent_announce")?,
            wrapup_secs: secs("wrapup_secs")?,
            ring_timeout_secs: secs("ring_timeout_secs")?,
            max_wait_secs: secs("max_wait_secs")?,
            announce_frequency_secs: secs("announce_frequency_secs")?,
            periodic_announce_secs: secs("periodic_announce_secs")?,
            announce_holdtime: row.try_get("announce_holdtime")?,
            announce_position: row.try_get("announce_position")?,
            service_level_secs: secs("service_level_secs")?,
            supervisors,
            agents,
        },
    })
}

/// The tenant's active users, offered as supervisors and agents.
pub async fn user_choices(db: &Db, scope: TenantScope) -> Result<Vec<UserChoice>, AppError> {
    let rows = sqlx::query(
        "SELECT id, login, first_name, last_name, own_phone FROM users \
         WHERE tenant_id = $1 AND active = 1 ORDER BY last_name, first_name, login",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(UserChoice {
                id: row.try_get("id")?,
                login: row.try_get("login")?,
                name: format!("{} {}", row.try_get::<String, _>("first_name")?, row.try_get::<String, _>("last_name")?),
                own_phone: row.try_get("own_phone")?,
            })
        })
        .collect()
}

/// Creates the queue and its SV and AG profiles together, or nothing.
pub async fn create(db: &Db, scope: TenantScope, settings: &QueueSettings, now: i64) -> Result<i64, AppError> {
    let settings = validate(settings)?;
    ensure_users_in_tenant(db, scope, &settings).await?;
    let mut tx = db.pool().begin().await?;
    let supervisor_profile = insert_profile(&mut tx, scope, "supervisor", &format!("SV {}", settings.name)).await?;
    let agent_profile = insert_profile(&mut tx, scope, "agent", &format!("AG {}", settings.name)).await?;
    let id: i64 = sqlx::query(
        "INSERT INTO acd_queues (tenant_id, pbx, name, description, strategy, music_class, agent_announce, \
            wrapup_secs, ring_timeout_secs, max_wait_secs, announce_frequency_secs, periodic_announce_secs, \
            announce_holdtime, announce_position, service_level_secs, supervisor_profile_id, agent_profile_id, \
            created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&settings.pbx)
    .bind(&settings.name)
    .bind(&settings.description)
    .bind(&settings.strategy)
    .bind(&settings.music_class)
    .bind(&settings.agent_announce)
    .bind(settings.wrapup_secs as i64)
    .bind(settings.ring_timeout_secs as i64)
    .bind(settings.max_wait_secs as i64)
    .bind(settings.announce_frequency_secs as i64)
    .bind(settings.periodic_announce_secs as i64)
    .bind(&settings.announce_holdtime)
    .bind(&settings.announce_position)
    .bind(settings.service_level_secs as i64)
    .bind(supervisor_profile)
    .bind(agent_profile)
    .bind(now)
    .fetch_one(&mut *tx)
    .await
    .map_err(duplicate_name)?
    .try_get("id")?;
    set_holders(&mut tx, supervisor_profile, &settings.supervisors).await?;
    set_holders(&mut tx, agent_profile, &settings.agents).await?;
    tx.commit().await?;
    Ok(id)
}

/// Changes everything but the name and the PBX, which identify the queue's history.
pub async fn update(db: &Db, scope: TenantScope, queue_id: i64, settings: &QueueSettings) -> Result<(), AppError> {
    let current = get(db, scope, queue_id).await?;
    let settings = validate(&QueueSettings {
        name: current.settings.name.clone(),
        pbx: current.settings.pbx.clone(),
        ..settings.clone()
    })?;
    ensure_users_in_tenant(db, scope, &settings).await?;
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "UPDATE acd_queues SET description = $3, strategy = $4, music_class = $5, agent_announce = $6, \
            wrapup_secs = $7, ring_timeout_secs = $8, max_wait_secs = $9, announce_frequency_secs = $10, \
            periodic_announce_secs = $11, announce_holdtime = $12, announce_position = $13, \
            service_level_secs = $14 \
         WHERE id = $1 AND tenant_id = $2 RETURNING supervisor_profile_id, agent_profile_id",
    )
    .bind(queue_id)
    .bind(scope.tenant_id())
    .bind(&settings.description)
    .bind(&settings.strategy)
    .bind(&settings.music_class)
    .bind(&settings.agent_announce)
    .bind(settings.wrapup_secs as i64)
    .bind(settings.ring_timeout_secs as i64)
    .bind(settings.max_wait_secs as i64)
    .bind(settings.announce_frequency_secs as i64)
    .bind(settings.periodic_announce_secs as i64)
    .bind(&settings.announce_holdtime)
    .bind(&settings.announce_position)
    .bind(settings.service_level_secs as i64)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    set_holders(&mut tx, row.try_get("supervisor_profile_id")?, &settings.supervisors).await?;
    set_holders(&mut tx, row.try_get("agent_profile_id")?, &settings.agents).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes the queue with its SV and AG profiles (and so every user's hold on them).
pub async fn delete(db: &Db, scope: TenantScope, queue_id: i64) -> Result<(), AppError> {
    let mut tx = db.pool().begin().await?;
    let row = sqlx::query(
        "DELETE FROM acd_queues WHERE id = $1 AND tenant_id = $2 RETURNING supervisor_profile_id, agent_profile_id",
    )
    .bind(queue_id)
    .bind(scope.tenant_id())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    for column in ["supervisor_profile_id", "agent_profile_id"] {
        let profile: i64 = row.try_get(column)?;
        sqlx::query("DELETE FROM user_profiles WHERE profile_id = $1").bind(profile).execute(&mut *tx).await?;
        sqlx::query("DELETE FROM profiles WHERE id = $1").bind(profile).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    Ok(())
}

async fn insert_profile(conn: &mut AnyConnection, scope: TenantScope, kind: &str, name: &str) -> Result<i64, AppError> {
    Ok(sqlx::query("INSERT INTO profiles (tenant_id, kind, name) VALUES ($1, $2, $3) RETURNING id")
        .bind(scope.tenant_id())
        .bind(kind)
        .bind(name)
        .fetch_one(&mut *conn)
        .await?
        .try_get("id")?)
}

async fn set_holders(conn: &mut AnyConnection, profile_id: i64, users: &[i64]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM user_profiles WHERE profile_id = $1").bind(profile_id).execute(&mut *conn).await?;
    for user in users {
        sqlx::query("INSERT INTO user_profiles (user_id, profile_id) VALUES ($1, $2)")
            .bind(user)
            .bind(profile_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Supervisors and agents must be users of the queue's own tenant.
async fn ensure_users_in_tenant(db: &Db, scope: TenantScope, settings: &QueueSettings) -> Result<(), AppError> {
    let tenant_users: Vec<i64> = sqlx::query("SELECT id FROM users WHERE tenant_id = $1")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| row.try_get("id"))
        .collect::<Result<_, _>>()?;
    if settings.supervisors.iter().chain(&settings.agents).all(|id| tenant_users.contains(id)) {
        Ok(())
    } else {
        Err(AppError::invalid(Field::Profiles, Problem::Unknown))
    }
}

fn duplicate_name(error: sqlx::Error) -> AppError {
    match error.as_database_error() {
        Some(db_error) if db_error.is_unique_violation() => AppError::Duplicate { field: Field::QueueName },
        _ => error.into(),
    }
}

/// The queues a user may supervise: all of the tenant's for administrators, else those whose
/// SV profile the user holds.
pub async fn supervised(db: &Db, scope: TenantScope, user: &crate::auth::SessionUser) -> Result<Vec<QueueRecord>, AppError> {
    let all = list(db, scope).await?;
    Ok(if user.sees_all_queues() { all } else { all.into_iter().filter(|q| user.supervises(q.id)).collect() })
}
