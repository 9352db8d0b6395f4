//! Data functions for field sales people and their appointments. Each takes the tenant scope;
//! a person of another tenant is "not found".

use jiff::ToSpan;
use sqlx::Row;

use super::{APPOINTMENT_MINUTES, AGENDA_DAYS, Agenda, AgendaEntry, MAX_AREA_CHARS, MAX_EMAIL_CHARS, MAX_NAME_CHARS, SalesChoice, SalesPerson, SalesPersonSettings};
use crate::acd::stats::store::tenant_zone;
use crate::auth::guard::TenantScope;
use crate::crm::contacts::store::tenant_number;
use crate::db::Db;
use crate::error::{AppError, Field, Problem, required_text};

/// An optional text: trimmed, at most `max` characters, no control characters.
fn optional_text(text: &str, field: Field, max: u32) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() { Ok(String::new()) } else { required_text(text, field, max) }
}

async fn checked(db: &Db, scope: TenantScope, settings: &SalesPersonSettings) -> Result<SalesPersonSettings, AppError> {
    let email = optional_text(&settings.email, Field::Email, MAX_EMAIL_CHARS)?;
    let well_formed = email.is_empty()
        || email.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.starts_with('.') && !domain.ends_with('.') && !email.contains(' ')
        });
    if !well_formed {
        return Err(AppError::invalid(Field::Email, Problem::BadFormat));
    }
    Ok(SalesPersonSettings {
        first_name: required_text(&settings.first_name, Field::FirstName, MAX_NAME_CHARS)?,
        last_name: required_text(&settings.last_name, Field::LastName, MAX_NAME_CHARS)?,
        phone: tenant_number(db, scope, Field::Phone, &settings.phone).await?,
        email,
        area: optional_text(&settings.area, Field::Area, MAX_AREA_CHARS)?,
        active: settings.active,
    })
}

/// The tenant's sales people by name, with their appointment counts.
pub async fn list(db: &Db, scope: TenantScope, now_ms: i64) -> Result<Vec<SalesPerson>, AppError> {
    let rows = sqlx::query(
        "SELECT s.id, s.first_name, s.last_name, s.phone, s.email, s.area, s.active,
                (SELECT COUNT(*) FROM appointments a WHERE a.sales_person_id = s.id AND a.starts_at >= $2),
                (SELECT COUNT(*) FROM appointments a WHERE a.sales_person_id = s.id)
         FROM sales_people s WHERE s.tenant_id = $1 ORDER BY lower(s.last_name), lower(s.first_name), s.id",
    )
    .bind(scope.tenant_id())
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    rows.iter()
        .map(|row| {
            Ok(SalesPerson {
                id: row.try_get(0)?,
                settings: SalesPersonSettings {
                    first_name: row.try_get(1)?,
                    last_name: row.try_get(2)?,
                    phone: row.try_get(3)?,
                    email: row.try_get(4)?,
                    area: row.try_get(5)?,
                    active: row.try_get::<i64, _>(6)? != 0,
                },
                upcoming: row.try_get(7)?,
                booked: row.try_get(8)?,
            })
        })
        .collect()
}

/// The active sales people, for the desk.
pub async fn choices(db: &Db, scope: TenantScope) -> Result<Vec<SalesChoice>, AppError> {
    let rows = sqlx::query(
        "SELECT id, first_name || ' ' || last_name, area FROM sales_people WHERE tenant_id = $1 AND active = 1
         ORDER BY lower(last_name), lower(first_name), id",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| Ok(SalesChoice { id: row.try_get(0)?, name: row.try_get(1)?, area: row.try_get(2)? })).collect()
}

pub async fn create(db: &Db, scope: TenantScope, settings: &SalesPersonSettings) -> Result<i64, AppError> {
    let s = checked(db, scope, settings).await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO sales_people (tenant_id, first_name, last_name, phone, email, area, active)
         VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&s.first_name)
    .bind(&s.last_name)
    .bind(&s.phone)
    .bind(&s.email)
    .bind(&s.area)
    .bind(i64::from(s.active))
    .fetch_one(db.pool())
    .await?)
}

pub async fn update(db: &Db, scope: TenantScope, id: i64, settings: &SalesPersonSettings) -> Result<(), AppError> {
    let s = checked(db, scope, settings).await?;
    let changed = sqlx::query(
        "UPDATE sales_people SET first_name = $1, last_name = $2, phone = $3, email = $4, area = $5, active = $6
         WHERE id = $7 AND tenant_id = $8",
    )
    .bind(&s.first_name)
    .bind(&s.last_name)
    .bind(&s.phone)
    .bind(&s.email)
    .bind(&s.area)
    .bind(i64::from(s.active))
    .bind(id)
    .bind(scope.tenant_id())
    .execute(db.pool())
    .await?
    .rows_affected();
    if changed == 0 { Err(AppError::NotFound) } else { Ok(()) }
}

/// Deletes a person who never received an appointment.
pub async fn delete(db: &Db, scope: TenantScope, id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let booked: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM appointments WHERE sales_person_id = $1")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if booked > 0 {
        return Err(AppError::invalid(Field::SalesPerson, Problem::InUse));
    }
    let deleted = sqlx::query("DELETE FROM sales_people WHERE id = $1 AND tenant_id = $2")
        .bind(id)
        .bind(scope.tenant_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    tx.commit().await?;
    Ok(())
}

