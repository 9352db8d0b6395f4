//! The PBX simulator driven through the production bridge (AMI client + live model), and its
//! files read by the production importers.

use std::sync::Arc;
use std::time::Duration;

use app::acd::bridge::{AcdBridge, PbxAction};
use app::acd::{PbxLive, PbxState, QueueLive};
use app::db::testing::each_backend;
use app::error::AppError;
use server::acd::bridge::Bridge;
use server::acd::import::import_queue_log;
use server::pbx::cdr::import_cdr;
use server::pbx::client::AmiConfig;
use server::pbx::sim::{self, SimConfig};
use sqlx::Row;

fn quiet(config: SimConfig) -> SimConfig {
    SimConfig { traffic: false, ..config }
}

/// Waits until the board satisfies `ready`, or fails after a few seconds.
async fn board_until(bridge: &Bridge, what: &str, ready: impl Fn(&[PbxLive]) -> bool) -> Arc<Vec<PbxLive>> {
    let mut board = bridge.board();
    let wait = async {
        loop {
            let current = board.borrow_and_update().clone();
            if ready(&current) {
                return current;
            }
            board.changed().await.expect("bridge alive");
        }
    };
    tokio::time::timeout(Duration::from_secs(10), wait).await.unwrap_or_else(|_| panic!("timed out waiting for {what}"))
}

fn queue<'a>(board: &'a [PbxLive], name: &str) -> Option<&'a QueueLive> {
    board.first()?.queues.iter().find(|q| q.name == name)
}

