//! Demo data: a call centre with one user per profile, its ACD queues and agents, its CRM
//! (`crm`), and a second company to show that tenants do not see each other; and the PBX
//! simulator the demo's dashboard watches. Seeding is idempotent: an existing demo is left as it is.

mod crm;
pub mod sms;

use std::path::{Path, PathBuf};

use anyhow::Context;
use app::acd::queues::{self, DEFAULT_PBX, QueueSettings};
use app::auth::ProfileKind;
use app::auth::guard::TenantScope;
use app::db::{Db, now_ms};
use app::error::AppError;
use app::tenants::{self, NewTenant};
use app::users::{self, NewUser};
use server::pbx::sim::{self, SimConfig};

use crate::cli::{PbxSpec, ServeArgs};

pub const DEMO_TENANT: &str = "Demo Call Centre";
pub const OTHER_TENANT: &str = "Other Company";

/// (tenant, login, first name, last name, profile, own phone)
const USERS: &[(Option<&str>, &str, &str, &str, ProfileKind, &str)] = &[
    (None, "admin", "Olivia", "Martin", ProfileKind::OperatorAdmin, ""),
    (Some(DEMO_TENANT), "supervisor", "Sophie", "Bernard", ProfileKind::Supervisor, "PJSIP/2001"),
    (Some(DEMO_TENANT), "agent", "Antoine", "Petit", ProfileKind::Agent, "PJSIP/1005"),
    (Some(DEMO_TENANT), "dept.head", "Denis", "Moreau", ProfileKind::DepartmentHead, ""),
    (Some(DEMO_TENANT), "accounting", "Alice", "Laurent", ProfileKind::Accounting, ""),
    (Some(DEMO_TENANT), "statistics", "Stéphane", "Roux", ProfileKind::Statistics, ""),
    (Some(DEMO_TENANT), "calllog", "Camille", "Fournier", ProfileKind::CallLog, ""),
    (Some(DEMO_TENANT), "incidents", "Isabelle", "Girard", ProfileKind::IncidentManager, ""),
    (Some(DEMO_TENANT), "forward", "François", "Lambert", ProfileKind::ExternalForward, ""),
    // The agents the PBX simulator starts with, as Relais users with the same phones.
    (Some(DEMO_TENANT), "alice", "Alice", "Martin", ProfileKind::Agent, "PJSIP/1001"),
    (Some(DEMO_TENANT), "bruno", "Bruno", "Petit", ProfileKind::Agent, "PJSIP/1002"),
    (Some(DEMO_TENANT), "chloe", "Chloé", "Durand", ProfileKind::Agent, "PJSIP/1003"),
    (Some(DEMO_TENANT), "david", "David", "Roux", ProfileKind::Agent, "PJSIP/1004"),
    (Some(OTHER_TENANT), "other.agent", "Oscar", "Klein", ProfileKind::Agent, ""),
];

/// The demo queues (as the simulator has them): name, description, strategy, supervisors,
/// agents (logins).
const QUEUES: &[(&str, &str, &str, &[&str], &[&str])] = &[
    ("support", "Customer support", "rrmemory", &["supervisor"], &["alice", "bruno", "chloe", "agent"]),
    ("sales", "Sales", "ringall", &["supervisor"], &["chloe", "david", "agent"]),
];

/// The tenants' first administrators: (tenant, login, first name, last name).
const TENANTS: &[(&str, &str, &str, &str)] = &[
    (DEMO_TENANT, "client.admin", "Claire", "Dubois"),
    (OTHER_TENANT, "other.admin", "Olga", "Weber"),
];

