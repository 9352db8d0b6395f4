//! Server functions of the agent desk: each checks the desk permission and takes the tenant and
//! the agent from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{CallReport, DeskCampaign, DeskChoice, DeskContact};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "crm/desk/campaigns", input = Json)]
pub async fn desk_campaigns() -> Result<Vec<DeskChoice>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            super::store::choices(&crate::db::Db::from_context()?, scope, session.user.user_id, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/desk/open", input = Json)]
pub async fn open_desk(campaign_id: i64) -> Result<DeskCampaign, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            super::store::open(&crate::db::Db::from_context()?, scope, session.user.user_id, campaign_id, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/desk/next", input = Json)]
pub async fn next_desk_contact(campaign_id: i64) -> Result<Option<DeskContact>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            super::store::next_contact(&db, scope, session.user.user_id, campaign_id, crate::db::now_ms()).await
        }
        .await,
    )
}

/// Sent by the open desk every `KEEP_ALIVE_MS`; false when the held contact is no longer the
/// agent's (the reservation ran out and someone else took it).
#[server(prefix = "/api", endpoint = "crm/desk/keep", input = Json)]
pub async fn keep_desk(campaign_id: i64, slot_id: Option<i64>) -> Result<bool, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            super::store::keep_alive(&db, scope, session.user.user_id, campaign_id, slot_id, crate::db::now_ms()).await
        }
        .await,
    )
}

/// Click-to-call: the agent's phone rings, then the contact's.
#[server(prefix = "/api", endpoint = "crm/desk/dial", input = Json)]
pub async fn dial_contact(slot_id: i64) -> Result<(), AppError> {
    use crate::acd::bridge::{PbxAction, from_context};
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            let plan = super::store::dial_plan(&crate::db::Db::from_context()?, scope, session.user.user_id, slot_id).await?;
            let action = PbxAction::Dial {
                agent_phone: plan.agent_phone,
                number: plan.contact_phone,
                caller_number: plan.caller_number,
                contact_name: plan.contact_name,
            };
            from_context()?.act(&plan.pbx, action).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/desk/finish", input = Json)]
pub async fn finish_call(campaign_id: i64, tree_version: Option<i64>, report: CallReport) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            super::store::finish(&db, scope, session.user.user_id, campaign_id, tree_version, &report, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/desk/leave", input = Json)]
pub async fn leave_desk(campaign_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::UseDesk).await?;
            let scope = session.tenant_scope(None)?;
            super::store::leave(&crate::db::Db::from_context()?, scope, session.user.user_id, campaign_id, crate::db::now_ms()).await
        }
        .await,
    )
}
