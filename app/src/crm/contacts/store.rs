//! Contact bases at rest: list, page through, edit, delete, and the rejects report. Every
//! function takes the tenant scope; a base of another tenant is "not found".

use futures::Stream;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{BaseSummary, Contact, ContactEdit, ContactPage, MAX_CELL_CHARS, PAGE_SIZE, RejectReason};
use crate::auth::guard::TenantScope;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

const BASE_COLUMNS: &str = "b.id, b.name, b.source_file, b.country, b.custom_fields, b.rows_read, b.contacts, b.rejected,
     COALESCE(u.first_name || ' ' || u.last_name, ''), b.created_at, t.time_zone";
const BASE_FROM: &str = "contact_bases b JOIN tenants t ON t.id = b.tenant_id LEFT JOIN users u ON u.id = b.created_by";

/// `YYYY-MM-DD HH:MM` in the tenant's time zone.
pub fn local_time(ms: i64, zone: &str) -> String {
    let zone = jiff::tz::TimeZone::get(zone).unwrap_or(jiff::tz::TimeZone::UTC);
    jiff::Timestamp::from_millisecond(ms)
        .map(|t| t.to_zoned(zone).strftime("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

fn base_from(row: &AnyRow) -> Result<BaseSummary, sqlx::Error> {
    let custom: String = row.try_get(4)?;
    Ok(BaseSummary {
        id: row.try_get(0)?,
        name: row.try_get(1)?,
        source_file: row.try_get(2)?,
        country: row.try_get(3)?,
        custom_fields: serde_json::from_str(&custom).unwrap_or_default(),
        rows_read: row.try_get(5)?,
        contacts: row.try_get(6)?,
        rejected: row.try_get(7)?,
        created_by: row.try_get(8)?,
        created_at: local_time(row.try_get(9)?, &row.try_get::<String, _>(10)?),
    })
}

/// The tenant's ready bases, newest first.
pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<BaseSummary>, AppError> {
    let sql = format!(
        "SELECT {BASE_COLUMNS} FROM {BASE_FROM}
         WHERE b.tenant_id = $1 AND b.state = 'ready' ORDER BY b.created_at DESC, b.id DESC"
    );
    let rows = sqlx::query(sqlx::AssertSqlSafe(sql)).bind(scope.tenant_id()).fetch_all(db.pool()).await?;
    Ok(rows.iter().map(base_from).collect::<Result<_, _>>()?)
}

pub async fn base(db: &Db, scope: TenantScope, base_id: i64) -> Result<BaseSummary, AppError> {
    let sql = format!(
        "SELECT {BASE_COLUMNS} FROM {BASE_FROM}
         WHERE b.id = $1 AND b.tenant_id = $2 AND b.state = 'ready'"
    );
    let row = sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(base_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(base_from(&row)?)
}

/// The columns `contact_from` reads, in its order.
pub const CONTACT_COLUMNS: &str = "id, line, first_name, last_name, phone, var1, var2, custom";

pub fn contact_from(row: &AnyRow) -> Result<Contact, sqlx::Error> {
    Ok(Contact {
        id: row.try_get(0)?,
        line: row.try_get(1)?,
        first_name: row.try_get(2)?,
        last_name: row.try_get(3)?,
        phone: row.try_get(4)?,
        var1: row.try_get(5)?,
        var2: row.try_get(6)?,
        custom: serde_json::from_str(&row.try_get::<String, _>(7)?).unwrap_or_default(),
    })
}

/// `%text%` (folded) for LIKE, with LIKE's own wildcards taken literally.
pub fn like_pattern(search: &str) -> String {
    let escaped = super::fold(search.trim()).replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_");
    format!("%{escaped}%")
}

/// One page of a base's contacts in file order, those matching `search` (name, phone, variables).
pub async fn page(db: &Db, scope: TenantScope, base_id: i64, search: &str, page: u32) -> Result<ContactPage, AppError> {
    let base = base(db, scope, base_id).await?;
    let pattern = like_pattern(search);
    let filter = "base_id = $1 AND ($2 = '%%' OR search LIKE $2 ESCAPE '\\')";
    let matching: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT COUNT(*) FROM contacts WHERE {filter}")))
        .bind(base_id)
        .bind(&pattern)
        .fetch_one(db.pool())
        .await?;
    let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
        "SELECT {CONTACT_COLUMNS} FROM contacts WHERE {filter} ORDER BY id LIMIT $3 OFFSET $4"
    )))
    .bind(base_id)
    .bind(&pattern)
    .bind(i64::from(PAGE_SIZE))
    .bind(i64::from(page) * i64::from(PAGE_SIZE))
    .fetch_all(db.pool())
    .await?;
    let contacts = rows.iter().map(contact_from).collect::<Result<Vec<_>, sqlx::Error>>()?;
    Ok(ContactPage { base, contacts, matching, page })
}

fn cell(value: &str, field: Field) -> Result<String, AppError> {
    let value = value.trim();
    if value.chars().count() > MAX_CELL_CHARS {
        return Err(AppError::invalid(field, Problem::TooLong { max: MAX_CELL_CHARS as u32 }));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, Problem::BadCharacters));
    }
    Ok(value.to_string())
}

