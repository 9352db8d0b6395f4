//! Campaign statistics on a large SQLite database: one campaign with RELAIS_BENCH_ANSWERS
//! argument-tree answers (default 1,000,000) from about 290,000 calls by ten agents over thirty
//! days. Calls and answers are written straight into their tables (the desk writes the same rows
//! one call at a time, which would take hours here). Prints the time each report takes (median
//! of 5 runs).
//!
//! Run: `cargo bench -p server --bench campaign_stats`.

use std::time::Instant;

use app::acd::stats::Period;
use app::auth::ProfileKind;
use app::auth::guard::TenantScope;
use app::crm::campaigns::{CampaignSettings, FormKind, store as campaigns};
use app::crm::stats::{CampaignStatsFilter, store};
use app::crm::trees::{ArgumentTree, Branch, store as trees};
use app::db::Db;
use app::users::{NewUser, store as users};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

/// 2026-11-01 00:00 Paris, in UTC milliseconds.
const MONTH_START: i64 = 1_793_487_600_000;
const DAY_MS: i64 = 86_400_000;
const ROWS_PER_INSERT: usize = 100;
const RESULTS: [&str; 5] = ["appointment", "not_interested", "callback", "no_answer", "interested"];

/// A chain of five questions: yes goes on, no ends, undecided skips one.
fn script() -> ArgumentTree {
    let mut tree = ArgumentTree::single("Question 1");
    for i in 2..=5 {
        tree.add_node(&format!("Question {i}"));
    }
    for key in 1..=5_u32 {
        let node = tree.node_mut(key).expect("node");
        node.yes = if key < 5 { Branch::Node(key + 1) } else { Branch::End };
        node.no = Branch::End;
        node.undecided = if key < 4 { Branch::Node(key + 2) } else { Branch::End };
    }
    tree
}

#[tokio::main]
async fn main() {
    let target: usize = std::env::var("RELAIS_BENCH_ANSWERS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
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
    let mut agents = Vec::new();
    for i in 0..10 {
        let agent = NewUser {
            login: format!("agent{i}"),
            first_name: "Agent".into(),
            last_name: format!("{i}"),
            password: "correct horse battery".into(),
            profiles: vec![ProfileKind::Agent],
            own_phone: format!("PJSIP/10{i:02}"),
        };
        agents.push(users::create(&db, scope, &agent, 0).await.expect("agent"));
    }
    let tree_id = trees::create(&db, scope, "Script", "Question 1", 0).await.expect("tree");
    trees::save(&db, scope, tree_id, "Script", &script(), 0).await.expect("save tree");
    let version: i64 = sqlx::query_scalar("SELECT id FROM argument_tree_versions WHERE tree_id = $1").bind(tree_id).fetch_one(db.pool()).await.expect("version");
    let base_id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, 'Bench', 'ready', 'bench.csv', 'FR', '[]', 0, 0) RETURNING id",
    )
    .bind(scope.tenant_id())
    .fetch_one(db.pool())
    .await
    .expect("base");
    let settings = CampaignSettings {
        name: "Bench".into(),
        product: "Fibre".into(),
        base_id,
        starts_on: "2026-11-01".into(),
        ends_on: "2026-11-30".into(),
        forms: vec![FormKind::ArgumentTree],
        tree_id: Some(tree_id),
        pbx: String::new(),
    };
    let campaign_id = campaigns::create(&db, scope, &settings, 0).await.expect("campaign");

    let loading = Instant::now();
    let (calls, answers) = load(&db, scope, campaign_id, version, &agents, target).await;
    println!("loaded {calls} calls and {answers} answers in {:.1} s", loading.elapsed().as_secs_f64());

    let now = MONTH_START + 35 * DAY_MS;
    let whole = CampaignStatsFilter { campaign_id, agent_id: None, period: None };
    let one_agent = CampaignStatsFilter { agent_id: Some(agents[3]), ..whole.clone() };
    let one_day = CampaignStatsFilter { period: Some(Period::Dates { from: "2026-11-15".into(), to: "2026-11-15".into() }), ..whole.clone() };
    for (name, filter) in [("whole campaign", &whole), ("one agent", &one_agent), ("one day", &one_day)] {
        let mut times = Vec::new();
        let mut reached = 0;
        for _ in 0..5 {
            let started = Instant::now();
            let report = store::report(&db, scope, filter, now).await.expect("report");
            times.push(started.elapsed().as_secs_f64() * 1000.0);
            reached = report.funnel.first().map_or(0, |step| step.reached);
        }
        times.sort_by(f64::total_cmp);
        println!("{name:>15}: {:7.1} ms (median of 5; {reached} calls reached the first question)", times[2]);
    }
}

