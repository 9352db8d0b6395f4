//! The dispatcher: messages leased whole to modems, part reports, expired leases, status reports
//! and replies. It holds the promise that a message is never lost and never sent twice:
//!
//! - A message goes to one modem at a time under a lease (`lease_id` names it). Only a report
//!   naming the current lease and its modem changes the message; a late report of an expired
//!   lease can only tell the truth about a part left "unknown".
//! - A gateway sends a lease's parts one after the other and reports each before starting the
//!   next, and stops when its lease would expire before a part could finish. So when a lease
//!   expires (its gateway died or lost the server), at most one part can be on the air: the first
//!   one not reported. It becomes "unknown" and is never resent; the parts after it go back to the
//!   queue, kept for the same modem (a phone reassembles a long message from one sender only)
//!   until that modem has been silent for a while.
//! - Transient failures retry with growing delays; a modem failing repeatedly is set aside.
//! - Credit: a message's parts are debited together at its first lease, and the parts that never
//!   went out are refunded when the message definitively fails. A campaign whose tenant lacks
//!   the credit for its next message stops in the `no_credit` state, its messages still queued.
//!
//! Each step is one transaction whose changes are conditional on the state read, so concurrent
//! gateways (PostgreSQL) or a gateway racing the expiry sweep cannot both win.

use sqlx::Row;

use super::credit;
use super::{Lease, PartOutcome, PartReport, Refusal, ReportReply};
use crate::db::Db;
use crate::error::AppError;

/// Transient failures after which a message is given up.
pub const MAX_ATTEMPTS: i64 = 5;
/// Consecutive failures after which a modem is set aside.
pub const FAILURES_BEFORE_SET_ASIDE: i64 = 3;
/// How many queued messages a lease request looks at before giving up.
const CANDIDATES: i64 = 16;

/// The dispatcher's timing.
#[derive(Clone, Copy, Debug)]
pub struct Rules {
    /// How long a lease holds without news. Longer than a send may take (the AT engine's 60 s),
    /// since the gateway never starts a part its lease might not outlive.
    pub lease_ms: i64,
    /// A modem silent this long releases the messages kept for it to any modem.
    pub affinity_release_ms: i64,
    /// Delays before a message is tried again after its 1st, 2nd, 3rd and later transient failure.
    pub retry_delays_ms: [i64; 4],
    /// How long a modem failing repeatedly is left out.
    pub set_aside_ms: i64,
}

impl Default for Rules {
    fn default() -> Self {
        Rules { lease_ms: 120_000, affinity_release_ms: 600_000, retry_delays_ms: [30_000, 120_000, 600_000, 1_800_000], set_aside_ms: 300_000 }
    }
}

impl Rules {
    fn retry_delay_ms(&self, attempts: i64) -> i64 {
        self.retry_delays_ms[(attempts.max(1) as usize - 1).min(self.retry_delays_ms.len() - 1)]
    }
}

/// Hands the next message to `modem_id`, or `None` when there is nothing it may send (its
/// group stopped, the modem set aside, no queued message of an active campaign with credit).
pub async fn lease(db: &Db, modem_id: i64, rules: &Rules, now: i64) -> Result<Option<Lease>, AppError> {
    let usable: Option<i64> = sqlx::query_scalar(
        "SELECT m.id FROM modems m JOIN modem_groups g ON g.id = m.group_id
         WHERE m.id = $1 AND g.started = 1 AND m.set_aside_until <= $2",
    )
    .bind(modem_id)
    .bind(now)
    .fetch_optional(db.pool())
    .await?;
    if usable.is_none() {
        return Ok(None);
    }
    // Messages kept for this modem first, then any other.
    let silent_since = now - rules.affinity_release_ms;
    let own = candidates(db, Some(modem_id), now, silent_since).await?;
    let other = candidates(db, None, now, silent_since).await?.into_iter().filter(|c| c.kept_for != Some(modem_id));
    let mut out_of_credit = Vec::new();
    for candidate in own.into_iter().chain(other) {
        if out_of_credit.contains(&candidate.campaign_id) {
            continue;
        }
        match take(db, &candidate, modem_id, rules, now).await? {
            Taken::Leased(lease) => return Ok(Some(lease)),
            Taken::NoCredit => out_of_credit.push(candidate.campaign_id),
            Taken::Raced => {}
        }
    }
    Ok(None)
}

