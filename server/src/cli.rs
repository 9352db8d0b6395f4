//! Command line and configuration. Every setting is a flag with an environment variable of the
//! same name (README lists them all).

use std::io::BufRead;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Instant;

use anyhow::{Context, bail};
use app::auth::guard::{AuthSettings, TenantScope};
use app::auth::sessions::SessionSettings;
use app::auth::throttle::ThrottleSettings;
use app::auth::ProfileKind;
use app::db::{Db, now_ms};
use app::tenants::{self, NewTenant};
use app::users::{self, NewUser};
use clap::{Args, Parser, Subcommand};

use crate::{demo, serve};

#[derive(Parser)]
#[command(name = "relais", version, about = "Relais: call-centre CRM, SMS campaigns and Asterisk portal")]
pub struct Cli {
    #[command(flatten)]
    database: DatabaseArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct DatabaseArgs {
    /// Database URL: `sqlite://PATH` or `postgres://USER:PASSWORD@HOST:PORT/DB`.
    /// Default: the SQLite file `relais.db` in the data directory.
    #[arg(long, env = "RELAIS_DATABASE_URL", global = true)]
    database_url: Option<String>,
    /// Directory for the embedded database and other local files.
    #[arg(long, env = "RELAIS_DATA_DIR", default_value = "data", global = true)]
    data_dir: PathBuf,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (migrates the database first).
    Serve(ServeArgs),
    /// Apply database migrations and exit.
    Migrate,
    /// Administer users.
    #[command(subcommand)]
    User(UserCommand),
    /// Administer tenants.
    #[command(subcommand)]
    Tenant(TenantCommand),
    /// Seed demo tenants with one user per profile, start the PBX simulator, print the
    /// logins, and serve.
    Demo(DemoArgs),
    /// Simulators of the outside world, for demos and tests.
    #[command(subcommand)]
    Sim(SimCommand),
    /// Drive the GSM modems of a group's computer for the Relais server (the gateway agent).
    Gateway(GatewayArgs),
}

#[derive(Subcommand)]
enum SimCommand {
    /// An Asterisk PBX: AMI on TCP, generated queue traffic, queue_log and Master.csv files.
    Pbx(SimPbxArgs),
    /// Huawei E220 GSM modems on pseudo-terminals, answering AT commands as the real ones do.
    Modem(SimModemArgs),
}

#[derive(Args)]
pub struct SimModemArgs {
    /// How many modems.
    #[arg(long, default_value_t = 4)]
    count: u32,
    /// Number of the first modem (IMEIs and IMSIs follow from the number).
    #[arg(long, default_value_t = 1)]
    first: u32,
    /// From a PDU to the network's answer, in milliseconds (real modems: 3,000–10,000).
    #[arg(long, default_value_t = 4000)]
    latency_ms: u64,
    /// Share of parts refused with a transient network error.
    #[arg(long, default_value_t = 0.02)]
    failure_rate: f64,
    /// Share of accepted parts whose status report says "not delivered".
    #[arg(long, default_value_t = 0.05)]
    undelivered_rate: f64,
    /// From the network's answer to the status report, in milliseconds.
    #[arg(long, default_value_t = 5000)]
    report_delay_ms: u64,
    /// Numbers of modems that have no SIM.
    #[arg(long, value_delimiter = ',')]
    no_sim: Vec<u32>,
    /// Share of messages whose recipient answers (one answer in four is STOP).
    #[arg(long, default_value_t = 0.05)]
    reply_rate: f64,
    /// Where to write the modems' serial port paths, one per line (for `relais gateway --ports-file`).
    #[arg(long)]
    ports_file: Option<PathBuf>,
    /// Where to append every part the simulated network accepted, one JSON object per line.
    #[arg(long)]
    received_file: Option<PathBuf>,
}

#[derive(Args)]
pub struct SimPbxArgs {
    /// Address and port of the simulated manager interface (Asterisk's default is 5038).
    #[arg(long, env = "RELAIS_SIM_LISTEN", default_value = "127.0.0.1:5038")]
    listen: SocketAddr,
    #[arg(long, env = "RELAIS_SIM_USERNAME", default_value = "relais")]
    username: String,
    /// The manager secret Relais must log in with.
    #[arg(long, env = "RELAIS_SIM_SECRET")]
    secret: String,
    /// New callers per minute over all queues.
    #[arg(long, default_value_t = 6.0)]
    calls_per_minute: f64,
    /// Mean talk time in seconds.
    #[arg(long, default_value_t = 45.0)]
    talk_secs: f64,
    /// Mean caller patience before abandoning, in seconds.
    #[arg(long, default_value_t = 90.0)]
    patience_secs: f64,
    /// Callers waiting this long leave the queue (EXITWITHTIMEOUT).
    #[arg(long, default_value_t = 300)]
    max_wait_secs: u64,
    /// Where to append the queue_log.
    #[arg(long)]
    queue_log: Option<PathBuf>,
    /// Where to append the CDR (cdr_csv's Master.csv).
    #[arg(long)]
    cdr_csv: Option<PathBuf>,
    /// Seed of the traffic generator (same seed, same traffic shape).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Generate no traffic: only answer actions (callers come from `Originate` into
    /// `Local/QUEUE@incoming`). For tests.
    #[arg(long)]
    no_traffic: bool,
}

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address and port to listen on.
    #[arg(long, env = "RELAIS_ADDR", default_value = "127.0.0.1:3000")]
    pub addr: SocketAddr,
    /// The URL users reach Relais at; an https:// URL marks the session cookie Secure.
    #[arg(long, env = "RELAIS_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Folder of the built browser assets (cargo-leptos writes `target/site`).
    #[arg(long, env = "RELAIS_SITE_ROOT", default_value = "target/site")]
    pub site_root: String,
    /// A session unused for this many seconds ends.
    #[arg(long, env = "RELAIS_SESSION_IDLE_SECS", default_value_t = 600)]
    pub session_idle_secs: u64,
    /// A session ends after this many hours however active.
    #[arg(long, env = "RELAIS_SESSION_MAX_HOURS", default_value_t = 12)]
    pub session_max_hours: u64,
    /// Failed logins on one account, within the window, before it is locked.
    #[arg(long, env = "RELAIS_LOGIN_MAX_FAILURES_PER_ACCOUNT", default_value_t = 5)]
    pub login_max_failures_per_account: i64,
    /// Failed logins from one address, within the window, before it is locked.
    #[arg(long, env = "RELAIS_LOGIN_MAX_FAILURES_PER_ADDRESS", default_value_t = 20)]
    pub login_max_failures_per_address: i64,
    /// The window in which failed logins are counted, in seconds.
    #[arg(long, env = "RELAIS_LOGIN_WINDOW_SECS", default_value_t = 900)]
    pub login_window_secs: u64,
    /// How long a locked account or address stays locked, in seconds.
    #[arg(long, env = "RELAIS_LOGIN_LOCKOUT_SECS", default_value_t = 900)]
    pub login_lockout_secs: u64,
    /// Trust the last `X-Forwarded-For` hop as the client address (only behind a reverse proxy).
    #[arg(long, env = "RELAIS_TRUST_PROXY", default_value_t = false)]
    pub trust_proxy: bool,
    /// Largest request body accepted, in bytes (contact file uploads: see --upload-limit-mb).
    #[arg(long, env = "RELAIS_MAX_REQUEST_BYTES", default_value_t = 1_048_576)]
    pub max_request_bytes: usize,
    /// Largest contact file accepted for import, in megabytes.
    #[arg(long, env = "RELAIS_UPLOAD_LIMIT_MB", default_value_t = 200)]
    pub upload_limit_mb: u64,
    /// Asterisk manager connections, comma-separated: `NAME=USER:SECRET@HOST:PORT` (NAME may be
    /// left out for one PBX; it is then `main`).
    #[arg(long = "pbx", env = "RELAIS_PBX", value_delimiter = ',', value_parser = parse_pbx)]
    pub pbx: Vec<PbxSpec>,
    /// The dialplan context the agent desk's click-to-call dials contacts in (their number in
    /// E.164, `+33612345678`, as the extension).
    #[arg(long, env = "RELAIS_DIAL_CONTEXT", default_value = "from-internal")]
    pub dial_context: String,
    /// queue_log files to import, comma-separated `PBX=PATH`.
    #[arg(long = "queue-log", env = "RELAIS_QUEUE_LOG", value_delimiter = ',', value_parser = parse_file)]
    pub queue_logs: Vec<(String, PathBuf)>,
    /// CDR files (cdr_csv's Master.csv) to import, comma-separated `PBX=PATH`.
    #[arg(long = "cdr-csv", env = "RELAIS_CDR_CSV", value_delimiter = ',', value_parser = parse_file)]
    pub cdr_files: Vec<(String, PathBuf)>,
    /// The PBX's local time zone, in which Master.csv writes its times.
    #[arg(long, env = "RELAIS_PBX_TIME_ZONE", default_value = "Europe/Paris")]
    pub pbx_time_zone: String,
    /// How often the queue_log and CDR files are read for new lines, in milliseconds.
    #[arg(long, env = "RELAIS_IMPORT_INTERVAL_MS", default_value_t = 2000)]
    pub import_interval_ms: u64,
    /// Serial ports of GSM modems attached to this server, driven by a gateway inside it for the
    /// modem group given by --local-modem-group.
    #[arg(long, env = "RELAIS_LOCAL_MODEMS", value_delimiter = ',')]
    pub local_modems: Vec<String>,
    /// MAC address of the modem group (created in the admin pages) the local modems belong to.
    #[arg(long, env = "RELAIS_LOCAL_MODEM_GROUP")]
    pub local_modem_group: Option<String>,
    /// How long a message leased to a modem holds without news, in seconds (more than a send
    /// may take: 60 s).
    #[arg(long, env = "RELAIS_SMS_LEASE_SECS", default_value_t = 120)]
    pub sms_lease_secs: u64,
}

