//! Server functions of the forms editor: thin, each checks the permission and takes the tenant
//! scope from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{CampaignForms, Questionnaire};
use crate::crm::campaigns::results::CallResult;
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "crm/forms/load", input = Json)]
pub async fn load_forms(campaign_id: i64) -> Result<CampaignForms, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::load(&crate::db::Db::from_context()?, scope, campaign_id).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/forms/save", input = Json)]
pub async fn save_forms(campaign_id: i64, questionnaire: Questionnaire, results: Vec<CallResult>) -> Result<CampaignForms, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::save(&crate::db::Db::from_context()?, scope, campaign_id, &questionnaire, &results).await
        }
        .await,
    )
}
