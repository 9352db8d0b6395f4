//! The ACD statistics on the queue_log and Master.csv captured from a real Asterisk, with totals
//! counted by hand from the files, on both database backends.

use std::path::PathBuf;

use app::acd::queues::{self, QueueSettings};
use app::acd::stats::{Period, StatsFilter, store};
use app::auth::guard::TenantScope;
use app::db::Db;
use app::db::testing::each_backend;
use app::tenants::{self, NewTenant};
use app::users::NewUser;
use server::acd::import::import_queue_log;
use server::pbx::cdr::import_cdr;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/asterisk").join(name)
}

/// 2026-11-23 12:00 Paris: the capture (2026-11-22 around 07:03 Paris) was yesterday.
const NOW: i64 = 1_795_431_600_000;

async fn tenant_with_queues(db: &Db) -> TenantScope {
    let new = NewTenant {
        name: "Capture".into(),
        currency: "EUR".into(),
        time_zone: "Europe/Paris".into(),
        admin: NewUser {
            login: "capture.admin".into(),
            first_name: "C".into(),
            last_name: "A".into(),
            password: "correct horse battery".into(),
            profiles: vec![],
            own_phone: String::new(),
        },
    };
    let scope = TenantScope::trusted(tenants::store::create(db, &new, 0).await.unwrap());
    for name in ["support", "sales"] {
        queues::store::create(db, scope, &QueueSettings { name: name.into(), ..Default::default() }, 0).await.unwrap();
    }
    assert!(import_queue_log(db, "main:queue_log", &fixture("queue_log"), 0).await.unwrap().rejected.is_empty());
    // That Asterisk wrote its CDR in UTC; the tenant reads in Paris time.
    let cdr = import_cdr(db, "main:cdr", &fixture("Master.csv"), jiff::tz::TimeZone::UTC, 0).await.unwrap();
    assert!(cdr.rejected.is_empty());
    scope
}

fn day(from: &str) -> StatsFilter {
    StatsFilter { period: Period::Dates { from: from.into(), to: from.into() }, queues: vec![], agents: vec![] }
}

