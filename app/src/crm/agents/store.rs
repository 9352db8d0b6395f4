//! Data functions for call-centre agents. Each takes the tenant scope; a user of another tenant,
//! or one without the agent profile, is "not found" here.

use std::collections::HashMap;

use sqlx::Row;

use super::{AgentEdit, AgentSummary, CampaignChoice, DeskSession, NewAgent};
use crate::auth::guard::TenantScope;
use crate::auth::{ProfileKind, password};
use crate::crm::campaigns::results::{ResultFlag, results_or_default};
use crate::crm::contacts::store::{local_time, tenant_number};
use crate::crm::desk::KEEP_ALIVE_MS;
use crate::db::Db;
use crate::error::{AppError, Field, Problem, required_text};
use crate::users::store::{ValidNewUser, ensure_login_free, insert, validate_new_user};
use crate::users::{MAX_NAME_CHARS, NewUser, validate_own_phone};


/// The campaign ids, checked to be the tenant's.
async fn campaigns_of_tenant(db: &Db, scope: TenantScope, ids: &[i64]) -> Result<Vec<i64>, AppError> {
    let mut checked = Vec::new();
    for id in ids {
        let found: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE id = $1 AND tenant_id = $2")
            .bind(id)
            .bind(scope.tenant_id())
            .fetch_optional(db.pool())
            .await?;
        match found {
            Some(id) if !checked.contains(&id) => checked.push(id),
            Some(_) => {}
            None => return Err(AppError::invalid(Field::Campaigns, Problem::Unknown)),
        }
    }
    Ok(checked)
}

/// The tenant's agents by name, with their campaigns and their counts of calls and appointments
/// (a call counts as an appointment when its result carries the appointment flag).
pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<AgentSummary>, AppError> {
    // Users of the tenant holding the (built-in) agent profile.
    let rows = sqlx::query(
        "SELECT u.id, u.login, u.first_name, u.last_name, u.active, u.own_phone, u.caller_number
         FROM users u JOIN user_profiles up ON up.user_id = u.id JOIN profiles p ON p.id = up.profile_id
         WHERE u.tenant_id = $1 AND p.kind = 'agent' AND p.tenant_id IS NULL
         ORDER BY lower(u.last_name), lower(u.first_name)",
    )
    .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    let mut assigned: HashMap<i64, Vec<CampaignChoice>> = HashMap::new();
    for row in sqlx::query(
        "SELECT a.user_id, c.id, c.name FROM campaign_agents a JOIN campaigns c ON c.id = a.campaign_id
         WHERE c.tenant_id = $1 ORDER BY lower(c.name)",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?
    {
        assigned.entry(row.try_get(0)?).or_default().push(CampaignChoice { id: row.try_get(1)?, name: row.try_get(2)? });
    }
    let mut flags: HashMap<i64, Vec<String>> = HashMap::new();
    for row in sqlx::query("SELECT id, results FROM campaigns WHERE tenant_id = $1").bind(scope.tenant_id()).fetch_all(db.pool()).await? {
        let results: String = row.try_get(1)?;
        let appointments = results_or_default(&results).into_iter().filter(|r| r.has(ResultFlag::Appointment)).map(|r| r.code).collect();
        flags.insert(row.try_get(0)?, appointments);
    }
    let mut counts: HashMap<i64, (i64, i64)> = HashMap::new();
    for row in sqlx::query(
        "SELECT agent_id, campaign_id, result, COUNT(*) FROM crm_calls WHERE tenant_id = $1 AND agent_id IS NOT NULL
         GROUP BY agent_id, campaign_id, result",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?
    {
        let (agent, campaign, result, n): (i64, i64, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let count = counts.entry(agent).or_default();
        count.0 += n;
        if flags.get(&campaign).is_some_and(|codes| codes.contains(&result)) {
            count.1 += n;
        }
    }
    rows.iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            let (calls, appointments) = counts.get(&id).copied().unwrap_or_default();
            Ok(AgentSummary {
                id,
                login: row.try_get(1)?,
                first_name: row.try_get(2)?,
                last_name: row.try_get(3)?,
                active: row.try_get::<i64, _>(4)? != 0,
                extension: row.try_get(5)?,
                caller_number: row.try_get(6)?,
                campaigns: assigned.remove(&id).unwrap_or_default(),
                calls,
                appointments,
            })
        })
        .collect()
}

async fn set_campaigns(conn: &mut sqlx::AnyConnection, user_id: i64, campaign_ids: &[i64]) -> Result<(), AppError> {
    sqlx::query("DELETE FROM campaign_agents WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for campaign_id in campaign_ids {
        sqlx::query("INSERT INTO campaign_agents (campaign_id, user_id) VALUES ($1, $2)")
            .bind(campaign_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
    }
    Ok(())
}

/// Creates the agent's account with the agent profile, and assigns it; all or nothing.
pub async fn create(db: &Db, scope: TenantScope, new: &NewAgent, now_ms: i64) -> Result<i64, AppError> {
    let user = NewUser {
        login: new.login.clone(),
        first_name: new.first_name.clone(),
        last_name: new.last_name.clone(),
        password: new.password.clone(),
        profiles: vec![ProfileKind::Agent],
        own_phone: new.extension.clone(),
    };
    let valid: ValidNewUser = validate_new_user(&user, false)?;
    if valid.own_phone.is_empty() {
        return Err(AppError::invalid(Field::OwnPhone, Problem::Required));
    }
    let caller = tenant_number(db, scope, Field::CallerNumber, &new.caller_number).await?;
    let campaigns = campaigns_of_tenant(db, scope, &new.campaign_ids).await?;
    ensure_login_free(db, &valid.login).await?;
    let hash = password::hash(new.password.clone()).await?;
    let mut tx = db.pool().begin().await?;
    let id = insert(&mut tx, scope, &valid, &hash, now_ms).await?;
    sqlx::query("UPDATE users SET caller_number = $1 WHERE id = $2").bind(&caller).bind(id).execute(&mut *tx).await?;
    set_campaigns(&mut tx, id, &campaigns).await?;
    tx.commit().await?;
    Ok(id)
}

async fn is_agent(db: &Db, scope: TenantScope, user_id: i64) -> Result<(), AppError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT u.id FROM users u JOIN user_profiles up ON up.user_id = u.id JOIN profiles p ON p.id = up.profile_id
         WHERE u.tenant_id = $1 AND u.id = $2 AND p.kind = 'agent' AND p.tenant_id IS NULL",
    )
    .bind(scope.tenant_id())
    .bind(user_id)
        .fetch_optional(db.pool())
        .await?;
    found.map(|_| ()).ok_or(AppError::NotFound)
}

