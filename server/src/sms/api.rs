//! The gateway API: what `relais gateway` on a group's computer asks the dispatcher, over HTTP,
//! authenticated by the group's token (`Authorization: Bearer …`). Every call speaks for the
//! token's group only: a modem of another group is unknown here.

use axum::extract::{Json, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use serde::{Deserialize, Serialize};

use app::db::{Db, now_ms};
use app::sms::dispatch::Rules;
use app::sms::{Inbound, ModemReport, PartReport, groups};

use super::dispatcher::GroupDispatcher;
use super::gateway::{DispatchLink, LinkError};

#[derive(Clone)]
struct GatewayApi {
    db: Db,
    rules: Rules,
}

#[derive(Serialize, Deserialize)]
pub struct LeaseRequest {
    pub imei: String,
}

#[derive(Serialize, Deserialize)]
pub struct ReportRequest {
    pub imei: String,
    pub report: PartReport,
    /// Lease the modem's next message if this one is over (gateways before it never ask).
    #[serde(default)]
    pub then_lease: bool,
}

#[derive(Serialize, Deserialize)]
pub struct InboundRequest {
    pub imei: String,
    pub items: Vec<Inbound>,
}

/// The routes, to nest under `/api/gateway`.
pub fn router<S>(db: Db, rules: Rules) -> Router<S> {
    Router::new()
        .route("/modem-status", post(modem_status))
        .route("/lease", post(lease))
        .route("/report", post(report))
        .route("/inbound", post(inbound))
        .with_state(GatewayApi { db, rules })
}

/// The dispatcher of the group whose token the request carries.
async fn dispatcher(api: &GatewayApi, headers: &HeaderMap) -> Result<GroupDispatcher, Response> {
    let token = headers
        .get(header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.strip_prefix("Bearer "))
        .ok_or_else(|| refuse(LinkError::Unauthorised))?;
    match groups::authenticate(&api.db, token.trim(), now_ms()).await {
        Ok(Some(group)) => Ok(GroupDispatcher::new(api.db.clone(), group.id, api.rules)),
        Ok(None) => Err(refuse(LinkError::Unauthorised)),
        Err(error) => Err(refuse(LinkError::Server(error.to_string()))),
    }
}

fn refuse(error: LinkError) -> Response {
    let status = match &error {
        LinkError::Unauthorised => StatusCode::UNAUTHORIZED,
        LinkError::UnknownModem(_) => StatusCode::NOT_FOUND,
        LinkError::Unreachable(_) | LinkError::Server(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    (status, Json(error)).into_response()
}

fn answer<T: Serialize>(result: Result<T, LinkError>) -> Response {
    match result {
        Ok(value) => Json(value).into_response(),
        Err(error) => refuse(error),
    }
}

async fn modem_status(State(api): State<GatewayApi>, headers: HeaderMap, Json(report): Json<ModemReport>) -> Response {
    match dispatcher(&api, &headers).await {
        Ok(dispatcher) => answer(dispatcher.modem_status(&report).await),
        Err(refused) => refused,
    }
}

async fn lease(State(api): State<GatewayApi>, headers: HeaderMap, Json(request): Json<LeaseRequest>) -> Response {
    match dispatcher(&api, &headers).await {
        Ok(dispatcher) => answer(dispatcher.lease(&request.imei).await),
        Err(refused) => refused,
    }
}

async fn report(State(api): State<GatewayApi>, headers: HeaderMap, Json(request): Json<ReportRequest>) -> Response {
    match dispatcher(&api, &headers).await {
        Ok(dispatcher) => answer(dispatcher.report(&request.imei, &request.report, request.then_lease).await),
        Err(refused) => refused,
    }
}

async fn inbound(State(api): State<GatewayApi>, headers: HeaderMap, Json(request): Json<InboundRequest>) -> Response {
    match dispatcher(&api, &headers).await {
        Ok(dispatcher) => answer(dispatcher.inbound(&request.imei, &request.items).await),
        Err(refused) => refused,
    }
}
