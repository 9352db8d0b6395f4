//! Server functions for campaigns: thin, each checks the permission and takes the tenant scope
//! from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{BaseChoice, CampaignRecord, CampaignSettings, CampaignState};
use crate::error::AppError;

/// The campaigns page's data: the campaigns and the bases to choose from.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CampaignAdmin {
    pub campaigns: Vec<CampaignRecord>,
    pub bases: Vec<BaseChoice>,
    pub trees: Vec<crate::crm::trees::TreeChoice>,
    /// The PBX connections click-to-call can go through (none when the server runs without).
    pub pbx_names: Vec<String>,
}

/// A campaign's PBX must be one the server is connected to (or none).
#[cfg(feature = "ssr")]
fn check_pbx(settings: &CampaignSettings) -> Result<(), AppError> {
    let pbx = settings.pbx.trim();
    let known = crate::acd::bridge::from_context().map(|bridge| bridge.pbx_names()).unwrap_or_default();
    if pbx.is_empty() || known.iter().any(|name| name == pbx) {
        Ok(())
    } else {
        Err(AppError::invalid(crate::error::Field::Pbx, crate::error::Problem::Unknown))
    }
}

#[server(prefix = "/api", endpoint = "crm/campaigns/list", input = Json)]
pub async fn list_campaigns() -> Result<CampaignAdmin, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            Ok(CampaignAdmin {
                campaigns: super::store::list(&db, scope).await?,
                bases: super::store::base_choices(&db, scope).await?,
                trees: crate::crm::trees::store::choices(&db, scope).await?,
                pbx_names: crate::acd::bridge::from_context().map(|bridge| bridge.pbx_names()).unwrap_or_default(),
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/campaigns/create", input = Json)]
pub async fn create_campaign(settings: CampaignSettings) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            check_pbx(&settings)?;
            super::store::create(&crate::db::Db::from_context()?, scope, &settings, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/campaigns/update", input = Json)]
pub async fn update_campaign(campaign_id: i64, settings: CampaignSettings) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            check_pbx(&settings)?;
            super::store::update(&crate::db::Db::from_context()?, scope, campaign_id, &settings).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/campaigns/state", input = Json)]
pub async fn set_campaign_state(campaign_id: i64, state: CampaignState) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::set_state(&crate::db::Db::from_context()?, scope, campaign_id, state).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/campaigns/delete", input = Json)]
pub async fn delete_campaign(campaign_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::delete(&crate::db::Db::from_context()?, scope, campaign_id).await
        }
        .await,
    )
}
