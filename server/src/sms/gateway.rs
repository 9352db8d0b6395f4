//! The gateway agent: drives every modem of a group in parallel, one task per serial port.
//!
//! Each modem task opens its port, sets the modem up, and loops: a monitoring round every 20 s
//! (reported to the dispatcher, which answers with the group's orders), messages and status
//! reports read from the modem's storage and handed over before they are deleted, and — while
//! the group is started and the modem can send — one leased message at a time, its parts sent
//! in order at the group's pace. Each part's outcome is reported before the next part starts,
//! so if this gateway dies, at most the one part in flight is in doubt (see `app::sms::dispatch`).
//!
//! The dispatcher is reached through `DispatchLink`: over HTTP for a remote group (`relais
//! gateway`), or directly on the database for modems attached to the server itself.

use std::collections::HashMap;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use app::sms::{GroupOrders, Inbound, Lease, ModemReport, PartOutcome, PartReport, ReportReply};
use tokio::sync::watch;
use tokio::time::Instant;

use super::at::Unsolicited;
use super::modem::{Modem, ModemError, SendError, Stored, refusal};
use super::pdu::{self, Received, ReportStatus};

/// Why the dispatcher could not be reached or refused the gateway.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error, serde::Serialize, serde::Deserialize)]
pub enum LinkError {
    #[error("dispatcher unreachable: {0}")]
    Unreachable(String),
    #[error("the dispatcher refused this gateway's token")]
    Unauthorised,
    #[error("the dispatcher does not know modem {0}")]
    UnknownModem(String),
    #[error("dispatcher error: {0}")]
    Server(String),
}

/// The gateway's side of the dispatcher.
pub trait DispatchLink: Send + Sync + 'static {
    /// Reports a modem's monitoring round; answers with the group's orders.
    fn modem_status(&self, report: &ModemReport) -> impl Future<Output = Result<GroupOrders, LinkError>> + Send;
    fn lease(&self, imei: &str) -> impl Future<Output = Result<Option<Lease>, LinkError>> + Send;
    /// Reports a part. With `then_lease`, a lease that is over comes back with the modem's next
    /// one (`ReportReply::Next`), which the gateway then sends at once.
    fn report(&self, imei: &str, report: &PartReport, then_lease: bool) -> impl Future<Output = Result<ReportReply, LinkError>> + Send;
    /// Hands over what a modem received; once this succeeds the gateway deletes it from the modem.
    fn inbound(&self, imei: &str, items: &[Inbound]) -> impl Future<Output = Result<(), LinkError>> + Send;
}

#[derive(Clone, Debug)]
pub struct GatewayConfig {
    pub ports: Vec<String>,
    pub monitor_every: Duration,
    /// How long an idle modem waits for news before asking for work again.
    pub idle_poll: Duration,
    pub command_timeout: Duration,
    pub send_timeout: Duration,
    /// Wait before reopening a port that failed.
    pub reopen_after: Duration,
}

impl GatewayConfig {
    pub fn new(ports: Vec<String>) -> Self {
        GatewayConfig {
            ports,
            monitor_every: Duration::from_secs(20),
            idle_poll: Duration::from_secs(1),
            command_timeout: super::modem::COMMAND_TIMEOUT,
            send_timeout: super::modem::SEND_TIMEOUT,
            reopen_after: Duration::from_secs(5),
        }
    }
}

/// The USB serial ports of this computer. A Huawei modem shows two (commands and notices); the
/// second answers with the same IMEI and is left alone (see `Claims`).
pub fn usb_serial_ports() -> Vec<String> {
    let mut ports: Vec<String> = tokio_serial::available_ports()
        .unwrap_or_default()
        .into_iter()
        .map(|port| port.port_name)
        .filter(|name| name.starts_with("/dev/ttyUSB") || name.starts_with("/dev/ttyACM"))
        .collect();
    ports.sort();
    ports
}

/// Which port drives which modem (by IMEI): one port per modem, the first to claim it.
type Claims = Arc<std::sync::Mutex<HashMap<String, String>>>;

