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
