//! SMS dispatch on SQLite, three figures:
//!
//! 1. **Throughput against the ideal**: N simulated modems with a fixed send latency L, driven by
//!    the gateway through their pseudo-terminals (the production serial path) against the
//!    dispatcher. Sustained throughput is measured between 10 % and 90 % of the parts accepted,
//!    and compared with the ideal N / L. (RELAIS_BENCH_MODEMS, default 64; RELAIS_BENCH_LATENCY_MS,
//!    default 250.)
//! 2. **The dispatcher's own ceiling**: modems of zero latency, played by tasks that lease and
//!    report straight to the dispatcher (no serial line), 8 at a time, each last part's report
//!    bringing the next lease as the gateway asks for it.
//! 3. **A compressed day**: RELAIS_BENCH_DAY messages (default 50,000, a quarter of them two
//!    parts long) across 8 simulated modems with latencies of 3–10 s compressed 500 times and 1 %
//!    of parts refused for a while; checks that every message was sent, once.
//!
//! Run: `cargo bench -p server --bench sms_dispatch`.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::{Duration, Instant};

use app::auth::guard::TenantScope;
use app::db::{Db, now_ms};
use app::sms::dispatch::{self, Rules};
use app::sms::{ModemStatus, PartOutcome, PartReport, ReportReply, credit, groups, text};
use app::users::NewUser;
use server::sms::dispatcher::GroupDispatcher;
use server::sms::gateway::{self, GatewayConfig};
use server::sms::sim::{SimModem, SimModemConfig};
use tokio::sync::watch;