impl ServeArgs {
    pub fn dispatch_rules(&self) -> app::sms::dispatch::Rules {
        app::sms::dispatch::Rules { lease_ms: self.sms_lease_secs.max(70) as i64 * 1000, ..app::sms::dispatch::Rules::default() }
    }
}

#[derive(Args)]
pub struct GatewayArgs {
    /// Relais's URL, e.g. https://relais.example.com.
    #[arg(long, env = "RELAIS_SERVER")]
    server: String,
    /// The group's token, shown when the group was created.
    #[arg(long, env = "RELAIS_GATEWAY_TOKEN")]
    token: String,
    /// Serial ports to drive; by default every USB serial port found (/dev/ttyUSB*, /dev/ttyACM*).
    #[arg(long, value_delimiter = ',')]
    ports: Vec<String>,
    /// A file listing the serial ports, one per line (as `relais sim modem --ports-file` writes).
    #[arg(long)]
    ports_file: Option<PathBuf>,
}

/// One Asterisk manager connection from the configuration.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PbxSpec {
    pub name: String,
    pub username: String,
    pub secret: String,
    pub address: String,
}

pub fn parse_pbx(text: &str) -> Result<PbxSpec, String> {
    let form = "expected NAME=USER:SECRET@HOST:PORT";
    let (name, rest) = match text.split_once('=') {
        Some((name, rest)) if !name.contains([':', '@']) => (name.trim(), rest),
        _ => (app::acd::queues::DEFAULT_PBX, text),
    };
    let (credentials, address) = rest.rsplit_once('@').ok_or(form)?;
    let (username, secret) = credentials.split_once(':').ok_or(form)?;
    if name.is_empty() || username.is_empty() || !address.contains(':') {
        return Err(form.into());
    }
    Ok(PbxSpec { name: name.into(), username: username.into(), secret: secret.into(), address: address.trim().into() })
}

