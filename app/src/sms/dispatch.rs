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
//! Each step is one write transaction (`Db::write`: group commit on SQLite) whose changes are
//! conditional on the state read, so concurrent gateways (PostgreSQL) or a gateway racing the
//! expiry sweep cannot both win. Every part costs a handful of statements: a lease claims the
//! first message due in the statement that finds it (and debits it, at its first lease), a
//! report reads the message with what it needs to decide, then writes the part and the message.

use futures::FutureExt;
use sqlx::{AnyConnection, Row};

use super::credit;
use super::{Inbound, Lease, PartOutcome, PartReport, Refusal, ReportReply};
use crate::db::Db;
use crate::error::AppError;

/// Transient failures after which a message is given up.
pub const MAX_ATTEMPTS: i64 = 5;
/// Consecutive failures after which a modem is set aside.
pub const FAILURES_BEFORE_SET_ASIDE: i64 = 3;
/// How many queued messages a lease reads at a time when the first one due could not be
/// claimed: another modem took it first (PostgreSQL), or its campaign lacks credit.
const CANDIDATES: i64 = 4;

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
    let rules = *rules;
    db.write(Box::new(move |c| lease_in(c, modem_id, rules, now).boxed())).await
}

async fn lease_in(c: &mut AnyConnection, modem_id: i64, rules: Rules, now: i64) -> Result<Option<Lease>, AppError> {
    let silent_since = now - rules.affinity_release_ms;
    // Nearly always the first candidate is free (one writer on SQLite): claimed in the
    // statement that finds it.
    let mut out_of_credit = Vec::new();
    if let Some(claimed) = claim(c, Claim::First { silent_since }, modem_id, &rules, now).await? {
        match pay(c, claimed, &rules, now).await? {
            Taken::Leased(lease) => return Ok(Some(lease)),
            Taken::NoCredit(campaign_id) => out_of_credit.push(campaign_id),
        }
    }
    // Nothing due, another modem claimed it first (PostgreSQL), or its campaign lacks credit:
    // the candidates are walked a page at a time.
    let mut after = 0;
    loop {
        let page = candidates(c, modem_id, after, now, silent_since).await?;
        let mut others = 0;
        for candidate in page {
            if candidate.kept_for != Some(modem_id) {
                others += 1;
                after = after.max(candidate.id);
            }
            if out_of_credit.contains(&candidate.campaign_id) {
                continue;
            }
            let Some(claimed) = claim(c, Claim::Message(candidate.id), modem_id, &rules, now).await? else { continue };
            match pay(c, claimed, &rules, now).await? {
                Taken::Leased(lease) => return Ok(Some(lease)),
                Taken::NoCredit(campaign_id) => out_of_credit.push(campaign_id),
            }
        }
        if others < CANDIDATES {
            return Ok(None);
        }
    }
}

/// What a modem may take: queued messages due now of active campaigns, while its group is
/// started and the modem not set aside. The kept half are those kept for it (it sent their first
/// parts, the rest must leave from its number); the other half those kept for nobody, or for a
/// modem not seen since `$3`. Binds `$1` now, `$2` the modem.
macro_rules! due {
    () => {
        "SELECT m.id, m.campaign_id, m.modem_id FROM sms_messages m
         JOIN sms_campaigns c ON c.id = m.campaign_id
         WHERE m.state = 'queued' AND c.state = 'active' AND m.not_before <= $1
         AND EXISTS (SELECT 1 FROM modems d JOIN modem_groups g ON g.id = d.group_id WHERE d.id = $2 AND g.started = 1 AND d.set_aside_until <= $1)"
    };
}
macro_rules! kept {
    () => {
        " AND m.modem_id = $2"
    };
}
macro_rules! others {
    () => {
        " AND (m.modem_id IS NULL OR m.modem_id IN (SELECT id FROM modems WHERE seen_at < $3))"
    };
}

struct Candidate {
    id: i64,
    campaign_id: i64,
    kept_for: Option<i64>,
}