/// Runs one task per port until `stop` turns true. Dropping the future ends them all (a
/// gateway that dies takes its modem tasks with it).
pub async fn run<L: DispatchLink>(link: Arc<L>, config: GatewayConfig, stop: watch::Receiver<bool>) {
    let claims = Claims::default();
    let mut tasks = tokio::task::JoinSet::new();
    for port in &config.ports {
        tasks.spawn(drive(link.clone(), port.clone(), config.clone(), claims.clone(), stop.clone()));
    }
    while tasks.join_next().await.is_some() {}
}

/// One modem, for the gateway's lifetime: reopened whenever its line fails.
async fn drive<L: DispatchLink>(link: Arc<L>, port: String, config: GatewayConfig, claims: Claims, mut stop: watch::Receiver<bool>) {
    while !*stop.borrow() {
        let failure = match Modem::open(&port) {
            Ok(modem) => {
                let mut worker = Worker {
                    link: link.as_ref(),
                    port: &port,
                    config: &config,
                    claims: &claims,
                    modem: modem.with_command_timeout(config.command_timeout),
                    imei: None,
                    orders: None,
                    next_part_at: Instant::now(),
                    partial: HashMap::new(),
                    next_round: Instant::now(),
                    notices: 0,
                    force_sweep: true,
                    last_sweep: Instant::now(),
                };
                match worker.work(&mut stop).await {
                    Some(failure) => failure,
                    None => return,
                }
            }
            Err(error) => error,
        };
        if *stop.borrow() {
            break;
        }
        tracing::warn!(port, %failure, "modem unavailable");
        let report = ModemReport { port: port.clone(), error: failure.to_string(), ..ModemReport::default() };
        if let Err(error) = link.modem_status(&report).await {
            tracing::debug!(port, %error, "cannot report the modem's failure");
        }
        tokio::select! {
            _ = tokio::time::sleep(config.reopen_after) => {}
            _ = stop.changed() => {}
        }
    }
}

/// Parts of long incoming messages waiting for the rest: (sender, reference) → when first seen.
type Partial = HashMap<(String, u16), Instant>;

/// Storage notices that make the storage worth reading between sends, or how long they may wait.
const SWEEP_BATCH: usize = 8;
const SWEEP_EVERY: Duration = Duration::from_secs(2);

/// An incomplete long message is handed over as it is after this long.
const PARTIAL_PATIENCE: Duration = Duration::from_secs(3600);

struct Worker<'a, L, T> {
    link: &'a L,
    port: &'a str,
    config: &'a GatewayConfig,
    claims: &'a Claims,
    modem: Modem<T>,
    imei: Option<String>,
    orders: Option<GroupOrders>,
    next_part_at: Instant,
    partial: Partial,
    /// When the next monitoring round is due.
    next_round: Instant,
    /// Storage notices not acted on yet, whether the storage must be read at the next
    /// occasion, and when it last was.
    notices: usize,
    force_sweep: bool,
    last_sweep: Instant,
}

