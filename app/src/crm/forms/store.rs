//! Loading and saving a campaign's forms. Each takes the tenant scope; a campaign of another
//! tenant is "not found".

use sqlx::Row;

use super::{CampaignForms, Questionnaire, check_questionnaire, check_results};
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::store::parse_forms;
use crate::crm::campaigns::results::{CallResult, results_or_default};
use crate::db::Db;
use crate::error::AppError;

/// The stored questionnaire; an empty or unreadable one is empty.
pub fn parse(stored: &str) -> Questionnaire {
    serde_json::from_str(stored).unwrap_or_default()
}

pub async fn load(db: &Db, scope: TenantScope, campaign_id: i64) -> Result<CampaignForms, AppError> {
    let row = sqlx::query("SELECT name, forms, questionnaire, results FROM campaigns WHERE id = $1 AND tenant_id = $2")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    Ok(CampaignForms {
        campaign_id,
        campaign: row.try_get(0)?,
        enabled: parse_forms(&row.try_get::<String, _>(1)?),
        questionnaire: parse(&row.try_get::<String, _>(2)?),
        results: results_or_default(&row.try_get::<String, _>(3)?),
    })
}

/// Saves the questions, contract fields and results, numbering new items from the stored
/// `next_key` (read in the same write transaction, so two editors cannot hand out one key twice).
pub async fn save(
    db: &Db,
    scope: TenantScope,
    campaign_id: i64,
    questionnaire: &Questionnaire,
    results: &[CallResult],
) -> Result<CampaignForms, AppError> {
    let mut tx = db.begin_write().await?;
    let stored: String = sqlx::query_scalar("SELECT questionnaire FROM campaigns WHERE id = $1 AND tenant_id = $2")
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(&mut *tx)
        .await?
        .ok_or(AppError::NotFound)?;
    let mut checked = check_questionnaire(questionnaire, parse(&stored).next_key.max(1))?;
    let results = check_results(results, &mut checked.next_key)?;
    sqlx::query("UPDATE campaigns SET questionnaire = $1, results = $2 WHERE id = $3 AND tenant_id = $4")
        .bind(serde_json::to_string(&checked).map_err(|_| AppError::Internal)?)
        .bind(serde_json::to_string(&results).map_err(|_| AppError::Internal)?)
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    load(db, scope, campaign_id).await
}
