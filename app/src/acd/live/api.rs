//! The dashboard's server functions: a WebSocket that pushes the supervised queues on every
//! change, and the supervisor's actions.

use leptos::prelude::*;
use server_fn::codec::{Json, JsonEncoding};
use server_fn::{BoxedStream, Websocket};

use super::{Dashboard, DashboardAction, DashboardRequest};
use crate::error::AppError;

#[server(protocol = Websocket<JsonEncoding, JsonEncoding>, prefix = "/api", endpoint = "acd/live")]
pub async fn live_dashboard(
    input: BoxedStream<DashboardRequest, AppError>,
) -> Result<BoxedStream<Dashboard, AppError>, AppError> {
    use crate::auth::{Permission, guard::require};
    let session = require(Permission::SuperviseQueues).await?;
    let scope = session.tenant_scope(None)?;
    // No queue of stale boards: the feed waits for the socket and then sends the newest.
    let (sender, receiver) = futures::channel::mpsc::channel(0);
    let feed = super::feed::Feed {
        db: crate::db::Db::from_context()?,
        auth: crate::auth::guard::settings(),
        token: session.token,
        user: session.user,
        scope,
        bridge: crate::acd::bridge::from_context().ok(),
    };
    tokio::spawn(feed.run(input.into(), sender));
    Ok(receiver.into())
}

#[server(prefix = "/api", endpoint = "acd/act", input = Json)]
pub async fn act_on_queue(queue_id: i64, action: DashboardAction) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::SuperviseQueues).await?;
            let scope = session.tenant_scope(None)?;
            let bridge = crate::acd::bridge::from_context()?;
            let db = crate::db::Db::from_context()?;
            super::control::perform(&db, bridge.as_ref(), &session.user, scope, queue_id, action).await
        }
        .await,
    )
}
