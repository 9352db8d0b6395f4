//! Server functions of the statistics pages.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{AcdReport, CdrReport, StatsFilter};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "acd/stats", input = Json)]
pub async fn acd_statistics(filter: StatsFilter) -> Result<AcdReport, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let session = require(Permission::AcdStatistics).await?;
            let scope = session.tenant_scope(None)?;
            let db = Db::from_context()?;
            let readable = super::store::readable_queues(&db, scope, &session.user).await?;
            super::store::acd_report(&db, scope, &readable, &filter, now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "acd/calls", input = Json)]
pub async fn call_statistics(year: i16, month: i8) -> Result<CdrReport, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::db::now_ms;
    respond(
        async move {
            let session = require(Permission::AcdStatistics).await?;
            let scope = session.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            let readable = super::store::readable_queues(&db, scope, &session.user).await?;
            super::store::cdr_report(&db, scope, &readable, year, month, now_ms()).await
        }
        .await,
    )
}