fn parse_file(text: &str) -> Result<(String, PathBuf), String> {
    match text.split_once('=') {
        Some((pbx, path)) if !pbx.trim().is_empty() && !path.trim().is_empty() => {
            Ok((pbx.trim().to_string(), PathBuf::from(path.trim())))
        }
        _ => Ok((app::acd::queues::DEFAULT_PBX.to_string(), PathBuf::from(text.trim()))),
    }
}

impl ServeArgs {
    pub fn auth_settings(&self) -> AuthSettings {
        AuthSettings {
            sessions: SessionSettings {
                idle_timeout_ms: (self.session_idle_secs * 1000) as i64,
                max_age_ms: (self.session_max_hours * 3_600_000) as i64,
                secure_cookie: self.public_url.as_deref().is_some_and(|u| u.starts_with("https://")),
            },
            throttle: ThrottleSettings {
                max_failures_per_account: self.login_max_failures_per_account,
                max_failures_per_address: self.login_max_failures_per_address,
                window_ms: (self.login_window_secs * 1000) as i64,
                lockout_ms: (self.login_lockout_secs * 1000) as i64,
            },
            trust_proxy: self.trust_proxy,
        }
    }

    pub fn public_url(&self) -> String {
        self.public_url.clone().unwrap_or_else(|| format!("http://{}", self.addr))
    }
}