impl<L: DispatchLink, T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin> Worker<'_, L, T> {
    /// Works the modem until its line fails (the error), or `None` when the gateway stops or
    /// the port turns out to be another port of a modem already driven.
    async fn work(&mut self, stop: &mut watch::Receiver<bool>) -> Option<ModemError> {
        let failure = self.work_until_failure(stop).await;
        if let Some(imei) = &self.imei {
            let mut claims = self.claims.lock().expect("port claims");
            if claims.get(imei).map(String::as_str) == Some(self.port) {
                claims.remove(imei);
            }
        }
        failure
    }

    async fn work_until_failure(&mut self, stop: &mut watch::Receiver<bool>) -> Option<ModemError> {
        match self.modem.initialise().await {
            Err(refused) if refused.is_refusal() => tracing::warn!(port = self.port, %refused, "modem set-up incomplete"),
            Err(error) => return Some(error),
            Ok(()) => {}
        }
        let mut can_send = false;
        // A lease that came back with the report of the previous message's last part.
        let mut next: Option<Lease> = None;
        loop {
            if *stop.borrow() && next.is_none() {
                return None;
            }
            if Instant::now() >= self.next_round {
                self.next_round = Instant::now() + self.config.monitor_every;
                let monitored = self.monitor().await;
                self.force_sweep = true;
                match monitored {
                    Ok(Some(sendable)) => can_send = sendable,
                    Ok(None) => return None,
                    Err(error) => return Some(self.give_back(next.take(), error).await),
                }
            }
            if let Err(error) = self.read_storage_if_due().await {
                return Some(self.give_back(next.take(), error).await);
            }
            let started = self.orders.is_some_and(|orders| orders.started);
            if let Some(imei) = self.imei.clone() {
                // A lease in hand is sent whatever happened since: its outcome is reported.
                let lease = match next.take() {
                    Some(lease) => Some(lease),
                    None if started && can_send => match self.link.lease(&imei).await {
                        Ok(lease) => lease,
                        Err(error) => {
                            tracing::warn!(port = self.port, %error, "cannot ask for work");
                            None
                        }
                    },
                    None => None,
                };
                if let Some(lease) = lease {
                    match self.send(&imei, lease, stop).await {
                        Ok(then) => next = then,
                        Err(error) => return Some(error),
                    }
                    continue;
                }
            }
            // Nothing to send: a good time to read what is waiting.
            if self.notices > 0 {
                self.force_sweep = true;
                continue;
            }
            let until = self.next_round.min(Instant::now() + self.config.idle_poll);
            tokio::select! {
                notice = self.modem.wait_unsolicited(until) => match notice {
                    Ok(Some(notice)) => self.notices += usize::from(self.notice(notice).await),
                    Ok(None) => {}
                    Err(error) => return Some(error),
                },
                _ = stop.changed() => {}
            }
        }
    }

    /// Acts on the unsolicited results set aside, then reads the storage if it is due.
    async fn read_storage_if_due(&mut self) -> Result<(), ModemError> {
        for notice in self.modem.take_unsolicited() {
            self.notices += usize::from(self.notice(notice).await);
        }
        if self.sweep_due() {
            self.sweep().await?;
            (self.notices, self.force_sweep, self.last_sweep) = (0, false, Instant::now());
        }
        Ok(())
    }

    /// Reading the storage costs two AT round trips or more: it is done on every monitoring
    /// round, and between sends only once a few notices have piled up or some time passed.
    fn sweep_due(&self) -> bool {
        self.force_sweep || (self.notices > 0 && (self.notices >= SWEEP_BATCH || self.last_sweep.elapsed() >= SWEEP_EVERY))
    }

    /// Whether the next message may follow this one at once (its lease asked for with the last
    /// part's report): not when stopping, nor when a monitoring round is due (it may find the
    /// modem unable to send). A storage read due is done with the next lease in hand: it must
    /// come after the report, or a status report could arrive before its part is known sent.
    fn may_chain(&self, stop: &watch::Receiver<bool>) -> bool {
        !*stop.borrow() && Instant::now() < self.next_round
    }

    /// The modem failed with a lease in hand, not sent: its first part is reported not sent, so
    /// the message goes back to the queue now instead of expiring with that part taken as
    /// possibly on the air. Returns the failure.
    async fn give_back(&self, lease: Option<Lease>, failure: ModemError) -> ModemError {
        if let (Some(imei), Some(lease)) = (&self.imei, lease)
            && let Some(sequence) = lease.parts.first()
        {
            let outcome = PartOutcome::NotSent { reason: failure.to_string() };
            let report = PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence: *sequence, outcome };
            let valid_until = Instant::now() + Duration::from_millis(lease.valid_for_ms.max(0) as u64);
            self.report(imei, &report, false, valid_until).await;
        }
        failure
    }

    /// Claims the modem for this port; false if another port already drives it.
    fn claim(&self) -> bool {
        let Some(imei) = &self.imei else { return true };
        let mut claims = self.claims.lock().expect("port claims");
        let owner = claims.entry(imei.clone()).or_insert_with(|| self.port.to_string());
        if owner != self.port {
            tracing::info!(port = self.port, imei, driven_on = owner.as_str(), "another port of a modem already driven; left alone");
            return false;
        }
        true
    }

    /// A monitoring round, reported; returns whether the modem may send, or `None` when this
    /// port is another port of a modem already driven.
    async fn monitor(&mut self) -> Result<Option<bool>, ModemError> {
        let status = self.modem.status().await?;
        if status.imei.is_some() {
            self.imei = status.imei.clone();
        }
        if !self.claim() {
            return Ok(None);
        }
        let sendable = status.can_send();
        let report = ModemReport { port: self.port.to_string(), status, error: String::new() };
        match self.link.modem_status(&report).await {
            Ok(orders) => self.orders = Some(orders),
            Err(error) => tracing::warn!(port = self.port, %error, "cannot report the modem's state"),
        }
        Ok(Some(sendable))
    }

    /// Handles an unsolicited result; returns whether the storage should be read.
    async fn notice(&mut self, notice: Unsolicited) -> bool {
        match notice {
            Unsolicited::NewMessage { .. } | Unsolicited::NewReport { .. } => true,
            Unsolicited::StatusReport { pdu } => {
                if let Ok(report) = pdu::read_status_report(&pdu) {
                    self.hand_over(&[inbound_report(&report)].into_iter().flatten().collect::<Vec<_>>()).await;
                }
                false
            }
            Unsolicited::Message { pdu } => {
                if let Ok(message) = pdu::read_deliver(&pdu) {
                    let item = Inbound::Message { sender: message.address, text: message.text, sent_at_ms: message.sent_at_ms.unwrap_or_default() };
                    self.hand_over(&[item]).await;
                }
                false
            }
            Unsolicited::Registration { .. } | Unsolicited::Ring | Unsolicited::Huawei { .. } => false,
        }
    }

    async fn hand_over(&self, items: &[Inbound]) -> bool {
        let Some(imei) = &self.imei else { return false };
        if items.is_empty() {
            return true;
        }
        match self.link.inbound(imei, items).await {
            Ok(()) => true,
            Err(error) => {
                tracing::warn!(port = self.port, %error, "cannot hand over what the modem received; kept on the modem");
                false
            }
        }
    }

    /// Reads the modem's storage, hands over what is complete, then deletes it from the modem.
    async fn sweep(&mut self) -> Result<(), ModemError> {
        if self.imei.is_none() {
            return Ok(());
        }
        let stored = match self.modem.stored().await {
            Ok(stored) => stored,
            // No SIM, no storage: nothing to read.
            Err(refused) if refused.is_refusal() => return Ok(()),
            Err(error) => return Err(error),
        };
        let listed = stored.len();
        let (items, done) = assemble(stored, &mut self.partial, Instant::now());
        if !items.is_empty() && !self.hand_over(&items).await {
            return Ok(());
        }
        // Nothing kept back (the parts of a long message still incomplete): one command.
        if !done.is_empty() && done.len() == listed {
            match self.modem.delete_read().await {
                Ok(()) => return Ok(()),
                Err(refused) if refused.is_refusal() => {}
                Err(error) => return Err(error),
            }
        }
        for index in done {
            match self.modem.delete(index).await {
                Err(refused) if refused.is_refusal() => tracing::warn!(port = self.port, index, %refused, "cannot delete a stored message"),
                other => other?,
            }
        }
        Ok(())
    }

    /// Sends a leased message's parts in order, each reported before the next starts; returns
    /// the next lease when the last part's report brought one.
    async fn send(&mut self, imei: &str, lease: Lease, stop: &watch::Receiver<bool>) -> Result<Option<Lease>, ModemError> {
        let mut valid_until = Instant::now() + Duration::from_millis(lease.valid_for_ms.max(0) as u64);
        let built = pdu::submit(&lease.number, &lease.text, lease.status_report, lease.concat_reference);
        let pace = Duration::from_millis(self.orders.map_or(0, |orders| orders.interval_ms()));
        for sequence in &lease.parts {
            let outcome = match built.as_ref().map(|parts| parts.get(usize::from(*sequence).saturating_sub(1))) {
                Err(error) => PartOutcome::Refused { result: error.to_string(), refusal: app::sms::Refusal::Definitive },
                Ok(None) => PartOutcome::Refused { result: format!("no part {sequence}"), refusal: app::sms::Refusal::Definitive },
                Ok(Some(part)) => {
                    tokio::time::sleep_until(self.next_part_at).await;
                    // Never start a part the lease might not outlive: an expired lease's first
                    // unreported part is taken as on the air.
                    if Instant::now() + self.config.send_timeout >= valid_until {
                        tracing::warn!(port = self.port, message = lease.message_id, "lease too short to send; left to expire");
                        return Ok(None);
                    }
                    self.next_part_at = Instant::now() + pace;
                    match self.modem.send_part(part, self.config.send_timeout).await {
                        Ok(reference) => PartOutcome::Sent { reference },
                        Err(SendError::Refused(result)) => PartOutcome::Refused { refusal: refusal(&result), result: result.to_string() },
                        Err(SendError::NotSent(error)) => PartOutcome::NotSent { reason: error.to_string() },
                        Err(SendError::Uncertain(error)) => PartOutcome::Uncertain { reason: error.to_string() },
                    }
                }
            };
            let troubled = matches!(outcome, PartOutcome::NotSent { .. } | PartOutcome::Uncertain { .. });
            let report = PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence: *sequence, outcome };
            let asked_at = Instant::now();
            // A line in doubt is recovered before anything else goes out on it.
            let then_lease = !troubled && lease.parts.last() == Some(sequence) && self.may_chain(stop);
            let reply = self.report(imei, &report, then_lease, valid_until).await;
            if troubled {
                // The line is in doubt: abandon any prompt and let late answers pass.
                self.modem.recover().await?;
            }
            match reply {
                Some(ReportReply::Continue { valid_for_ms }) => valid_until = asked_at + Duration::from_millis(valid_for_ms.max(0) as u64),
                Some(ReportReply::Next(next)) => return Ok(Some(next)),
                Some(ReportReply::Stop) | None => return Ok(None),
            }
        }
        Ok(None)
    }

    /// Reports a part, retrying while the lease holds; `None` if the dispatcher stayed out of reach
    /// (the lease then expires and the dispatcher treats this part as possibly sent).
    async fn report(&self, imei: &str, report: &PartReport, then_lease: bool, valid_until: Instant) -> Option<ReportReply> {
        let mut delay = Duration::from_millis(200);
        loop {
            match self.link.report(imei, report, then_lease).await {
                Ok(reply) => return Some(reply),
                Err(error) => {
                    tracing::warn!(port = self.port, %error, "cannot report a part; retrying");
                    if Instant::now() + delay >= valid_until {
                        return None;
                    }
                    tokio::time::sleep(delay).await;
                    delay = (delay * 2).min(Duration::from_secs(10));
                }
            }
        }
    }
}

