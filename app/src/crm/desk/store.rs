//! Data functions of the agent desk. Each takes the tenant scope and the agent's user id from the
//! session; a campaign the agent is not assigned to, or that is not active, is "not found".
//!
//! Handing out a contact is one conditional UPDATE on the row seen free: if another agent took it
//! in between, the UPDATE changes nothing and the next candidate is tried. This is atomic on
//! SQLite (one writer) and on PostgreSQL (the second UPDATE re-reads the row after the first
//! commits and no longer matches), without locks held across requests.

use sqlx::Row;

use super::{CallReport, CallbackFor, DeskCampaign, DeskChoice, DeskContact, MAX_NOTE_CHARS, RESERVATION_MS, RETRY_AFTER_MS, check_walk};
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::results::{ContactStatus, ResultFlag, results_or_default};
use crate::crm::campaigns::FormKind;
use crate::crm::contacts::store::local_time;
use crate::crm::forms::check_answers;
use crate::crm::campaigns::store::parse_forms;
use crate::crm::forms::store as questionnaire;
use crate::crm::sales::store::{self as sales, Booking};
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

/// The agent's active campaigns in the tenant.
pub async fn choices(db: &Db, scope: TenantScope, agent_id: i64, now_ms: i64) -> Result<Vec<DeskChoice>, AppError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.product FROM campaigns c JOIN campaign_agents a ON a.campaign_id = c.id
         WHERE a.user_id = $1 AND c.tenant_id = $2 AND c.state = 'active' ORDER BY lower(c.name)",
    )
    .bind(agent_id)
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    let mut choices = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let fresh: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM campaign_contacts WHERE campaign_id = $1 AND status = 'fresh'")
            .bind(id)
            .fetch_one(db.pool())
            .await?;
        let callbacks_due: i64 = sqlx::query_scalar(
            "SELECT COUNT(*) FROM campaign_contacts WHERE campaign_id = $1 AND status = 'callback' AND due_at <= $2
             AND (agent_id = $3 OR agent_id IS NULL)",
        )
        .bind(id)
        .bind(now_ms)
        .bind(agent_id)
        .fetch_one(db.pool())
        .await?;
        choices.push(DeskChoice { id, name: row.try_get(1)?, product: row.try_get(2)?, fresh, callbacks_due });
    }
    Ok(choices)
}

/// Fails unless the campaign is active, in the tenant, and the agent is assigned to it.
async fn assigned(db: &Db, scope: TenantScope, agent_id: i64, campaign_id: i64) -> Result<(), AppError> {
    let found: Option<i64> = sqlx::query_scalar(
        "SELECT c.id FROM campaigns c JOIN campaign_agents a ON a.campaign_id = c.id
         WHERE c.id = $1 AND c.tenant_id = $2 AND a.user_id = $3 AND c.state = 'active'",
    )
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .bind(agent_id)
    .fetch_optional(db.pool())
    .await?;
    found.map(|_| ()).ok_or(AppError::NotFound)
}

/// Opens the desk on a campaign: a new agent session (ending any the agent left open) and what
/// the page needs: the newest tree version, the results, the custom field names.
pub async fn open(db: &Db, scope: TenantScope, agent_id: i64, campaign_id: i64, now_ms: i64) -> Result<DeskCampaign, AppError> {
    assigned(db, scope, agent_id, campaign_id).await?;
    let row = sqlx::query(
        "SELECT c.name, c.product, c.tree_id, c.results, b.custom_fields, c.forms, c.questionnaire FROM campaigns c
         JOIN contact_bases b ON b.id = c.base_id WHERE c.id = $1",
    )
    .bind(campaign_id)
    .fetch_one(db.pool())
    .await?;
    let tree_id: Option<i64> = row.try_get(2)?;
    let tree = match tree_id {
        Some(tree_id) => {
            let version = sqlx::query("SELECT id, body FROM argument_tree_versions WHERE tree_id = $1 ORDER BY version DESC LIMIT 1")
                .bind(tree_id)
                .fetch_one(db.pool())
                .await?;
            let body: String = version.try_get(1)?;
            Some((version.try_get(0)?, serde_json::from_str(&body).map_err(|_| AppError::Internal)?))
        }
        None => None,
    };
    let results: String = row.try_get(3)?;
    let custom: String = row.try_get(4)?;
    let forms = parse_forms(&row.try_get::<String, _>(5)?);
    let sales_people = if forms.contains(&FormKind::Appointment) { sales::choices(db, scope).await? } else { vec![] };
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE agent_sessions SET ended_at = seen_at WHERE user_id = $1 AND ended_at IS NULL")
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("INSERT INTO agent_sessions (tenant_id, user_id, campaign_id, started_at, seen_at) VALUES ($1, $2, $3, $4, $4)")
        .bind(scope.tenant_id())
        .bind(agent_id)
        .bind(campaign_id)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(DeskCampaign {
        id: campaign_id,
        name: row.try_get(0)?,
        product: row.try_get(1)?,
        tree,
        results: results_or_default(&results),
        custom_fields: serde_json::from_str(&custom).unwrap_or_default(),
        forms,
        questionnaire: questionnaire::parse(&row.try_get::<String, _>(6)?),
        sales_people,
    })
}