struct Candidate {
    id: i64,
    tenant_id: i64,
    campaign_id: i64,
    parts: i64,
    charged: i64,
    kept_for: Option<i64>,
    status_reports: bool,
}

/// Queued messages due now of active campaigns, oldest first: those kept for `own` modem, or
/// (with `None`) those kept for nobody or for a modem not seen since `silent_since`.
async fn candidates(db: &Db, own: Option<i64>, now: i64, silent_since: i64) -> Result<Vec<Candidate>, AppError> {
    const COLUMNS: &str = "SELECT m.id, m.tenant_id, m.campaign_id, m.parts, m.charged, m.modem_id, c.status_reports FROM sms_messages m
         JOIN sms_campaigns c ON c.id = m.campaign_id WHERE m.state = 'queued' AND c.state = 'active'";
    let rows = match own {
        Some(modem_id) => {
            sqlx::query(sqlx::AssertSqlSafe(format!("{COLUMNS} AND m.not_before <= $1 AND m.modem_id = $2 ORDER BY m.id LIMIT $3")))
                .bind(now)
                .bind(modem_id)
                .bind(CANDIDATES)
                .fetch_all(db.pool())
                .await?
        }
        None => {
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "{COLUMNS} AND m.not_before <= $1
                 AND (m.modem_id IS NULL OR m.modem_id IN (SELECT id FROM modems WHERE seen_at < $2)) ORDER BY m.id LIMIT $3"
            )))
            .bind(now)
            .bind(silent_since)
            .bind(CANDIDATES)
            .fetch_all(db.pool())
            .await?
        }
    };
    rows.into_iter()
        .map(|row| {
            Ok(Candidate {
                id: row.try_get(0)?,
                tenant_id: row.try_get(1)?,
                campaign_id: row.try_get(2)?,
                parts: row.try_get(3)?,
                charged: row.try_get(4)?,
                kept_for: row.try_get(5)?,
                status_reports: row.try_get::<i64, _>(6)? != 0,
            })
        })
        .collect()
}

enum Taken {
    Leased(Lease),
    NoCredit,
    /// Another modem took it first.
    Raced,
}