#[tokio::test]
async fn the_bridge_follows_the_simulator_and_its_actions() {
    let simulator = sim::start(quiet(SimConfig::demo("relais", "s3cret")), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let bridge = Bridge::start(vec![("main".into(), AmiConfig::new(simulator.address.to_string(), "relais", "s3cret"))], "from-internal".into());
    let board = board_until(&bridge, "the queues", |b| b[0].state == PbxState::Connected && queue(b, "sales").is_some()).await;
    let support = queue(&board, "support").unwrap();
    let names: Vec<&str> = support.members.iter().map(|m| m.name.as_str()).collect();
    assert_eq!(names, vec!["Alice Martin", "Bruno Petit", "Chloé Durand"]);

    // A caller arrives: it is waiting on the board.
    simulator.world.lock().unwrap().caller_joins("support", "0612345678", "Société <Durand>");
    let board = board_until(&bridge, "the caller", |b| queue(b, "support").is_some_and(|q| q.callers.len() == 1)).await;
    let caller = &queue(&board, "support").unwrap().callers[0];
    assert_eq!((caller.caller_number.as_str(), caller.caller_name.as_str(), caller.position), ("0612345678", "Société <Durand>", 1));

    // Pause with a reason, change a penalty, remove and add back.
    let act = |action| bridge.act("main", action);
    act(PbxAction::QueuePause { queue: "support".into(), interface: "PJSIP/1002".into(), paused: true, reason: "lunch".into() }).await.unwrap();
    act(PbxAction::QueuePenalty { queue: "support".into(), interface: "PJSIP/1001".into(), penalty: 3 }).await.unwrap();
    act(PbxAction::QueueRemove { queue: "sales".into(), interface: "PJSIP/1004".into() }).await.unwrap();
    let board = board_until(&bridge, "the changes", |b| {
        queue(b, "sales").is_some_and(|q| q.members.len() == 1)
            && queue(b, "support").is_some_and(|q| q.members.iter().any(|m| m.paused && m.paused_reason == "lunch"))
            && queue(b, "support").is_some_and(|q| q.members.iter().any(|m| m.penalty == 3))
    })
    .await;
    assert_eq!(queue(&board, "sales").unwrap().members[0].name, "Chloé Durand");
    let again = act(PbxAction::QueueRemove { queue: "sales".into(), interface: "PJSIP/1004".into() }).await;
    assert_eq!(again, Err(AppError::PbxRefused("Unable to remove interface: Not there".into())));
    act(PbxAction::QueueAdd {
        queue: "sales".into(),
        interface: "PJSIP/1004".into(),
        state_interface: "PJSIP/1004".into(),
        member_name: "David Roux".into(),
        penalty: 2,
    })
    .await
    .unwrap();
    board_until(&bridge, "David back", |b| queue(b, "sales").is_some_and(|q| q.members.iter().any(|m| m.name == "David Roux" && m.penalty == 2))).await;

    // Recording needs a live channel; listening rings the supervisor's phone.
    let refused = act(PbxAction::RecordStart { channel: "PJSIP/1001-deadbeef".into(), file: "x.wav".into() }).await;
    assert_eq!(refused, Err(AppError::PbxRefused("No such channel".into())));
    act(PbxAction::Listen { supervisor_phone: "PJSIP/2001".into(), target: "PJSIP/1001".into() }).await.unwrap();
    // Click-to-call from the agent desk: the agent's phone, then the contact in the dial context.
    let dial = |agent_phone: &str| PbxAction::Dial {
        agent_phone: agent_phone.into(),
        number: "+33612345678".into(),
        caller_number: "+33170000001".into(),
        contact_name: "Jean \"Jo\" Dupont".into(),
    };
    act(dial("PJSIP/1001")).await.unwrap();
    assert_eq!(act(dial("1001")).await, Err(AppError::PbxRefused("Invalid channel".into())));
    assert_eq!(bridge.act("elsewhere", PbxAction::RecordStop { channel: "x".into() }).await, Err(AppError::PbxNotConnected));
}

#[tokio::test]
async fn a_wrong_secret_is_shown_as_an_unreachable_pbx() {
    let simulator = sim::start(quiet(SimConfig::demo("relais", "right")), "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let mut config = AmiConfig::new(simulator.address.to_string(), "relais", "wrong");
    config.max_backoff = Duration::from_millis(200);
    let bridge = Bridge::start(vec![("main".into(), config)], "from-internal".into());
    board_until(&bridge, "unreachable", |b| matches!(b[0].state, PbxState::Unreachable { .. })).await;
}

#[tokio::test]
async fn generated_traffic_lands_in_files_the_importers_read_completely() {
    let dir = tempfile::tempdir().unwrap();
    let config = SimConfig {
        calls_per_minute: 900.0,
        talk_secs: 1.0,
        patience_secs: 2.0,
        outbound_per_agent_hour: 3600.0,
        queue_log: Some(dir.path().join("queue_log")),
        cdr_csv: Some(dir.path().join("Master.csv")),
        ..SimConfig::demo("relais", "s3cret")
    };
    let simulator = sim::start(config, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    tokio::time::sleep(Duration::from_secs(9)).await;
    assert!(simulator.world.lock().unwrap().events_sent > 100);
    let zone = jiff::tz::TimeZone::get("Europe/Paris").unwrap();
    for db in each_backend().await {
        let report = import_queue_log(&db, "main:queue_log", &dir.path().join("queue_log"), 0).await.unwrap();
        assert!(report.rejected.is_empty(), "{:?}", report.rejected);
        assert!(report.imported > 20, "{report:?}");
        let cdr = import_cdr(&db, "main:cdr", &dir.path().join("Master.csv"), zone.clone(), 0).await.unwrap();
        assert!(cdr.rejected.is_empty(), "{:?}", cdr.rejected);
        assert!(cdr.imported > 5, "{cdr:?}");
        let count = |event: &'static str| {
            let db = db.clone();
            async move {
                sqlx::query("SELECT COUNT(*) AS n FROM queue_log_events WHERE event = $1")
                    .bind(event)
                    .fetch_one(db.pool())
                    .await
                    .unwrap()
                    .get::<i64, _>("n")
            }
        };
        let (entered, connected, abandoned) = (count("ENTERQUEUE").await, count("CONNECT").await, count("ABANDON").await);
        assert!(entered > 0 && connected > 0 && abandoned > 0, "{entered} {connected} {abandoned}");
        assert!(connected + abandoned <= entered, "every outcome follows an entry");
        let ended = count("COMPLETECALLER").await + count("COMPLETEAGENT").await;
        assert!(ended <= connected && ended > 0);
        // Reading the file again (the simulator is still writing) counts only new lines, and
        // the half-hour counts agree with the lines.
        import_queue_log(&db, "main:queue_log", &dir.path().join("queue_log"), 0).await.unwrap();
        for event in ["ENTERQUEUE", "CONNECT", "ABANDON"] {
            let kept: i64 = sqlx::query("SELECT CAST(SUM(calls) AS BIGINT) AS n FROM queue_log_slots WHERE event = $1")
                .bind(event)
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get::<Option<i64>, _>("n")
                .unwrap_or(0);
            assert_eq!(kept, count(event).await, "{event}");
        }
    }
}