/// What a booking needs beyond the person and the time.
pub struct Booking {
    pub campaign_id: i64,
    pub call_id: i64,
    pub contact_id: i64,
    pub agent_id: i64,
    pub starts_at: i64,
    pub note: String,
}

/// Books an appointment inside the caller's transaction. The no-op UPDATE takes the person's
/// row lock first (PostgreSQL; SQLite's write transaction already serialises), so two agents
/// booking the same slot at once cannot both pass the overlap check.
pub async fn book(tx: &mut sqlx::AnyConnection, scope: TenantScope, sales_person_id: i64, booking: &Booking) -> Result<(), AppError> {
    let locked = sqlx::query("UPDATE sales_people SET active = active WHERE id = $1 AND tenant_id = $2 AND active = 1")
        .bind(sales_person_id)
        .bind(scope.tenant_id())
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if locked == 0 {
        return Err(AppError::invalid(Field::SalesPerson, Problem::Unknown));
    }
    let ends_at = booking.starts_at + APPOINTMENT_MINUTES * 60_000;
    let clash: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM appointments WHERE sales_person_id = $1 AND starts_at < $2 AND ends_at > $3 LIMIT 1",
    )
    .bind(sales_person_id)
    .bind(ends_at)
    .bind(booking.starts_at)
    .fetch_optional(&mut *tx)
    .await?;
    if clash.is_some() {
        return Err(AppError::invalid(Field::AppointmentAt, Problem::Busy));
    }
    sqlx::query(
        "INSERT INTO appointments (tenant_id, sales_person_id, campaign_id, call_id, contact_id, agent_id, starts_at, ends_at, note)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(scope.tenant_id())
    .bind(sales_person_id)
    .bind(booking.campaign_id)
    .bind(booking.call_id)
    .bind(booking.contact_id)
    .bind(booking.agent_id)
    .bind(booking.starts_at)
    .bind(ends_at)
    .bind(&booking.note)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// A person's appointments over `AGENDA_DAYS` days from `first_day` (`YYYY-MM-DD`; empty:
/// today), on the tenant's calendar.
pub async fn agenda(db: &Db, scope: TenantScope, sales_person_id: i64, first_day: &str, now_ms: i64) -> Result<Agenda, AppError> {
    let name: String = sqlx::query_scalar("SELECT first_name || ' ' || last_name FROM sales_people WHERE id = $1 AND tenant_id = $2")
        .bind(sales_person_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let (zone, zone_name) = tenant_zone(db, scope).await?;
    let bad = || AppError::invalid(Field::Period, Problem::BadFormat);
    let first: jiff::civil::Date = if first_day.trim().is_empty() {
        jiff::Timestamp::from_millisecond(now_ms).map_err(|_| AppError::Internal)?.to_zoned(zone.clone()).date()
    } else {
        first_day.trim().parse().map_err(|_| bad())?
    };
    let after = first.checked_add(AGENDA_DAYS.days()).map_err(|_| bad())?;
    let start_ms = first.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp().as_millisecond();
    let end_ms = after.to_zoned(zone.clone()).map_err(|_| bad())?.timestamp().as_millisecond();
    let rows = sqlx::query(
        "SELECT a.id, a.starts_at, a.ends_at, COALESCE(k.first_name || ' ' || k.last_name, ''), COALESCE(k.phone, ''), c.name,
                COALESCE(u.first_name || ' ' || u.last_name, ''), a.note
         FROM appointments a JOIN campaigns c ON c.id = a.campaign_id LEFT JOIN contacts k ON k.id = a.contact_id
         LEFT JOIN users u ON u.id = a.agent_id
         WHERE a.sales_person_id = $1 AND a.tenant_id = $2 AND a.starts_at >= $3 AND a.starts_at < $4 ORDER BY a.starts_at, a.id",
    )
    .bind(sales_person_id)
    .bind(scope.tenant_id())
    .bind(start_ms)
    .bind(end_ms)
    .fetch_all(db.pool())
    .await?;
    let mut days: Vec<(String, Vec<AgendaEntry>)> = (0..AGENDA_DAYS)
        .filter_map(|n| first.checked_add(n.days()).ok())
        .map(|day| (day.to_string(), vec![]))
        .collect();
    let local = |ms: i64| jiff::Timestamp::from_millisecond(ms).map(|t| t.to_zoned(zone.clone()));
    for row in rows {
        let (Ok(starts), Ok(ends)) = (local(row.try_get(1)?), local(row.try_get(2)?)) else { continue };
        let day = starts.date().to_string();
        let Some((_, entries)) = days.iter_mut().find(|(d, _)| *d == day) else { continue };
        entries.push(AgendaEntry {
            id: row.try_get(0)?,
            starts: starts.strftime("%H:%M").to_string(),
            ends: ends.strftime("%H:%M").to_string(),
            contact: row.try_get::<String, _>(3)?.trim().to_string(),
            phone: row.try_get(4)?,
            campaign: row.try_get(5)?,
            agent: row.try_get(6)?,
            note: row.try_get(7)?,
        });
    }
    Ok(Agenda {
        sales_person_id,
        name,
        first_day: first.to_string(),
        previous: first.checked_sub(AGENDA_DAYS.days()).map_err(|_| bad())?.to_string(),
        next: after.to_string(),
        time_zone: zone_name,
        days,
    })
}