/// The messages `modem_id` may take, oldest first: those kept for it before any other, then
/// the others after `after`. One statement, each half walking its own index
/// (`sms_messages_kept`, `sms_messages_queue`).
async fn candidates(c: &mut AnyConnection, modem_id: i64, after: i64, now: i64, silent_since: i64) -> Result<Vec<Candidate>, AppError> {
    let rows = sqlx::query(concat!(
        "SELECT * FROM (",
        due!(),
        kept!(),
        " ORDER BY m.id LIMIT $4) kept UNION ALL SELECT * FROM (",
        due!(),
        others!(),
        " AND m.id > $5 ORDER BY m.id LIMIT $4) others"
    ))
    .bind(now)
    .bind(modem_id)
    .bind(silent_since)
    .bind(CANDIDATES)
    .bind(after)
    .fetch_all(&mut *c)
    .await?;
    let mut found = rows
        .into_iter()
        .map(|row| Ok(Candidate { id: row.try_get(0)?, campaign_id: row.try_get(1)?, kept_for: row.try_get(2)? }))
        .collect::<Result<Vec<_>, sqlx::Error>>()?;
    // UNION ALL promises no order between its halves.
    found.sort_by_key(|candidate| candidate.kept_for != Some(modem_id));
    Ok(found)
}

/// Which message a claim is for.
enum Claim {
    /// The first the modem may take, kept ones first (`COALESCE` stops at the first half that
    /// finds one).
    First { silent_since: i64 },
    /// A candidate read before.
    Message(i64),
}

/// A message just leased to a modem, with what paying for it and sending it need.
struct Claimed {
    id: i64,
    tenant_id: i64,
    campaign_id: i64,
    parts: i64,
    kept_for: Option<i64>,
    lease_id: i64,
    number: String,
    text: String,
    concat_reference: u8,
    charged: i64,
    /// Its parts are debited at this lease: it is their first paid one.
    to_debit: bool,
    status_reports: bool,
}

/// Leases a queued message to `modem_id`, setting its charge at the tenant's price at its first
/// paid lease. `None` when no message was due, or another modem claimed it first.
async fn claim(c: &mut AnyConnection, which: Claim, modem_id: i64, rules: &Rules, now: i64) -> Result<Option<Claimed>, AppError> {
    macro_rules! claim {
        ($which:expr) => {
            concat!(
                "UPDATE sms_messages SET state = 'leased', lease_id = lease_id + 1, lease_modem_id = $2, lease_expires_at = $4, updated_at = $1,
                     charged = CASE WHEN charged = 0 THEN parts * COALESCE((SELECT part_price FROM sms_credit WHERE tenant_id = sms_messages.tenant_id), 0) ELSE charged END,
                     charged_lease = CASE WHEN charged = 0 THEN lease_id + 1 ELSE charged_lease END
                 WHERE state = 'queued' AND id = ",
                $which,
                " RETURNING id, tenant_id, campaign_id, parts, modem_id, lease_id, number, text, concat_reference, charged, charged_lease,
                     (SELECT status_reports FROM sms_campaigns WHERE id = sms_messages.campaign_id)"
            )
        };
    }
    let query = match which {
        Claim::First { silent_since } => sqlx::query(claim!(concat!(
            "COALESCE((SELECT id FROM (",
            due!(),
            kept!(),
            " ORDER BY m.id LIMIT 1) kept), (SELECT id FROM (",
            due!(),
            others!(),
            " ORDER BY m.id LIMIT 1) others))"
        )))
        .bind(now)
        .bind(modem_id)
        .bind(silent_since),
        Claim::Message(id) => sqlx::query(claim!("$3")).bind(now).bind(modem_id).bind(id),
    };
    let Some(row) = query.bind(now + rules.lease_ms).fetch_optional(&mut *c).await? else { return Ok(None) };
    let lease_id: i64 = row.try_get(5)?;
    Ok(Some(Claimed {
        id: row.try_get(0)?,
        tenant_id: row.try_get(1)?,
        campaign_id: row.try_get(2)?,
        parts: row.try_get(3)?,
        kept_for: row.try_get(4)?,
        lease_id,
        number: row.try_get(6)?,
        text: row.try_get(7)?,
        concat_reference: row.try_get::<i64, _>(8)? as u8,
        charged: row.try_get(9)?,
        to_debit: row.try_get::<i64, _>(10)? == lease_id,
        status_reports: row.try_get::<i64, _>(11)? != 0,
    }))
}

enum Taken {
    Leased(Lease),
    /// The tenant's credit does not cover the message: it went back as it was, and its
    /// campaign stopped.
    NoCredit(i64),
}