fn env(name: &str, default: usize) -> usize {
    std::env::var(name).ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

struct Bench {
    db: Db,
    _dir: tempfile::TempDir,
    scope: TenantScope,
}

async fn bench_db() -> Bench {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = Db::connect(&format!("sqlite://{}", dir.path().join("bench.db").display())).await.expect("db");
    db.migrate().await.expect("migrate");
    let admin = NewUser {
        login: "bench.admin".into(),
        first_name: "Bench".into(),
        last_name: "Admin".into(),
        password: "correct horse battery".into(),
        profiles: vec![],
        own_phone: String::new(),
    };
    let tenant = app::tenants::NewTenant { name: "Bench".into(), currency: "EUR".into(), time_zone: "Europe/Paris".into(), admin };
    let scope = TenantScope::trusted(app::tenants::store::create(&db, &tenant, 0).await.expect("tenant"));
    credit::top_up(&db, scope.tenant_id(), 1_000_000_000, 0).await.expect("credit");
    Bench { db, _dir: dir, scope }
}

/// An active campaign of `count` messages, every `long_every`-th one two parts long.
async fn campaign(bench: &Bench, count: usize, long_every: usize) -> (i64, usize) {
    let db = &bench.db;
    let campaign_id = app::sms::testing::active_campaign(db, bench.scope, &format!("Bench {}", now_ms()), 0).await;
    let short = "Votre commande est prête : retrait en magasin dès demain 9 h.";
    let long = "Votre commande est prête. ".repeat(7);
    let mut parts = 0;
    for chunk in (0..count).collect::<Vec<_>>().chunks(1_000) {
        let mut tx = db.begin_write().await.expect("tx");
        for &i in chunk {
            let body = if long_every > 0 && i % long_every == 0 { long.as_str() } else { short };
            let count = text::plan(body).1 as u32;
            parts += count as usize;
            app::sms::testing::queue_message(&mut tx, bench.scope.tenant_id(), campaign_id, None, &format!("+336{i:08}"), body, count, 0).await.expect("enqueue");
        }
        tx.commit().await.expect("commit");
    }
    (campaign_id, parts)
}

async fn group(db: &Db, mac: &str, modems: u32) -> i64 {
    let (id, _) = groups::create(db, mac, "Bench", modems, groups::MAX_SPEED, 0).await.expect("group");
    groups::set_started(db, id, true).await.expect("start");
    id
}

fn gateway_config(sims: &[SimModem]) -> GatewayConfig {
    GatewayConfig {
        monitor_every: Duration::from_secs(20),
        idle_poll: Duration::from_millis(20),
        ..GatewayConfig::new(sims.iter().map(|s| s.path.clone()).collect())
    }
}

fn accepted(sims: &[SimModem]) -> usize {
    sims.iter().map(|s| s.received().len()).sum()
}

async fn throughput(modems: usize, latency_ms: u64) {
    let bench = bench_db().await;
    let (_, parts) = campaign(&bench, modems * 40, 0).await;
    let sims: Vec<SimModem> = (1..=modems as u32)
        .map(|n| SimModem::spawn(SimModemConfig { send_latency: Duration::from_millis(latency_ms), ..SimModemConfig::numbered(n) }).expect("pty"))
        .collect();
    let group_id = group(&bench.db, "02:00:00:00:01:00", modems as u32).await;
    let link = Arc::new(GroupDispatcher::new(bench.db.clone(), group_id, Rules::default()));
    let (stop, stopped) = watch::channel(false);
    let running = tokio::spawn(gateway::run(link, gateway_config(&sims), stopped));
    let (low, high) = (parts / 10, parts * 9 / 10);
    let (mut from, mut to) = (None, None);
    while to.is_none() {
        let done = accepted(&sims);
        if from.is_none() && done >= low {
            from = Some((Instant::now(), done));
        }
        if done >= high {
            to = Some((Instant::now(), done));
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let ((t1, n1), (t2, n2)) = (from.unwrap(), to.unwrap());
    let rate = (n2 - n1) as f64 / t2.duration_since(t1).as_secs_f64();
    let ideal = modems as f64 * 1000.0 / latency_ms as f64;
    println!(
        "throughput: {modems} modems × {latency_ms} ms latency: {rate:.1} parts/s sustained, ideal {ideal:.1} parts/s → {:.1} % of ideal",
        100.0 * rate / ideal
    );
    let _ = stop.send(true);
    running.await.expect("gateway");
}

async fn ceiling() {
    let bench = bench_db().await;
    let count = env("RELAIS_BENCH_CEILING", 20_000);
    let (_, parts) = campaign(&bench, count, 0).await;
    let group_id = group(&bench.db, "02:00:00:00:02:00", 8).await;
    let mut modem_ids = Vec::new();
    for i in 0..8 {
        let status = ModemStatus { imei: Some(format!("35000000000{i:04}")), ..ModemStatus::default() };
        modem_ids.push(groups::record_modem(&bench.db, group_id, &format!("/dev/null{i}"), &status, "", now_ms()).await.expect("modem").expect("id"));
    }
    let rules = Rules::default();
    let started = Instant::now();
    let mut tasks = Vec::new();
    for modem_id in modem_ids {
        let db = bench.db.clone();
        tasks.push(tokio::spawn(async move {
            // As the gateway does: a lease, then each last part's report brings the next one.
            let mut sent = 0usize;
            let mut next = dispatch::lease(&db, modem_id, &rules, now_ms()).await.expect("lease");
            while let Some(lease) = next.take() {
                for sequence in &lease.parts {
                    let report = PartReport {
                        message_id: lease.message_id,
                        lease_id: lease.lease_id,
                        sequence: *sequence,
                        outcome: PartOutcome::Sent { reference: Some((sent % 256) as u8) },
                    };
                    let last = lease.parts.last() == Some(sequence);
                    if let ReportReply::Next(lease) = dispatch::report(&db, modem_id, &report, last, &rules, now_ms()).await.expect("report") {
                        next = Some(lease);
                    }
                    sent += 1;
                }
            }
            sent
        }));
    }
    let mut sent = 0;
    for task in tasks {
        sent += task.await.expect("modem task");
    }
    let seconds = started.elapsed().as_secs_f64();
    assert_eq!(sent, parts, "every part leased and reported once");
    println!("ceiling: {sent} parts by 8 zero-latency modems in {seconds:.2} s → {:.0} parts/s (lease + report each)", sent as f64 / seconds);
}

async fn day() {
    let bench = bench_db().await;
    let count = env("RELAIS_BENCH_DAY", 50_000);
    let (campaign_id, parts) = campaign(&bench, count, 4).await;
    // 3–10 s compressed 500 times.
    let sims: Vec<SimModem> = (1..=8u32)
        .map(|n| {
            let config = SimModemConfig {
                send_latency: Duration::from_millis(6 + u64::from(n) * 2),
                failure_rate: 0.01,
                report_delay: Duration::from_millis(20),
                ..SimModemConfig::numbered(100 + n)
            };
            SimModem::spawn(config).expect("pty")
        })
        .collect();
    let group_id = group(&bench.db, "02:00:00:00:03:00", 8).await;
    let rules = Rules { retry_delays_ms: [60, 240, 1_200, 3_600], set_aside_ms: 600, ..Rules::default() };
    let link = Arc::new(GroupDispatcher::new(bench.db.clone(), group_id, rules));
    let (stop, stopped) = watch::channel(false);
    let started = Instant::now();
    let running = tokio::spawn(gateway::run(link, gateway_config(&sims), stopped));
    loop {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE campaign_id = $1 AND state IN ('queued', 'leased')")
            .bind(campaign_id)
            .fetch_one(bench.db.pool())
            .await
            .expect("count");
        if waiting == 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let seconds = started.elapsed().as_secs_f64();
    let _ = stop.send(true);
    running.await.expect("gateway");
    let received: Vec<_> = sims.iter().flat_map(|s| s.received()).collect();
    let distinct: HashSet<(String, u8)> = received.iter().map(|r| (r.to.clone(), r.part.map_or(1, |p| p.2))).collect();
    let failed: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE campaign_id = $1 AND state IN ('failed', 'unknown')")
        .bind(campaign_id)
        .fetch_one(bench.db.pool())
        .await
        .expect("count");
    println!(
        "day: {count} messages ({parts} parts) on 8 modems of 8–22 ms (3–10 s ÷ 500) with 1 % refusals: {seconds:.1} s; parts received {}, distinct {}, failed or unknown messages {failed} → {}",
        received.len(),
        distinct.len(),
        if received.len() == parts && distinct.len() == parts && failed == 0 { "nothing lost, nothing twice" } else { "MISMATCH" }
    );
}

#[tokio::main]
async fn main() {
    throughput(env("RELAIS_BENCH_MODEMS", 64), env("RELAIS_BENCH_LATENCY_MS", 250) as u64).await;
    ceiling().await;
    day().await;
}
