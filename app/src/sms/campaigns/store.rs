//! Data functions for SMS campaigns, their messages, replies and opt-outs. Each takes a
//! `TenantScope`; a campaign, base or message of another tenant is "not found".
//!
//! Activation writes every message in one transaction with the campaign's move to `active`, so
//! the dispatcher sees a campaign whole or not at all. Deactivation withdraws the messages not
//! sent yet (refunding what was debited for parts that never went out); messages a modem is
//! sending finish, since a long message cut in the middle would reach the phone half-made.

use std::collections::{HashMap, HashSet};

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{
    Activation, CreditView, MAX_TEMPLATE_CHARS, MessageFilter, MessageLine, MessagePage, MessageState, OptOut, PAGE_SIZE, Progress, Reply,
    ReplyPage, Sample, SkipReason, SmsBase, SmsCampaignRecord, SmsCampaignSettings, SmsCampaignState,
};
use crate::auth::guard::TenantScope;
use crate::crm::contacts::phone;
use crate::crm::contacts::store::{CONTACT_COLUMNS, contact_from, like_pattern, local_time};
use crate::db::{Db, flag, placeholders};
use crate::error::{AppError, Field, Problem, required_text};
use crate::sms::template::{self, Piece, TemplateError};
use crate::sms::text::{self, MAX_PARTS};
use crate::sms::{credit, dispatch};

/// Contacts read per query at activation, and messages written per statement.
const CONTACTS_PER_READ: i64 = 2_000;
const MESSAGES_PER_STATEMENT: usize = 100;

/// Checks what the form sent: name, template (known fields, at most `MAX_TEMPLATE_CHARS`), and a
/// ready base of the tenant. Returns the cleaned settings and the base's custom fields.
async fn checked(db: &Db, scope: TenantScope, settings: &SmsCampaignSettings) -> Result<(SmsCampaignSettings, Vec<String>), AppError> {
    let name = required_text(&settings.name, Field::CampaignName, 120)?;
    let custom: Option<String> = sqlx::query_scalar("SELECT custom_fields FROM contact_bases WHERE id = $1 AND tenant_id = $2 AND state = 'ready'")
        .bind(settings.base_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?;
    let custom: Vec<String> = match custom {
        Some(custom) => serde_json::from_str(&custom).unwrap_or_default(),
        None => return Err(AppError::invalid(Field::ContactBase, Problem::Required)),
    };
    let template = settings.template.trim().replace("\r\n", "\n");
    if template.is_empty() {
        return Err(AppError::invalid(Field::Template, Problem::Required));
    }
    if template.chars().count() > MAX_TEMPLATE_CHARS {
        return Err(AppError::invalid(Field::Template, Problem::TooLong { max: MAX_TEMPLATE_CHARS as u32 }));
    }
    if template.chars().any(|c| c.is_control() && c != '\n') {
        return Err(AppError::invalid(Field::Template, Problem::BadCharacters));
    }
    parsed(&template, &custom)?;
    Ok((SmsCampaignSettings { name, base_id: settings.base_id, template, status_reports: settings.status_reports }, custom))
}

fn parsed(template: &str, custom: &[String]) -> Result<Vec<Piece>, AppError> {
    template::parse(template, custom).map_err(|error| match error {
        TemplateError::UnknownField(name) => AppError::UnknownTemplateField(name),
        TemplateError::Unbalanced => AppError::invalid(Field::Template, Problem::UnbalancedBraces),
    })
}

const CAMPAIGN_COLUMNS: &str = "c.id, c.name, c.base_id, c.template, c.status_reports, c.state, b.name, c.created_at, c.activated_at, c.finished_at, t.time_zone";
const CAMPAIGN_FROM: &str = "sms_campaigns c JOIN contact_bases b ON b.id = c.base_id JOIN tenants t ON t.id = c.tenant_id";

fn record(row: &AnyRow, progress: Progress) -> Result<SmsCampaignRecord, AppError> {
    let zone: String = row.try_get(10)?;
    let when = |at: Option<i64>| at.map(|at| local_time(at, &zone)).unwrap_or_default();
    Ok(SmsCampaignRecord {
        id: row.try_get(0)?,
        settings: SmsCampaignSettings {
            name: row.try_get(1)?,
            base_id: row.try_get(2)?,
            template: row.try_get(3)?,
            status_reports: row.try_get::<i64, _>(4)? != 0,
        },
        state: SmsCampaignState::from_code(&row.try_get::<String, _>(5)?).unwrap_or(SmsCampaignState::Draft),
        base_name: row.try_get(6)?,
        created_at: when(Some(row.try_get(7)?)),
        activated_at: when(row.try_get(8)?),
        finished_at: when(row.try_get(9)?),
        progress,
    })
}

/// The tenant's campaigns, newest first, with their progress.
pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<SmsCampaignRecord>, AppError> {
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CAMPAIGN_COLUMNS} FROM {CAMPAIGN_FROM} WHERE c.tenant_id = $1 ORDER BY c.created_at DESC, c.id DESC"
    )))
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    let mut progress = progress_of(db, "campaign_id IN (SELECT id FROM sms_campaigns WHERE tenant_id = $1)", scope.tenant_id()).await?;
    rows.iter().map(|row| record(row, progress.remove(&row.try_get::<i64, _>(0)?).unwrap_or_default())).collect()
}