/// Debits a claimed message's parts at its first paid lease and makes its lease; a message the
/// credit does not cover goes back as it was and stops its campaign.
async fn pay(c: &mut AnyConnection, claimed: Claimed, rules: &Rules, now: i64) -> Result<Taken, AppError> {
    if claimed.to_debit && !credit::debit(c, claimed.tenant_id, claimed.id, claimed.parts, claimed.charged, now).await? {
        sqlx::query("UPDATE sms_messages SET state = 'queued', lease_modem_id = NULL, lease_expires_at = 0, charged = 0 WHERE id = $1")
            .bind(claimed.id)
            .execute(&mut *c)
            .await?;
        stop_for_credit(c, claimed.campaign_id, now).await?;
        return Ok(Taken::NoCredit(claimed.campaign_id));
    }
    // A message no modem started has all its parts still to send.
    let parts: Vec<u8> = if claimed.kept_for.is_none() {
        (1..=claimed.parts as u8).collect()
    } else {
        let queued: Vec<i64> = sqlx::query_scalar("SELECT sequence FROM sms_parts WHERE message_id = $1 AND state = 'queued' ORDER BY sequence")
            .bind(claimed.id)
            .fetch_all(&mut *c)
            .await?;
        queued.into_iter().map(|p| p as u8).collect()
    };
    Ok(Taken::Leased(Lease {
        message_id: claimed.id,
        lease_id: claimed.lease_id,
        number: claimed.number,
        text: claimed.text,
        concat_reference: claimed.concat_reference,
        status_report: claimed.status_reports,
        parts,
        valid_for_ms: rules.lease_ms,
    }))
}

async fn stop_for_credit(c: &mut AnyConnection, campaign_id: i64, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE sms_campaigns SET state = 'no_credit', finished_at = $1 WHERE id = $2 AND state = 'active'")
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *c)
        .await?;
    tracing::info!(campaign_id, "SMS campaign stopped: no credit left");
    Ok(())
}

/// A message as a report finds it, with what deciding needs.
struct Reported {
    state: String,
    lease_id: i64,
    lease_modem_id: Option<i64>,
    tenant_id: i64,
    campaign_id: i64,
    parts: i64,
    charged: i64,
    attempts: i64,
    /// Parts not sent yet, this one included if it was not.
    queued: i64,
    campaign_paused: bool,
    /// The reporting modem's failures in a row.
    modem_failures: i64,
    /// No other message of its campaign waits or is being sent: settling it may finish the
    /// campaign.
    last_waiting: bool,
}

/// Records what `modem_id` did with one part of its lease, and says whether to go on. When the
/// lease is over and `then_lease`, the modem's next lease comes with the answer (`Next`), taken
/// in the same transaction.
pub async fn report(db: &Db, modem_id: i64, report: &PartReport, then_lease: bool, rules: &Rules, now: i64) -> Result<ReportReply, AppError> {
    let (report, rules) = (report.clone(), *rules);
    db.write(Box::new(move |c| {
        async move {
            let (reply, current) = report_in(c, modem_id, &report, &rules, now).await?;
            // A stale report (its answer was lost, and the gateway asks again) leases nothing:
            // the first asking may have.
            if reply != ReportReply::Stop || !then_lease || !current {
                return Ok(reply);
            }
            Ok(lease_in(c, modem_id, rules, now).await?.map_or(ReportReply::Stop, ReportReply::Next))
        }
        .boxed()
    }))
    .await
}