/// The contacts an agent may be handed, in the order they are offered: callbacks booked for
/// them, then for anyone, once due; reservations that ran out (a closed browser); unanswered
/// contacts due again; contacts never called.
fn candidate(kind: usize, campaign_id: i64, agent_id: i64, now_ms: i64) -> sqlx::query::Query<'static, sqlx::Any, sqlx::any::AnyArguments> {
    match kind {
        0 => sqlx::query(
            "SELECT id, status, due_at FROM campaign_contacts
             WHERE campaign_id = $1 AND status = 'callback' AND agent_id = $2 AND due_at <= $3 ORDER BY due_at LIMIT 1",
        )
        .bind(campaign_id)
        .bind(agent_id)
        .bind(now_ms),
        1 => sqlx::query(
            "SELECT id, status, due_at FROM campaign_contacts
             WHERE campaign_id = $1 AND status = 'callback' AND agent_id IS NULL AND due_at <= $2 ORDER BY due_at LIMIT 1",
        )
        .bind(campaign_id)
        .bind(now_ms),
        2 => sqlx::query(
            "SELECT id, status, due_at FROM campaign_contacts
             WHERE campaign_id = $1 AND status = 'reserved' AND due_at <= $2 ORDER BY due_at LIMIT 1",
        )
        .bind(campaign_id)
        .bind(now_ms),
        3 => sqlx::query(
            "SELECT id, status, due_at FROM campaign_contacts
             WHERE campaign_id = $1 AND status = 'retry' AND due_at <= $2 ORDER BY due_at LIMIT 1",
        )
        .bind(campaign_id)
        .bind(now_ms),
        _ => sqlx::query("SELECT id, status, due_at FROM campaign_contacts WHERE campaign_id = $1 AND status = 'fresh' ORDER BY id LIMIT 1")
            .bind(campaign_id),
    }
}

const CANDIDATE_KINDS: usize = 5;

/// Reserves the next contact for the agent, or keeps handing back the one they hold. `None`:
/// nothing is waiting now.
pub async fn next_contact(
    db: &Db,
    scope: TenantScope,
    agent_id: i64,
    campaign_id: i64,
    now_ms: i64,
) -> Result<Option<DeskContact>, AppError> {
    assigned(db, scope, agent_id, campaign_id).await?;
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM campaign_contacts WHERE campaign_id = $1 AND status = 'reserved' AND agent_id = $2 AND due_at > $3 LIMIT 1",
    )
    .bind(campaign_id)
    .bind(agent_id)
    .bind(now_ms)
    .fetch_optional(db.pool())
    .await?;
    if let Some(slot_id) = held {
        keep(db, agent_id, campaign_id, slot_id, now_ms).await?;
        return contact(db, scope, slot_id, None).await.map(Some);
    }
    for kind in 0..CANDIDATE_KINDS {
        // A few tries per kind: each failure means another agent just took that row.
        for _ in 0..8 {
            let Some(row) = candidate(kind, campaign_id, agent_id, now_ms).fetch_optional(db.pool()).await? else { break };
            let (slot_id, status, due_at): (i64, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
            let taken = sqlx::query(
                "UPDATE campaign_contacts SET status = 'reserved', agent_id = $1, due_at = $2, taken_at = $3
                 WHERE id = $4 AND status = $5 AND due_at = $6",
            )
            .bind(agent_id)
            .bind(now_ms + RESERVATION_MS)
            .bind(now_ms)
            .bind(slot_id)
            .bind(&status)
            .bind(due_at)
            .execute(db.pool())
            .await?
            .rows_affected();
            if taken == 1 {
                let callback = (status == "callback").then_some(due_at);
                return contact(db, scope, slot_id, callback).await.map(Some);
            }
        }
    }
    Ok(None)
}

