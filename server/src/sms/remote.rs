//! The dispatcher seen from a remote group's computer: the gateway API over HTTP(S).

use std::time::Duration;

use app::sms::{GroupOrders, Inbound, Lease, ModemReport, PartReport, ReportReply};
use reqwest::StatusCode;
use serde::Serialize;
use serde::de::DeserializeOwned;

use super::api::{InboundRequest, LeaseRequest, ReportRequest};
use super::gateway::{DispatchLink, LinkError};

pub struct RemoteDispatcher {
    client: reqwest::Client,
    base: String,
    token: String,
}

impl RemoteDispatcher {
    /// `server` is Relais's public URL, e.g. `https://relais.example.com`.
    pub fn new(server: &str, token: &str) -> Result<Self, LinkError> {
        // One process-wide TLS provider (ring); installing it twice is harmless.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|error| LinkError::Unreachable(error.to_string()))?;
        Ok(RemoteDispatcher { client, base: format!("{}/api/gateway", server.trim_end_matches('/')), token: token.to_string() })
    }

    async fn call<B: Serialize, T: DeserializeOwned>(&self, path: &str, body: &B) -> Result<T, LinkError> {
        let response = self
            .client
            .post(format!("{}/{path}", self.base))
            .bearer_auth(&self.token)
            .json(body)
            .send()
            .await
            .map_err(|error| LinkError::Unreachable(error.to_string()))?;
        match response.status() {
            StatusCode::OK => response.json().await.map_err(|error| LinkError::Unreachable(error.to_string())),
            StatusCode::UNAUTHORIZED => Err(LinkError::Unauthorised),
            status => match response.json::<LinkError>().await {
                Ok(error) => Err(error),
                Err(_) => Err(LinkError::Server(format!("HTTP {status}"))),
            },
        }
    }
}

impl DispatchLink for RemoteDispatcher {
    async fn modem_status(&self, report: &ModemReport) -> Result<GroupOrders, LinkError> {
        self.call("modem-status", report).await
    }

    async fn lease(&self, imei: &str) -> Result<Option<Lease>, LinkError> {
        self.call("lease", &LeaseRequest { imei: imei.to_string() }).await
    }

    async fn report(&self, imei: &str, report: &PartReport, then_lease: bool) -> Result<ReportReply, LinkError> {
        self.call("report", &ReportRequest { imei: imei.to_string(), report: report.clone(), then_lease }).await
    }

    async fn inbound(&self, imei: &str, items: &[Inbound]) -> Result<(), LinkError> {
        self.call("inbound", &InboundRequest { imei: imei.to_string(), items: items.to_vec() }).await
    }
}
