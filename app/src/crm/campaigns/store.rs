//! Data functions for campaigns. Each takes a `TenantScope`; a campaign or base of another
//! tenant is "not found".

use sqlx::Row;
use sqlx::any::AnyRow;

use super::{BaseChoice, CampaignChoice, CampaignRecord, CampaignSettings, CampaignState, FormKind, validate};
use crate::auth::guard::TenantScope;
use crate::crm::trees::store as trees;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

fn record(row: &AnyRow) -> Result<CampaignRecord, AppError> {
    let forms = parse_forms(&row.try_get::<String, _>("forms")?);
    let state: String = row.try_get("state")?;
    Ok(CampaignRecord {
        id: row.try_get("id")?,
        settings: CampaignSettings {
            name: row.try_get("name")?,
            product: row.try_get("product")?,
            base_id: row.try_get("base_id")?,
            starts_on: row.try_get("starts_on")?,
            ends_on: row.try_get("ends_on")?,
            forms,
            tree_id: row.try_get("tree_id")?,
            pbx: row.try_get("pbx")?,
        },
        base_name: row.try_get("base_name")?,
        tree_name: row.try_get("tree_name")?,
        state: CampaignState::from_code(&state).unwrap_or(CampaignState::Draft),
    })
}

/// The tenant's campaigns: active first, then drafts, then closed; by start date.
pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<CampaignRecord>, AppError> {
    let rows = sqlx::query(
        "SELECT c.id, c.name, c.product, c.base_id, c.starts_on, c.ends_on, c.forms, c.state, c.tree_id, c.pbx,
                b.name AS base_name, t.name AS tree_name
         FROM campaigns c JOIN contact_bases b ON b.id = c.base_id LEFT JOIN argument_trees t ON t.id = c.tree_id
         WHERE c.tenant_id = $1
         ORDER BY CASE c.state WHEN 'active' THEN 0 WHEN 'draft' THEN 1 ELSE 2 END, c.starts_on DESC, c.id DESC",
    )
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(record).collect()
}

/// The tenant's campaigns to pick from, newest first; closed ones only when asked for.
pub async fn choices(db: &Db, scope: TenantScope, with_closed: bool) -> Result<Vec<CampaignChoice>, AppError> {
    let rows = sqlx::query(
        "SELECT id, name FROM campaigns WHERE tenant_id = $1 AND ($2 = 1 OR state <> 'closed') ORDER BY created_at DESC, id DESC",
    )
    .bind(scope.tenant_id())
    .bind(i64::from(with_closed))
    .fetch_all(db.pool())
    .await?;
    rows.iter().map(|row| Ok(CampaignChoice { id: row.try_get(0)?, name: row.try_get(1)? })).collect()
}

/// The ready bases of the tenant, to choose from.
pub async fn base_choices(db: &Db, scope: TenantScope) -> Result<Vec<BaseChoice>, AppError> {
    let rows = sqlx::query("SELECT id, name, contacts FROM contact_bases WHERE tenant_id = $1 AND state = 'ready' ORDER BY name")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter()
        .map(|row| Ok(BaseChoice { id: row.try_get(0)?, name: row.try_get(1)?, contacts: row.try_get(2)? }))
        .collect()
}

/// Checks the settings, the base (ready, of this tenant) and the name (unique in the tenant).
async fn checked(db: &Db, scope: TenantScope, settings: &CampaignSettings, except: i64) -> Result<CampaignSettings, AppError> {
    let settings = validate(settings)?;
    let base: Option<i64> =
        sqlx::query_scalar("SELECT id FROM contact_bases WHERE id = $1 AND tenant_id = $2 AND state = 'ready'")
            .bind(settings.base_id)
            .bind(scope.tenant_id())
            .fetch_optional(db.pool())
            .await?;
    if base.is_none() {
        return Err(AppError::invalid(Field::ContactBase, Problem::Required));
    }
    if let Some(tree_id) = settings.tree_id
        && !trees::owned(db, scope, tree_id).await?
    {
        return Err(AppError::invalid(Field::ArgumentTree, Problem::Required));
    }
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM campaigns WHERE tenant_id = $1 AND lower(name) = lower($2) AND id <> $3")
            .bind(scope.tenant_id())
            .bind(&settings.name)
            .bind(except)
            .fetch_optional(db.pool())
            .await?;
    if taken.is_some() {
        return Err(AppError::Duplicate { field: Field::CampaignName });
    }
    Ok(settings)
}

/// The forms switched on in a campaign, from the `forms` column; codes this version does not know
/// are skipped.
pub fn parse_forms(stored: &str) -> Vec<FormKind> {
    serde_json::from_str::<Vec<String>>(stored).unwrap_or_default().iter().filter_map(|code| FormKind::from_code(code)).collect()
}