async fn contact(db: &Db, scope: TenantScope, slot_id: i64, callback_ms: Option<i64>) -> Result<DeskContact, AppError> {
    let row = sqlx::query(
        "SELECT k.first_name, k.last_name, k.phone, k.var1, k.var2, k.custom, s.attempts, t.time_zone
         FROM campaign_contacts s JOIN contacts k ON k.id = s.contact_id
         JOIN campaigns c ON c.id = s.campaign_id JOIN tenants t ON t.id = c.tenant_id
         WHERE s.id = $1 AND c.tenant_id = $2",
    )
    .bind(slot_id)
    .bind(scope.tenant_id())
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let custom: String = row.try_get(5)?;
    let zone: String = row.try_get(7)?;
    Ok(DeskContact {
        slot_id,
        first_name: row.try_get(0)?,
        last_name: row.try_get(1)?,
        phone: row.try_get(2)?,
        var1: row.try_get(3)?,
        var2: row.try_get(4)?,
        custom: serde_json::from_str(&custom).unwrap_or_default(),
        attempts: row.try_get(6)?,
        callback_at: callback_ms.map(|ms| local_time(ms, &zone)),
    })
}

/// Extends the agent's reservation; false when it is no longer theirs.
async fn keep(db: &Db, agent_id: i64, campaign_id: i64, slot_id: i64, now_ms: i64) -> Result<bool, AppError> {
    let kept = sqlx::query(
        "UPDATE campaign_contacts SET due_at = $1 WHERE id = $2 AND campaign_id = $3 AND status = 'reserved' AND agent_id = $4",
    )
    .bind(now_ms + RESERVATION_MS)
    .bind(slot_id)
    .bind(campaign_id)
    .bind(agent_id)
    .execute(db.pool())
    .await?
    .rows_affected();
    Ok(kept == 1)
}

/// The open desk's periodic news: the session is alive, and so is the reservation it holds.
pub async fn keep_alive(
    db: &Db,
    scope: TenantScope,
    agent_id: i64,
    campaign_id: i64,
    slot_id: Option<i64>,
    now_ms: i64,
) -> Result<bool, AppError> {
    assigned(db, scope, agent_id, campaign_id).await?;
    sqlx::query("UPDATE agent_sessions SET seen_at = $1 WHERE user_id = $2 AND campaign_id = $3 AND ended_at IS NULL")
        .bind(now_ms)
        .bind(agent_id)
        .bind(campaign_id)
        .execute(db.pool())
        .await?;
    match slot_id {
        Some(slot_id) => keep(db, agent_id, campaign_id, slot_id, now_ms).await,
        None => Ok(true),
    }
}

