//! The AT engine against the modem simulator, through tokio-serial on a pseudo-terminal: the
//! production serial path, with echo on (the modem's default), status reports arriving in the
//! middle of the next send, a missing SIM and a modem that stops answering.

use std::time::Duration;

use app::sms::{Refusal, Registration, SimState};
use tokio::time::Instant;

use super::at::{Final, Unsolicited};
use super::modem::{Modem, ModemError, SendError, refusal};
use super::pdu::{self, ReportStatus, Received};
use super::sim::{SimModem, SimModemConfig};

const SHORT: Duration = Duration::from_millis(500);

fn open(sim: &SimModem) -> Modem<tokio_serial::SerialStream> {
    Modem::open(&sim.path).expect("the simulator's pty opens").with_command_timeout(SHORT)
}

#[tokio::test]
async fn a_modem_is_set_up_monitored_and_sends_long_accented_text_with_reports() {
    let mut config = SimModemConfig::numbered(1);
    config.send_latency = Duration::from_millis(40);
    config.report_delay = Duration::from_millis(10);
    let sim = SimModem::spawn(config).unwrap();
    let mut modem = open(&sim);

    modem.initialise().await.unwrap();
    let status = modem.status().await.unwrap();
    assert_eq!(status.imei.as_deref(), Some(sim.imei.as_str()));
    assert_eq!(status.imsi.as_deref(), Some("208010000000001"));
    assert_eq!(status.operator.as_deref(), Some("20801"));
    assert_eq!((status.sim, status.registration), (SimState::Ready, Registration::Home));
    assert_eq!(status.signal.map(|s| s.dbm), Some(-73), "rssi 20 is −113 + 40 dBm");
    assert!(status.can_send());

    // The emoji needs UCS-2: 196 UTF-16 units make 3 parts of at most 67.
    let text = "Bonjour Élodie, votre commande 🚚 arrive demain. ".repeat(4);
    let parts = pdu::submit("+33612345678", &text, true, 77).unwrap();
    assert_eq!(parts.len(), 3);
    let mut references = Vec::new();
    let mut during_sends = 0;
    for part in &parts {
        references.push(modem.send_part(part, Duration::from_secs(5)).await.unwrap().expect("+CMGS gives a reference"));
        during_sends += modem.take_unsolicited().len();
    }
    assert_eq!(references, vec![0, 1, 2]);
    assert!(during_sends >= 2, "reports of earlier parts arrive while later parts are sent ({during_sends})");

    let received = sim.received();
    assert_eq!(received.iter().map(|r| r.text.as_str()).collect::<String>(), text);
    assert!(received.iter().all(|r| r.to == "+33612345678" && r.status_report && r.part.map(|p| p.0) == Some(77)));

    // Every report was announced (+CDSI) and stored; read them all, then delete them.
    let until = Instant::now() + Duration::from_millis(300);
    while modem.wait_unsolicited(until).await.unwrap().is_some() {}
    let stored = modem.stored().await.unwrap();
    let mut reported: Vec<u8> = stored
        .iter()
        .map(|s| match &s.read {
            Ok(Received::Report(report)) => {
                assert_eq!((report.status, report.recipient.as_str()), (ReportStatus::Delivered, "+33612345678"));
                report.reference
            }
            other => panic!("a status report was expected, got {other:?}"),
        })
        .collect();
    reported.sort();
    assert_eq!(reported, references);
    for s in &stored {
        modem.delete(s.index).await.unwrap();
    }
    assert!(modem.stored().await.unwrap().is_empty());
}

#[tokio::test]
async fn an_incoming_reply_is_announced_and_read_whole() {
    let sim = SimModem::spawn(SimModemConfig::numbered(2)).unwrap();
    let mut modem = open(&sim);
    modem.initialise().await.unwrap();
    sim.deliver("+33698765432", "STOP");
    let notice = modem.wait_unsolicited(Instant::now() + Duration::from_secs(2)).await.unwrap();
    assert!(matches!(notice, Some(Unsolicited::NewMessage { ref storage, .. }) if storage == "SM"), "{notice:?}");
    let stored = modem.stored().await.unwrap();
    match &stored[..] {
        [one] => match &one.read {
            Ok(Received::Message(message)) => assert_eq!((message.address.as_str(), message.text.as_str()), ("+33698765432", "STOP")),
            other => panic!("a message was expected, got {other:?}"),
        },
        other => panic!("one stored message was expected, got {other:?}"),
    }
}