fn inbound_report(report: &pdu::StatusReport) -> Option<Inbound> {
    let delivered = match report.status {
        ReportStatus::Delivered => true,
        ReportStatus::Failed => false,
        // The network still tries: a final report will follow.
        ReportStatus::Pending => return None,
    };
    Some(Inbound::Report { reference: report.reference, recipient: report.recipient.clone(), delivered, code: report.code })
}

/// What the storage holds, as items to hand over and the indexes to delete once handed over.
/// The parts of a long message wait for each other (up to `PARTIAL_PATIENCE`); a PDU that
/// cannot be read is logged and deleted, or it would fill the storage.
fn assemble(stored: Vec<Stored>, partial: &mut Partial, now: Instant) -> (Vec<Inbound>, Vec<u32>) {
    let mut items = Vec::new();
    let mut done = Vec::new();
    let mut long: HashMap<(String, u16), Vec<(u32, pdu::Message)>> = HashMap::new();
    for s in stored {
        match s.read {
            Ok(Received::Report(report)) => {
                items.extend(inbound_report(&report));
                done.push(s.index);
            }
            Ok(Received::Message(message)) => match message.concatenation {
                Some(concatenation) if concatenation.total > 1 => {
                    long.entry((message.address.clone(), concatenation.reference)).or_default().push((s.index, message));
                }
                _ => {
                    items.push(Inbound::Message { sender: message.address, text: message.text, sent_at_ms: message.sent_at_ms.unwrap_or_default() });
                    done.push(s.index);
                }
            },
            Err(error) => {
                tracing::warn!(index = s.index, pdu = s.pdu, %error, "unreadable PDU in the modem's storage; deleted");
                done.push(s.index);
            }
        }
    }
    for (key, mut parts) in long {
        parts.sort_by_key(|(_, m)| m.concatenation.map(|c| c.sequence));
        let total = parts[0].1.concatenation.map_or(1, |c| usize::from(c.total));
        let first_seen = *partial.entry(key.clone()).or_insert(now);
        if parts.len() < total && now.duration_since(first_seen) < PARTIAL_PATIENCE {
            continue;
        }
        partial.remove(&key);
        let text: String = parts.iter().map(|(_, m)| m.text.as_str()).collect();
        let sent_at_ms = parts[0].1.sent_at_ms.unwrap_or_default();
        items.push(Inbound::Message { sender: key.0, text, sent_at_ms });
        done.extend(parts.iter().map(|(index, _)| *index));
    }
    (items, done)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stored(index: u32, pdu: String) -> Stored {
        let read = pdu::read_received(&pdu);
        Stored { index, pdu, read }
    }

    #[test]
    fn a_long_reply_waits_for_all_its_parts_and_pending_reports_are_dropped() {
        let at_ms = 1_795_428_000_000;
        let long = "Je voudrais avancer mon rendez-vous à jeudi matin si possible, merci beaucoup. ".repeat(3);
        let parts = pdu::deliver("+33611111111", &long, at_ms, 42).unwrap();
        assert_eq!(parts.len(), 2);
        let pending = pdu::status_report(7, "+33622222222", 0x20, at_ms, at_ms).unwrap();
        let delivered = pdu::status_report(8, "+33622222222", 0x00, at_ms, at_ms).unwrap();
        let mut partial = Partial::new();
        let now = Instant::now();

        // Only the second part is there: the message waits, the reports go.
        let (items, done) = assemble(vec![stored(3, parts[1].clone()), stored(4, pending), stored(5, delivered)], &mut partial, now);
        assert_eq!(items, vec![Inbound::Report { reference: 8, recipient: "+33622222222".into(), delivered: true, code: 0 }]);
        assert_eq!(done, vec![4, 5], "the pending report is deleted too: a final one follows");

        // The first part arrives: the reply is handed over whole, both parts deleted.
        let (items, mut done) = assemble(vec![stored(3, parts[1].clone()), stored(6, parts[0].clone())], &mut partial, now);
        done.sort();
        assert_eq!(items, vec![Inbound::Message { sender: "+33611111111".into(), text: long.clone(), sent_at_ms: at_ms }]);
        assert_eq!(done, vec![3, 6]);

        // A part whose sibling never comes is handed over after an hour; garbage is deleted.
        let (items, _) = assemble(vec![stored(1, parts[0].clone())], &mut partial, now);
        assert!(items.is_empty());
        let (items, done) = assemble(vec![stored(1, parts[0].clone()), stored(2, "07XYZ".into())], &mut partial, now + PARTIAL_PATIENCE);
        assert_eq!(items.len(), 1);
        assert_eq!(done.len(), 2);
    }
}