/// The reply, and whether the report was about the modem's current lease.
async fn report_in(c: &mut AnyConnection, modem_id: i64, report: &PartReport, rules: &Rules, now: i64) -> Result<(ReportReply, bool), AppError> {
    if let PartOutcome::Sent { reference } = &report.outcome
        && let Some((progress, modem_failures)) = mark_sent(c, modem_id, report, reference.map(i64::from), now).await?
    {
        if modem_failures != 0 {
            sqlx::query("UPDATE modems SET failures = 0 WHERE id = $1").bind(modem_id).execute(&mut *c).await?;
        }
        return Ok((go_on(c, &progress, report.message_id, modem_id, rules, now).await?, true));
    }
    let row = sqlx::query(
        "SELECT m.state, m.lease_id, m.lease_modem_id, m.tenant_id, m.campaign_id, m.parts, m.charged, m.attempts,
                (SELECT COUNT(*) FROM sms_parts p WHERE p.message_id = m.id AND p.state = 'queued'),
                (SELECT c.state FROM sms_campaigns c WHERE c.id = m.campaign_id),
                COALESCE((SELECT d.failures FROM modems d WHERE d.id = $2), 0),
                CAST(CASE WHEN EXISTS (SELECT 1 FROM sms_messages o WHERE o.campaign_id = m.campaign_id
                    AND o.state IN ('queued', 'leased') AND o.id <> m.id) THEN 1 ELSE 0 END AS BIGINT)
         FROM sms_messages m WHERE m.id = $1",
    )
    .bind(report.message_id)
    .bind(modem_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok((ReportReply::Stop, false)) };
    let message = Reported {
        state: row.try_get(0)?,
        lease_id: row.try_get(1)?,
        lease_modem_id: row.try_get(2)?,
        tenant_id: row.try_get(3)?,
        campaign_id: row.try_get(4)?,
        parts: row.try_get(5)?,
        charged: row.try_get(6)?,
        attempts: row.try_get(7)?,
        queued: row.try_get(8)?,
        campaign_paused: row.try_get::<Option<String>, _>(9)?.as_deref() == Some("paused"),
        modem_failures: row.try_get(10)?,
        last_waiting: row.try_get::<i64, _>(11)? == 0,
    };
    let message_id = report.message_id;
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
            .bind(message_id)
            .bind(sequence)
            .execute(&mut *c)
            .await?;
            if done.rows_affected() > 0 {
                settle(c, message_id, message.campaign_id, false, None, now).await?;
            }
        }
        return Ok((ReportReply::Stop, false));
    }
    let reply = match &report.outcome {
        // Not marked by `mark_sent`: a report asked again, its part already marked.
        PartOutcome::Sent { .. } => go_on(c, &message.progress(false), message_id, modem_id, rules, now).await?,
        PartOutcome::Uncertain { reason } => {
            let marked = mark_uncertain(c, message_id, sequence, reason, modem_id, now).await?;
            go_on(c, &message.progress(marked), message_id, modem_id, rules, now).await?
        }
        PartOutcome::Refused { result, refusal: Refusal::Definitive } => {
            sqlx::query("UPDATE sms_parts SET state = 'failed', detail = $1, modem_id = $2, reported_at = $3 WHERE message_id = $4 AND sequence = $5")
                .bind(result)
                .bind(modem_id)
                .bind(now)
                .bind(message_id)
                .bind(sequence)
                .execute(&mut *c)
                .await?;
            give_up(c, &message, message_id, result, now).await?;
            ReportReply::Stop
        }
        PartOutcome::Refused { result, refusal: Refusal::Modem } => {
            set_aside(c, modem_id, result, rules, now).await?;
            requeue(c, message_id, now).await?;
            ReportReply::Stop
        }
        PartOutcome::Refused { result: reason, refusal: Refusal::Transient } | PartOutcome::NotSent { reason } => {
            modem_failed(c, modem_id, message.modem_failures, reason, rules, now).await?;
            let attempts = message.attempts + 1;
            if attempts >= MAX_ATTEMPTS {
                give_up(c, &message, message_id, &format!("{attempts} attempts: {reason}"), now).await?;
            } else {
                sqlx::query("UPDATE sms_messages SET attempts = $1, reason = $2 WHERE id = $3")
                    .bind(attempts)
                    .bind(reason)
                    .bind(message_id)
                    .execute(&mut *c)
                    .await?;
                requeue(c, message_id, now + rules.retry_delay_ms(attempts)).await?;
            }
            ReportReply::Stop
        }
    };
    Ok((reply, true))
}