#[tokio::test]
async fn a_missing_sim_is_reported_and_refuses_sends_as_a_modem_fault() {
    let mut config = SimModemConfig::numbered(3);
    config.sim_present = false;
    let sim = SimModem::spawn(config).unwrap();
    let mut modem = open(&sim);
    modem.initialise().await.unwrap();
    let status = modem.status().await.unwrap();
    assert!(!status.can_send());
    assert_eq!((status.sim, status.registration, status.imsi, status.operator), (SimState::Missing, Registration::NotRegistered, None, None));
    let part = &pdu::submit("+33612345678", "x", false, 0).unwrap()[0];
    match modem.send_part(part, SHORT).await {
        Err(SendError::Refused(result)) => {
            assert_eq!(result, Final::CmsError(310));
            assert_eq!(refusal(&result), Refusal::Modem);
        }
        other => panic!("a refusal was expected, got {other:?}"),
    }
    assert!(sim.received().is_empty());
}

#[tokio::test]
async fn a_modem_that_stops_answering_is_a_timeout_and_a_lost_answer_is_uncertain() {
    let mut config = SimModemConfig::numbered(4);
    config.send_latency = Duration::from_millis(300);
    let sim = SimModem::spawn(config).unwrap();
    let mut modem = open(&sim);
    modem.initialise().await.unwrap();
    let part = &pdu::submit("+33612345678", "Rendez-vous confirmé", false, 0).unwrap()[0];

    // The network takes longer than Relais waits: the part went out, its fate is unknown.
    match modem.send_part(part, Duration::from_millis(100)).await {
        Err(SendError::Uncertain(ModemError::Timeout { .. })) => {}
        other => panic!("an uncertain send was expected, got {other:?}"),
    }
    assert_eq!(sim.received().len(), 1, "the simulated network did receive it");
    // The late `+CMGS`/`OK` must not pass for the answer to the next commands.
    modem.recover().await.unwrap();
    assert_eq!(modem.status().await.unwrap().imei.as_deref(), Some(sim.imei.as_str()));

    // A modem that says nothing any more: before the prompt, nothing went out.
    sim.set_answering(false);
    match modem.send_part(part, SHORT).await {
        Err(SendError::NotSent(ModemError::Timeout { command, .. })) => assert!(command.starts_with("AT+CMGS=")),
        other => panic!("a send that never started was expected, got {other:?}"),
    }
    assert!(matches!(modem.status().await, Err(ModemError::Timeout { .. })));
    sim.set_answering(true);
    modem.recover().await.unwrap();
    assert_eq!(sim.received().len(), 1);
}

#[tokio::test]
async fn an_unreachable_serial_port_is_a_clear_error() {
    match Modem::open("/dev/relais-no-such-modem") {
        Err(ModemError::Open { path, .. }) => assert_eq!(path, "/dev/relais-no-such-modem"),
        Err(other) => panic!("an open error was expected, got {other:?}"),
        Ok(_) => panic!("the port does not exist"),
    }
}

mod gateway {
    //! A gateway drives simulated modems through their ptys against the real dispatcher, on both
    //! database backends: a campaign with long, accented and emoji messages, a modem refusing
    //! parts now and then, status reports, a STOP reply.

    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use app::db::Db;
    use app::db::testing::each_backend;
    use app::sms::dispatch::Rules;
    use app::sms::{credit, groups, text};
    use app::sms::testing::active_campaign;
    use app::tenants::testing::tenant;
    use sqlx::Row;
    use tokio::sync::watch;

    use crate::sms::dispatcher::{GroupDispatcher, spawn_lease_sweep};
    use crate::sms::gateway::{self, GatewayConfig};
    use crate::sms::sim::{SimModem, SimModemConfig};

    const T0: i64 = 1_795_428_000_000;

    fn texts() -> Vec<String> {
        vec![
            "Soldes d'hiver : -30 % sur tout le magasin ce week-end !".to_string(),
            "Élodie, votre rendez-vous est confirmé. Répondez STOP pour ne plus recevoir nos messages. ".repeat(3),
            "Livraison 🚚 demain entre 8 h et 12 h — merci de votre confiance ! ".repeat(2),
            "Prix en euros : 10 € {code PROMO} [valable jusqu'à dimanche] ~ ^ | \\".to_string(),
        ]
    }