/// Changes a contact; its phone is normalised in the base's country and must stay unique there.
pub async fn update_contact(db: &Db, scope: TenantScope, contact_id: i64, edit: &ContactEdit) -> Result<(), AppError> {
    let row = sqlx::query(
        "SELECT c.base_id, b.country FROM contacts c JOIN contact_bases b ON b.id = c.base_id
         WHERE c.id = $1 AND b.tenant_id = $2 AND b.state = 'ready'",
    )
    .bind(contact_id)
    .bind(scope.tenant_id())
    .fetch_optional(db.pool())
    .await?
    .ok_or(AppError::NotFound)?;
    let (base_id, country): (i64, String) = (row.try_get(0)?, row.try_get(1)?);
    let country = super::phone::country(&country).ok_or(AppError::Internal)?;
    let phone = super::phone::normalise(&edit.phone, country)
        .map(super::phone::e164)
        .map_err(|_| AppError::invalid(Field::Phone, Problem::BadFormat))?;
    let clash: Option<i64> = sqlx::query_scalar("SELECT id FROM contacts WHERE base_id = $1 AND phone = $2 AND id <> $3")
        .bind(base_id)
        .bind(&phone)
        .bind(contact_id)
        .fetch_optional(db.pool())
        .await?;
    if clash.is_some() {
        return Err(AppError::Duplicate { field: Field::Phone });
    }
    let (first_name, last_name) = (cell(&edit.first_name, Field::FirstName)?, cell(&edit.last_name, Field::LastName)?);
    let (var1, var2) = (cell(&edit.var1, Field::Columns)?, cell(&edit.var2, Field::Columns)?);
    let search = super::search_text(&first_name, &last_name, &phone, &var1, &var2);
    sqlx::query(
        "UPDATE contacts SET first_name = $1, last_name = $2, phone = $3, var1 = $4, var2 = $5, search = $6 WHERE id = $7",
    )
    .bind(first_name)
    .bind(last_name)
    .bind(phone)
    .bind(var1)
    .bind(var2)
    .bind(search)
    .bind(contact_id)
        .execute(db.pool())
        .await?;
    Ok(())
}

pub async fn delete_contact(db: &Db, scope: TenantScope, contact_id: i64) -> Result<(), AppError> {
    let mut tx = db.begin_write().await?;
    let base_id: i64 = sqlx::query_scalar(
        "SELECT c.base_id FROM contacts c JOIN contact_bases b ON b.id = c.base_id
         WHERE c.id = $1 AND b.tenant_id = $2 AND b.state = 'ready'",
    )
    .bind(contact_id)
    .bind(scope.tenant_id())
    .fetch_optional(&mut *tx)
    .await?
    .ok_or(AppError::NotFound)?;
    sqlx::query("DELETE FROM contacts WHERE id = $1").bind(contact_id).execute(&mut *tx).await?;
    sqlx::query("UPDATE contact_bases SET contacts = contacts - 1 WHERE id = $1").bind(base_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes a base and its contacts, unless a campaign uses it.
pub async fn delete_base(db: &Db, scope: TenantScope, base_id: i64) -> Result<(), AppError> {
    base(db, scope, base_id).await?;
    if crate::crm::campaigns::store::base_in_use(db, base_id).await? {
        return Err(AppError::invalid(Field::ContactBase, Problem::InUse));
    }
    super::import::discard(db, base_id).await
}

/// One rejected row of the report.
pub struct RejectLine {
    pub line: i64,
    pub reason: Option<RejectReason>,
    pub cells: Vec<String>,
}

/// The rejects of a base in file order, streamed from the database.
pub async fn rejects(
    db: &Db,
    scope: TenantScope,
    base_id: i64,
) -> Result<impl Stream<Item = Result<RejectLine, sqlx::Error>> + Send + 'static, AppError> {
    base(db, scope, base_id).await?;
    let pool = db.pool().clone();
    Ok(reject_pages(pool, base_id))
}

/// Pages through the rejects by line, so no connection is held between pages.
fn reject_pages(
    pool: sqlx::AnyPool,
    base_id: i64,
) -> impl Stream<Item = Result<RejectLine, sqlx::Error>> + Send + 'static {
    use futures::StreamExt;
    futures::stream::unfold(Some(-1_i64), move |after| {
        let pool = pool.clone();
        async move {
            let after = after?;
            let rows = sqlx::query(
                "SELECT id, line, reason, detail, raw FROM contact_rejects WHERE base_id = $1 AND id > $2 ORDER BY id LIMIT 5000",
            )
            .bind(base_id)
            .bind(after)
            .fetch_all(&pool)
            .await;
            match rows {
                Err(error) => Some((vec![Err(error)], None)),
                Ok(rows) if rows.is_empty() => None,
                Ok(rows) => {
                    let last = rows.last().and_then(|r| r.try_get::<i64, _>(0).ok());
                    let lines = rows
                        .iter()
                        .map(|row| {
                            let (code, detail, raw): (String, String, String) = (row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
                            Ok(RejectLine {
                                line: row.try_get(1)?,
                                reason: RejectReason::from_stored(&code, &detail),
                                cells: serde_json::from_str(&raw).unwrap_or_default(),
                            })
                        })
                        .collect();
                    Some((lines, last))
                }
            }
        }
    })
    .flat_map(futures::stream::iter)
}

/// A phone number typed by a user, in E.164, read in the tenant's country; empty stays empty.
pub async fn tenant_number(db: &Db, scope: TenantScope, field: Field, raw: &str) -> Result<String, AppError> {
    if raw.trim().is_empty() {
        return Ok(String::new());
    }
    let code: String = sqlx::query_scalar("SELECT default_country FROM tenants WHERE id = $1")
        .bind(scope.tenant_id())
        .fetch_one(db.pool())
        .await?;
    let country = super::phone::country(&code).ok_or(AppError::Internal)?;
    super::phone::normalise(raw, country).map(super::phone::e164).map_err(|_| AppError::invalid(field, Problem::BadFormat))
}