#[derive(Args)]
struct DemoArgs {
    #[command(flatten)]
    serve: ServeArgs,
    /// Password given to every demo user.
    #[arg(long, env = "RELAIS_DEMO_PASSWORD", default_value = "relais-demo")]
    password: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a user. The password is read from RELAIS_USER_PASSWORD or, if unset, from the
    /// first line of standard input.
    Create {
        #[arg(long)]
        login: String,
        #[arg(long)]
        first_name: String,
        #[arg(long)]
        last_name: String,
        /// Tenant name; default: the operator.
        #[arg(long)]
        tenant: Option<String>,
        /// Profile code, repeatable: operator_admin, client_admin, supervisor, agent,
        /// department_head, accounting, statistics, call_log, incident_manager, external_forward.
        #[arg(long = "profile", value_parser = parse_profile)]
        profiles: Vec<ProfileKind>,
    },
}

#[derive(Subcommand)]
enum TenantCommand {
    /// Create a tenant with its first client administrator (password as for `user create`).
    Create {
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "EUR")]
        currency: String,
        #[arg(long, default_value = "Europe/Paris")]
        time_zone: String,
        #[arg(long)]
        admin_login: String,
        #[arg(long)]
        admin_first_name: String,
        #[arg(long)]
        admin_last_name: String,
    },
    /// List tenants.
    List,
}

fn parse_profile(code: &str) -> Result<ProfileKind, String> {
    ProfileKind::from_code(code).ok_or_else(|| {
        let known: Vec<_> = ProfileKind::ALL.iter().map(|k| k.code()).collect();
        format!("unknown profile `{code}` (known: {})", known.join(", "))
    })
}

