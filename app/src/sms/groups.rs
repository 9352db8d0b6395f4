//! Modem groups and the modems their gateways report. A group is one computer with USB modems;
//! its gateway agent authenticates with the group's token (only its SHA-256 is stored, the token
//! is shown once, when the group is created).

use sqlx::Row;

use super::{GroupOrders, ModemStatus};
use crate::auth::sessions::{new_token, token_hash};
use crate::db::{Db, flag};
use crate::error::{AppError, Field, Problem};

pub const MAX_MODEMS: u32 = 256;
pub const MAX_SPEED: u32 = 100_000;

/// A group as its gateway sees it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct GatewayGroup {
    pub id: i64,
    pub alias: String,
    pub started: bool,
    pub modem_count: u32,
    pub parts_per_minute: u32,
}

/// `aa:bb:cc:dd:ee:ff` in lower case, from colons, dashes or bare hex digits.
pub fn normalise_mac(mac: &str) -> Option<String> {
    let digits: String = mac.trim().chars().filter(|c| !matches!(c, ':' | '-' | '.')).collect();
    if digits.len() != 12 || !digits.chars().all(|c| c.is_ascii_hexdigit()) {
        return None;
    }
    let lower = digits.to_ascii_lowercase();
    Some(lower.as_bytes().chunks(2).map(|pair| String::from_utf8_lossy(pair).into_owned()).collect::<Vec<_>>().join(":"))
}

/// Checks a group's settings; returns the normalised MAC address.
pub fn check(mac: &str, alias: &str, modem_count: u32, parts_per_minute: u32) -> Result<String, AppError> {
    let invalid = |field, problem| AppError::Invalid { field, problem };
    let mac = normalise_mac(mac).ok_or(invalid(Field::MacAddress, Problem::BadFormat))?;
    if alias.trim().is_empty() {
        return Err(invalid(Field::Alias, Problem::Required));
    }
    if alias.chars().count() > 80 {
        return Err(invalid(Field::Alias, Problem::TooLong { max: 80 }));
    }
    if !(1..=MAX_MODEMS).contains(&modem_count) {
        return Err(invalid(Field::ModemCount, Problem::OutOfRange { min: 1, max: MAX_MODEMS }));
    }
    if !(1..=MAX_SPEED).contains(&parts_per_minute) {
        return Err(invalid(Field::Speed, Problem::OutOfRange { min: 1, max: MAX_SPEED }));
    }
    Ok(mac)
}

/// Creates a group (stopped) and returns its id and its gateway's token.
pub async fn create(db: &Db, mac: &str, alias: &str, modem_count: u32, parts_per_minute: u32, now: i64) -> Result<(i64, String), AppError> {
    let mac = check(mac, alias, modem_count, parts_per_minute)?;
    let token = new_token();
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM modem_groups WHERE mac = $1").bind(&mac).fetch_optional(db.pool()).await?;
    if taken.is_some() {
        return Err(AppError::Duplicate { field: Field::MacAddress });
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO modem_groups (mac, alias, modem_count, parts_per_minute, started, token_hash, created_at)
         VALUES ($1, $2, $3, $4, 0, $5, $6) RETURNING id",
    )
    .bind(&mac)
    .bind(alias.trim())
    .bind(i64::from(modem_count))
    .bind(i64::from(parts_per_minute))
    .bind(token_hash(&token))
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok((id, token))
}