/// The common report, a part sent under the modem's current lease, marked in the statement
/// that reads what deciding next needs; with the modem's failures in a row. `None` when nothing
/// was marked (the lease is not current, or the part was already marked): the report is then
/// read and decided the long way. The parts counted exclude the one marked, so the count is the
/// same whether a backend's subqueries see the statement's own change or not.
async fn mark_sent(c: &mut AnyConnection, modem_id: i64, report: &PartReport, reference: Option<i64>, now: i64) -> Result<Option<(Progress, i64)>, AppError> {
    let row = sqlx::query(
        "UPDATE sms_parts SET state = 'sent', detail = '', modem_id = $1, reference = $2, sent_at = $3,
             imei = COALESCE((SELECT imei FROM modems WHERE id = $1), '')
         WHERE message_id = $4 AND sequence = $5 AND state = 'queued'
         AND EXISTS (SELECT 1 FROM sms_messages m WHERE m.id = $4 AND m.state = 'leased' AND m.lease_id = $6 AND m.lease_modem_id = $1)
         RETURNING
             (SELECT COUNT(*) FROM sms_parts p WHERE p.message_id = $4 AND p.state = 'queued' AND p.sequence <> $5),
             (SELECT m.campaign_id FROM sms_messages m WHERE m.id = $4),
             (SELECT c.state FROM sms_campaigns c JOIN sms_messages m ON m.campaign_id = c.id WHERE m.id = $4),
             CAST(CASE WHEN EXISTS (SELECT 1 FROM sms_messages m JOIN sms_messages o ON o.campaign_id = m.campaign_id
                 WHERE m.id = $4 AND o.state IN ('queued', 'leased') AND o.id <> $4) THEN 1 ELSE 0 END AS BIGINT),
             COALESCE((SELECT d.failures FROM modems d WHERE d.id = $1), 0)",
    )
    .bind(modem_id)
    .bind(reference)
    .bind(now)
    .bind(report.message_id)
    .bind(i64::from(report.sequence))
    .bind(report.lease_id)
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let progress = Progress {
        remaining: row.try_get(0)?,
        campaign_id: row.try_get(1)?,
        campaign_paused: row.try_get::<Option<String>, _>(2)?.as_deref() == Some("paused"),
        last_waiting: row.try_get::<i64, _>(3)? == 0,
    };
    Ok(Some((progress, row.try_get(4)?)))
}

/// Marks a queued part as perhaps gone out (the line failed mid-send, `reason`); returns
/// whether it was still queued.
async fn mark_uncertain(c: &mut AnyConnection, message_id: i64, sequence: i64, reason: &str, modem_id: i64, now: i64) -> Result<bool, AppError> {
    let done = sqlx::query(
        "UPDATE sms_parts SET state = 'unknown', detail = $1, modem_id = $2, sent_at = $3,
             imei = COALESCE((SELECT imei FROM modems WHERE id = $2), '')
         WHERE message_id = $4 AND sequence = $5 AND state = 'queued'",
    )
    .bind(reason)
    .bind(modem_id)
    .bind(now)
    .bind(message_id)
    .bind(sequence)
    .execute(&mut *c)
    .await?;
    Ok(done.rows_affected() > 0)
}

/// Where a message stands once one of its parts went out (or may have).
struct Progress {
    campaign_id: i64,
    /// Parts still to send.
    remaining: i64,
    campaign_paused: bool,
    /// No other message of its campaign waits or is being sent.
    last_waiting: bool,
}

impl Reported {
    /// Where the message stands after this report, which `marked` a part or found it marked.
    fn progress(&self, marked: bool) -> Progress {
        Progress {
            campaign_id: self.campaign_id,
            remaining: self.queued - i64::from(marked),
            campaign_paused: self.campaign_paused,
            last_waiting: self.last_waiting,
        }
    }
}

/// After a part went out (or may have): settle the message when it was its last part, else
/// renew the lease (its remaining parts leave from this modem), unless the campaign was paused.
async fn go_on(c: &mut AnyConnection, message: &Progress, message_id: i64, modem_id: i64, rules: &Rules, now: i64) -> Result<ReportReply, AppError> {
    if message.remaining == 0 {
        settle(c, message_id, message.campaign_id, message.last_waiting, Some(modem_id), now).await?;
        return Ok(ReportReply::Stop);
    }
    if message.campaign_paused {
        // Paused mid-message: the rest waits, kept for this modem. (A campaign out of credit
        // finishes the messages already paid for.)
        sqlx::query(
            "UPDATE sms_messages SET modem_id = $1, state = 'queued', lease_modem_id = NULL, lease_expires_at = 0, not_before = $2, updated_at = $2
             WHERE id = $3",
        )
        .bind(modem_id)
        .bind(now)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
        return Ok(ReportReply::Stop);
    }
    sqlx::query("UPDATE sms_messages SET modem_id = $1, lease_expires_at = $2, updated_at = $3 WHERE id = $4 AND lease_modem_id = $1")
        .bind(modem_id)
        .bind(now + rules.lease_ms)
        .bind(now)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    Ok(ReportReply::Continue { valid_for_ms: rules.lease_ms })
}