pub async fn get(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<SmsCampaignRecord, AppError> {
    let row = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CAMPAIGN_COLUMNS} FROM {CAMPAIGN_FROM} WHERE c.id = $1 AND c.tenant_id = $2")))
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let progress = progress_of(db, "campaign_id = $1", campaign_id).await?.remove(&campaign_id).unwrap_or_default();
    record(&row, progress)
}

/// Progress of the campaigns `campaigns` selects (a condition on `campaign_id` with one
/// parameter), read from the messages' and parts' state indexes.
async fn progress_of(db: &Db, campaigns: &str, parameter: i64) -> Result<HashMap<i64, Progress>, AppError> {
    let mut all: HashMap<i64, Progress> = HashMap::new();
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT campaign_id, state, COUNT(*), CAST(COALESCE(SUM(charged), 0) AS BIGINT) FROM sms_messages
         WHERE {campaigns} GROUP BY campaign_id, state"
    )))
    .bind(parameter)
    .fetch_all(db.pool())
    .await?;
    for row in rows {
        let progress = all.entry(row.try_get(0)?).or_default();
        let count = row.try_get::<i64, _>(2)? as u64;
        progress.messages += count;
        progress.charged += row.try_get::<i64, _>(3)?;
        match MessageState::from_code(&row.try_get::<String, _>(1)?) {
            Some(MessageState::Queued) => progress.queued += count,
            Some(MessageState::Sending) => progress.sending += count,
            Some(MessageState::Sent) => progress.sent += count,
            Some(MessageState::Delivered) => progress.delivered += count,
            Some(MessageState::Failed) => progress.failed += count,
            Some(MessageState::Unknown) => progress.unknown += count,
            Some(MessageState::Skipped) | None => progress.skipped += count,
        }
    }
    let parts = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT m.campaign_id, COUNT(*), SUM(CASE WHEN p.state = 'delivered' THEN 1 ELSE 0 END)
         FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id
         WHERE m.{campaigns} AND p.sent_at IS NOT NULL AND p.state <> 'unknown' GROUP BY m.campaign_id"
    )))
    .bind(parameter)
    .fetch_all(db.pool())
    .await?;
    for row in parts {
        let progress = all.entry(row.try_get(0)?).or_default();
        progress.parts_sent = row.try_get::<i64, _>(1)? as u64;
        progress.parts_delivered = row.try_get::<Option<i64>, _>(2)?.unwrap_or(0) as u64;
    }
    Ok(all)
}