/// Calls with walks through the chain until `target` answers are written.
async fn load(db: &Db, scope: TenantScope, campaign_id: i64, version: i64, agents: &[i64], target: usize) -> (usize, usize) {
    let mut rng = StdRng::seed_from_u64(7);
    let (mut calls, mut answers) = (0_usize, 0_usize);
    let mut call_rows: Vec<(i64, i64, i64, &str)> = Vec::new();
    let mut answer_rows: Vec<(i64, i64, i64, String, &str, i64)> = Vec::new();
    let mut tx = db.pool().begin().await.expect("tx");
    while answers < target {
        calls += 1;
        let call_id = calls as i64;
        let agent = agents[rng.gen_range(0..agents.len())];
        let at = MONTH_START + rng.gen_range(0..30 * DAY_MS);
        call_rows.push((call_id, agent, at, RESULTS[rng.gen_range(0..RESULTS.len())]));
        let mut node = 1_u32;
        let mut position = 0;
        loop {
            let answer = match rng.gen_range(0..10) {
                0..=5 => "yes",
                6..=7 => "no",
                8 => "undecided",
                _ => "hangup",
            };
            answer_rows.push((call_id, agent, at, node.to_string(), answer, position));
            answers += 1;
            position += 1;
            node = match answer {
                "yes" if node < 5 => node + 1,
                "undecided" if node < 4 => node + 2,
                _ => break,
            };
        }
        if call_rows.len() == ROWS_PER_INSERT {
            flush(&mut tx, scope, campaign_id, version, &mut call_rows, &mut answer_rows).await;
        }
        if calls % 50_000 == 0 {
            tx.commit().await.expect("commit");
            tx = db.pool().begin().await.expect("tx");
        }
    }
    flush(&mut tx, scope, campaign_id, version, &mut call_rows, &mut answer_rows).await;
    tx.commit().await.expect("commit");
    sqlx::query("ANALYZE").execute(db.pool()).await.expect("analyze");
    (calls, answers)
}

async fn flush(
    conn: &mut sqlx::AnyConnection,
    scope: TenantScope,
    campaign_id: i64,
    version: i64,
    calls: &mut Vec<(i64, i64, i64, &str)>,
    answers: &mut Vec<(i64, i64, i64, String, &str, i64)>,
) {
    if calls.is_empty() {
        return;
    }
    let mut sql = String::from(
        "INSERT INTO crm_calls (id, tenant_id, campaign_id, contact_id, agent_id, phone, started_at, ended_at, result, tree_version_id) VALUES ",
    );
    sql.push_str(&vec!["(?, ?, ?, ?, ?, '+33612345678', ?, ?, ?, ?)"; calls.len()].join(", "));
    let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
    for (id, agent, at, result) in calls.drain(..) {
        query = query.bind(id).bind(scope.tenant_id()).bind(campaign_id).bind(id).bind(agent).bind(at).bind(at + 120_000).bind(result).bind(version);
    }
    query.execute(&mut *conn).await.expect("calls");
    for chunk in answers.chunks(ROWS_PER_INSERT) {
        let mut sql = String::from("INSERT INTO crm_answers (call_id, campaign_id, agent_id, at, form, item, answer, position) VALUES ");
        sql.push_str(&vec!["(?, ?, ?, ?, 'tree', ?, ?, ?)"; chunk.len()].join(", "));
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        for (call, agent, at, item, answer, position) in chunk {
            query = query.bind(*call).bind(campaign_id).bind(*agent).bind(*at).bind(item.clone()).bind(*answer).bind(*position);
        }
        query.execute(&mut *conn).await.expect("answers");
    }
    answers.clear();
}
