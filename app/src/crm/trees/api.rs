//! Server functions for argument trees: thin, each checks the permission and takes the tenant
//! scope from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{ArgumentTree, SavedTree, TreeDetail, TreeSummary};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "crm/trees/list", input = Json)]
pub async fn list_trees() -> Result<Vec<TreeSummary>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::list(&crate::db::Db::from_context()?, scope).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/trees/create", input = Json)]
pub async fn create_tree(name: String, first_question: String) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::create(&crate::db::Db::from_context()?, scope, &name, &first_question, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/trees/get", input = Json)]
pub async fn open_tree(tree_id: i64) -> Result<TreeDetail, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::detail(&crate::db::Db::from_context()?, scope, tree_id).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/trees/save", input = Json)]
pub async fn save_tree(tree_id: i64, name: String, tree: ArgumentTree) -> Result<SavedTree, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::save(&crate::db::Db::from_context()?, scope, tree_id, &name, &tree, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/trees/delete", input = Json)]
pub async fn delete_tree(tree_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageCampaigns).await?.tenant_scope(None)?;
            super::store::delete(&crate::db::Db::from_context()?, scope, tree_id).await
        }
        .await,
    )
}