impl Cli {
    pub async fn run(self, started: Instant) -> anyhow::Result<()> {
        match self.command {
            Command::Sim(SimCommand::Pbx(args)) => return sim_pbx(args).await,
            Command::Sim(SimCommand::Modem(args)) => return sim_modem(args).await,
            Command::Gateway(args) => return gateway(args).await,
            _ => {}
        }
        let db = self.database.connect().await?;
        match self.command {
            Command::Migrate => {
                tracing::info!("database is up to date");
                Ok(())
            }
            Command::Serve(args) => serve::serve(db, args, &self.database.data_dir, started, None).await,
            Command::Demo(mut args) => {
                let logins = demo::seed(&db, &args.password, &self.database.data_dir).await?;
                let simulator = demo::start_pbx(&self.database.data_dir, &mut args.serve).await?;
                // Kept until the server stops: dropping them unplugs the modems.
                let modems = demo::sms::start_modems(&mut args.serve)?;
                let banner = demo::banner(&args.serve.public_url(), &args.password, &logins, &simulator, &modems);
                serve::serve(db, args.serve, &self.database.data_dir, started, Some(banner)).await
            }
            Command::Sim(_) | Command::Gateway(_) => unreachable!("handled before connecting to the database"),
            Command::User(UserCommand::Create { login, first_name, last_name, tenant, profiles }) => {
                let tenant_id = match tenant {
                    None => 1,
                    Some(name) => tenants::store::find_by_name(&db, &name)
                        .await
                        .map_err(describe)?
                        .with_context(|| format!("no tenant named `{name}`"))?,
                };
                let user = NewUser { login, first_name, last_name, password: read_password()?, profiles, own_phone: String::new() };
                let id = users::store::create(&db, TenantScope::trusted(tenant_id), &user, now_ms())
                    .await
                    .map_err(describe)?;
                println!("created user {} (id {id})", user.login.trim().to_lowercase());
                Ok(())
            }
            Command::Tenant(TenantCommand::Create {
                name,
                currency,
                time_zone,
                admin_login,
                admin_first_name,
                admin_last_name,
            }) => {
                let tenant = NewTenant {
                    name,
                    currency,
                    time_zone,
                    admin: NewUser {
                        login: admin_login,
                        first_name: admin_first_name,
                        last_name: admin_last_name,
                        password: read_password()?,
                        profiles: vec![],
                        own_phone: String::new(),
                    },
                };
                let id = tenants::store::create(&db, &tenant, now_ms()).await.map_err(describe)?;
                println!("created tenant {} (id {id})", tenant.name.trim());
                Ok(())
            }
            Command::Tenant(TenantCommand::List) => {
                for t in tenants::store::list(&db).await.map_err(describe)? {
                    let state = if t.active { "active" } else { "suspended" };
                    println!("{:>5}  {:<40} {:>5} users  {state}", t.id, t.name, t.user_count);
                }
                Ok(())
            }
        }
    }
}

impl DatabaseArgs {
    async fn connect(&self) -> anyhow::Result<Db> {
        let url = match &self.database_url {
            Some(url) => url.clone(),
            None => format!("sqlite://{}", self.data_dir.join("relais.db").display()),
        };
        let db = Db::connect(&url).await.with_context(|| format!("cannot open the database {}", redact(&url)))?;
        db.migrate().await.context("cannot apply database migrations")?;
        Ok(db)
    }
}

/// Hides the password of a database URL in messages.
fn redact(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(scheme), Some(at)) if at > scheme => {
            let credentials = &url[scheme + 3..at];
            match credentials.split_once(':') {
                Some((user, _)) => format!("{}{user}:***{}", &url[..scheme + 3], &url[at..]),
                None => url.to_string(),
            }
        }
        _ => url.to_string(),
    }
}

/// The English message of an application error, for the terminal.
fn describe(error: app::error::AppError) -> anyhow::Error {
    anyhow::anyhow!(error.message(app::i18n::Locale::en))
}

async fn sim_pbx(args: SimPbxArgs) -> anyhow::Result<()> {
    use server::pbx::sim;
    let config = sim::SimConfig {
        calls_per_minute: args.calls_per_minute,
        talk_secs: args.talk_secs,
        patience_secs: args.patience_secs,
        max_wait_secs: args.max_wait_secs,
        queue_log: args.queue_log,
        cdr_csv: args.cdr_csv,
        seed: args.seed,
        traffic: !args.no_traffic,
        ..sim::SimConfig::demo(&args.username, &args.secret)
    };
    let simulator = sim::start(config, args.listen).await?;
    println!("PBX simulator: AMI on {} (user {})", simulator.address, args.username);
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}

