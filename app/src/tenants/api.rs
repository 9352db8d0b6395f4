//! Server functions for tenant administration (operator administrators only).

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{NewTenant, TenantSummary};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "tenants/list", input = Json)]
pub async fn list_tenants() -> Result<Vec<TenantSummary>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            require(Permission::ManageTenants).await?;
            super::store::list(&crate::db::Db::from_context()?).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "tenants/create", input = Json)]
pub async fn create_tenant(tenant: NewTenant) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            require(Permission::ManageTenants).await?;
            super::store::create(&Db::from_context()?, &tenant, now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "tenants/set_active", input = Json)]
pub async fn set_tenant_active(tenant_id: i64, active: bool) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            require(Permission::ManageTenants).await?;
            super::store::set_active(&crate::db::Db::from_context()?, tenant_id, active).await
        }
        .await,
    )
}
