//! Server functions for queue administration. `tenant_id` is only honoured for operator
//! administrators; the guard refuses it from anyone else.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{QueueRecord, QueueSettings, UserChoice};
use crate::error::AppError;

/// The queue administration page's data: queues, the users to choose from, the PBX names.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct QueueAdmin {
    pub queues: Vec<QueueRecord>,
    pub users: Vec<UserChoice>,
    pub pbx_names: Vec<String>,
}

#[server(prefix = "/api", endpoint = "queues/list", input = Json)]
pub async fn list_queues(tenant_id: Option<i64>) -> Result<QueueAdmin, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageQueues).await?.tenant_scope(tenant_id)?;
            let db = crate::db::Db::from_context()?;
            let mut pbx_names = crate::acd::bridge::from_context().map(|b| b.pbx_names()).unwrap_or_default();
            if pbx_names.is_empty() {
                pbx_names.push(super::DEFAULT_PBX.to_string());
            }
            Ok(QueueAdmin {
                queues: super::store::list(&db, scope).await?,
                users: super::store::user_choices(&db, scope).await?,
                pbx_names,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "queues/create", input = Json)]
pub async fn create_queue(tenant_id: Option<i64>, settings: QueueSettings) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let scope = require(Permission::ManageQueues).await?.tenant_scope(tenant_id)?;
            super::store::create(&Db::from_context()?, scope, &settings, now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "queues/update", input = Json)]
pub async fn update_queue(tenant_id: Option<i64>, queue_id: i64, settings: QueueSettings) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageQueues).await?.tenant_scope(tenant_id)?;
            super::store::update(&crate::db::Db::from_context()?, scope, queue_id, &settings).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "queues/delete", input = Json)]
pub async fn delete_queue(tenant_id: Option<i64>, queue_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageQueues).await?.tenant_scope(tenant_id)?;
            super::store::delete(&crate::db::Db::from_context()?, scope, queue_id).await
        }
        .await,
    )
}