/// Leaving the desk ends the session and frees the contact held, for the next agent.
pub async fn leave(db: &Db, scope: TenantScope, agent_id: i64, campaign_id: i64, now_ms: i64) -> Result<(), AppError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query(
        "UPDATE agent_sessions SET ended_at = $1, seen_at = $1
         WHERE user_id = $2 AND campaign_id = $3 AND tenant_id = $4 AND ended_at IS NULL",
    )
    .bind(now_ms)
    .bind(agent_id)
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE campaign_contacts SET due_at = 0 WHERE campaign_id = $1 AND status = 'reserved' AND agent_id = $2")
        .bind(campaign_id)
        .bind(agent_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// What the desk needs to place a call: the agent's phone and caller number, the contact's
/// number and the campaign's PBX. Only for a contact the agent holds.
pub struct DialPlan {
    pub pbx: String,
    pub agent_phone: String,
    pub caller_number: String,
    pub contact_phone: String,
    pub contact_name: String,
}

pub async fn dial_plan(db: &Db, scope: TenantScope, agent_id: i64, slot_id: i64) -> Result<DialPlan, AppError> {
    let row = sqlx::query(
        "SELECT c.pbx, u.own_phone, u.caller_number, k.phone, k.first_name || ' ' || k.last_name
         FROM campaign_contacts s JOIN campaigns c ON c.id = s.campaign_id JOIN contacts k ON k.id = s.contact_id
         JOIN users u ON u.id = $1
         WHERE s.id = $2 AND s.status = 'reserved' AND s.agent_id = $1 AND c.tenant_id = $3 AND c.state = 'active'",
    )
    .bind(agent_id)
    .bind(slot_id)
    .bind(scope.tenant_id())
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let plan = DialPlan {
        pbx: row.try_get(0)?,
        agent_phone: row.try_get(1)?,
        caller_number: row.try_get(2)?,
        contact_phone: row.try_get(3)?,
        contact_name: row.try_get(4)?,
    };
    if plan.agent_phone.is_empty() {
        return Err(AppError::invalid(Field::OwnPhone, Problem::NoPhone));
    }
    if plan.pbx.is_empty() {
        return Err(AppError::PbxNotConnected);
    }
    Ok(plan)
}

/// Records a finished call: the call, the walk through the tree, and what becomes of the
/// contact (done, back at a callback time, or again later); all or nothing.
pub async fn finish(
    db: &Db,
    scope: TenantScope,
    agent_id: i64,
    campaign_id: i64,
    tree_version: Option<i64>,
    report: &CallReport,
    now_ms: i64,
) -> Result<(), AppError> {
    assigned(db, scope, agent_id, campaign_id).await?;
    let campaign = sqlx::query(
        "SELECT c.results, c.tree_id, t.time_zone, c.forms, c.questionnaire FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
         WHERE c.id = $1",
    )
        .bind(campaign_id)
        .fetch_one(db.pool())
        .await?;
    let results: String = campaign.try_get(0)?;
    let tree_id: Option<i64> = campaign.try_get(1)?;
    let zone: String = campaign.try_get(2)?;
    let result = results_or_default(&results)
        .into_iter()
        .find(|r| r.code == report.result)
        .ok_or(AppError::invalid(Field::CallResult, Problem::Required))?;
    let note = report.note.trim();
    if note.chars().count() > MAX_NOTE_CHARS {
        return Err(AppError::invalid(Field::Note, Problem::TooLong { max: MAX_NOTE_CHARS as u32 }));
    }
    // The walk must fit the version the agent was given, which must be one of the campaign's tree.
    let version_id = match (tree_id, tree_version) {
        (Some(tree_id), Some(version_id)) => {
            let body: String = sqlx::query_scalar("SELECT body FROM argument_tree_versions WHERE id = $1 AND tree_id = $2")
                .bind(version_id)
                .bind(tree_id)
                .fetch_optional(db.pool())
                .await?
                .ok_or(AppError::invalid(Field::ArgumentTree, Problem::BadFormat))?;
            let tree = serde_json::from_str(&body).map_err(|_| AppError::Internal)?;
            check_walk(&tree, &report.path).map_err(|_| AppError::invalid(Field::ArgumentTree, Problem::BadFormat))?;
            Some(version_id)
        }
        (_, _) if !report.path.is_empty() => return Err(AppError::invalid(Field::ArgumentTree, Problem::BadFormat)),
        _ => None,
    };
    let forms = parse_forms(&campaign.try_get::<String, _>(3)?);
    let answers = check_answers(
        &questionnaire::parse(&campaign.try_get::<String, _>(4)?),
        &forms,
        &report.answers,
        &report.contract,
        result.has(ResultFlag::Contacted),
    )?;
    let appointment = match &report.appointment {
        Some(request) if result.has(ResultFlag::Appointment) && forms.contains(&FormKind::Appointment) => {
            if request.sales_person_id <= 0 {
                return Err(AppError::invalid(Field::SalesPerson, Problem::Required));
            }
            Some((request.sales_person_id, future_instant(&request.starts_at, &zone, now_ms, Field::AppointmentAt)?))
        }
        None if result.has(ResultFlag::Appointment) && forms.contains(&FormKind::Appointment) => {
            return Err(AppError::invalid(Field::SalesPerson, Problem::Required));
        }
        Some(_) => return Err(AppError::invalid(Field::AppointmentAt, Problem::NotAllowedNow)),
        None => None,
    };
    let callback_at =
        if result.has(ResultFlag::Callback) { Some(future_instant(&report.callback_at, &zone, now_ms, Field::CallbackAt)?) } else { None };
    let next = result.next_status();
    let (next_agent, due_at) = match next {
        ContactStatus::Callback if report.callback_for == CallbackFor::Me => (Some(agent_id), callback_at.unwrap_or(now_ms)),
        ContactStatus::Callback => (None, callback_at.unwrap_or(now_ms)),
        ContactStatus::Retry => (None, now_ms + RETRY_AFTER_MS),
        _ => (None, 0),
    };

    let mut tx = db.begin_write().await?;
    let slot = sqlx::query(
        "SELECT s.contact_id, s.taken_at, k.phone FROM campaign_contacts s JOIN contacts k ON k.id = s.contact_id
         WHERE s.id = $1 AND s.campaign_id = $2 AND s.status = 'reserved' AND s.agent_id = $3",
    )
    .bind(report.slot_id)
    .bind(campaign_id)
    .bind(agent_id)
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::invalid(Field::Contact, Problem::NotAllowedNow))?;
    let (contact_id, taken_at, phone): (i64, i64, String) = (slot.try_get(0)?, slot.try_get(1)?, slot.try_get(2)?);
    let call_id: i64 = sqlx::query_scalar(
        "INSERT INTO crm_calls (tenant_id, campaign_id, contact_id, agent_id, phone, started_at, ended_at, result, tree_version_id, callback_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(campaign_id)
    .bind(contact_id)
    .bind(agent_id)
    .bind(&phone)
    .bind(taken_at)
    .bind(now_ms)
    .bind(&result.code)
    .bind(version_id)
    .bind(callback_at)
    .bind(note)
    .fetch_one(&mut *tx)
    .await?;
    for (position, step) in report.path.iter().enumerate() {
        sqlx::query(
            "INSERT INTO crm_answers (call_id, campaign_id, agent_id, at, form, item, answer, position)
             VALUES ($1, $2, $3, $4, 'tree', $5, $6, $7)",
        )
        .bind(call_id)
        .bind(campaign_id)
        .bind(agent_id)
        .bind(taken_at)
        .bind(step.node.to_string())
        .bind(step.answer.map_or("hangup", |a| a.code()))
        .bind(position as i64)
        .execute(&mut *tx)
        .await?;
    }
    for (position, row) in answers.iter().enumerate() {
        sqlx::query(
            "INSERT INTO crm_answers (call_id, campaign_id, agent_id, at, form, item, answer, position)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(call_id)
        .bind(campaign_id)
        .bind(agent_id)
        .bind(taken_at)
        .bind(row.form)
        .bind(&row.item)
        .bind(&row.answer)
        .bind((report.path.len() + position) as i64)
        .execute(&mut *tx)
        .await?;
    }
    if let Some((sales_person_id, starts_at)) = appointment {
        let booking = Booking { campaign_id, call_id, contact_id, agent_id, starts_at, note: note.to_string() };
        sales::book(&mut tx, scope, sales_person_id, &booking).await?;
    }
    sqlx::query("UPDATE campaign_contacts SET status = $1, agent_id = $2, due_at = $3, attempts = attempts + 1 WHERE id = $4")
        .bind(next.code())
        .bind(next_agent)
        .bind(due_at)
        .bind(report.slot_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// A callback or appointment time typed in the tenant's zone (`YYYY-MM-DDTHH:MM`), which must be
/// ahead.
fn future_instant(text: &str, zone: &str, now_ms: i64, field: Field) -> Result<i64, AppError> {
    let bad = |problem| AppError::invalid(field, problem);
    let text = text.trim();
    if text.is_empty() {
        return Err(bad(Problem::Required));
    }
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    let local: jiff::civil::DateTime = text.parse().map_err(|_| bad(Problem::BadFormat))?;
    let at = local.to_zoned(zone).map_err(|_| bad(Problem::BadFormat))?.timestamp().as_millisecond();
    if at <= now_ms {
        return Err(bad(Problem::NotInFuture));
    }
    Ok(at)
}

/// Adds the base's contacts to an active campaign (those already there are kept as they are).
pub async fn enrol_contacts(conn: &mut sqlx::AnyConnection, campaign_id: i64) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO campaign_contacts (campaign_id, contact_id, status)
         SELECT c.id, k.id, 'fresh' FROM campaigns c JOIN contacts k ON k.base_id = c.base_id
         WHERE c.id = $1 AND NOT EXISTS (SELECT 1 FROM campaign_contacts s WHERE s.campaign_id = c.id AND s.contact_id = k.id)",
    )
    .bind(campaign_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_times_are_read_in_the_tenant_zone_and_must_be_ahead() {
        // 2026-11-22 10:00 UTC.
        let now = 1_795_341_600_000;
        assert_eq!(future_instant("2026-11-22T12:30", "Europe/Paris", now, Field::CallbackAt), Ok(now + 90 * 60_000));
        assert_eq!(future_instant("2026-11-22T10:30", "Europe/Paris", now, Field::CallbackAt), Err(AppError::invalid(Field::CallbackAt, Problem::NotInFuture)));
        assert_eq!(future_instant("tomorrow", "Europe/Paris", now, Field::CallbackAt), Err(AppError::invalid(Field::CallbackAt, Problem::BadFormat)));
        assert_eq!(future_instant(" ", "Europe/Paris", now, Field::CallbackAt), Err(AppError::invalid(Field::CallbackAt, Problem::Required)));
    }
}