/// Back to the queue (not before `not_before`), lease ended.
async fn requeue(c: &mut AnyConnection, message_id: i64, not_before: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE sms_messages SET state = 'queued', lease_modem_id = NULL, lease_expires_at = 0, not_before = $1 WHERE id = $2")
        .bind(not_before)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    Ok(())
}

/// The message definitively failed: its parts not yet out are cancelled and refunded.
async fn give_up(c: &mut AnyConnection, message: &Reported, message_id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    let never_out: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM sms_parts WHERE message_id = $1 AND (state = 'queued' OR (state = 'failed' AND sent_at IS NULL))")
            .bind(message_id)
            .fetch_one(&mut *c)
            .await?;
    sqlx::query("UPDATE sms_parts SET state = 'cancelled', detail = $1 WHERE message_id = $2 AND state = 'queued'")
        .bind(reason)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    let refund = if message.parts > 0 { message.charged / message.parts * never_out } else { 0 };
    credit::refund(c, message.tenant_id, message_id, never_out, refund, now).await?;
    sqlx::query("UPDATE sms_messages SET reason = $1, charged = charged - $2 WHERE id = $3")
        .bind(reason)
        .bind(refund)
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    settle(c, message_id, message.campaign_id, message.last_waiting, None, now).await
}

/// What makes an active campaign finished: none of its messages waits or is being sent.
macro_rules! nothing_left_to_send {
    () => {
        "NOT EXISTS (SELECT 1 FROM sms_messages m WHERE m.campaign_id = sms_campaigns.id AND m.state IN ('queued', 'leased'))"
    };
}

/// Sets a message's state from its parts' once none is queued, and finishes its campaign when
/// it may have been the last one waiting (`may_finish`; `finish_campaigns` catches the rest).
/// `sent_from`: the modem the message's last part just left from, if that is news.
async fn settle(c: &mut AnyConnection, message_id: i64, campaign_id: i64, may_finish: bool, sent_from: Option<i64>, now: i64) -> Result<(), AppError> {
    let settled = sqlx::query(
        "UPDATE sms_messages SET lease_modem_id = NULL, lease_expires_at = 0, updated_at = $2, modem_id = COALESCE($3, modem_id), state = (
             SELECT CASE
                 WHEN SUM(CASE WHEN p.state IN ('failed', 'cancelled') THEN 1 ELSE 0 END) > 0 THEN 'failed'
                 WHEN SUM(CASE WHEN p.state = 'unknown' THEN 1 ELSE 0 END) > 0 THEN 'unknown'
                 WHEN SUM(CASE WHEN p.state = 'delivered' THEN 0 ELSE 1 END) = 0 THEN 'delivered'
                 ELSE 'sent' END
             FROM sms_parts p WHERE p.message_id = $1)
         WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM sms_parts q WHERE q.message_id = $1 AND q.state = 'queued')",
    )
    .bind(message_id)
    .bind(now)
    .bind(sent_from)
    .execute(&mut *c)
    .await?;
    if may_finish && settled.rows_affected() > 0 {
        sqlx::query(concat!("UPDATE sms_campaigns SET state = 'finished', finished_at = $1 WHERE id = $2 AND state = 'active' AND ", nothing_left_to_send!()))
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *c)
        .await?;
    }
    Ok(())
}

/// Finishes the active campaigns with nothing left to send: those whose last messages settled
/// at the same moment in concurrent transactions (PostgreSQL), each seeing the other still
/// being sent. Returns how many.
pub async fn finish_campaigns(db: &Db, now: i64) -> Result<u64, AppError> {
    let done = sqlx::query(concat!("UPDATE sms_campaigns SET state = 'finished', finished_at = $1 WHERE state = 'active' AND ", nothing_left_to_send!()))
    .bind(now)
    .execute(db.pool())
    .await?;
    Ok(done.rows_affected())
}