/// The tenant's ready bases, with the fields a template may name.
pub async fn bases(db: &Db, scope: TenantScope) -> Result<Vec<SmsBase>, AppError> {
    let rows = sqlx::query("SELECT id, name, contacts, custom_fields FROM contact_bases WHERE tenant_id = $1 AND state = 'ready' ORDER BY name")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(SmsBase {
                id: row.try_get(0)?,
                name: row.try_get(1)?,
                contacts: row.try_get(2)?,
                custom_fields: serde_json::from_str(&row.try_get::<String, _>(3)?).unwrap_or_default(),
            })
        })
        .collect()
}

pub async fn credit(db: &Db, scope: TenantScope) -> Result<CreditView, AppError> {
    let balance = credit::get(db, scope.tenant_id()).await?;
    let currency: String = sqlx::query_scalar("SELECT currency FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_one(db.pool()).await?;
    Ok(CreditView { balance: balance.balance, part_price: balance.part_price, currency })
}

pub async fn create(db: &Db, scope: TenantScope, settings: &SmsCampaignSettings, now: i64) -> Result<i64, AppError> {
    let (settings, _) = checked(db, scope, settings).await?;
    let id = sqlx::query_scalar(
        "INSERT INTO sms_campaigns (tenant_id, name, base_id, template, status_reports, state, created_at)
         VALUES ($1, $2, $3, $4, $5, 'draft', $6) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&settings.name)
    .bind(settings.base_id)
    .bind(&settings.template)
    .bind(flag(settings.status_reports))
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(id)
}

/// Changes a draft. Once activated, the messages are written: a campaign no longer changes.
pub async fn update(db: &Db, scope: TenantScope, campaign_id: i64, settings: &SmsCampaignSettings) -> Result<(), AppError> {
    let (settings, _) = checked(db, scope, settings).await?;
    let done = sqlx::query(
        "UPDATE sms_campaigns SET name = $1, base_id = $2, template = $3, status_reports = $4
         WHERE id = $5 AND tenant_id = $6 AND state = 'draft'",
    )
    .bind(&settings.name)
    .bind(settings.base_id)
    .bind(&settings.template)
    .bind(flag(settings.status_reports))
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .execute(db.pool())
    .await?;
    if done.rows_affected() == 0 {
        return Err(not_draft(db, scope, campaign_id).await);
    }
    Ok(())
}

/// Deletes a draft (an activated campaign is the record of what was sent).
pub async fn delete(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<(), AppError> {
    let done = sqlx::query("DELETE FROM sms_campaigns WHERE id = $1 AND tenant_id = $2 AND state = 'draft'")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(not_draft(db, scope, campaign_id).await);
    }
    Ok(())
}

/// Why a change meant for a draft did nothing: no such campaign, or it is no longer a draft.
async fn not_draft(db: &Db, scope: TenantScope, campaign_id: i64) -> AppError {
    match state_of(db, scope, campaign_id).await {
        Ok(_) => AppError::invalid(Field::CampaignState, Problem::NotAllowedNow),
        Err(error) => error,
    }
}

async fn state_of(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<SmsCampaignState, AppError> {
    let state: Option<String> = sqlx::query_scalar("SELECT state FROM sms_campaigns WHERE id = $1 AND tenant_id = $2")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?;
    state.and_then(|s| SmsCampaignState::from_code(&s)).ok_or(AppError::NotFound)
}

/// The template filled in for the first contacts of the base, as the form previews it.
pub async fn preview(db: &Db, scope: TenantScope, base_id: i64, template: &str, count: u32) -> Result<Vec<Sample>, AppError> {
    let custom: Option<String> = sqlx::query_scalar("SELECT custom_fields FROM contact_bases WHERE id = $1 AND tenant_id = $2 AND state = 'ready'")
        .bind(base_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?;
    let custom: Vec<String> = serde_json::from_str(&custom.ok_or(AppError::NotFound)?).unwrap_or_default();
    let pieces = parsed(template.trim(), &custom)?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE base_id = $1 ORDER BY id LIMIT $2")))
        .bind(base_id)
        .bind(i64::from(count.min(10)))
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            let contact = contact_from(row)?;
            Ok(Sample {
                number: contact.phone.clone(),
                name: format!("{} {}", contact.first_name, contact.last_name).trim().to_string(),
                text: template::render(&pieces, &contact),
            })
        })
        .collect()
}

/// One message about to be written at activation.
struct NewMessage {
    contact_id: i64,
    number: String,
    text: String,
    parts: i64,
    /// `None`: queued; else why it is skipped.
    skipped: Option<SkipReason>,
}

/// Activates a draft: one message per contact of its base, filled in from the template and
/// queued, except for numbers on the opt-out list, numbers that cannot receive SMS, and texts
/// that come out empty or too long (written as skipped, with the reason). All or nothing.
pub async fn activate(db: &Db, scope: TenantScope, campaign_id: i64, now: i64) -> Result<Activation, AppError> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT c.state, c.template, c.base_id, b.custom_fields FROM sms_campaigns c JOIN contact_bases b ON b.id = c.base_id
         WHERE c.id = $1 AND c.tenant_id = $2",
    )
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    if row.try_get::<String, _>(0)? != SmsCampaignState::Draft.code() {
        return Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow));
    }
    let custom: Vec<String> = serde_json::from_str(&row.try_get::<String, _>(3)?).unwrap_or_default();
    let pieces = parsed(&row.try_get::<String, _>(1)?, &custom)?;
    let base_id: i64 = row.try_get(2)?;
    let opted_out: HashSet<String> =
        sqlx::query_scalar("SELECT number FROM sms_opt_outs WHERE tenant_id = $1").bind(scope.tenant_id()).fetch_all(&mut *tx).await?.into_iter().collect();
    let mut activation = Activation::default();
    let mut after = 0_i64;
    loop {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!("SELECT {CONTACT_COLUMNS} FROM contacts WHERE base_id = $1 AND id > $2 ORDER BY id LIMIT $3")))
            .bind(base_id)
            .bind(after)
            .bind(CONTACTS_PER_READ)
            .fetch_all(&mut *tx)
            .await?;
        let Some(last) = rows.last() else { break };
        after = last.try_get(0)?;
        let mut messages = Vec::with_capacity(rows.len());
        for row in &rows {
            let contact = contact_from(row)?;
            let text = template::render(&pieces, &contact);
            let parts = text::plan(&text).1;
            let skipped = if opted_out.contains(&contact.phone) {
                Some(SkipReason::OptedOut)
            } else if !phone::can_receive_sms(&contact.phone) {
                Some(SkipReason::NotMobile)
            } else if text.trim().is_empty() {
                Some(SkipReason::Empty)
            } else if parts > MAX_PARTS {
                Some(SkipReason::TooLong)
            } else {
                None
            };
            match skipped {
                None => {
                    activation.queued += 1;
                    activation.parts += parts as u64;
                }
                Some(_) => activation.skipped += 1,
            }
            messages.push(NewMessage { contact_id: contact.id, number: contact.phone, text, parts: parts as i64, skipped });
        }
        for chunk in messages.chunks(MESSAGES_PER_STATEMENT) {
            insert_messages(&mut tx, db, scope, campaign_id, chunk, now).await?;
        }
    }
    // Every part of every queued message, numbered from 1, in one statement.
    sqlx::query(
        "WITH RECURSIVE sequence (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM sequence WHERE n < 255)
         INSERT INTO sms_parts (message_id, sequence)
         SELECT m.id, s.n FROM sms_messages m JOIN sequence s ON s.n <= m.parts WHERE m.campaign_id = $1 AND m.state = 'queued'",
    )
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?;
    let state = if activation.queued == 0 { SmsCampaignState::Finished } else { SmsCampaignState::Active };
    sqlx::query("UPDATE sms_campaigns SET state = $1, activated_at = $2, finished_at = $3 WHERE id = $4")
        .bind(state.code())
        .bind(now)
        .bind((state == SmsCampaignState::Finished).then_some(now))
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(activation)
}

