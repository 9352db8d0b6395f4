//! The dispatcher as one group's gateway sees it: the database behind the gateway API, and the
//! link of a gateway running inside the server for modems attached to it. Also the sweep that
//! ends leases nobody renews and withdraws what went back to a deactivated campaign's queue.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use app::db::{Db, now_ms};
use app::error::AppError;
use app::sms::dispatch::{self, Rules};
use app::sms::{GroupOrders, Inbound, Lease, ModemReport, PartReport, ReportReply, groups};

use super::gateway::{DispatchLink, LinkError};

/// One group's dispatcher: everything a gateway may ask, for its own modems only.
pub struct GroupDispatcher {
    db: Db,
    group_id: i64,
    rules: Rules,
    /// IMEI → modem id, learnt from monitoring rounds.
    modems: Mutex<HashMap<String, i64>>,
}

impl GroupDispatcher {
    pub fn new(db: Db, group_id: i64, rules: Rules) -> Self {
        GroupDispatcher { db, group_id, rules, modems: Mutex::new(HashMap::new()) }
    }

    async fn modem_id(&self, imei: &str) -> Result<i64, LinkError> {
        if let Some(id) = self.modems.lock().expect("modem ids").get(imei) {
            return Ok(*id);
        }
        let id = groups::modem_of_group(&self.db, self.group_id, imei).await.map_err(server_error)?.ok_or_else(|| LinkError::UnknownModem(imei.to_string()))?;
        self.modems.lock().expect("modem ids").insert(imei.to_string(), id);
        Ok(id)
    }
}

fn server_error(error: AppError) -> LinkError {
    LinkError::Server(error.to_string())
}

impl DispatchLink for GroupDispatcher {
    async fn modem_status(&self, report: &ModemReport) -> Result<GroupOrders, LinkError> {
        let now = now_ms();
        groups::touch(&self.db, self.group_id, now).await.map_err(server_error)?;
        let id = groups::record_modem(&self.db, self.group_id, &report.port, &report.status, &report.error, now).await.map_err(server_error)?;
        if let (Some(id), Some(imei)) = (id, &report.status.imei) {
            self.modems.lock().expect("modem ids").insert(imei.clone(), id);
        }
        groups::orders(&self.db, self.group_id).await.map_err(server_error)
    }

    async fn lease(&self, imei: &str) -> Result<Option<Lease>, LinkError> {
        let modem_id = self.modem_id(imei).await?;
        dispatch::lease(&self.db, modem_id, &self.rules, now_ms()).await.map_err(server_error)
    }

    async fn report(&self, imei: &str, report: &PartReport, then_lease: bool) -> Result<ReportReply, LinkError> {
        let modem_id = self.modem_id(imei).await?;
        dispatch::report(&self.db, modem_id, report, then_lease, &self.rules, now_ms()).await.map_err(server_error)
    }

    async fn inbound(&self, imei: &str, items: &[Inbound]) -> Result<(), LinkError> {
        let modem_id = self.modem_id(imei).await?;
        let unmatched = dispatch::inbound(&self.db, modem_id, items, now_ms()).await.map_err(server_error)?;
        if unmatched > 0 {
            tracing::info!(imei, unmatched, "status reports for no part we know of");
        }
        Ok(())
    }
}

/// Every `every`, for as long as the server runs: ends expired leases, withdraws messages that
/// went back to the queue of a deactivated campaign, and finishes campaigns with nothing left.
pub fn spawn_lease_sweep(db: Db, every: Duration) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            match dispatch::expire_leases(&db, now_ms()).await {
                Ok(0) => {}
                Ok(ended) => tracing::warn!(ended, "leases expired: their gateways went silent"),
                Err(error) => tracing::error!(%error, "cannot sweep expired leases"),
            }
            if let Err(error) = dispatch::withdraw_stopped(&db, now_ms()).await {
                tracing::error!(%error, "cannot withdraw the messages of deactivated campaigns");
            }
            if let Err(error) = dispatch::finish_campaigns(&db, now_ms()).await {
                tracing::error!(%error, "cannot finish the campaigns with nothing left to send");
            }
        }
    })
}