fn forms_json(forms: &[FormKind]) -> String {
    serde_json::to_string(&forms.iter().map(|f| f.code()).collect::<Vec<_>>()).unwrap_or_default()
}

/// A new campaign, as a draft.
pub async fn create(db: &Db, scope: TenantScope, settings: &CampaignSettings, now_ms: i64) -> Result<i64, AppError> {
    let settings = checked(db, scope, settings, 0).await?;
    Ok(sqlx::query_scalar(
        "INSERT INTO campaigns (tenant_id, name, product, base_id, starts_on, ends_on, forms, tree_id, pbx, state, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'draft', $10) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&settings.name)
    .bind(&settings.product)
    .bind(settings.base_id)
    .bind(&settings.starts_on)
    .bind(&settings.ends_on)
    .bind(forms_json(&settings.forms))
    .bind(settings.tree_id)
    .bind(&settings.pbx)
    .bind(now_ms)
    .fetch_one(db.pool())
    .await?)
}

/// Changes a campaign; once it has run, its base stays (its contacts' history is in it).
pub async fn update(db: &Db, scope: TenantScope, campaign_id: i64, settings: &CampaignSettings) -> Result<(), AppError> {
    let state = state_of(db, scope, campaign_id).await?;
    let settings = checked(db, scope, settings, campaign_id).await?;
    let base_id: i64 = sqlx::query_scalar("SELECT base_id FROM campaigns WHERE id = $1").bind(campaign_id).fetch_one(db.pool()).await?;
    if state != CampaignState::Draft && base_id != settings.base_id {
        return Err(AppError::invalid(Field::ContactBase, Problem::NotAllowedNow));
    }
    sqlx::query(
        "UPDATE campaigns SET name = $1, product = $2, base_id = $3, starts_on = $4, ends_on = $5, forms = $6, tree_id = $7, pbx = $8
         WHERE id = $9 AND tenant_id = $10",
    )
    .bind(&settings.name)
    .bind(&settings.product)
    .bind(settings.base_id)
    .bind(&settings.starts_on)
    .bind(&settings.ends_on)
    .bind(forms_json(&settings.forms))
    .bind(settings.tree_id)
    .bind(&settings.pbx)
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .execute(db.pool())
    .await?;
    Ok(())
}

async fn state_of(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<CampaignState, AppError> {
    let state: String = sqlx::query_scalar("SELECT state FROM campaigns WHERE id = $1 AND tenant_id = $2")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    CampaignState::from_code(&state).ok_or(AppError::Internal)
}

/// Moves a campaign to `to`: drafts and closed campaigns can be activated, active ones closed.
/// Activating enrols the base's contacts and freezes the newest version of the argument tree:
/// agents now walk that version.
pub async fn set_state(db: &Db, scope: TenantScope, campaign_id: i64, to: CampaignState) -> Result<(), AppError> {
    let from = state_of(db, scope, campaign_id).await?;
    let allowed = matches!(
        (from, to),
        (CampaignState::Draft | CampaignState::Closed, CampaignState::Active) | (CampaignState::Active, CampaignState::Closed)
    );
    if !allowed {
        return Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow));
    }
    let mut tx = db.pool().begin().await?;
    sqlx::query("UPDATE campaigns SET state = $1 WHERE id = $2 AND tenant_id = $3 AND state = $4")
        .bind(to.code())
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .bind(from.code())
        .execute(&mut *tx)
        .await?;
    if to == CampaignState::Active {
        crate::crm::desk::store::enrol_contacts(&mut tx, campaign_id).await?;
        let tree_id: Option<i64> = sqlx::query_scalar("SELECT tree_id FROM campaigns WHERE id = $1")
            .bind(campaign_id)
            .fetch_one(&mut *tx)
            .await?;
        if let Some(tree_id) = tree_id {
            trees::freeze_latest(&mut tx, tree_id).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Drafts can be deleted; a campaign that ran keeps its history.
pub async fn delete(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<(), AppError> {
    if state_of(db, scope, campaign_id).await? != CampaignState::Draft {
        return Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow));
    }
    sqlx::query("DELETE FROM campaigns WHERE id = $1 AND tenant_id = $2 AND state = 'draft'")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .execute(db.pool())
        .await?;
    Ok(())
}

/// Whether a campaign (call-centre or SMS) uses the base (it can then not be deleted).
pub async fn base_in_use(db: &Db, base_id: i64) -> Result<bool, AppError> {
    let used: Option<i64> = sqlx::query_scalar("SELECT id FROM campaigns WHERE base_id = $1 UNION ALL SELECT id FROM sms_campaigns WHERE base_id = $1 LIMIT 1")
        .bind(base_id)
        .fetch_optional(db.pool())
        .await?;
    Ok(used.is_some())
}
