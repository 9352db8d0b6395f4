//! ACD statistics on a large SQLite database: one month of generated traffic with
//! RELAIS_BENCH_CALLS calls (default 1,000,000) over four queues and twenty agents, i.e. about
//! 3.3 million queue_log lines, plus one CDR record per call. Prints the time each report takes
//! (median of 5 runs) after loading.
//!
//! Run: `cargo bench -p server --bench acd_reports`. With RELAIS_BENCH_DB=PATH the database
//! is kept there and reused by later runs (loading takes minutes).

use std::time::Instant;

use app::acd::queues::{self, QueueSettings};
use app::acd::stats::{Period, StatsFilter, store};
use app::auth::guard::TenantScope;
use app::db::Db;
use app::tenants::{self, NewTenant};
use app::users::NewUser;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 2026-11-01 00:00 Paris, in UTC milliseconds.
const MONTH_START: i64 = 1_793_487_600_000;
const DAY_MS: i64 = 86_400_000;
const QUEUES: [&str; 4] = ["support", "sales", "billing", "vip"];
const ROWS_PER_INSERT: usize = 200;

type Row = (i64, String, &'static str, String, &'static str, Option<i64>, Option<i64>, Option<i64>);

#[tokio::main]
async fn main() {
    let calls: usize = std::env::var("RELAIS_BENCH_CALLS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let path = std::env::var("RELAIS_BENCH_DB").map(std::path::PathBuf::from).unwrap_or_else(|_| dir.path().join("bench.db"));
    let reuse = path.exists();
    let db = Db::connect(&format!("sqlite://{}", path.display())).await.expect("db");
    db.migrate().await.expect("migrate");
    let scope = if reuse {
        TenantScope::trusted(tenants::store::find_by_name(&db, "Bench").await.expect("tenant").expect("bench tenant"))
    } else {
        let scope = setup(&db).await;
        let loading = Instant::now();
        let lines = load(&db, calls).await;
        println!("loaded {calls} calls ({lines} queue_log lines, {calls} CDR records) in {:.1} s", loading.elapsed().as_secs_f64());
        scope
    };

    let readable = queues::store::list(&db, scope).await.expect("queues");
    let now = MONTH_START + 35 * DAY_MS;
    let month = StatsFilter { period: Period::Month { year: 2026, month: 11 }, queues: vec![], agents: vec![] };
    let one_queue = StatsFilter { queues: vec!["support".into()], ..month.clone() };
    let one_day = StatsFilter { period: Period::Dates { from: "2026-11-15".into(), to: "2026-11-15".into() }, ..month.clone() };
    let report = store::acd_report(&db, scope, &readable, &month, now).await.expect("report");
    let offered: u64 = report.outcomes.iter().map(|o| o.offered).sum();
    assert_eq!(offered as usize, calls, "every generated call is counted once");
    for (name, filter) in [("month, all queues", &month), ("month, one queue", &one_queue), ("one day, all queues", &one_day)] {
        let ms = median(|| async { store::acd_report(&db, scope, &readable, filter, now).await.expect("report") }).await;
        println!("ACD report ({name}): {ms:.0} ms");
    }
    let ms = median(|| async { store::cdr_report(&db, scope, &readable, 2026, 11, now).await.expect("cdr") }).await;
    println!("CDR report (year + month + hours): {ms:.0} ms");
}

async fn median<F, Fut, T>(run: F) -> f64
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut samples = Vec::new();
    for _ in 0..5 {
        let started = Instant::now();
        std::hint::black_box(run().await);
        samples.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    samples.sort_by(f64::total_cmp);
    samples[2]
}

async fn setup(db: &Db) -> TenantScope {
    let new = NewTenant {
        name: "Bench".into(),
        currency: "EUR".into(),
        time_zone: "Europe/Paris".into(),
        admin: NewUser {
            login: "bench.admin".into(),
            first_name: "B".into(),
            last_name: "A".into(),
            password: "correct horse battery".into(),
            profiles: vec![],
            own_phone: String::new(),
        },
    };
    let scope = TenantScope::trusted(tenants::store::create(db, &new, 0).await.expect("tenant"));
    for name in QUEUES {
        queues::store::create(db, scope, &QueueSettings { name: name.into(), ..Default::default() }, 0).await.expect("queue");
    }
    scope
}

/// Generates the month and inserts it; returns the number of queue_log lines.
async fn load(db: &Db, calls: usize) -> usize {
    let mut rng = StdRng::seed_from_u64(7);
    let agents: Vec<String> = (0..20).map(|i| format!("Agent {i:02}")).collect();
    let mut rows: Vec<Row> = Vec::with_capacity(calls * 4);
    let mut cdr: Vec<(i64, i64)> = Vec::with_capacity(calls);
    for day in 0..30 {
        for agent in &agents {
            let start = MONTH_START + day * DAY_MS + 8 * 3_600_000;
            for queue in QUEUES {
                rows.push((start, "MANAGER".into(), queue, agent.clone(), "ADDMEMBER", None, None, None));
                rows.push((start + 9 * 3_600_000, "MANAGER".into(), queue, agent.clone(), "REMOVEMEMBER", None, None, None));
            }
            rows.push((start + 4 * 3_600_000, "NONE".into(), "support", agent.clone(), "PAUSE", None, None, None));
            rows.push((start + 5 * 3_600_000, "NONE".into(), "support", agent.clone(), "UNPAUSE", None, None, None));
        }
    }
    for call in 0..calls {
        let at = MONTH_START + rng.gen_range(0..30 * DAY_MS);
        let id = format!("{}.{call}", at / 1000);
        let queue = QUEUES[rng.gen_range(0..QUEUES.len())];
        let agent = agents[rng.gen_range(0..agents.len())].clone();
        rows.push((at, id.clone(), queue, "NONE".into(), "ENTERQUEUE", None, None, None));
        let roll: f64 = rng.r#gen();
        if roll < 0.85 {
            let hold = rng.gen_range(0..120);
            let talk = rng.gen_range(30..300);
            rows.push((at + hold * 1000, id.clone(), queue, agent.clone(), "CONNECT", Some(hold), None, None));
            rows.push((at + (hold + talk) * 1000, id, queue, agent, "COMPLETECALLER", Some(hold), Some(talk), None));
            cdr.push((at, hold + talk));
        } else if roll < 0.97 {
            let wait = rng.gen_range(0..240);
            rows.push((at + wait * 1000, id, queue, "NONE".into(), "ABANDON", None, None, Some(wait)));
            cdr.push((at, wait));
        } else {
            rows.push((at + 300_000, id, queue, "NONE".into(), "EXITWITHTIMEOUT", None, None, Some(300)));
            cdr.push((at, 300));
        }
    }
    let lines = rows.len();
    for (batch_number, batch) in rows.chunks(50_000).enumerate() {
        let mut tx = db.pool().begin().await.expect("tx");
        for (chunk_number, chunk) in batch.chunks(ROWS_PER_INSERT).enumerate() {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p: Vec<String> = (1..=11).map(|k| format!("${}", i * 11 + k)).collect();
                    format!("('main:queue_log', 'bench', {}, {}, {}, {}, {}, {}, '', {})", p[0], p[1], p[2], p[3], p[4], p[5], p[6..].join(", "))
                })
                .collect();
            let sql = format!(
                "INSERT INTO queue_log_events (source, file_id, line_offset, time_ms, call_id, queue, agent, event, data, \
                 hold_secs, talk_secs, wait_secs, position, original_position) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, (at, id, queue, agent, event, hold, talk, wait)) in chunk.iter().enumerate() {
                let offset = ((batch_number * 50_000 + chunk_number * ROWS_PER_INSERT + i) as i64) * 100;
                query = query
                    .bind(offset)
                    .bind(*at)
                    .bind(id.clone())
                    .bind(*queue)
                    .bind(agent.clone())
                    .bind(*event)
                    .bind(*hold)
                    .bind(*talk)
                    .bind(*wait)
                    .bind(None::<i64>)
                    .bind(None::<i64>);
            }
            query.execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    // What the importer keeps line by line, made here in one statement for the bulk load.
    sqlx::query(
        "INSERT INTO queue_log_slots (source, queue, slot, event, agent, calls, talk_secs) \
         SELECT source, queue, time_ms / 1800000, event, agent, COUNT(*), COALESCE(SUM(talk_secs), 0) \
         FROM queue_log_events \
         WHERE event IN ('ENTERQUEUE', 'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', \
                         'DISSUASION', 'CLOSED', 'COMPLETECALLER', 'COMPLETEAGENT') \
         GROUP BY source, queue, time_ms / 1800000, event, agent",
    )
    .execute(db.pool())
    .await
    .expect("slots");
    for (batch_number, batch) in cdr.chunks(50_000).enumerate() {
        let mut tx = db.pool().begin().await.expect("tx");
        for (chunk_number, chunk) in batch.chunks(ROWS_PER_INSERT).enumerate() {
            let placeholders: Vec<String> = (0..chunk.len())
                .map(|i| {
                    let p = i * 4;
                    format!(
                        "('main:cdr', 'bench', ${}, '', '0600000000', 'support', 'incoming', '', 'PJSIP/trunk-1', '', 'Queue', '', \
                         ${}, NULL, ${}, ${}, ${}, 'ANSWERED', 'DOCUMENTATION', '', '')",
                        p + 1, p + 2, p + 3, p + 4, p + 4
                    )
                })
                .collect();
            let sql = format!(
                "INSERT INTO cdr_records (source, file_id, line_offset, account_code, src, dst, dcontext, clid, channel, \
                 dst_channel, last_app, last_data, start_ms, answer_ms, end_ms, duration_secs, billsec, disposition, \
                 ama_flags, uniqueid, userfield) VALUES {}",
                placeholders.join(", ")
            );
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
            for (i, (at, secs)) in chunk.iter().enumerate() {
                let offset = ((batch_number * 50_000 + chunk_number * ROWS_PER_INSERT + i) as i64) * 100;
                query = query.bind(offset).bind(*at).bind(*at + secs * 1000).bind(*secs);
            }
            query.execute(&mut *tx).await.expect("insert");
        }
        tx.commit().await.expect("commit");
    }
    lines
}
