//! Demo SMS: a rack of simulated GSM modems beside the server, driven by the gateway inside it,
//! prepaid credit for the demo tenant, and two campaigns on the demo base: one activated at the
//! first start (its messages go out over the next minutes, replies come back), one draft.

use std::time::Duration;

use anyhow::Context;
use app::auth::guard::TenantScope;
use app::db::Db;
use app::error::AppError;
use app::sms::campaigns::{SmsCampaignSettings, store as campaigns};
use app::sms::{credit, groups};
use server::sms::sim::{SimModem, SimModemConfig};

use crate::cli::ServeArgs;

/// The demo rack's MAC address (a locally administered one).
pub const DEMO_RACK_MAC: &str = "02:00:00:00:00:01";
const DEMO_RACK_MODEMS: u32 = 4;
/// Credit given to the demo tenant on first start: 50.00 €.
const DEMO_CREDIT: i64 = 5_000;

/// Creates the demo rack (started) and the demo tenant's credit, once.
pub async fn seed(db: &Db, tenant: TenantScope, now: i64) -> Result<(), AppError> {
    match groups::create(db, DEMO_RACK_MAC, "Baie de démonstration", DEMO_RACK_MODEMS, 24, now).await {
        Ok((id, _token)) => groups::set_started(db, id, true).await?,
        Err(AppError::Duplicate { .. }) => {}
        Err(error) => return Err(error),
    }
    let has_credit: Option<i64> = sqlx::query_scalar("SELECT tenant_id FROM sms_credit WHERE tenant_id = $1").bind(tenant.tenant_id()).fetch_optional(db.pool()).await?;
    if has_credit.is_none() {
        credit::top_up(db, tenant.tenant_id(), DEMO_CREDIT, now).await?;
    }
    if campaigns::list(db, tenant).await?.is_empty() {
        let base_id = campaigns::bases(db, tenant).await?.into_iter().find(|b| b.name == super::crm::DEMO_BASE).ok_or(AppError::NotFound)?.id;
        let running = SmsCampaignSettings {
            name: "Soldes de Noël".into(),
            base_id,
            template: "Bonjour {first_name}, -20 % sur toute la boutique de {Ville} jusqu'au 24 décembre ! Répondez STOP pour ne plus recevoir nos SMS.".into(),
            status_reports: true,
        };
        let id = campaigns::create(db, tenant, &running, now).await?;
        campaigns::activate(db, tenant, id, now).await?;
        let draft = SmsCampaignSettings {
            name: "Vœux 2027".into(),
            base_id,
            template: "{first_name}, toute l'équipe vous souhaite une belle année 2027 ✨".into(),
            status_reports: true,
        };
        campaigns::create(db, tenant, &draft, now).await?;
    }
    Ok(())
}

/// The simulated modems; they are unplugged when this is dropped.
pub struct DemoModems {
    pub modems: Vec<SimModem>,
}

/// Plugs in the demo rack's simulated modems (unless modems are configured) and has the
/// server's own gateway drive them: real-looking latencies, a few refusals and undelivered
/// messages, and a fourth modem without its SIM.
pub fn start_modems(serve: &mut ServeArgs) -> anyhow::Result<Option<DemoModems>> {
    if !serve.local_modems.is_empty() {
        return Ok(None);
    }
    let mut modems = Vec::new();
    for number in 1..=DEMO_RACK_MODEMS {
        let config = SimModemConfig {
            sim_present: number != DEMO_RACK_MODEMS,
            rssi: 12 + 4 * number as u8,
            send_latency: Duration::from_millis(2_500 + 500 * u64::from(number)),
            failure_rate: 0.02,
            undelivered_rate: 0.05,
            report_delay: Duration::from_secs(4),
            reply_rate: 0.1,
            ..SimModemConfig::numbered(number)
        };
        modems.push(SimModem::spawn(config).context("cannot open a pseudo-terminal for a simulated modem")?);
    }
    serve.local_modems = modems.iter().map(|m| m.path.clone()).collect();
    serve.local_modem_group = Some(DEMO_RACK_MAC.into());
    Ok(Some(DemoModems { modems }))
}