async fn take(db: &Db, candidate: &Candidate, modem_id: i64, rules: &Rules, now: i64) -> Result<Taken, AppError> {
    let mut tx = db.begin_write().await?;
    let mut charged = candidate.charged;
    if charged == 0 {
        match credit::debit(&mut tx, candidate.tenant_id, candidate.id, candidate.parts, now).await? {
            Some(amount) => charged = amount,
            None => {
                tx.rollback().await?;
                stop_for_credit(db, candidate.campaign_id, now).await?;
                return Ok(Taken::NoCredit);
            }
        }
    }
    let row = sqlx::query(
        "UPDATE sms_messages SET state = 'leased', lease_id = lease_id + 1, lease_modem_id = $1, lease_expires_at = $2,
             charged = $3, updated_at = $4
         WHERE id = $5 AND state = 'queued'
         RETURNING lease_id, number, text, concat_reference",
    )
    .bind(modem_id)
    .bind(now + rules.lease_ms)
    .bind(charged)
    .bind(now)
    .bind(candidate.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(Taken::Raced);
    };
    let parts: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM sms_parts WHERE message_id = $1 AND state = 'queued' ORDER BY sequence")
        .bind(candidate.id)
        .fetch_all(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(Taken::Leased(Lease {
        message_id: candidate.id,
        lease_id: row.try_get(0)?,
        number: row.try_get(1)?,
        text: row.try_get(2)?,
        concat_reference: row.try_get::<i64, _>(3)? as u8,
        status_report: candidate.status_reports,
        parts: parts.into_iter().map(|p| p as u8).collect(),
        valid_for_ms: rules.lease_ms,
    }))
}

async fn stop_for_credit(db: &Db, campaign_id: i64, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE sms_campaigns SET state = 'no_credit', finished_at = $1 WHERE id = $2 AND state = 'active'")
        .bind(now)
        .bind(campaign_id)
        .execute(db.pool())
        .await?;
    tracing::info!(campaign_id, "SMS campaign stopped: no credit left");
    Ok(())
}

struct Leased {
    state: String,
    lease_id: i64,
    lease_modem_id: Option<i64>,
    tenant_id: i64,
    campaign_id: i64,
    parts: i64,
    charged: i64,
    attempts: i64,
}

/// Records what `modem_id` did with one part of its lease, and says whether to go on.
pub async fn report(db: &Db, modem_id: i64, report: &PartReport, rules: &Rules, now: i64) -> Result<ReportReply, AppError> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT state, lease_id, lease_modem_id, tenant_id, campaign_id, parts, charged, attempts FROM sms_messages WHERE id = $1",
    )
    .bind(report.message_id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else { return Ok(ReportReply::Stop) };
    let message = Leased {
        state: row.try_get(0)?,
        lease_id: row.try_get(1)?,
        lease_modem_id: row.try_get(2)?,
        tenant_id: row.try_get(3)?,
        campaign_id: row.try_get(4)?,
        parts: row.try_get(5)?,
        charged: row.try_get(6)?,
        attempts: row.try_get(7)?,
    };
    let sequence = i64::from(report.sequence);
    let current = message.state == "leased" && message.lease_id == report.lease_id && message.lease_modem_id == Some(modem_id);
    if !current {
        // A lease given up on: only the truth about a part left unknown is still news.
        if let PartOutcome::Sent { reference } = &report.outcome {
            let done = sqlx::query(
                "UPDATE sms_parts SET state = 'sent', reference = $1, modem_id = $2, detail = '', sent_at = $3,
                     imei = COALESCE((SELECT imei FROM modems WHERE id = $2), '')
                 WHERE message_id = $4 AND sequence = $5 AND state = 'unknown'",
            )
            .bind(reference.map(i64::from))
            .bind(modem_id)
            .bind(now)
            .bind(report.message_id)
            .bind(sequence)
            .execute(&mut *tx)
            .await?;
            if done.rows_affected() > 0 {
                settle(&mut tx, report.message_id, message.campaign_id, now).await?;
            }
        }
        tx.commit().await?;
        return Ok(ReportReply::Stop);
    }
    let reply = match &report.outcome {
        PartOutcome::Sent { reference } => {
            mark_part(&mut tx, report.message_id, sequence, "sent", "", modem_id, reference.map(i64::from), now).await?;
            modem_succeeded(&mut tx, modem_id).await?;
            go_on(&mut tx, &message, report.message_id, modem_id, rules, now).await?
        }
        PartOutcome::Uncertain { reason } => {
            mark_part(&mut tx, report.message_id, sequence, "unknown", reason, modem_id, None, now).await?;
            go_on(&mut tx, &message, report.message_id, modem_id, rules, now).await?
        }
        PartOutcome::Refused { result, refusal: Refusal::Definitive } => {
            sqlx::query("UPDATE sms_parts SET state = 'failed', detail = $1, modem_id = $2, reported_at = $3 WHERE message_id = $4 AND sequence = $5")
                .bind(result)
                .bind(modem_id)
                .bind(now)
                .bind(report.message_id)
                .bind(sequence)
                .execute(&mut *tx)
                .await?;
            give_up(&mut tx, &message, report.message_id, result, now).await?;
            ReportReply::Stop
        }
        PartOutcome::Refused { result, refusal: Refusal::Modem } => {
            set_aside(&mut tx, modem_id, result, rules, now).await?;
            requeue(&mut tx, report.message_id, now).await?;
            ReportReply::Stop
        }
        PartOutcome::Refused { result: reason, refusal: Refusal::Transient } | PartOutcome::NotSent { reason } => {
            modem_failed(&mut tx, modem_id, reason, rules, now).await?;
            let attempts = message.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                give_up(&mut tx, &message, report.message_id, &format!("{attempts} attempts: {reason}"), now).await?;
            } else {
                let delay = rules.retry_delay_ms(attempts);
                sqlx::query("UPDATE sms_messages SET attempts = $1, reason = $2 WHERE id = $3")
                    .bind(attempts)
                    .bind(reason)
                    .bind(report.message_id)
                    .execute(&mut *tx)
                    .await?;
                requeue(&mut tx, report.message_id, now + delay).await?;
            }
            ReportReply::Stop
        }
    };
    tx.commit().await?;
    Ok(reply)
}