/// Seeds what is missing and returns the logins with their profile, for the banner.
pub async fn seed(db: &Db, password: &str, data_dir: &Path) -> Result<Vec<(String, String)>, AppError> {
    let now = now_ms();
    let mut logins = Vec::new();
    for (name, login, first_name, last_name) in TENANTS {
        if tenants::store::find_by_name(db, name).await?.is_none() {
            let tenant = NewTenant {
                name: name.to_string(),
                currency: "EUR".into(),
                time_zone: "Europe/Paris".into(),
                admin: new_user(login, first_name, last_name, password, vec![]),
            };
            tenants::store::create(db, &tenant, now).await?;
        }
        logins.push((login.to_string(), format!("{} ({name})", ProfileKind::ClientAdmin.code())));
    }
    for (tenant, login, first_name, last_name, profile, phone) in USERS {
        let tenant_id = match tenant {
            None => 1,
            Some(name) => tenants::store::find_by_name(db, name).await?.ok_or(AppError::NotFound)?,
        };
        let user = NewUser { own_phone: phone.to_string(), ..new_user(login, first_name, last_name, password, vec![*profile]) };
        match users::store::create(db, TenantScope::trusted(tenant_id), &user, now).await {
            Ok(_) | Err(AppError::Duplicate { .. }) => {}
            Err(error) => return Err(error),
        }
        logins.push((login.to_string(), format!("{} ({})", profile.code(), tenant.unwrap_or("Operator"))));
    }
    seed_queues(db, now).await?;
    let tenant = TenantScope::trusted(tenants::store::find_by_name(db, DEMO_TENANT).await?.ok_or(AppError::NotFound)?);
    let admin = users::store::list(db, tenant).await?.into_iter().find(|u| u.login == TENANTS[0].1).ok_or(AppError::NotFound)?;
    crm::seed(db, tenant, admin.id, data_dir, now).await?;
    sms::seed(db, tenant, now).await?;
    Ok(logins)
}

async fn seed_queues(db: &Db, now: i64) -> Result<(), AppError> {
    let tenant = TenantScope::trusted(tenants::store::find_by_name(db, DEMO_TENANT).await?.ok_or(AppError::NotFound)?);
    let existing = queues::store::list(db, tenant).await?;
    let people = users::store::list(db, tenant).await?;
    let ids = |logins: &[&str]| -> Vec<i64> { people.iter().filter(|u| logins.contains(&u.login.as_str())).map(|u| u.id).collect() };
    for (name, description, strategy, supervisors, agents) in QUEUES {
        if existing.iter().any(|q| q.settings.name == *name) {
            continue;
        }
        let settings = QueueSettings {
            name: name.to_string(),
            description: description.to_string(),
            strategy: strategy.to_string(),
            wrapup_secs: 5,
            supervisors: ids(supervisors),
            agents: ids(agents),
            ..Default::default()
        };
        queues::store::create(db, tenant, &settings, now).await?;
    }
    Ok(())
}

/// What the demo's PBX simulator listens on, for the banner.
pub struct DemoPbx {
    pub address: std::net::SocketAddr,
    pub queue_log: PathBuf,
}

/// Starts the PBX simulator beside the server (unless a real PBX is configured) and points
/// the server's bridge and importers at it.
pub async fn start_pbx(data_dir: &Path, serve: &mut ServeArgs) -> anyhow::Result<Option<DemoPbx>> {
    if !serve.pbx.is_empty() {
        return Ok(None);
    }
    let secret = {
        use rand::Rng;
        let bytes: [u8; 12] = rand::thread_rng().r#gen();
        bytes.iter().map(|b| format!("{b:02x}")).collect::<String>()
    };
    let queue_log = data_dir.join("pbx").join("queue_log");
    let cdr_csv = data_dir.join("pbx").join("Master.csv");
    let config = SimConfig {
        queue_log: Some(queue_log.clone()),
        cdr_csv: Some(cdr_csv.clone()),
        ..SimConfig::demo("relais", &secret)
    };
    let listen: std::net::SocketAddr = std::env::var("RELAIS_DEMO_PBX_LISTEN")
        .unwrap_or_else(|_| "127.0.0.1:0".into())
        .parse()
        .context("RELAIS_DEMO_PBX_LISTEN must be HOST:PORT")?;
    let simulator = sim::start(config, listen).await?;
    serve.pbx = vec![PbxSpec {
        name: DEFAULT_PBX.into(),
        username: "relais".into(),
        secret,
        address: simulator.address.to_string(),
    }];
    serve.queue_logs = vec![(DEFAULT_PBX.into(), queue_log.clone())];
    serve.cdr_files = vec![(DEFAULT_PBX.into(), cdr_csv)];
    Ok(Some(DemoPbx { address: simulator.address, queue_log }))
}