/// One more failure in a row (after `failures` already); the modem is set aside after
/// `FAILURES_BEFORE_SET_ASIDE`.
async fn modem_failed(c: &mut AnyConnection, modem_id: i64, failures: i64, reason: &str, rules: &Rules, now: i64) -> Result<(), AppError> {
    if failures + 1 >= FAILURES_BEFORE_SET_ASIDE {
        return set_aside(c, modem_id, reason, rules, now).await;
    }
    sqlx::query("UPDATE modems SET failures = failures + 1, error = $1 WHERE id = $2").bind(reason).bind(modem_id).execute(&mut *c).await?;
    Ok(())
}

async fn set_aside(c: &mut AnyConnection, modem_id: i64, reason: &str, rules: &Rules, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE modems SET set_aside_until = $1, failures = 0, error = $2 WHERE id = $3")
        .bind(now + rules.set_aside_ms)
        .bind(reason)
        .bind(modem_id)
        .execute(&mut *c)
        .await?;
    tracing::warn!(modem_id, reason, "modem set aside");
    Ok(())
}

/// Ends the leases nobody renewed: the first part not reported may be on the air and becomes
/// "unknown"; the rest go back to the queue, kept for that modem. Returns how many ended.
pub async fn expire_leases(db: &Db, now: i64) -> Result<usize, AppError> {
    db.write(Box::new(move |c| expire_in(c, now).boxed())).await
}

async fn expire_in(c: &mut AnyConnection, now: i64) -> Result<usize, AppError> {
    let expired: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM sms_messages WHERE state = 'leased' AND lease_expires_at < $1").bind(now).fetch_all(&mut *c).await?;
    let mut ended = 0;
    for message_id in expired {
        let row = sqlx::query(
            "UPDATE sms_messages SET state = 'queued', not_before = $1, modem_id = COALESCE(modem_id, lease_modem_id),
                 lease_modem_id = NULL, lease_expires_at = 0
             WHERE id = $2 AND state = 'leased' AND lease_expires_at < $1
             RETURNING modem_id, campaign_id",
        )
        .bind(now)
        .bind(message_id)
        .fetch_optional(&mut *c)
        .await?;
        let Some(row) = row else { continue };
        let modem_id: Option<i64> = row.try_get(0)?;
        let campaign_id: i64 = row.try_get(1)?;
        let first: Option<i64> = sqlx::query_scalar("SELECT MIN(sequence) FROM sms_parts WHERE message_id = $1 AND state = 'queued'")
            .bind(message_id)
            .fetch_one(&mut *c)
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
            .execute(&mut *c)
            .await?;
        }
        settle(c, message_id, campaign_id, true, None, now).await?;
        ended += 1;
    }
    Ok(ended)
}

/// Withdraws the queued messages of a deactivated campaign. Those never debited are skipped
/// with `reason`; those already debited (waiting for a retry, or a long message paused midway)
/// give up, refunding the parts that never went out, and count as skipped if none did. Messages
/// a modem is sending are left to finish.
pub async fn withdraw(db: &Db, campaign_id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    let reason = reason.to_string();
    db.write(Box::new(move |c| async move { withdraw_in(c, campaign_id, &reason, now).await }.boxed())).await
}

async fn withdraw_in(c: &mut AnyConnection, campaign_id: i64, reason: &str, now: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE sms_parts SET state = 'cancelled', detail = $1
         WHERE state = 'queued' AND message_id IN (SELECT id FROM sms_messages WHERE campaign_id = $2 AND state = 'queued' AND charged = 0)",
    )
    .bind(reason)
    .bind(campaign_id)
    .execute(&mut *c)
    .await?;
    sqlx::query("UPDATE sms_messages SET state = 'skipped', reason = $1, updated_at = $2 WHERE campaign_id = $3 AND state = 'queued' AND charged = 0")
        .bind(reason)
        .bind(now)
        .bind(campaign_id)
        .execute(&mut *c)
        .await?;
    let debited =
        sqlx::query("SELECT id, tenant_id, parts, charged FROM sms_messages WHERE campaign_id = $1 AND state = 'queued'").bind(campaign_id).fetch_all(&mut *c).await?;
    for row in debited {
        let message_id: i64 = row.try_get(0)?;
        let message = Reported {
            state: "queued".into(),
            lease_id: 0,
            lease_modem_id: None,
            tenant_id: row.try_get(1)?,
            campaign_id,
            parts: row.try_get(2)?,
            charged: row.try_get(3)?,
            attempts: 0,
            queued: 0,
            campaign_paused: false,
            modem_failures: 0,
            last_waiting: false,
        };
        give_up(c, &message, message_id, reason, now).await?;
        sqlx::query(
            "UPDATE sms_messages SET state = 'skipped' WHERE id = $1
             AND NOT EXISTS (SELECT 1 FROM sms_parts WHERE message_id = $1 AND sent_at IS NOT NULL)",
        )
        .bind(message_id)
        .execute(&mut *c)
        .await?;
    }
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

