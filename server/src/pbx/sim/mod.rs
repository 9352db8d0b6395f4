//! The PBX simulator (`relais sim pbx`): the other side of the AMI wire, speaking it as
//! Asterisk does for what Relais uses, with generated queue traffic written to a queue_log
//! and a CDR `Master.csv` in Asterisk's formats.
//!
//! - `world.rs`: queues, members, callers and channels, and every event a change produces
//!   (fields and order as in the captures of a real Asterisk under `shared/fixtures`).
//! - `traffic.rs`: callers arriving, agents ringing, talking and wrapping up, abandons,
//!   timeouts, pauses and calls placed by agents.
//! - `server.rs`: the manager interface (banner, login, actions, event lists, events).

mod server;
mod traffic;
mod world;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use anyhow::Context;
use tokio::net::TcpListener;
use tokio::sync::broadcast;

pub use world::World;

#[derive(Clone, Debug)]
pub struct SimAgent {
    /// Queue interface, e.g. `PJSIP/1001`.
    pub interface: String,
    pub name: String,
}

#[derive(Clone, Debug)]
pub struct SimQueue {
    pub name: String,
    pub strategy: String,
    /// Members logged in when the simulator starts.
    pub members: Vec<SimAgent>,
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub username: String,
    pub secret: String,
    pub queues: Vec<SimQueue>,
    /// New callers per minute, over all queues.
    pub calls_per_minute: f64,
    /// Mean talk time (exponential, at least 5 s).
    pub talk_secs: f64,
    /// Mean caller patience before abandoning (exponential, at least 3 s).
    pub patience_secs: f64,
    /// A caller still waiting after this long leaves with EXITWITHTIMEOUT.
    pub max_wait_secs: u64,
    pub wrapup_secs: u64,
    /// Share of ring attempts the agent does not answer.
    pub no_answer_ratio: f64,
    /// Calls each idle agent places per hour.
    pub outbound_per_agent_hour: f64,
    /// Pauses each idle agent takes per hour.
    pub pauses_per_agent_hour: f64,
    pub queue_log: Option<PathBuf>,
    pub cdr_csv: Option<PathBuf>,
    /// The PBX's local time zone (CDR times are local).
    pub time_zone: jiff::tz::TimeZone,
    pub seed: u64,
    /// Generate traffic; without it the PBX only answers actions (tests drive it).
    pub traffic: bool,
}

impl SimConfig {
    /// A small call centre: two queues and five agents, one of them in both queues.
    pub fn demo(username: &str, secret: &str) -> SimConfig {
        let agent = |ext: u32, name: &str| SimAgent { interface: format!("PJSIP/{ext}"), name: name.to_string() };
        SimConfig {
            username: username.to_string(),
            secret: secret.to_string(),
            queues: vec![
                SimQueue {
                    name: "support".into(),
                    strategy: "rrmemory".into(),
                    members: vec![agent(1001, "Alice Martin"), agent(1002, "Bruno Petit"), agent(1003, "Chloé Durand")],
                },
                SimQueue {
                    name: "sales".into(),
                    strategy: "ringall".into(),
                    members: vec![agent(1003, "Chloé Durand"), agent(1004, "David Roux")],
                },
            ],
            calls_per_minute: 6.0,
            talk_secs: 45.0,
            patience_secs: 90.0,
            max_wait_secs: 300,
            wrapup_secs: 5,
            no_answer_ratio: 0.1,
            outbound_per_agent_hour: 4.0,
            pauses_per_agent_hour: 2.0,
            queue_log: None,
            cdr_csv: None,
            time_zone: jiff::tz::TimeZone::get("Europe/Paris").unwrap_or(jiff::tz::TimeZone::UTC),
            seed: 1,
            traffic: true,
        }
    }
}

/// A running simulator: its address and its world (tests look inside).
pub struct Simulator {
    pub address: SocketAddr,
    pub world: Arc<Mutex<World>>,
}

/// Binds the manager port and starts serving and generating traffic.
pub async fn start(config: SimConfig, listen: SocketAddr) -> anyhow::Result<Simulator> {
    let listener = TcpListener::bind(listen).await.with_context(|| format!("cannot listen on {listen}"))?;
    let address = listener.local_addr()?;
    let (events, _) = broadcast::channel(16_384);
    let world = Arc::new(Mutex::new(World::new(&config, events.clone())?));
    tokio::spawn(server::serve(listener, config.clone(), world.clone(), events));
    if config.traffic {
        tokio::spawn(traffic::run(config, world.clone()));
    }
    tracing::info!(%address, "PBX simulator listening (AMI)");
    Ok(Simulator { address, world })
}