fn new_user(login: &str, first_name: &str, last_name: &str, password: &str, profiles: Vec<ProfileKind>) -> NewUser {
    NewUser {
        login: login.into(),
        first_name: first_name.into(),
        last_name: last_name.into(),
        password: password.into(),
        profiles,
        own_phone: String::new(),
    }
}

pub fn banner(url: &str, password: &str, logins: &[(String, String)], pbx: &Option<DemoPbx>, modems: &Option<sms::DemoModems>) -> String {
    let mut text = format!("\nRelais demo is running at {url}\n");
    if let Some(rack) = modems {
        let ports: Vec<&str> = rack.modems.iter().map(|m| m.path.as_str()).collect();
        text.push_str(&format!("Simulated GSM modems: {}\n", ports.join(", ")));
    }
    if let Some(pbx) = pbx {
        text.push_str(&format!(
            "PBX simulator: AMI on {}, queue_log at {}\n",
            pbx.address,
            pbx.queue_log.display()
        ));
    }
    text.push_str(&format!("Demo logins (password: {password}):\n"));
    for (login, what) in logins {
        text.push_str(&format!("  {login:<14} {what}\n"));
    }
    text
}

#[cfg(test)]
mod tests {
    use app::crm::stats::{self, CampaignStatsFilter};
    use app::crm::{contacts, sales};
    use app::db::testing::each_backend;

    use super::*;

    /// The demo seeds on both backends, the CRM pages have something to show, and starting the
    /// demo again changes nothing.
    #[tokio::test]
    async fn the_demo_fills_the_crm_once() {
        for db in each_backend().await {
            let data_dir = tempfile::tempdir().unwrap();
            seed(&db, "demo-password", data_dir.path()).await.unwrap();
            seed(&db, "demo-password", data_dir.path()).await.unwrap();
            let tenant = TenantScope::trusted(tenants::store::find_by_name(&db, DEMO_TENANT).await.unwrap().unwrap());

            let bases = contacts::store::list(&db, tenant).await.unwrap();
            assert_eq!(bases.len(), 1, "seeded once");
            let racks: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM modem_groups WHERE started = 1").fetch_one(db.pool()).await.unwrap();
            assert_eq!(racks, 1, "one started demo rack");
            assert_eq!(app::sms::credit::get(&db, tenant.tenant_id()).await.unwrap().balance, 5_000, "credit given once");
            assert_eq!((bases[0].name.as_str(), bases[0].contacts, bases[0].rejected), (crm::DEMO_BASE, 150, 3));

            let filter = CampaignStatsFilter { campaign_id: 0, agent_id: None, period: None };
            let report = stats::store::report(&db, tenant, &filter, now_ms()).await.unwrap();
            assert_eq!(report.calls, 72, "two agents, four days, nine calls a day");
            assert_eq!(report.per_agent.iter().map(|a| a.calls).sum::<i64>(), 72);
            assert!(report.appointments > 0 && report.contracts > 0 && report.callbacks > 0, "{report:?}");
            assert_eq!(report.booked.iter().map(|(_, n)| n).sum::<i64>(), report.appointments);
            assert_eq!(report.funnel[0].reached, report.contacted, "every reached contact hears Q1");
            assert!(report.questions.iter().all(|q| q.answered > 0), "{:?}", report.questions);

            let people = sales::store::list(&db, tenant, now_ms()).await.unwrap();
            assert_eq!(people.iter().map(|p| p.booked).sum::<i64>(), report.appointments);
        }
    }
}