/// What a modem received, handed over by its gateway in one go: status reports and replies, in
/// one transaction. Returns how many status reports matched no part (logged by the caller).
pub async fn inbound(db: &Db, modem_id: i64, items: &[Inbound], now: i64) -> Result<usize, AppError> {
    let items = items.to_vec();
    db.write(Box::new(move |c| {
        async move {
            let mut unmatched = 0;
            for item in &items {
                match item {
                    Inbound::Message { sender, text, sent_at_ms } => {
                        incoming_in(c, modem_id, sender, text, *sent_at_ms, now).await?;
                    }
                    Inbound::Report { reference, recipient, delivered, code } => {
                        if !delivery_in(c, modem_id, *reference, recipient, *delivered, *code, now).await? {
                            unmatched += 1;
                        }
                    }
                }
            }
            Ok(unmatched)
        }
        .boxed()
    }))
    .await
}

/// A status report from `modem_id`: the part it sent with `reference` to `recipient` was
/// delivered, or will never be. References wrap at 256, so the latest such part is meant.
async fn delivery_in(c: &mut AnyConnection, modem_id: i64, reference: u8, recipient: &str, delivered: bool, code: u8, now: i64) -> Result<bool, AppError> {
    let row = sqlx::query(
        "SELECT p.id, p.message_id, m.campaign_id, m.number FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id
         WHERE p.modem_id = $1 AND p.reference = $2 AND p.state = 'sent'
         ORDER BY p.sent_at DESC, p.id DESC LIMIT 1",
    )
    .bind(modem_id)
    .bind(i64::from(reference))
    .fetch_optional(&mut *c)
    .await?;
    let Some(row) = row else { return Ok(false) };
    let number: String = row.try_get(3)?;
    if !same_number(&number, recipient) {
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
        .execute(&mut *c)
        .await?;
    let message_id: i64 = row.try_get(1)?;
    if !delivered {
        sqlx::query("UPDATE sms_messages SET reason = $1 WHERE id = $2").bind(&detail).bind(message_id).execute(&mut *c).await?;
    }
    settle(c, message_id, row.try_get(2)?, false, None, now).await?;
    Ok(true)
}

/// Numbers compared on their last nine digits: a report may give the national form.
fn same_number(a: &str, b: &str) -> bool {
    let tail = |n: &str| n.chars().filter(char::is_ascii_digit).collect::<Vec<_>>().into_iter().rev().take(9).collect::<String>();
    tail(a) == tail(b)
}

/// A message a modem received: attributed to the tenant and message it answers (the latest sent
/// from that modem to that number); `STOP` puts the number on that tenant's opt-out list.
async fn incoming_in(c: &mut AnyConnection, modem_id: i64, sender: &str, text: &str, sent_at: i64, now: i64) -> Result<i64, AppError> {
    let answered = sqlx::query(
        // CROSS JOIN: SQLite then starts from the number (a few messages), not from every part
        // the modem ever sent.
        "SELECT m.id, m.tenant_id FROM sms_messages m CROSS JOIN sms_parts p
         WHERE p.message_id = m.id AND m.number = $2 AND p.modem_id = $1 AND p.sent_at IS NOT NULL ORDER BY p.sent_at DESC LIMIT 1",
    )
    .bind(modem_id)
    .bind(sender)
    .fetch_optional(&mut *c)
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
            .execute(&mut *c)
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
    .fetch_one(&mut *c)
    .await?;
    Ok(id)
}

/// `STOP`, `Stop.`, `stop sms`, `STOP SVP`: a reply whose first word is STOP.
pub fn is_stop(text: &str) -> bool {
    text.split(|c: char| !c.is_alphanumeric()).find(|w| !w.is_empty()).is_some_and(|w| w.eq_ignore_ascii_case("stop"))
}

#[cfg(test)]
#[path = "dispatch_tests.rs"]
mod tests;
