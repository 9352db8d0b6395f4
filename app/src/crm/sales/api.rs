//! Server functions for field sales people: thin, each checks the permission and takes the
//! tenant scope from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{Agenda, SalesAdmin, SalesPersonSettings};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "crm/sales/list", input = Json)]
pub async fn list_sales_people() -> Result<SalesAdmin, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            Ok(SalesAdmin { people: super::store::list(&db, scope, crate::db::now_ms()).await? })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/sales/create", input = Json)]
pub async fn create_sales_person(settings: SalesPersonSettings) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::create(&crate::db::Db::from_context()?, scope, &settings).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/sales/update", input = Json)]
pub async fn update_sales_person(id: i64, settings: SalesPersonSettings) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::update(&crate::db::Db::from_context()?, scope, id, &settings).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/sales/delete", input = Json)]
pub async fn delete_sales_person(id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::delete(&crate::db::Db::from_context()?, scope, id).await
        }
        .await,
    )
}

/// `first_day` empty: from today.
#[server(prefix = "/api", endpoint = "crm/sales/agenda", input = Json)]
pub async fn sales_agenda(id: i64, first_day: String) -> Result<Agenda, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::agenda(&crate::db::Db::from_context()?, scope, id, &first_day, crate::db::now_ms()).await
        }
        .await,
    )
}