#[allow(clippy::too_many_arguments)]
async fn mark_part(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    message_id: i64,
    sequence: i64,
    state: &str,
    detail: &str,
    modem_id: i64,
    reference: Option<i64>,
    now: i64,
) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE sms_parts SET state = $1, detail = $2, modem_id = $3, reference = $4, sent_at = $5,
             imei = COALESCE((SELECT imei FROM modems WHERE id = $3), '')
         WHERE message_id = $6 AND sequence = $7 AND state = 'queued'",
    )
    .bind(state)
    .bind(detail)
    .bind(modem_id)
    .bind(reference)
    .bind(now)
    .bind(message_id)
    .bind(sequence)
    .execute(&mut **tx)
    .await?;
    // Its remaining parts must leave from the same number.
    sqlx::query("UPDATE sms_messages SET modem_id = $1, updated_at = $2 WHERE id = $3").bind(modem_id).bind(now).bind(message_id).execute(&mut **tx).await?;
    Ok(())
}

/// After a part went out (or may have): renew the lease if parts remain, else settle.
async fn go_on(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    message: &Leased,
    message_id: i64,
    modem_id: i64,
    rules: &Rules,
    now: i64,
) -> Result<ReportReply, AppError> {
    let remaining: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_parts WHERE message_id = $1 AND state = 'queued'")
        .bind(message_id)
        .fetch_one(&mut **tx)
        .await?;
    if remaining == 0 {
        settle(tx, message_id, message.campaign_id, now).await?;
        return Ok(ReportReply::Stop);
    }
    let active: Option<String> = sqlx::query_scalar("SELECT state FROM sms_campaigns WHERE id = $1").bind(message.campaign_id).fetch_optional(&mut **tx).await?;
    if active.as_deref() == Some("paused") {
        // Paused mid-message: the rest waits, kept for this modem. (A campaign out of credit
        // finishes the messages already paid for.)
        requeue(tx, message_id, now).await?;
        return Ok(ReportReply::Stop);
    }
    sqlx::query("UPDATE sms_messages SET lease_expires_at = $1 WHERE id = $2 AND lease_modem_id = $3")
        .bind(now + rules.lease_ms)
        .bind(message_id)
        .bind(modem_id)
        .execute(&mut **tx)
        .await?;
    Ok(ReportReply::Continue { valid_for_ms: rules.lease_ms })
}