async fn insert_messages(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    db: &Db,
    scope: TenantScope,
    campaign_id: i64,
    messages: &[NewMessage],
    now: i64,
) -> Result<(), AppError> {
    let sql = format!(
        "INSERT INTO sms_messages (tenant_id, campaign_id, contact_id, number, text, parts, concat_reference, state, reason, created_at, updated_at)
         VALUES {}",
        placeholders(db.backend(), messages.len(), 11)
    );
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for message in messages {
        let (state, reason) = match message.skipped {
            None => ("queued", ""),
            Some(reason) => ("skipped", reason.code()),
        };
        query = query
            .bind(scope.tenant_id())
            .bind(campaign_id)
            .bind(message.contact_id)
            .bind(message.number.as_str())
            .bind(message.text.as_str())
            .bind(message.parts)
            // The concatenation reference: a phone joins parts that share it and the sender.
            .bind(i64::from(rand::random::<u8>()))
            .bind(state)
            .bind(reason)
            .bind(now)
            .bind(now);
    }
    query.execute(&mut **tx).await?;
    Ok(())
}

/// Pauses an active campaign: no new message starts; a long message being sent stops after its
/// current part and waits, kept for its modem.
pub async fn pause(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<(), AppError> {
    move_state(db, scope, campaign_id, &[SmsCampaignState::Active], SmsCampaignState::Paused).await
}

/// Resumes a paused campaign, or one stopped for want of credit (after a top-up).
pub async fn resume(db: &Db, scope: TenantScope, campaign_id: i64, now: i64) -> Result<(), AppError> {
    move_state(db, scope, campaign_id, &[SmsCampaignState::Paused, SmsCampaignState::NoCredit], SmsCampaignState::Active).await?;
    // Its last messages may have settled while it was paused.
    sqlx::query(
        "UPDATE sms_campaigns SET state = 'finished', finished_at = $1 WHERE id = $2 AND state = 'active'
         AND NOT EXISTS (SELECT 1 FROM sms_messages WHERE campaign_id = $2 AND state IN ('queued', 'leased'))",
    )
    .bind(now)
    .bind(campaign_id)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Deactivates a campaign for good: what was not sent yet is withdrawn.
pub async fn deactivate(db: &Db, scope: TenantScope, campaign_id: i64, now: i64) -> Result<(), AppError> {
    move_state(db, scope, campaign_id, &[SmsCampaignState::Active, SmsCampaignState::Paused, SmsCampaignState::NoCredit], SmsCampaignState::Stopped)
        .await?;
    sqlx::query("UPDATE sms_campaigns SET finished_at = $1 WHERE id = $2").bind(now).bind(campaign_id).execute(db.pool()).await?;
    dispatch::withdraw(db, campaign_id, SkipReason::Deactivated.code(), now).await
}

async fn move_state(db: &Db, scope: TenantScope, campaign_id: i64, from: &[SmsCampaignState], to: SmsCampaignState) -> Result<(), AppError> {
    let current = state_of(db, scope, campaign_id).await?;
    if !from.contains(&current) {
        return Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow));
    }
    let done = sqlx::query("UPDATE sms_campaigns SET state = $1 WHERE id = $2 AND tenant_id = $3 AND state = $4")
        .bind(to.code())
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .bind(current.code())
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        // The dispatcher moved it meanwhile (out of credit, finished): say so rather than guess.
        return Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow));
    }
    Ok(())
}

