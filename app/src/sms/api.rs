//! Server functions of the SMS pages. Modem groups are the operator's hardware: their functions
//! ask for `ManageModems` and an operator account.

use leptos::prelude::*;
use server_fn::codec::{Json, JsonEncoding};
use server_fn::{BoxedStream, Websocket};

use super::GroupSettings;
use super::monitor::{BoardRequest, ModemBoard};
use crate::error::AppError;

/// The operator's session, or why not.
#[cfg(feature = "ssr")]
async fn operator(permission: crate::auth::Permission) -> Result<crate::auth::guard::Session, AppError> {
    let session = crate::auth::guard::require(permission).await?;
    if !session.user.is_operator {
        return Err(AppError::Forbidden);
    }
    Ok(session)
}

#[server(protocol = Websocket<JsonEncoding, JsonEncoding>, prefix = "/api", endpoint = "sms/groups/live")]
pub async fn live_modems(input: BoxedStream<BoardRequest, AppError>) -> Result<BoxedStream<ModemBoard, AppError>, AppError> {
    use crate::auth::Permission;
    let session = operator(Permission::ManageModems).await?;
    let (sender, receiver) = futures::channel::mpsc::channel(0);
    let db = crate::db::Db::from_context()?;
    tokio::spawn(super::monitor::feed::run(db, crate::auth::guard::settings(), session.token, input.into(), sender));
    Ok(receiver.into())
}

/// A new group and its gateway's token, shown this once.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct GroupToken {
    pub group_id: i64,
    pub token: String,
}

#[server(prefix = "/api", endpoint = "sms/groups/create", input = Json)]
pub async fn create_modem_group(settings: GroupSettings) -> Result<GroupToken, AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageModems).await?;
            let db = crate::db::Db::from_context()?;
            let s = &settings;
            let (group_id, token) = super::groups::create(&db, &s.mac, &s.alias, s.modem_count, s.parts_per_minute, crate::db::now_ms()).await?;
            Ok(GroupToken { group_id, token })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/groups/update", input = Json)]
pub async fn update_modem_group(group_id: i64, settings: GroupSettings) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageModems).await?;
            let s = &settings;
            super::groups::update(&crate::db::Db::from_context()?, group_id, &s.mac, &s.alias, s.modem_count, s.parts_per_minute).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/groups/delete", input = Json)]
pub async fn delete_modem_group(group_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageModems).await?;
            super::groups::delete(&crate::db::Db::from_context()?, group_id).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/groups/start", input = Json)]
pub async fn start_modem_group(group_id: i64, started: bool) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageModems).await?;
            super::groups::set_started(&crate::db::Db::from_context()?, group_id, started).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/groups/token", input = Json)]
pub async fn renew_modem_group_token(group_id: i64) -> Result<GroupToken, AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageModems).await?;
            let token = super::groups::renew_token(&crate::db::Db::from_context()?, group_id).await?;
            Ok(GroupToken { group_id, token })
        }
        .await,
    )
}

/// Every tenant's SMS credit: the operator's view.
#[server(prefix = "/api", endpoint = "sms/credit/tenants", input = Json)]
pub async fn tenant_credits() -> Result<Vec<super::TenantCredit>, AppError> {
    use crate::auth::{Permission, guard::respond};
    respond(
        async move {
            operator(Permission::ManageTenants).await?;
            super::credit::tenants(&crate::db::Db::from_context()?, crate::db::now_ms()).await
        }
        .await,
    )
}

/// The currency of the tenant the operator names, through the scope the session allows.
#[cfg(feature = "ssr")]
async fn credited_tenant(tenant_id: i64) -> Result<(crate::db::Db, crate::auth::guard::TenantScope, String), AppError> {
    let session = operator(crate::auth::Permission::ManageTenants).await?;
    let scope = session.tenant_scope(Some(tenant_id))?;
    let db = crate::db::Db::from_context()?;
    let currency: Option<String> = sqlx::query_scalar("SELECT currency FROM tenants WHERE id = $1").bind(scope.tenant_id()).fetch_optional(db.pool()).await?;
    Ok((db, scope, currency.ok_or(AppError::NotFound)?))
}

/// Adds credit to a tenant; `amount` as typed, in the tenant's currency.
#[server(prefix = "/api", endpoint = "sms/credit/top-up", input = Json)]
pub async fn top_up_credit(tenant_id: i64, amount: String) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    use crate::error::{Field, Problem};
    respond(
        async move {
            let (db, scope, currency) = credited_tenant(tenant_id).await?;
            let amount = crate::money::parse(&amount, &currency)
                .filter(|a| (1..=super::credit::MAX_TOP_UP).contains(a))
                .ok_or(AppError::invalid(Field::Amount, Problem::NotAnAmount))?;
            super::credit::top_up(&db, scope.tenant_id(), amount, crate::db::now_ms()).await.map(|_| ())
        }
        .await,
    )
}

/// Sets the price of one SMS part for a tenant; `price` as typed, in the tenant's currency.
#[server(prefix = "/api", endpoint = "sms/credit/price", input = Json)]
pub async fn set_part_price(tenant_id: i64, price: String) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    use crate::error::{Field, Problem};
    respond(
        async move {
            let (db, scope, currency) = credited_tenant(tenant_id).await?;
            let price = crate::money::parse(&price, &currency)
                .filter(|p| (0..=super::credit::MAX_PART_PRICE).contains(p))
                .ok_or(AppError::invalid(Field::PartPrice, Problem::NotAnAmount))?;
            super::credit::set_part_price(&db, scope.tenant_id(), price).await
        }
        .await,
    )
}