/// Back to the queue (not before `not_before`), lease ended.
async fn requeue(tx: &mut sqlx::Transaction<'static, sqlx::Any>, message_id: i64, not_before: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE sms_messages SET state = 'queued', lease_modem_id = NULL, lease_expires_at = 0, not_before = $1 WHERE id = $2")
        .bind(not_before)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// The message definitively failed: its parts not yet out are cancelled and refunded.
async fn give_up(tx: &mut sqlx::Transaction<'static, sqlx::Any>, message: &Leased, message_id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    let never_out: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sms_parts WHERE message_id = $1 AND (state = 'queued' OR (state = 'failed' AND sent_at IS NULL))")
            .bind(message_id)
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("UPDATE sms_parts SET state = 'cancelled', detail = $1 WHERE message_id = $2 AND state = 'queued'")
        .bind(reason)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    let refund = if message.parts > 0 { message.charged / message.parts * never_out } else { 0 };
    credit::refund(tx, message.tenant_id, message_id, never_out, refund, now).await?;
    sqlx::query("UPDATE sms_messages SET reason = $1, charged = charged - $2 WHERE id = $3")
        .bind(reason)
        .bind(refund)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    settle(tx, message_id, message.campaign_id, now).await
}

/// Sets a message's state from its parts' once none is queued, and finishes its campaign when
/// it was the last one waiting.
async fn settle(tx: &mut sqlx::Transaction<'static, sqlx::Any>, message_id: i64, campaign_id: i64, now: i64) -> Result<(), AppError> {
    let states: Vec<String> = sqlx::query_scalar("SELECT state FROM sms_parts WHERE message_id = $1").bind(message_id).fetch_all(&mut **tx).await?;
    let has = |wanted: &str| states.iter().any(|s| s == wanted);
    let state = if has("queued") {
        return Ok(());
    } else if has("failed") || has("cancelled") {
        "failed"
    } else if has("unknown") {
        "unknown"
    } else if states.iter().all(|s| s == "delivered") {
        "delivered"
    } else {
        "sent"
    };
    sqlx::query("UPDATE sms_messages SET state = $1, lease_modem_id = NULL, lease_expires_at = 0, updated_at = $2 WHERE id = $3")
        .bind(state)
        .bind(now)
        .bind(message_id)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "UPDATE sms_campaigns SET state = 'finished', finished_at = $1 WHERE id = $2 AND state = 'active'
         AND NOT EXISTS (SELECT 1 FROM sms_messages WHERE campaign_id = $2 AND state IN ('queued', 'leased'))",
    )
    .bind(now)
    .bind(campaign_id)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

async fn modem_succeeded(tx: &mut sqlx::Transaction<'static, sqlx::Any>, modem_id: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE modems SET failures = 0 WHERE id = $1 AND failures <> 0").bind(modem_id).execute(&mut **tx).await?;
    Ok(())
}

/// One more failure in a row; the modem is set aside after `FAILURES_BEFORE_SET_ASIDE`.
async fn modem_failed(tx: &mut sqlx::Transaction<'static, sqlx::Any>, modem_id: i64, reason: &str, rules: &Rules, now: i64) -> Result<(), AppError> {
    let failures: i64 = sqlx::query_scalar("UPDATE modems SET failures = failures + 1, error = $1 WHERE id = $2 RETURNING failures")
        .bind(reason)
        .bind(modem_id)
        .fetch_one(&mut **tx)
        .await?;
    if failures >= FAILURES_BEFORE_SET_ASIDE {
        set_aside(tx, modem_id, reason, rules, now).await?;
    }
    Ok(())
}

async fn set_aside(tx: &mut sqlx::Transaction<'static, sqlx::Any>, modem_id: i64, reason: &str, rules: &Rules, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE modems SET set_aside_until = $1, failures = 0, error = $2 WHERE id = $3")
        .bind(now + rules.set_aside_ms)
        .bind(reason)
        .bind(modem_id)
        .execute(&mut **tx)
        .await?;
    tracing::warn!(modem_id, reason, "modem set aside");
    Ok(())
}

/// Ends the leases nobody renewed: the first part not reported may be on the air and becomes
/// "unknown"; the rest go back to the queue, kept for that modem. Returns how many ended.
pub async fn expire_leases(db: &Db, now: i64) -> Result<usize, AppError> {
    let expired: Vec<i64> = sqlx::query_scalar("SELECT id FROM sms_messages WHERE state = 'leased' AND lease_expires_at < $1")
        .bind(now)
        .fetch_all(db.pool())
        .await?;
    let mut ended = 0;
    for message_id in expired {
            let mut tx = db.begin_write().await?;
        let row = sqlx::query(
            "UPDATE sms_messages SET state = 'queued', not_before = $1, modem_id = COALESCE(modem_id, lease_modem_id),
                 lease_modem_id = NULL, lease_expires_at = 0
             WHERE id = $2 AND state = 'leased' AND lease_expires_at < $1
             RETURNING modem_id, campaign_id",
        )
        .bind(now)
        .bind(message_id)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(row) = row else {
            tx.rollback().await?;
            continue;
        };
        let modem_id: Option<i64> = row.try_get(0)?;
        let campaign_id: i64 = row.try_get(1)?;
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(sequence) FROM sms_parts WHERE message_id = $1 AND state = 'queued'")
            .bind(message_id)
            .fetch_one(&mut *tx)
            .await?;
        if let Some(sequence) = first {
            sqlx::query(
                "UPDATE sms_parts SET state = 'unknown', detail = 'the gateway went silent while it may have been sending this part',
                     modem_id = $1, sent_at = $2, imei = COALESCE((SELECT imei FROM modems WHERE id = $1), '')
                 WHERE message_id = $3 AND sequence = $4",
            )
            .bind(modem_id)
            .bind(now)
            .bind(message_id)
            .bind(sequence)
            .execute(&mut *tx)
            .await?;
        }
        settle(&mut tx, message_id, campaign_id, now).await?;
        tx.commit().await?;
        ended += 1;
    }
    Ok(ended)
}

/// Withdraws the queued messages of a deactivated campaign. Those never debited are skipped
/// with `reason`; those already debited (waiting for a retry, or a long message paused midway)
/// give up, refunding the parts that never went out, and count as skipped if none did. Messages
/// a modem is sending are left to finish.
pub async fn withdraw(db: &Db, campaign_id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "UPDATE sms_parts SET state = 'cancelled', detail = $1
         WHERE state = 'queued' AND message_id IN (SELECT id FROM sms_messages WHERE campaign_id = $2 AND state = 'queued' AND charged = 0)",
    )
    .bind(reason)
    .bind(campaign_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE sms_messages SET state = 'skipped', reason = $1, updated_at = $2 WHERE campaign_id = $3 AND state = 'queued' AND charged = 0")
        .bind(reason)
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *tx)
        .await?;
    let debited = sqlx::query("SELECT id, tenant_id, parts, charged FROM sms_messages WHERE campaign_id = $1 AND state = 'queued'")
        .bind(campaign_id)
        .fetch_all(&mut *tx)
        .await?;
    for row in debited {
        let message_id: i64 = row.try_get(0)?;
        let message = Leased {
            state: "queued".into(),
            lease_id: 0,
            lease_modem_id: None,
            tenant_id: row.try_get(1)?,
            campaign_id,
            parts: row.try_get(2)?,
            charged: row.try_get(3)?,
            attempts: 0,
        };
        give_up(&mut tx, &message, message_id, reason, now).await?;
        sqlx::query(
            "UPDATE sms_messages SET state = 'skipped' WHERE id = $1
             AND NOT EXISTS (SELECT 1 FROM sms_parts WHERE message_id = $1 AND sent_at IS NOT NULL)",
        )
        .bind(message_id)
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Withdraws what went back to the queue of deactivated campaigns after their deactivation (a
/// message whose modem failed, or whose lease ran out, meanwhile). Returns how many campaigns.
pub async fn withdraw_stopped(db: &Db, now: i64) -> Result<usize, AppError> {
    let stopped: Vec<(i64,)> = sqlx::query_as(
        "SELECT c.id FROM sms_campaigns c WHERE c.state = 'stopped'
         AND EXISTS (SELECT 1 FROM sms_messages m WHERE m.campaign_id = c.id AND m.state = 'queued')",
    )
    .fetch_all(db.pool())
    .await?;
    for (campaign_id,) in &stopped {
        withdraw(db, *campaign_id, super::campaigns::SkipReason::Deactivated.code(), now).await?;
    }
    Ok(stopped.len())
}

/// A status report from `modem_id`: the part it sent with `reference` to `recipient` was
/// delivered, or will never be. References wrap at 256, so the latest such part is meant.
pub async fn delivery(db: &Db, modem_id: i64, reference: u8, recipient: &str, delivered: bool, code: u8, now: i64) -> Result<bool, AppError> {
    let mut tx = db.begin_write().await?;
    let row = sqlx::query(
        "SELECT p.id, p.message_id, m.campaign_id, m.number FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id
         WHERE p.modem_id = $1 AND p.reference = $2 AND p.state = 'sent'
         ORDER BY p.sent_at DESC, p.id DESC LIMIT 1",
    )
    .bind(modem_id)
    .bind(i64::from(reference))
    .fetch_optional(&mut *tx)
    .await?;
    let Some(row) = row else {
        tx.rollback().await?;
        return Ok(false);
    };
    let number: String = row.try_get(3)?;
    if !same_number(&number, recipient) {
        tx.rollback().await?;
        tracing::warn!(modem_id, reference, recipient, "status report for a number the part was not sent to");
        return Ok(false);
    }
    let part_id: i64 = row.try_get(0)?;
    let (state, detail) = if delivered { ("delivered", String::new()) } else { ("failed", format!("not delivered (status {code:#04x})")) };
    sqlx::query("UPDATE sms_parts SET state = $1, detail = $2, reported_at = $3 WHERE id = $4")
        .bind(state)
        .bind(&detail)
        .bind(now)
        .bind(part_id)
        .execute(&mut *tx)
        .await?;
    let message_id: i64 = row.try_get(1)?;
    if !delivered {
        sqlx::query("UPDATE sms_messages SET reason = $1 WHERE id = $2").bind(&detail).bind(message_id).execute(&mut *tx).await?;
    }
    settle(&mut tx, message_id, row.try_get(2)?, now).await?;
    tx.commit().await?;
    Ok(true)
}

/// Numbers compared on their last nine digits: a report may give the national form.
fn same_number(a: &str, b: &str) -> bool {
    let tail = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().take(9).collect::<String>();
    tail(a) == tail(b)
}

/// A message a modem received: attributed to the tenant and message it answers (the latest sent
/// from that modem to that number); `STOP` puts the number on that tenant's opt-out list.
pub async fn incoming(db: &Db, modem_id: i64, sender: &str, text: &str, sent_at: i64, now: i64) -> Result<i64, AppError> {
    let mut tx = db.begin_write().await?;
    let answered = sqlx::query(
        // CROSS JOIN: SQLite then starts from the number (a few messages), not from every part
        // the modem ever sent.
        "SELECT m.id, m.tenant_id FROM sms_messages m CROSS JOIN sms_parts p
         WHERE p.message_id = m.id AND m.number = $2 AND p.modem_id = $1 AND p.sent_at IS NOT NULL ORDER BY p.sent_at DESC LIMIT 1",
    )
    .bind(modem_id)
    .bind(sender)
    .fetch_optional(&mut *tx)
    .await?;
    let (message_id, tenant_id): (Option<i64>, Option<i64>) = match answered {
        Some(row) => (Some(row.try_get(0)?), Some(row.try_get(1)?)),
        None => (None, None),
    };
    let opt_out = is_stop(text) && tenant_id.is_some();
    if let (true, Some(tenant_id)) = (opt_out, tenant_id) {
        sqlx::query("INSERT INTO sms_opt_outs (tenant_id, number, at) VALUES ($1, $2, $3) ON CONFLICT (tenant_id, number) DO NOTHING")
            .bind(tenant_id)
            .bind(sender)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sms_incoming (tenant_id, message_id, modem_id, sender, text, sent_at, received_at, opt_out)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
    )
    .bind(tenant_id)
    .bind(message_id)
    .bind(modem_id)
    .bind(sender)
    .bind(text)
    .bind(sent_at)
    .bind(now)
    .bind(i64::from(opt_out))
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// `STOP`, `Stop.`, `stop sms`, `STOP SVP`: a reply whose first word is STOP.
pub fn is_stop(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).is_some_and(|w| w.eq_ignore_ascii_case("stop"))
}

/// Queues one message of a campaign: its parts are numbered from the text's plan.
pub async fn enqueue(
    tx: &mut sqlx::Transaction<'static, sqlx::Any>,
    tenant_id: i64,
    campaign_id: i64,
    contact_id: Option<i64>,
    number: &str,
    text: &str,
    parts: u32,
    now: i64,
) -> Result<i64, AppError> {
    let concat_reference = rand::random::<u8>();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO sms_messages (tenant_id, campaign_id, contact_id, number, text, parts, concat_reference, state, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8) RETURNING id",
    )
    .bind(tenant_id)
    .bind(campaign_id)
    .bind(contact_id)
    .bind(number)
    .bind(text)
    .bind(i64::from(parts))
    .bind(i64::from(concat_reference))
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    for sequence in 1..=i64::from(parts) {
        sqlx::query("INSERT INTO sms_parts (message_id, sequence) VALUES ($1, $2)").bind(id).bind(sequence).execute(&mut **tx).await?;
    }
    Ok(id)
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