    async fn settled(db: &Db, campaign_id: i64) -> bool {
        let waiting: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_messages WHERE campaign_id = $1 AND state IN ('queued', 'leased', 'sent')")
            .bind(campaign_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        waiting == 0
    }

    async fn campaign_state(db: &Db, campaign_id: i64) -> String {
        sqlx::query_scalar("SELECT state FROM sms_campaigns WHERE id = $1").bind(campaign_id).fetch_one(db.pool()).await.unwrap()
    }

    #[tokio::test]
    async fn a_modem_seen_on_two_ports_is_driven_through_one() {
        let db = each_backend().await.remove(0);
        let (group_id, _token) = groups::create(&db, "02:00:00:00:00:02", "Rack B", 1, 600, T0).await.unwrap();
        // A Huawei modem shows two serial ports answering with the same IMEI.
        let ports: Vec<SimModem> = (0..2).map(|_| SimModem::spawn(SimModemConfig::numbered(9)).unwrap()).collect();
        let link = Arc::new(GroupDispatcher::new(db.clone(), group_id, Rules::default()));
        let config = GatewayConfig { monitor_every: Duration::from_millis(100), ..GatewayConfig::new(ports.iter().map(|s| s.path.clone()).collect()) };
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(gateway::run(link, config, stopped));
        // The second port's task leaves on its first round; the first keeps monitoring.
        tokio::time::sleep(Duration::from_millis(600)).await;
        let before: Vec<usize> = ports.iter().map(SimModem::commands).collect();
        tokio::time::sleep(Duration::from_millis(400)).await;
        let grew: Vec<bool> = ports.iter().zip(&before).map(|(port, before)| port.commands() > *before).collect();
        assert_eq!(grew.iter().filter(|g| **g).count(), 1, "one port is driven, the other left alone: {grew:?}");
        let port: String = sqlx::query_scalar("SELECT port FROM modems WHERE group_id = $1").bind(group_id).fetch_one(db.pool()).await.unwrap();
        let driven = if grew[0] { &ports[0] } else { &ports[1] };
        assert_eq!(port, driven.path, "the modem is known by the port that drives it");
        let _ = stop.send(true);
        running.await.unwrap();
    }

    /// Message states of the campaign, with how many messages are in each.
    pub(super) async fn states(db: &Db, campaign_id: i64) -> HashMap<String, i64> {
        sqlx::query("SELECT state, COUNT(*) FROM sms_messages WHERE campaign_id = $1 GROUP BY state")
            .bind(campaign_id)
            .fetch_all(db.pool())
            .await
            .unwrap()
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect()
    }

    /// Every part each simulated modem accepted, by destination: (part number, text).
    pub(super) fn received_by_number(sims: &[&SimModem]) -> HashMap<String, Vec<(u8, String)>> {
        let mut received: HashMap<String, Vec<(u8, String)>> = HashMap::new();
        for sim in sims {
            for part in sim.received() {
                received.entry(part.to.clone()).or_default().push((part.part.map_or(1, |p| p.2), part.text));
            }
        }
        for parts in received.values_mut() {
            parts.sort();
        }
        received
    }

    #[tokio::test]
    async fn a_gateway_sends_a_campaign_through_simulated_modems_and_brings_back_reports_and_replies() {
        for db in each_backend().await {
            let scope = tenant(&db, "Fleurs & Co", "anne").await;
            let campaign_id = active_campaign(&db, scope, "Hiver", T0).await;
            credit::top_up(&db, scope.tenant_id(), 10_000, T0).await.unwrap();

            let mut expected = HashMap::new();
            let mut tx = db.begin_write().await.unwrap();
            for i in 0..24 {
                let number = format!("+336000000{i:02}");
                let body = texts()[i % 4].clone();
                let parts = text::plan(&body).1 as u32;
                app::sms::testing::queue_message(&mut tx, scope.tenant_id(), campaign_id, None, &number, &body, parts, T0).await.unwrap();
                expected.insert(number, body);
            }
            tx.commit().await.unwrap();

            let sims: Vec<SimModem> = (1..=3)
                .map(|n| {
                    let config = SimModemConfig {
                        send_latency: Duration::from_millis(15),
                        report_delay: Duration::from_millis(10),
                        failure_rate: if n == 2 { 0.25 } else { 0.0 },
                        ..SimModemConfig::numbered(n)
                    };
                    SimModem::spawn(config).unwrap()
                })
                .collect();
            let (group_id, _token) = groups::create(&db, "02:00:00:00:00:01", "Rack A", 3, 6_000, T0).await.unwrap();
            groups::set_started(&db, group_id, true).await.unwrap();
            let rules = Rules { lease_ms: 5_000, retry_delays_ms: [50, 100, 200, 400], set_aside_ms: 500, ..Rules::default() };
            let link = Arc::new(GroupDispatcher::new(db.clone(), group_id, rules));
            let config = GatewayConfig {
                monitor_every: Duration::from_millis(300),
                idle_poll: Duration::from_millis(50),
                command_timeout: Duration::from_millis(500),
                send_timeout: Duration::from_secs(2),
                reopen_after: Duration::from_millis(200),
                ..GatewayConfig::new(sims.iter().map(|s| s.path.clone()).collect())
            };
            let (stop, stopped) = watch::channel(false);
            let running = tokio::spawn(gateway::run(link, config, stopped));
            // As in the server: on PostgreSQL, the last two messages settled side by side each
            // see the other still being sent, and the sweep finishes their campaign.
            let sweep = spawn_lease_sweep(db.clone(), Duration::from_millis(100));

            let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
            while !settled(&db, campaign_id).await || campaign_state(&db, campaign_id).await != "finished" {
                assert!(tokio::time::Instant::now() < deadline, "the campaign did not settle in time");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }

            // Message by message, what the simulated network received is what was asked, once.
            let mut received = received_by_number(&sims.iter().collect::<Vec<_>>());
            for (number, body) in &expected {
                let parts = received.remove(number).unwrap_or_else(|| panic!("nothing received for {number}"));
                let sequences: Vec<u8> = parts.iter().map(|(s, _)| *s).collect();
                assert_eq!(sequences, (1..=text::plan(body).1 as u8).collect::<Vec<_>>(), "each part of {number} exactly once");
                assert_eq!(parts.into_iter().map(|(_, t)| t).collect::<String>(), *body);
            }
            assert_eq!(states(&db, campaign_id).await, HashMap::from([("delivered".to_string(), 24)]), "every message delivered, as the status reports said");
            let modems: Vec<(String, String)> = sqlx::query("SELECT imei, operator FROM modems WHERE group_id = $1 ORDER BY imei")
                .bind(group_id)
                .fetch_all(db.pool())
                .await
                .unwrap()
                .into_iter()
                .map(|row| (row.get(0), row.get(1)))
                .collect();
            assert_eq!(modems, sims.iter().map(|s| (s.imei.clone(), "20801".to_string())).collect::<Vec<_>>());

            // A reply to one of the messages: handed over, attributed, STOP honoured.
            let answered = sims[0].received().first().expect("modem 1 sent something").to.clone();
            sims[0].deliver(&answered, "STOP");
            let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
            loop {
                let opted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_opt_outs WHERE tenant_id = $1 AND number = $2")
                    .bind(scope.tenant_id())
                    .bind(&answered)
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
                if opted == 1 {
                    break;
                }
                assert!(tokio::time::Instant::now() < deadline, "the STOP reply never arrived");
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            stop.send(true).unwrap();
            running.await.unwrap();
            sweep.abort();
        }
    }
}

mod chaining {
    //! A busy modem asks for its next message with the report of the last part it sent, even
    //! when its storage is due a read: the read comes first, then the report.

    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::time::Duration;

    use app::db::Db;
    use app::db::testing::each_backend;
    use app::sms::dispatch::Rules;
    use app::sms::testing::active_campaign;
    use app::sms::{GroupOrders, Inbound, Lease, ModemReport, PartReport, ReportReply, credit, groups};
    use app::tenants::testing::tenant;
    use sqlx::Row;
    use tokio::sync::watch;

    use super::gateway::states;
    use crate::sms::dispatcher::GroupDispatcher;
    use crate::sms::gateway::{self, DispatchLink, GatewayConfig, LinkError};
    use crate::sms::sim::{SimModem, SimModemConfig};

    const T0: i64 = 1_795_428_000_000;

    /// The dispatcher, counting the leases the gateway asked for on their own and got, and
    /// able to silence the modem as it hands over a chained lease.
    struct Watching {
        inner: GroupDispatcher,
        asked_and_leased: AtomicUsize,
        chained: AtomicUsize,
        /// The modem, silenced with the chained lease numbered `.1`, the reply held until
        /// `.2` passed (a monitoring round is then due).
        silence: Option<(Arc<SimModem>, usize, Duration)>,
    }

    impl Watching {
        fn new(db: &Db, group_id: i64, silence: Option<(Arc<SimModem>, usize, Duration)>) -> Self {
            let inner = GroupDispatcher::new(db.clone(), group_id, Rules::default());
            Watching { inner, asked_and_leased: AtomicUsize::new(0), chained: AtomicUsize::new(0), silence }
        }
    }

    impl DispatchLink for Watching {
        async fn modem_status(&self, report: &ModemReport) -> Result<GroupOrders, LinkError> {
            self.inner.modem_status(report).await
        }
        async fn lease(&self, imei: &str) -> Result<Option<Lease>, LinkError> {
            let lease = self.inner.lease(imei).await?;
            self.asked_and_leased.fetch_add(usize::from(lease.is_some()), Ordering::SeqCst);
            Ok(lease)
        }
        async fn report(&self, imei: &str, report: &PartReport, then_lease: bool) -> Result<ReportReply, LinkError> {
            let reply = self.inner.report(imei, report, then_lease).await?;
            if let ReportReply::Next(_) = reply {
                let chained = self.chained.fetch_add(1, Ordering::SeqCst) + 1;
                if let Some((sim, at, hold)) = &self.silence
                    && chained == *at
                {
                    sim.set_answering(false);
                    tokio::time::sleep(*hold).await;
                }
            }
            Ok(reply)
        }
        async fn inbound(&self, imei: &str, items: &[Inbound]) -> Result<(), LinkError> {
            self.inner.inbound(imei, items).await
        }
    }

    async fn queue(db: &Db, count: usize) -> i64 {
        let scope = tenant(db, "Fleurs & Co", "anne").await;
        let campaign_id = active_campaign(db, scope, "Hiver", T0).await;
        credit::top_up(db, scope.tenant_id(), 10_000, T0).await.unwrap();
        let mut tx = db.begin_write().await.unwrap();
        for i in 0..count {
            let number = format!("+336100000{i:02}");
            app::sms::testing::queue_message(&mut tx, scope.tenant_id(), campaign_id, None, &number, "Votre colis arrive demain.", 1, T0).await.unwrap();
        }
        tx.commit().await.unwrap();
        campaign_id
    }

    #[tokio::test]
    async fn storage_reads_do_not_break_a_busy_modems_chain_of_leases() {
        let db = each_backend().await.remove(0);
        let campaign_id = queue(&db, 20).await;
        // Every part brings a status report: the storage is due a read every few messages.
        let sim = SimModem::spawn(SimModemConfig { send_latency: Duration::from_millis(5), report_delay: Duration::ZERO, ..SimModemConfig::numbered(1) }).unwrap();
        let (group_id, _token) = groups::create(&db, "02:00:00:00:00:03", "Rack C", 1, groups::MAX_SPEED, T0).await.unwrap();
        groups::set_started(&db, group_id, true).await.unwrap();
        let link = Arc::new(Watching::new(&db, group_id, None));
        let config = GatewayConfig { idle_poll: Duration::from_millis(50), ..GatewayConfig::new(vec![sim.path.clone()]) };
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(gateway::run(link.clone(), config, stopped));

        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while states(&db, campaign_id).await.get("delivered") != Some(&20) {
            assert!(tokio::time::Instant::now() < deadline, "not all delivered in time: {:?}", states(&db, campaign_id).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let _ = stop.send(true);
        running.await.unwrap();
        assert_eq!(sim.received().len(), 20);
        assert_eq!(link.asked_and_leased.load(Ordering::SeqCst), 1, "only the first message was asked for on its own; the others came with a report");
    }

    #[tokio::test]
    async fn a_modem_failing_with_a_chained_lease_in_hand_gives_it_back_unsent() {
        let db = each_backend().await.remove(0);
        let campaign_id = queue(&db, 6).await;
        let sim = Arc::new(SimModem::spawn(SimModemConfig { send_latency: Duration::from_millis(5), ..SimModemConfig::numbered(1) }).unwrap());
        let (group_id, _token) = groups::create(&db, "02:00:00:00:00:04", "Rack D", 1, groups::MAX_SPEED, T0).await.unwrap();
        groups::set_started(&db, group_id, true).await.unwrap();
        let monitor_every = Duration::from_millis(800);
        // The third message handed over with a report finds the modem silent, and a monitoring
        // round due before it can be sent.
        let link = Arc::new(Watching::new(&db, group_id, Some((sim.clone(), 3, monitor_every))));
        let config = GatewayConfig {
            monitor_every,
            idle_poll: Duration::from_millis(50),
            command_timeout: Duration::from_millis(300),
            reopen_after: Duration::from_secs(30),
            ..GatewayConfig::new(vec![sim.path.clone()])
        };
        let (stop, stopped) = watch::channel(false);
        let running = tokio::spawn(gateway::run(link.clone(), config, stopped));

        let given_back = "SELECT m.number, m.attempts FROM sms_messages m WHERE m.campaign_id = $1 AND m.state = 'queued' AND m.attempts > 0";
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        let (number, attempts): (String, i64) = loop {
            if let Some(row) = sqlx::query(given_back).bind(campaign_id).fetch_optional(db.pool()).await.unwrap() {
                break (row.get(0), row.get(1));
            }
            assert!(tokio::time::Instant::now() < deadline, "the lease was not given back: {:?}", states(&db, campaign_id).await);
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        let _ = stop.send(true);
        running.await.unwrap();
        assert_eq!(attempts, 1, "a failed attempt, to retry later");
        assert!(sim.received().iter().all(|part| part.to != number), "the message given back never went out");
        assert_eq!(sim.received().len(), 3, "the first three were sent");
        let unknown: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id WHERE m.campaign_id = $1 AND p.state = 'unknown'")
            .bind(campaign_id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(unknown, 0, "no part taken as perhaps on the air");
    }
}

mod remote {
    //! Gateways on other computers, over HTTP with their group's token: a wrong token is refused,
    //! and a gateway killed mid-campaign loses nothing — its messages go to the other group, the
    //! one part it may have had on the air is recorded as unknown, never sent twice.

    use std::collections::HashMap;
    use std::sync::Arc;
    use std::time::Duration;

    use app::db::testing::each_backend;
    use app::sms::dispatch::Rules;
    use app::sms::{ModemReport, credit, groups, text};
    use app::sms::testing::active_campaign;
    use app::tenants::testing::tenant;
    use tokio::sync::watch;

    use crate::sms::dispatcher::spawn_lease_sweep;
    use crate::sms::gateway::{self, DispatchLink, GatewayConfig, LinkError};
    use crate::sms::remote::RemoteDispatcher;
    use crate::sms::sim::{SimModem, SimModemConfig};

    const T0: i64 = 1_795_428_000_000;

    /// Waits until no message of the campaign is in one of `waiting`.
    async fn settle(db: &app::db::Db, campaign_id: i64, waiting: &[&str]) {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
        loop {
            let states = super::gateway::states(db, campaign_id).await;
            if waiting.iter().all(|state| !states.contains_key(*state)) {
                return;
            }
            assert!(tokio::time::Instant::now() < deadline, "the campaign did not settle: {states:?}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    fn sims(first: u32) -> Vec<SimModem> {
        (first..first + 2)
            .map(|n| {
                let config = SimModemConfig { send_latency: Duration::from_millis(40), report_delay: Duration::from_millis(10), ..SimModemConfig::numbered(n) };
                SimModem::spawn(config).unwrap()
            })
            .collect()
    }

    fn config(sims: &[SimModem]) -> GatewayConfig {
        GatewayConfig {
            monitor_every: Duration::from_millis(200),
            idle_poll: Duration::from_millis(50),
            command_timeout: Duration::from_millis(500),
            send_timeout: Duration::from_millis(800),
            reopen_after: Duration::from_millis(200),
            ..GatewayConfig::new(sims.iter().map(|s| s.path.clone()).collect())
        }
    }

    #[tokio::test]
    async fn a_gateway_killed_mid_campaign_loses_nothing_and_sends_nothing_twice() {
        for db in each_backend().await {
            let rules = Rules { lease_ms: 3_000, affinity_release_ms: 1_000, retry_delays_ms: [50, 100, 200, 400], set_aside_ms: 500 };
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            let url = format!("http://{}", listener.local_addr().unwrap());
            let api = axum::Router::new().nest("/api/gateway", crate::sms::api::router(db.clone(), rules));
            tokio::spawn(async move { axum::serve(listener, api).await.unwrap() });

            let refused = RemoteDispatcher::new(&url, "not-a-token").unwrap();
            assert_eq!(refused.modem_status(&ModemReport::default()).await, Err(LinkError::Unauthorised));

            let scope = tenant(&db, "Fleurs & Co", "anne").await;
            let campaign_id = active_campaign(&db, scope, "Hiver", T0).await;
            credit::top_up(&db, scope.tenant_id(), 100_000, T0).await.unwrap();
            let long = "Réservez votre table pour le réveillon : menu à 45 €, places limitées. ".repeat(3);
            let mut expected = HashMap::new();
            let mut tx = db.begin_write().await.unwrap();
            for i in 0..40 {
                let number = format!("+336100000{i:02}");
                let body = if i % 3 == 0 { long.clone() } else { format!("Votre code de fidélité n°{i} vous attend en magasin.") };
                app::sms::testing::queue_message(&mut tx, scope.tenant_id(), campaign_id, None, &number, &body, text::plan(&body).1 as u32, T0).await.unwrap();
                expected.insert(number, body);
            }
            tx.commit().await.unwrap();
            // The server's sweep, started once the campaign has its messages: it finishes an
            // active campaign with nothing left to send.
            let sweep = spawn_lease_sweep(db.clone(), Duration::from_millis(100));

            let (rack_a, rack_b) = (sims(11), sims(21));
            let mut tokens = Vec::new();
            for (mac, alias) in [("02:00:00:00:00:0a", "Rack A"), ("02:00:00:00:00:0b", "Rack B")] {
                let (id, token) = groups::create(&db, mac, alias, 2, 60_000, T0).await.unwrap();
                groups::set_started(&db, id, true).await.unwrap();
                tokens.push(token);
            }
            let (stop, stopped) = watch::channel(false);
            // Rack A starts first, so that it surely has work when it dies (started together,
            // rack B could take it all while rack A's gateway is still setting up).
            let gateway_a = tokio::spawn(gateway::run(Arc::new(RemoteDispatcher::new(&url, &tokens[0]).unwrap()), config(&rack_a), stopped.clone()));
            let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
            while rack_a.iter().map(|s| s.received().len()).sum::<usize>() < 6 {
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "rack A never started: {:?} parts received, {:?} on {:?}",
                    rack_a.iter().map(|s| s.received().len()).collect::<Vec<_>>(),
                    super::gateway::states(&db, campaign_id).await,
                    db.backend()
                );
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            // Rack B joins, and gateway A dies without a word in the middle of its leases.
            let gateway_b = tokio::spawn(gateway::run(Arc::new(RemoteDispatcher::new(&url, &tokens[1]).unwrap()), config(&rack_b), stopped));
            gateway_a.abort();
            let _ = gateway_a.await;

            // Nothing stays queued or leased: rack B takes over what rack A held.
            settle(&db, campaign_id, &["queued", "leased"]).await;
            // Rack A's gateway comes back and reads the status reports its modems kept meanwhile.
            let gateway_a = tokio::spawn(gateway::run(Arc::new(RemoteDispatcher::new(&url, &tokens[0]).unwrap()), config(&rack_a), stop.subscribe()));
            settle(&db, campaign_id, &["queued", "leased", "sent"]).await;
            let _ = stop.send(true);
            gateway_a.await.unwrap();
            gateway_b.await.unwrap();
            sweep.abort();

            let states = super::gateway::states(&db, campaign_id).await;
            let unknown = states.get("unknown").copied().unwrap_or(0);
            assert!(unknown <= 2, "at most the part in flight on each of rack A's two modems is in doubt: {states:?}");
            assert_eq!(states.get("delivered").copied().unwrap_or(0) + unknown, 40, "{states:?}");
            let all: Vec<&SimModem> = rack_a.iter().chain(&rack_b).collect();
            let mut received = super::gateway::received_by_number(&all);
            for (number, body) in &expected {
                let parts = received.remove(number).unwrap_or_default();
                let sequences: Vec<u8> = parts.iter().map(|(s, _)| *s).collect();
                let mut unique = sequences.clone();
                unique.dedup();
                assert_eq!(unique, sequences, "no part of {number} sent twice");
                let state: String = sqlx::query_scalar("SELECT state FROM sms_messages WHERE number = $1").bind(number).fetch_one(db.pool()).await.unwrap();
                if state == "delivered" {
                    assert_eq!(parts.into_iter().map(|(_, t)| t).collect::<String>(), *body, "{number} arrived whole");
                }
            }
        }
    }
}
