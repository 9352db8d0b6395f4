//! A tenant's prepaid SMS credit, in the tenant's minor units, and its ledger. A message's parts
//! are debited together when it is first leased (so a long message never stops half-paid), and
//! the parts that definitively failed before going out are refunded.

use sqlx::{AnyConnection, Row};

use crate::db::Db;
use crate::error::AppError;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Credit {
    pub balance: i64,
    pub part_price: i64,
}

pub async fn get(db: &Db, tenant_id: i64) -> Result<Credit, AppError> {
    let row = sqlx::query("SELECT balance, part_price FROM sms_credit WHERE tenant_id = $1").bind(tenant_id).fetch_optional(db.pool()).await?;
    Ok(match row {
        Some(row) => Credit { balance: row.try_get(0)?, part_price: row.try_get(1)? },
        None => Credit { balance: 0, part_price: DEFAULT_PART_PRICE },
    })
}

/// The price of a part until the operator sets the tenant's own.
pub const DEFAULT_PART_PRICE: i64 = 5;

/// Every tenant's credit, for the operator: balance, price, use over 30 days, last top-up.
pub async fn tenants(db: &Db, now: i64) -> Result<Vec<super::TenantCredit>, AppError> {
    let rows = sqlx::query(
        "SELECT t.id, t.name, t.currency, t.time_zone, COALESCE(c.balance, 0), COALESCE(c.part_price, $1),
                COALESCE((SELECT CAST(SUM(CASE WHEN m.reason = 'parts' THEN m.parts ELSE -m.parts END) AS BIGINT) FROM sms_credit_moves m
                          WHERE m.tenant_id = t.id AND m.reason IN ('parts', 'refund') AND m.at >= $2), 0),
                (SELECT MAX(m.at) FROM sms_credit_moves m WHERE m.tenant_id = t.id AND m.reason = 'top_up')
         FROM tenants t LEFT JOIN sms_credit c ON c.tenant_id = t.id ORDER BY t.is_operator DESC, t.name",
    )
    .bind(DEFAULT_PART_PRICE)
    .bind(now - 30 * 86_400_000)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            let zone: String = row.try_get(3)?;
            Ok(super::TenantCredit {
                tenant_id: row.try_get(0)?,
                name: row.try_get(1)?,
                currency: row.try_get(2)?,
                balance: row.try_get(4)?,
                part_price: row.try_get(5)?,
                parts_30_days: row.try_get(6)?,
                last_top_up: row.try_get::<Option<i64>, _>(7)?.map(|at| crate::crm::contacts::store::local_time(at, &zone)).unwrap_or_default(),
            })
        })
        .collect()
}

/// Adds `amount` (minor units, positive) to the tenant's credit, with its ledger line.
pub async fn top_up(db: &Db, tenant_id: i64, amount: i64, now: i64) -> Result<Credit, AppError> {
    let mut tx = db.begin_write().await?;
    sqlx::query(
        "INSERT INTO sms_credit (tenant_id, balance, part_price) VALUES ($1, $2, $3)
         ON CONFLICT (tenant_id) DO UPDATE SET balance = sms_credit.balance + excluded.balance",
    )
    .bind(tenant_id)
    .bind(amount)
    .bind(DEFAULT_PART_PRICE)
    .execute(&mut *tx)
    .await?;
    sqlx::query("INSERT INTO sms_credit_moves (tenant_id, amount, reason, at) VALUES ($1, $2, 'top_up', $3)")
        .bind(tenant_id)
        .bind(amount)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    get(db, tenant_id).await
}

/// Largest single top-up and part price accepted, in minor units: a typing slip of a few digits
/// is refused rather than credited.
pub const MAX_TOP_UP: i64 = 100_000_000;
pub const MAX_PART_PRICE: i64 = 100_000;

pub async fn set_part_price(db: &Db, tenant_id: i64, part_price: i64) -> Result<(), AppError> {
    sqlx::query(
        "INSERT INTO sms_credit (tenant_id, balance, part_price) VALUES ($1, 0, $2)
         ON CONFLICT (tenant_id) DO UPDATE SET part_price = excluded.part_price",
    )
    .bind(tenant_id)
    .bind(part_price)
    .execute(db.pool())
    .await?;
    Ok(())
}

/// Debits `amount` for the `parts` parts of message `message_id` if the balance covers it;
/// returns whether it did (nothing is debited otherwise, nor when the tenant has no credit).
pub(super) async fn debit(c: &mut AnyConnection, tenant_id: i64, message_id: i64, parts: i64, amount: i64, now: i64) -> Result<bool, AppError> {
    let done = sqlx::query("UPDATE sms_credit SET balance = balance - $1 WHERE tenant_id = $2 AND balance >= $1")
        .bind(amount)
        .bind(tenant_id)
        .execute(&mut *c)
        .await?;
    if done.rows_affected() == 0 {
        return Ok(false);
    }
    sqlx::query("INSERT INTO sms_credit_moves (tenant_id, amount, reason, message_id, parts, at) VALUES ($1, $2, 'parts', $3, $4, $5)")
        .bind(tenant_id)
        .bind(-amount)
        .bind(message_id)
        .bind(parts)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(true)
}

/// Gives back `amount` for `parts` parts of message `message_id` that never went out.
pub(super) async fn refund(c: &mut AnyConnection, tenant_id: i64, message_id: i64, parts: i64, amount: i64, now: i64) -> Result<(), AppError> {
    if amount <= 0 {
        return Ok(());
    }
    sqlx::query("UPDATE sms_credit SET balance = balance + $1 WHERE tenant_id = $2").bind(amount).bind(tenant_id).execute(&mut *c).await?;
    sqlx::query("INSERT INTO sms_credit_moves (tenant_id, amount, reason, message_id, parts, at) VALUES ($1, $2, 'refund', $3, $4, $5)")
        .bind(tenant_id)
        .bind(amount)
        .bind(message_id)
        .bind(parts)
        .bind(now)
        .execute(&mut *c)
        .await?;
    Ok(())
}
