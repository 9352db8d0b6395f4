//! Contact import throughput: a generated CSV of RELAIS_BENCH_ROWS rows (default 1,000,000;
//! semicolons, UTF-8 accents, national and international phone forms, about 2 % duplicates and
//! 2 % invalid numbers) imported into a fresh SQLite database through the production path
//! (sniff, stage, import with normalisation and dedupe). Prints rows per second and the peak
//! resident memory of the process.
//!
//! Run: `cargo bench -p server --bench contact_import`.

use std::io::{BufWriter, Write};
use std::time::{Duration, Instant};

use app::auth::guard::TenantScope;
use app::crm::contacts::uploads::ContactImports;
use app::crm::contacts::{ColumnRole, ImportRequest, ImportState, import, source};
use app::db::Db;
use app::tenants::{self, NewTenant};
use app::users::NewUser;

#[tokio::main]
async fn main() {
    let rows: u64 = std::env::var("RELAIS_BENCH_ROWS").ok().and_then(|v| v.parse().ok()).unwrap_or(1_000_000);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("contacts.csv");
    write_csv(&csv, rows);
    let size = std::fs::metadata(&csv).expect("csv").len();
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
    let tenant = NewTenant { name: "Bench".into(), currency: "EUR".into(), time_zone: "Europe/Paris".into(), admin };
    let scope = TenantScope::trusted(tenants::store::create(&db, &tenant, 0).await.expect("tenant"));
    let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login = 'bench.admin'").fetch_one(db.pool()).await.expect("user");

    let imports = ContactImports::new(dir.path().join("uploads"), u64::MAX).expect("uploads");
    let (token, staged) = imports.new_upload();
    std::fs::rename(&csv, &staged).expect("stage");
    let started = Instant::now();
    let kind = source::sniff(&staged).expect("sniff");
    imports.stage(token.clone(), scope, user, staged, "contacts.csv".into(), kind);
    let request = ImportRequest {
        upload: token,
        name: "Bench".into(),
        country: "FR".into(),
        has_header: true,
        columns: vec![ColumnRole::FirstName, ColumnRole::LastName, ColumnRole::Phone, ColumnRole::Var1, ColumnRole::Custom("Ville".into())],
        dedupe_across_bases: true,
    };
    let base_id = import::start(&db, &imports, scope, user, request, 0).await.expect("start");
    let progress = loop {
        let progress = imports.progress(base_id, scope).expect("progress");
        if progress.state != ImportState::Running {
            break progress;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let elapsed = started.elapsed();
    assert_eq!(progress.state, ImportState::Done, "import failed");
    println!(
        "contact import: {} rows ({} MB) in {:.2} s = {:.0} rows/s; {} imported, {} rejected; peak resident memory {} MB",
        progress.rows_read,
        size >> 20,
        elapsed.as_secs_f64(),
        progress.rows_read as f64 / elapsed.as_secs_f64(),
        progress.imported,
        progress.rejected,
        peak_resident_kib() / 1024
    );
}

/// Streams the file out, so generating it costs no memory.
fn write_csv(path: &std::path::Path, rows: u64) {
    let mut out = BufWriter::new(std::fs::File::create(path).expect("csv"));
    writeln!(out, "Prénom;Nom;Téléphone;Variable 1;Ville").unwrap();
    let first = ["Élodie", "Jean", "Zoé", "Marc", "Anaïs", "Luc", "Chloé", "Noël"];
    let last = ["Faure", "Dupont", "Lefèvre", "Roux", "Müller", "Garçon", "Petit", "Blanc"];
    let cities = ["Besançon", "Paris", "Lyon", "Nîmes", "Orléans", "Lille"];
    for i in 0..rows {
        // Every 50th row repeats an earlier number, every 50th (offset) is too short.
        let n = if i % 50 == 7 { i / 2 } else { i };
        let phone = match i % 4 {
            _ if i % 50 == 13 => format!("06 {:02}", i % 100),
            0 => format!("06 {:02} {:02} {:02} {:02}", n / 1_000_000 % 100, n / 10_000 % 100, n / 100 % 100, n % 100),
            1 => format!("+33 6 {:08}", n),
            2 => format!("0033 6{:08}", n),
            _ => format!("06.{:02}.{:02}.{:02}.{:02}", n / 1_000_000 % 100, n / 10_000 % 100, n / 100 % 100, n % 100),
        };
        let i = i as usize;
        writeln!(out, "{};{};{};client-{};{}", first[i % 8], last[i / 8 % 8], phone, i, cities[i % 6]).unwrap();
    }
    out.flush().unwrap();
}

/// VmHWM: the most memory the process ever held resident.
fn peak_resident_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}