async fn sim_modem(args: SimModemArgs) -> anyhow::Result<()> {
    use server::sms::sim::{SimModem, SimModemConfig};
    let mut modems = Vec::new();
    for number in args.first..args.first + args.count {
        let config = SimModemConfig {
            sim_present: !args.no_sim.contains(&number),
            send_latency: std::time::Duration::from_millis(args.latency_ms),
            failure_rate: args.failure_rate,
            undelivered_rate: args.undelivered_rate,
            report_delay: std::time::Duration::from_millis(args.report_delay_ms),
            reply_rate: args.reply_rate,
            received_file: args.received_file.clone(),
            ..SimModemConfig::numbered(number)
        };
        let modem = SimModem::spawn(config).context("cannot open a pseudo-terminal")?;
        println!("modem {number}: {} (IMEI {})", modem.path, modem.imei);
        modems.push(modem);
    }
    if let Some(file) = &args.ports_file {
        let paths: String = modems.iter().map(|m| format!("{}\n", m.path)).collect();
        std::fs::write(file, paths).with_context(|| format!("cannot write {}", file.display()))?;
    }
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    Ok(())
}

async fn gateway(args: GatewayArgs) -> anyhow::Result<()> {
    use server::sms::gateway::{self, GatewayConfig};
    use server::sms::remote::RemoteDispatcher;
    let mut ports = args.ports;
    if let Some(file) = &args.ports_file {
        let listed = std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
        ports.extend(listed.lines().map(str::trim).filter(|line| !line.is_empty()).map(String::from));
    }
    if ports.is_empty() {
        ports = gateway::usb_serial_ports();
    }
    if ports.is_empty() {
        bail!("no serial port to drive: none found under /dev/ttyUSB* or /dev/ttyACM*, and none given with --ports");
    }
    let link = RemoteDispatcher::new(&args.server, &args.token).map_err(|e| anyhow::anyhow!("{e}"))?;
    println!("gateway for {}: driving {}", args.server, ports.join(", "));
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let running = tokio::spawn(gateway::run(std::sync::Arc::new(link), GatewayConfig::new(ports), stopped));
    tokio::signal::ctrl_c().await.context("cannot wait for Ctrl-C")?;
    let _ = stop.send(true);
    running.await.context("gateway task")?;
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if let Ok(password) = std::env::var("RELAIS_USER_PASSWORD") {
        return Ok(password);
    }
    let mut line = String::new();
    std::io::stdin().lock().read_line(&mut line).context("cannot read the password from standard input")?;
    let password = line.trim_end_matches(['\r', '\n']).to_string();
    if password.is_empty() {
        bail!("no password given: set RELAIS_USER_PASSWORD or pipe it on standard input");
    }
    Ok(password)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_passwords_are_redacted() {
        assert_eq!(redact("postgres://relais:s3cret@db:5432/relais"), "postgres://relais:***@db:5432/relais");
        assert_eq!(redact("sqlite://data/relais.db"), "sqlite://data/relais.db");
    }

    #[test]
    fn pbx_connections_read_from_one_line() {
        assert_eq!(
            parse_pbx("relais:s3cr@t@10.0.0.5:5038"),
            Ok(PbxSpec { name: "main".into(), username: "relais".into(), secret: "s3cr@t".into(), address: "10.0.0.5:5038".into() })
        );
        assert_eq!(parse_pbx("paris=ami:x@pbx1:5038").unwrap().name, "paris");
        assert!(parse_pbx("no-credentials@pbx:5038").is_err());
        assert_eq!(parse_file("paris=/var/log/asterisk/queue_log").unwrap().0, "paris");
        assert_eq!(parse_file("/var/log/asterisk/queue_log").unwrap().0, "main");
    }

    #[test]
    fn unknown_profiles_are_refused_with_the_list() {
        assert_eq!(parse_profile("agent"), Ok(ProfileKind::Agent));
        assert!(parse_profile("root").unwrap_err().contains("operator_admin"));
    }
}