pub async fn update(db: &Db, scope: TenantScope, user_id: i64, edit: &AgentEdit) -> Result<(), AppError> {
    is_agent(db, scope, user_id).await?;
    let first_name = required_text(&edit.first_name, Field::FirstName, MAX_NAME_CHARS)?;
    let last_name = required_text(&edit.last_name, Field::LastName, MAX_NAME_CHARS)?;
    let extension = validate_own_phone(&edit.extension)?;
    if extension.is_empty() {
        return Err(AppError::invalid(Field::OwnPhone, Problem::Required));
    }
    let caller = tenant_number(db, scope, Field::CallerNumber, &edit.caller_number).await?;
    let campaigns = campaigns_of_tenant(db, scope, &edit.campaign_ids).await?;
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE users SET first_name = $1, last_name = $2, own_phone = $3, caller_number = $4 WHERE id = $5 AND tenant_id = $6")
        .bind(&first_name)
        .bind(&last_name)
        .bind(&extension)
        .bind(&caller)
        .bind(user_id)
        .bind(scope.tenant_id())
        .execute(&mut *tx)
        .await?;
    set_campaigns(&mut tx, user_id, &campaigns).await?;
    tx.commit().await?;
    Ok(())
}

/// The agent's desk sessions, newest first (at most `limit`), in the tenant's time zone.
pub async fn sessions(db: &Db, scope: TenantScope, user_id: i64, now_ms: i64, limit: i64) -> Result<Vec<DeskSession>, AppError> {
    is_agent(db, scope, user_id).await?;
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_one(db.pool()).await?;
    let rows = sqlx::query(
        "SELECT c.name, s.started_at, s.seen_at, s.ended_at FROM agent_sessions s JOIN campaigns c ON c.id = s.campaign_id
         WHERE s.user_id = $1 AND s.tenant_id = $2 ORDER BY s.started_at DESC, s.id DESC LIMIT $3",
    )
    .bind(user_id)
    .bind(scope.tenant_id())
    .bind(limit)
    .fetch_all(db.pool())
    .await?;
    // A desk that missed two keep-alives has been closed without saying so.
    let silent_after = 2 * i64::from(KEEP_ALIVE_MS) + 10_000;
    rows.iter()
        .map(|row| {
            let (started, seen, ended): (i64, i64, Option<i64>) = (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
            let ended = ended.or((now_ms - seen > silent_after).then_some(seen));
            Ok(DeskSession {
                campaign: row.try_get(0)?,
                started_at: local_time(started, &zone),
                ended_at: ended.map(|ms| local_time(ms, &zone)).unwrap_or_default(),
            })
        })
        .collect()
}