/// One page of a campaign's messages in contact order.
pub async fn messages(db: &Db, scope: TenantScope, filter: &MessageFilter) -> Result<MessagePage, AppError> {
    let zone = campaign_zone(db, scope, filter.campaign_id).await?;
    let pattern = like_pattern(&filter.search);
    let state = filter.state.map_or("", MessageState::code);
    const WHERE: &str = "m.campaign_id = $1 AND ($2 = '' OR m.state = $2)
         AND ($3 = '%%' OR m.number LIKE $3 ESCAPE '\\' OR k.search LIKE $3 ESCAPE '\\')";
    let matching: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT COUNT(*) FROM sms_messages m LEFT JOIN contacts k ON k.id = m.contact_id WHERE {WHERE}"
    )))
    .bind(filter.campaign_id)
    .bind(state)
    .bind(&pattern)
    .fetch_one(db.pool())
    .await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "{MESSAGE_SELECT} WHERE {WHERE} ORDER BY m.id LIMIT $4 OFFSET $5"
    )))
    .bind(filter.campaign_id)
    .bind(state)
    .bind(&pattern)
    .bind(i64::from(PAGE_SIZE))
    .bind(i64::from(filter.page) * i64::from(PAGE_SIZE))
    .fetch_all(db.pool())
    .await?;
    let lines = rows.iter().map(|row| message_line(row, &zone)).collect::<Result<_, _>>()?;
    Ok(MessagePage { lines, matching: matching as u64, page: filter.page })
}

