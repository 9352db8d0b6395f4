//! Server functions for user management. `tenant_id` is only honoured for operator
//! administrators; the guard refuses it from anyone else.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{NewUser, UserSummary, UserUpdate};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "users/list", input = Json)]
pub async fn list_users(tenant_id: Option<i64>) -> Result<Vec<UserSummary>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageUsers).await?.tenant_scope(tenant_id)?;
            super::store::list(&crate::db::Db::from_context()?, scope).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "users/create", input = Json)]
pub async fn create_user(tenant_id: Option<i64>, user: NewUser) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let scope = require(Permission::ManageUsers).await?.tenant_scope(tenant_id)?;
            super::store::create(&Db::from_context()?, scope, &user, now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "users/update", input = Json)]
pub async fn update_user(
    tenant_id: Option<i64>,
    user_id: i64,
    update: UserUpdate,
) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::ManageUsers).await?;
            let scope = session.tenant_scope(tenant_id)?;
            super::store::update(&crate::db::Db::from_context()?, scope, session.user.user_id, user_id, &update)
                .await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "users/reset_password", input = Json)]
pub async fn reset_user_password(
    tenant_id: Option<i64>,
    user_id: i64,
    password: String,
) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let scope = require(Permission::ManageUsers).await?.tenant_scope(tenant_id)?;
            super::store::reset_password(&Db::from_context()?, scope, user_id, &password, now_ms()).await
        }
        .await,
    )
}