#[tokio::test]
async fn the_capture_gives_the_totals_counted_by_hand() {
    for db in each_backend().await {
        let scope = tenant_with_queues(&db).await;
        let readable = queues::store::list(&db, scope).await.unwrap();
        let report = store::acd_report(&db, scope, &readable, &day("2026-11-22"), NOW).await.unwrap();
        let outcome = |queue: &str| report.outcomes.iter().find(|o| o.queue == queue).unwrap().clone();
        let support = outcome("support");
        assert_eq!((support.offered, support.answered, support.abandoned, support.timed_out), (8, 6, 2, 0));
        let sales = outcome("sales");
        assert_eq!((sales.offered, sales.answered, sales.abandoned), (4, 4, 0));

        let sl = &report.service_level;
        assert_eq!((sl.threshold_secs, sl.offered, sl.answered, sl.abandoned), (30, 12, 10, 2));
        assert_eq!((sl.answered_within, sl.abandoned_within), (10, 2));
        assert_eq!(report.waits.len(), 11);
        assert_eq!((report.waits[0].answered, report.waits[0].abandoned), (10, 2));
        assert!(report.waits[1..].iter().all(|b| b.answered == 0 && b.abandoned == 0), "empty buckets are zeros");

        // 2026-11-22 was a Sunday; the calls came between 07:03 and 07:04 in Paris.
        assert_eq!(report.weekdays.len(), 7);
        assert_eq!((report.weekdays[6].slot, report.weekdays[6].offered, report.weekdays[6].answered), (7, 12, 10));
        assert_eq!(report.weekdays[..6].iter().map(|d| d.offered).sum::<u64>(), 0);
        assert_eq!(report.half_hours.len(), 48);
        assert_eq!((report.half_hours[14].offered, report.half_hours[14].abandoned), (12, 2));

        let agent = |name: &str| report.agents.iter().find(|a| a.agent == name).unwrap_or_else(|| panic!("{name}")).clone();
        let chloe = agent("Chloé Durand");
        assert_eq!((chloe.calls_in, chloe.talk_secs), (3, 28));
        assert_eq!(chloe.sessions, 2, "one open session in each queue");
        let alice = agent("Alice Martin");
        assert_eq!((alice.calls_in, alice.talk_secs, alice.average_talk_secs()), (2, 36, 18));
        let david = agent("David Roux");
        assert_eq!((david.calls_in, david.talk_secs, david.sessions, david.session_secs), (4, 23, 1, 27));
        let bruno = agent("Bruno Petit");
        assert_eq!((bruno.pauses, bruno.pause_secs, bruno.calls_in), (1, 13, 1));

        // Nothing the day before; "yesterday" seen from the 23rd is the 22nd.
        let before = store::acd_report(&db, scope, &readable, &day("2026-11-21"), NOW).await.unwrap();
        assert!(before.outcomes.iter().all(|o| o.offered == 0));
        let yesterday = StatsFilter { period: Period::Yesterday, ..day("x") };
        let yesterday = store::acd_report(&db, scope, &readable, &yesterday, NOW).await.unwrap();
        assert_eq!(yesterday.first_day, "2026-11-22");
        assert_eq!(yesterday.outcomes, report.outcomes);

        // Filters narrow to the chosen queue and agent.
        let narrowed = StatsFilter { queues: vec!["sales".into()], agents: vec!["David Roux".into()], ..day("2026-11-22") };
        let narrowed = store::acd_report(&db, scope, &readable, &narrowed, NOW).await.unwrap();
        assert_eq!(narrowed.outcomes.len(), 1);
        assert_eq!(narrowed.agents.len(), 1);
        // A queue the user may not read is never counted, even when asked for by name.
        let only_sales: Vec<_> = readable.iter().filter(|q| q.settings.name == "sales").cloned().collect();
        let asked = StatsFilter { queues: vec!["support".into()], ..day("2026-11-22") };
        assert!(store::acd_report(&db, scope, &only_sales, &asked, NOW).await.unwrap().outcomes.is_empty());

        let calls = store::cdr_report(&db, scope, &readable, 2026, 11, NOW).await.unwrap();
        assert_eq!(calls.per_month[10].calls, 36);
        assert_eq!(calls.per_month.iter().map(|m| m.calls).sum::<u64>(), 36);
        assert_eq!((calls.per_day.len(), calls.per_day[21].calls), (30, 36));
        assert_eq!(calls.per_hour[7].calls, 36, "06:xx UTC is 07:xx in Paris");
    }
}

#[tokio::test]
async fn periods_are_checked() {
    for db in each_backend().await {
        let scope = tenant_with_queues(&db).await;
        let readable = queues::store::list(&db, scope).await.unwrap();
        for period in [
            Period::Dates { from: "2026-11-30".into(), to: "2026-11-01".into() },
            Period::Dates { from: "2020-01-01".into(), to: "2026-01-01".into() },
            Period::Dates { from: "yesterday".into(), to: "2026-01-01".into() },
            Period::Month { year: 2026, month: 13 },
        ] {
            let filter = StatsFilter { period, queues: vec![], agents: vec![] };
            let error = store::acd_report(&db, scope, &readable, &filter, NOW).await.unwrap_err();
            assert!(matches!(error, app::error::AppError::Invalid { field: app::error::Field::Period, .. }), "{error:?}");
        }
        let month = StatsFilter { period: Period::Month { year: 2026, month: 11 }, queues: vec![], agents: vec![] };
        let report = store::acd_report(&db, scope, &readable, &month, NOW).await.unwrap();
        assert_eq!((report.first_day.as_str(), report.last_day.as_str()), ("2026-11-01", "2026-11-30"));
        assert_eq!(report.outcomes.iter().map(|o| o.offered).sum::<u64>(), 12);
    }
}