const MESSAGE_SELECT: &str = "SELECT m.id, m.number, COALESCE(k.first_name, ''), COALESCE(k.last_name, ''), m.text, m.parts, m.state, m.reason,
         COALESCE((SELECT MAX(p.imei) FROM sms_parts p WHERE p.message_id = m.id), ''), m.updated_at
     FROM sms_messages m LEFT JOIN contacts k ON k.id = m.contact_id";

fn message_line(row: &AnyRow, zone: &str) -> Result<MessageLine, sqlx::Error> {
    let first: String = row.try_get(2)?;
    let last: String = row.try_get(3)?;
    Ok(MessageLine {
        id: row.try_get(0)?,
        number: row.try_get(1)?,
        name: format!("{first} {last}").trim().to_string(),
        text: row.try_get(4)?,
        parts: row.try_get::<i64, _>(5)? as u32,
        state: MessageState::from_code(&row.try_get::<String, _>(6)?).unwrap_or(MessageState::Queued),
        reason: row.try_get(7)?,
        imei: row.try_get(8)?,
        updated_at: local_time(row.try_get(9)?, zone),
    })
}

/// The campaign's tenant's time zone, or "not found" outside the scope.
async fn campaign_zone(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<String, AppError> {
    let zone: Option<String> = sqlx::query_scalar("SELECT t.time_zone FROM sms_campaigns c JOIN tenants t ON t.id = c.tenant_id WHERE c.id = $1 AND c.tenant_id = $2")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?;
    zone.ok_or(AppError::NotFound)
}

/// Every message of a campaign, streamed a page at a time (for the CSV download).
pub async fn all_messages(
    db: &Db,
    scope: TenantScope,
    campaign_id: i64,
) -> Result<impl futures::Stream<Item = Result<MessageLine, AppError>> + Send + 'static, AppError> {
    use futures::StreamExt;
    let zone = campaign_zone(db, scope, campaign_id).await?;
    let pool = db.pool().clone();
    let pages = futures::stream::unfold(Some(0_i64), move |after| {
        let (pool, zone) = (pool.clone(), zone.clone());
        async move {
            let after = after?;
            let rows = sqlx::query(sqlx::AssertSqlSafe(format!("{MESSAGE_SELECT} WHERE m.campaign_id = $1 AND m.id > $2 ORDER BY m.id LIMIT 1000")))
                .bind(campaign_id)
                .bind(after)
                .fetch_all(&pool)
                .await;
            let lines: Result<Vec<MessageLine>, sqlx::Error> = rows.and_then(|rows| rows.iter().map(|row| message_line(row, &zone)).collect());
            match lines {
                Err(error) => Some((vec![Err(AppError::from(error))], None)),
                Ok(lines) if lines.is_empty() => None,
                Ok(lines) => {
                    let last = lines.last().map(|l| l.id);
                    Some((lines.into_iter().map(Ok).collect(), last))
                }
            }
        }
    });
    Ok(pages.flat_map(futures::stream::iter))
}