/// Changes a group's settings; its token and modems stay.
pub async fn update(db: &Db, id: i64, mac: &str, alias: &str, modem_count: u32, parts_per_minute: u32) -> Result<(), AppError> {
    let mac = check(mac, alias, modem_count, parts_per_minute)?;
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM modem_groups WHERE mac = $1 AND id <> $2").bind(&mac).bind(id).fetch_optional(db.pool()).await?;
    if taken.is_some() {
        return Err(AppError::Duplicate { field: Field::MacAddress });
    }
    let done = sqlx::query("UPDATE modem_groups SET mac = $1, alias = $2, modem_count = $3, parts_per_minute = $4 WHERE id = $5")
        .bind(&mac)
        .bind(alias.trim())
        .bind(i64::from(modem_count))
        .bind(i64::from(parts_per_minute))
        .bind(id)
        .execute(db.pool())
        .await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// Deletes a stopped group and forgets its modems. A started group is refused: its gateway may
/// hold leases, which must run out first (stop it, then delete it once its messages settled).
pub async fn delete(db: &Db, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let started: Option<i64> = sqlx::query_scalar("SELECT started FROM modem_groups WHERE id = $1").bind(id).fetch_optional(&mut *tx).await?;
    match started {
        None => return Err(AppError::NotFound),
        Some(1) => return Err(AppError::invalid(Field::ModemGroup, Problem::StillSending)),
        Some(_) => {}
    }
    let leased: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM sms_messages WHERE state = 'leased' AND lease_modem_id IN (SELECT id FROM modems WHERE group_id = $1)",
    )
    .bind(id)
    .fetch_one(&mut *tx)
    .await?;
    if leased > 0 {
        return Err(AppError::invalid(Field::ModemGroup, Problem::StillSending));
    }
    sqlx::query("DELETE FROM modems WHERE group_id = $1").bind(id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM modem_groups WHERE id = $1").bind(id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Gives the group a new gateway token (the old one stops working at once) and returns it.
pub async fn renew_token(db: &Db, id: i64) -> Result<String, AppError> {
    let token = new_token();
    let done = sqlx::query("UPDATE modem_groups SET token_hash = $1 WHERE id = $2").bind(token_hash(&token)).bind(id).execute(db.pool()).await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(token)
}

pub async fn set_started(db: &Db, id: i64, started: bool) -> Result<(), AppError> {
    let done = sqlx::query("UPDATE modem_groups SET started = $1 WHERE id = $2").bind(flag(started)).bind(id).execute(db.pool()).await?;
    if done.rows_affected() == 0 {
        return Err(AppError::NotFound);
    }
    Ok(())
}

/// The group whose gateway holds `token`, noting that it was seen.
pub async fn authenticate(db: &Db, token: &str, now: i64) -> Result<Option<GatewayGroup>, AppError> {
    let row = sqlx::query("SELECT id, alias, started, modem_count, parts_per_minute, seen_at FROM modem_groups WHERE token_hash = $1")
        .bind(token_hash(token))
        .fetch_optional(db.pool())
        .await?;
    let Some(row) = row else { return Ok(None) };
    let group = GatewayGroup {
        id: row.try_get(0)?,
        alias: row.try_get(1)?,
        started: row.try_get::<i64, _>(2)? != 0,
        modem_count: row.try_get::<i64, _>(3)? as u32,
        parts_per_minute: row.try_get::<i64, _>(4)? as u32,
    };
    // Written at most once a second: gateways call several times per part.
    let seen_at: i64 = row.try_get(5)?;
    if now - seen_at >= 1_000 {
        touch(db, group.id, now).await?;
    }
    Ok(Some(group))
}

/// Notes that the group's gateway was heard from.
pub async fn touch(db: &Db, group_id: i64, now: i64) -> Result<(), AppError> {
    sqlx::query("UPDATE modem_groups SET seen_at = $1 WHERE id = $2").bind(now).bind(group_id).execute(db.pool()).await?;
    Ok(())
}

/// Records what a gateway reported of the modem on `port`; returns the modem's id. A modem is
/// known by its IMEI: moved to another port or another group, it keeps its history.
pub async fn record_modem(db: &Db, group_id: i64, port: &str, status: &ModemStatus, error: &str, now: i64) -> Result<Option<i64>, AppError> {
    let Some(imei) = &status.imei else {
        // A modem that did not say who it is (port unreachable, not answering): the one last
        // seen on that port shows the error.
        sqlx::query("UPDATE modems SET error = $1, seen_at = $2 WHERE group_id = $3 AND port = $4")
            .bind(error)
            .bind(now)
            .bind(group_id)
            .bind(port)
            .execute(db.pool())
            .await?;
        return Ok(None);
    };
    let signal = status.signal;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO modems (group_id, imei, port, imsi, operator, sim, registration, signal_dbm, signal_quality, error, seen_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
         ON CONFLICT (imei) DO UPDATE SET group_id = excluded.group_id, port = excluded.port, imsi = excluded.imsi,
             operator = excluded.operator, sim = excluded.sim, registration = excluded.registration,
             signal_dbm = excluded.signal_dbm, signal_quality = excluded.signal_quality, error = excluded.error,
             seen_at = excluded.seen_at
         RETURNING id",
    )
    .bind(group_id)
    .bind(imei)
    .bind(port)
    .bind(status.imsi.clone().unwrap_or_default())
    .bind(status.operator.clone().unwrap_or_default())
    .bind(status.sim.code())
    .bind(status.registration.code())
    .bind(signal.map(|s| i64::from(s.dbm)))
    .bind(signal.map(|s| i64::from(s.quality)))
    .bind(error)
    .bind(now)
    .fetch_one(db.pool())
    .await?;
    Ok(Some(id))
}

/// What the group's gateway must do.
pub async fn orders(db: &Db, group_id: i64) -> Result<GroupOrders, AppError> {
    let row = sqlx::query("SELECT started, parts_per_minute, modem_count FROM modem_groups WHERE id = $1")
        .bind(group_id)
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(GroupOrders {
        started: row.try_get::<i64, _>(0)? != 0,
        parts_per_minute: row.try_get::<i64, _>(1)? as u32,
        modem_count: row.try_get::<i64, _>(2)? as u32,
    })
}

/// The id of the modem `imei` if it belongs to `group_id` (a gateway speaks for its own modems only).
pub async fn modem_of_group(db: &Db, group_id: i64, imei: &str) -> Result<Option<i64>, AppError> {
    Ok(sqlx::query_scalar("SELECT id FROM modems WHERE imei = $1 AND group_id = $2").bind(imei).bind(group_id).fetch_optional(db.pool()).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mac_addresses_are_normalised_or_refused() {
        assert_eq!(normalise_mac("00-1A-2B-3C-4D-5E").as_deref(), Some("00:1a:2b:3c:4d:5e"));
        assert_eq!(normalise_mac("001a2b3c4d5e").as_deref(), Some("00:1a:2b:3c:4d:5e"));
        assert_eq!(normalise_mac("00:1a:2b:3c:4d"), None);
        assert_eq!(normalise_mac("00:1a:2b:3c:4d:5g"), None);
        assert!(matches!(check("00:1a:2b:3c:4d:5e", " ", 4, 60), Err(AppError::Invalid { field: Field::Alias, .. })));
        assert!(matches!(check("00:1a:2b:3c:4d:5e", "Rack A", 0, 60), Err(AppError::Invalid { field: Field::ModemCount, .. })));
        assert!(matches!(check("00:1a:2b:3c:4d:5e", "Rack A", 4, 0), Err(AppError::Invalid { field: Field::Speed, .. })));
    }
}