/// One page of the replies the tenant received, newest first; of one campaign if given.
pub async fn replies(db: &Db, scope: TenantScope, campaign_id: Option<i64>, page: u32) -> Result<ReplyPage, AppError> {
    const WHERE: &str = "i.tenant_id = $1 AND ($2 = 0 OR m.campaign_id = $2)";
    const FROM: &str = "sms_incoming i LEFT JOIN sms_messages m ON m.id = i.message_id LEFT JOIN sms_campaigns c ON c.id = m.campaign_id
         LEFT JOIN contacts k ON k.id = m.contact_id";
    let campaign = campaign_id.unwrap_or(0);
    let matching: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM {FROM} WHERE {WHERE}")))
        .bind(scope.tenant_id())
        .bind(campaign)
        .fetch_one(db.pool())
        .await?;
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_one(db.pool()).await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT i.id, i.received_at, i.sender, COALESCE(k.first_name, ''), COALESCE(k.last_name, ''), i.text, COALESCE(c.name, ''), i.opt_out
         FROM {FROM} WHERE {WHERE} ORDER BY i.received_at DESC, i.id DESC LIMIT $3 OFFSET $4"
    )))
    .bind(scope.tenant_id())
    .bind(campaign)
    .bind(i64::from(PAGE_SIZE))
    .bind(i64::from(page) * i64::from(PAGE_SIZE))
    .fetch_all(db.pool())
    .await?;
    let replies = rows
        .iter()
        .map(|row| {
            let first: String = row.try_get(3)?;
            let last: String = row.try_get(4)?;
            Ok(Reply {
                id: row.try_get(0)?,
                received_at: local_time(row.try_get(1)?, &zone),
                sender: row.try_get(2)?,
                name: format!("{first} {last}").trim().to_string(),
                text: row.try_get(5)?,
                campaign: row.try_get(6)?,
                opt_out: row.try_get::<i64, _>(7)? != 0,
            })
        })
        .collect::<Result<_, sqlx::Error>>()?;
    Ok(ReplyPage { replies, matching: matching as u64, page })
}

/// The tenant's opt-out list, newest first.
pub async fn opt_outs(db: &Db, scope: TenantScope) -> Result<Vec<OptOut>, AppError> {
    let zone: String = sqlx::query_scalar("SELECT time_zone FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_one(db.pool()).await?;
    let rows = sqlx::query("SELECT number, at, source FROM sms_opt_outs WHERE tenant_id = $1 ORDER BY at DESC, number")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| {
            Ok(OptOut { number: row.try_get(0)?, at: local_time(row.try_get(1)?, &zone), by_hand: row.try_get::<String, _>(2)? == "user" })
        })
        .collect()
}

/// Adds a number to the opt-out list by hand (a customer asked by phone or mail); national
/// numbers are read in the tenant's country. Returns it in E.164.
pub async fn add_opt_out(db: &Db, scope: TenantScope, typed: &str, now: i64) -> Result<String, AppError> {
    let country: String = sqlx::query_scalar("SELECT default_country FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_one(db.pool()).await?;
    let country = phone::country(&country).ok_or(AppError::invalid(Field::Country, Problem::Unknown))?;
    let number = phone::normalise(typed, country).map(phone::e164).map_err(|problem| match problem {
        phone::PhoneProblem::Missing => AppError::invalid(Field::Phone, Problem::Required),
        phone::PhoneProblem::Invalid => AppError::invalid(Field::Phone, Problem::BadFormat),
    })?;
    sqlx::query("INSERT INTO sms_opt_outs (tenant_id, number, at, source) VALUES ($1, $2, $3, 'user') ON CONFLICT (tenant_id, number) DO NOTHING")
        .bind(scope.tenant_id())
        .bind(&number)
        .bind(now)
        .execute(db.pool())
        .await?;
    Ok(number)
}

/// Takes a number off the opt-out list (the person asked to hear from the tenant again).
pub async fn remove_opt_out(db: &Db, scope: TenantScope, number: &str) -> Result<(), AppError> {
    let done = sqlx::query("DELETE FROM sms_opt_outs WHERE tenant_id = $1 AND number = $2").bind(scope.tenant_id()).bind(number).execute(db.pool()).await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}
