//! The modem simulator (`relais sim modem`, also started by `relais demo` and the tests): each
//! simulated modem is the far end of a pseudo-terminal and answers the AT commands Relais uses
//! as a Huawei E220 does — echo (on until `ATE0`), the `> ` prompt, `+CMGS: <mr>`, `+CMS ERROR`
//! and `+CME ERROR` (numbered or verbose after `AT+CMEE`), `^RSSI` notices, new messages and
//! status reports stored and announced as `AT+CNMI` asks. The gateway opens the pty's path with
//! tokio-serial exactly as it opens `/dev/ttyUSB0`: the serial code path is the production one.
//!
//! Knobs: send latency, the share of parts refused (a transient network error), the share of
//! parts never delivered (a failed status report), the share of messages their recipient
//! answers (sometimes with STOP), signal, operator, SIM missing, and a modem that stops
//! answering. Every part the modem accepted is recorded (and, if asked, appended to a file as a
//! JSON line), so a test can compare what Relais reports with what the "network" received,
//! message by message.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::Serialize;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::Notify;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_serial::{SerialPort, SerialStream};

use super::at::{CTRL_Z, ESCAPE};
use super::pdu;

/// A SIM's message storage holds a few tens of messages; the E220's holds 30 ("SM").
const STORAGE_SLOTS: usize = 30;

#[derive(Clone, Debug)]
pub struct SimModemConfig {
    pub imei: String,
    pub imsi: String,
    /// MCC and MNC, e.g. `20801`.
    pub operator: String,
    /// `+CSQ` rssi, 0–31.
    pub rssi: u8,
    pub sim_present: bool,
    /// From the PDU's Ctrl-Z to `+CMGS` (real modems: 3–10 s).
    pub send_latency: Duration,
    /// Share of parts refused with a transient `+CMS ERROR` (network congestion and the like).
    pub failure_rate: f64,
    /// Share of accepted parts whose status report says "not delivered".
    pub undelivered_rate: f64,
    /// From `+CMGS` to the status report.
    pub report_delay: Duration,
    /// How often the modem volunteers `^RSSI: <rssi>`, as the E220 does.
    pub rssi_every: Duration,
    /// Share of messages (counted at their last part) whose recipient answers, a little after
    /// the status report; one answer in four is `STOP`.
    pub reply_rate: f64,
    /// Where to append each accepted part as a JSON line, for tests outside this process.
    pub received_file: Option<std::path::PathBuf>,
    pub seed: u64,
}

impl SimModemConfig {
    /// The `number`-th modem of a rack: its own IMEI (with a valid Luhn digit) and IMSI, on
    /// Orange France, good signal, no latency.
    pub fn numbered(number: u32) -> Self {
        let body = format!("35927201{number:06}");
        SimModemConfig {
            imei: format!("{body}{}", luhn_digit(&body)),
            imsi: format!("2080100{number:08}"),
            operator: "20801".into(),
            rssi: 20,
            sim_present: true,
            send_latency: Duration::ZERO,
            failure_rate: 0.0,
            undelivered_rate: 0.0,
            report_delay: Duration::from_millis(50),
            rssi_every: Duration::from_secs(10),
            reply_rate: 0.0,
            received_file: None,
            seed: u64::from(number),
        }
    }
}

/// The check digit that ends an IMEI.
fn luhn_digit(body: &str) -> u32 {
    let sum: u32 = body
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| {
            let d = u32::from(b - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    (10 - sum % 10) % 10
}

/// A part the simulated network accepted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct SimReceived {
    pub imei: String,
    /// The `<mr>` the modem answered with.
    pub reference: u8,
    pub to: String,
    pub text: String,
    /// Concatenation reference, part count and part number, for a part of a long message.
    pub part: Option<(u16, u8, u8)>,
    pub status_report: bool,
}

#[derive(Debug)]
struct Shared {
    received: Vec<SimReceived>,
    /// Commands answered so far.
    commands: usize,
    answering: bool,
    sim_present: bool,
    /// Messages "from the network" not yet given to the modem: sender, text.
    inbox: VecDeque<(String, String)>,
}

/// A running simulated modem; dropping it unplugs it.
pub struct SimModem {
    /// The pty path to open, as `/dev/ttyUSB0` would be.
    pub path: String,
    pub imei: String,
    shared: Arc<Mutex<Shared>>,
    wake: Arc<Notify>,
    task: JoinHandle<()>,
}

impl SimModem {
    pub fn spawn(config: SimModemConfig) -> std::io::Result<SimModem> {
        // The slave end of `pair` is neither TIOCEXCL nor flocked: the gateway can open its path
        // for itself, exclusively, as it would a real modem's.
        let (master, slave) = SerialStream::pair()?;
        let path = slave.name().ok_or_else(|| std::io::Error::other("the pseudo-terminal has no name"))?;
        let shared = Arc::new(Mutex::new(Shared {
            received: Vec::new(),
            commands: 0,
            answering: true,
            sim_present: config.sim_present,
            inbox: VecDeque::new(),
        }));
        let wake = Arc::new(Notify::new());
        let imei = config.imei.clone();
        // The simulator keeps its own end of the slave open, so the line stays up between the
        // gateway's openings, as a plugged-in modem's does.
        let device = Device::new(config, shared.clone());
        let task = tokio::spawn(run(master, slave, device, wake.clone()));
        Ok(SimModem { path, imei, shared, wake, task })
    }

    /// Every part accepted so far, in order.
    pub fn received(&self) -> Vec<SimReceived> {
        self.shared.lock().expect("simulator state").received.clone()
    }

    /// How many commands the modem answered: whether anyone is talking to it.
    pub fn commands(&self) -> usize {
        self.shared.lock().expect("simulator state").commands
    }

    /// A modem that stops answering swallows everything and says nothing.
    pub fn set_answering(&self, answering: bool) {
        self.shared.lock().expect("simulator state").answering = answering;
        self.wake.notify_one();
    }

    pub fn set_sim_present(&self, present: bool) {
        self.shared.lock().expect("simulator state").sim_present = present;
    }

    /// A message arrives from `sender`: stored in the modem and announced as `AT+CNMI` says.
    pub fn deliver(&self, sender: &str, text: &str) {
        self.shared.lock().expect("simulator state").inbox.push_back((sender.to_string(), text.to_string()));
        self.wake.notify_one();
    }
}

impl Drop for SimModem {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn run(mut master: SerialStream, _slave: SerialStream, mut device: Device, wake: Arc<Notify>) {
    let mut buf = [0u8; 4096];
    loop {
        let due = device.next_due();
        tokio::select! {
            read = master.read(&mut buf) => match read {
                Ok(0) | Err(_) => {
                    // No reader on the other side yet (EIO); try again shortly.
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Ok(n) => device.feed(&buf[..n], Instant::now()),
            },
            _ = tokio::time::sleep_until(due) => device.tick(Instant::now()),
            _ = wake.notified() => device.tick(Instant::now()),
        }
        if !device.out.is_empty() {
            let out = std::mem::take(&mut device.out);
            if master.write_all(&out).await.is_err() {
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

struct StoredPdu {
    unread: bool,
    pdu: String,
}

/// A submit the network is working on: its answer and when it is due.
struct InFlight {
    due: Instant,
    answer: String,
}

/// The modem's state: its settings, storage, and what it owes the line.
struct Device {
    config: SimModemConfig,
    shared: Arc<Mutex<Shared>>,
    rng: StdRng,
    echo: bool,
    verbose_errors: u8,
    pdu_mode: bool,
    /// `AT+CNMI` `<mt>` and `<ds>`: how new messages and status reports are announced.
    new_message_mode: u8,
    report_mode: u8,
    registration_reports: u8,
    numeric_operator: bool,
    next_reference: u8,
    storage: Vec<Option<StoredPdu>>,
    input: Vec<u8>,
    /// `AT+CMGS=<length>` was answered with the prompt: the PDU is being typed.
    awaiting_pdu: Option<usize>,
    in_flight: Option<InFlight>,
    /// Status reports the network will send, and when.
    reports: Vec<(Instant, String)>,
    /// Answers recipients will send (sender, text), and when.
    replies: Vec<(Instant, String, String)>,
    next_rssi: Instant,
    out: Vec<u8>,
}

impl Device {
    fn new(config: SimModemConfig, shared: Arc<Mutex<Shared>>) -> Device {
        Device {
            rng: StdRng::seed_from_u64(config.seed),
            next_rssi: Instant::now() + config.rssi_every,
            config,
            shared,
            echo: true,
            verbose_errors: 0,
            pdu_mode: true,
            new_message_mode: 0,
            report_mode: 0,
            registration_reports: 0,
            numeric_operator: false,
            next_reference: 0,
            storage: (0..STORAGE_SLOTS).map(|_| None).collect(),
            input: Vec::new(),
            awaiting_pdu: None,
            in_flight: None,
            reports: Vec::new(),
            replies: Vec::new(),
            out: Vec::new(),
        }
    }

    fn answering(&self) -> bool {
        self.shared.lock().expect("simulator state").answering
    }

    fn sim_present(&self) -> bool {
        self.shared.lock().expect("simulator state").sim_present
    }

    fn next_due(&self) -> Instant {
        let mut due = self.next_rssi;
        if let Some(in_flight) = &self.in_flight {
            due = due.min(in_flight.due);
        }
        for (at, _) in &self.reports {
            due = due.min(*at);
        }
        for (at, _, _) in &self.replies {
            due = due.min(*at);
        }
        due
    }

    fn feed(&mut self, bytes: &[u8], now: Instant) {
        if !self.answering() {
            return;
        }
        self.input.extend_from_slice(bytes);
        self.work(now);
    }

    /// Time passed: answers, reports and notices that fell due, then any input left waiting.
    fn tick(&mut self, now: Instant) {
        if !self.answering() {
            self.reports.retain(|(at, _)| *at > now);
            self.next_rssi = now + self.config.rssi_every;
            return;
        }
        let (answered, waiting): (Vec<_>, Vec<_>) = std::mem::take(&mut self.replies).into_iter().partition(|(at, _, _)| *at <= now);
        self.replies = waiting;
        if !answered.is_empty() {
            self.shared.lock().expect("simulator state").inbox.extend(answered.into_iter().map(|(_, sender, text)| (sender, text)));
        }
        self.take_inbox();
        let (due, later): (Vec<_>, Vec<_>) = std::mem::take(&mut self.reports).into_iter().partition(|(at, _)| *at <= now);
        self.reports = later;
        for (_, report) in due {
            self.report(report);
        }
        if self.next_rssi <= now {
            self.next_rssi = now + self.config.rssi_every;
            self.line(&format!("^RSSI: {}", self.config.rssi));
        }
        self.work(now);
    }

    /// Answers what the host typed, unless a submit is still with the network (the modem takes
    /// no command until it has answered).
    fn work(&mut self, now: Instant) {
        if let Some(in_flight) = &self.in_flight {
            if in_flight.due > now {
                return;
            }
            let answer = self.in_flight.take().expect("checked above").answer;
            self.out.extend_from_slice(answer.as_bytes());
        }
        while self.in_flight.is_none() {
            if let Some(length) = self.awaiting_pdu {
                let Some(end) = self.input.iter().position(|&b| b == CTRL_Z || b == ESCAPE) else { return };
                let typed: Vec<u8> = self.input.drain(..=end).collect();
                self.awaiting_pdu = None;
                let hex = String::from_utf8_lossy(&typed[..end]).trim().to_string();
                if self.echo {
                    self.out.extend_from_slice(hex.as_bytes());
                }
                if typed[end] == ESCAPE {
                    self.final_result("OK");
                } else {
                    self.submit(&hex, length, now);
                }
            } else {
                let Some(end) = self.input.iter().position(|&b| b == b'\r') else { return };
                let typed: Vec<u8> = self.input.drain(..=end).collect();
                // Noise before a command (a stray escape, a line feed) is ignored, as modems do.
                let command: String =
                    String::from_utf8_lossy(&typed[..end]).trim_start_matches(|c: char| !c.is_ascii_alphabetic()).to_string();
                if command.is_empty() {
                    continue;
                }
                if self.echo {
                    self.out.extend_from_slice(command.as_bytes());
                    self.out.push(b'\r');
                }
                self.command(&command);
            }
        }
    }

    fn line(&mut self, text: &str) {
        self.out.extend_from_slice(format!("\r\n{text}\r\n").as_bytes());
    }

    fn final_result(&mut self, text: &str) {
        self.line(text);
    }

    /// `+CME ERROR` as `AT+CMEE` asks: plain `ERROR`, the number, or the text.
    fn equipment_error(&mut self, code: u16, text: &str) {
        match self.verbose_errors {
            0 => self.final_result("ERROR"),
            1 => self.final_result(&format!("+CME ERROR: {code}")),
            _ => self.final_result(&format!("+CME ERROR: {text}")),
        }
    }

    fn command(&mut self, typed: &str) {
        self.shared.lock().expect("simulator state").commands += 1;
        let upper = typed.to_ascii_uppercase();
        let Some(body) = upper.strip_prefix("AT") else {
            return self.final_result("ERROR");
        };
        let sim = self.sim_present();
        let (name, argument) = match body.find(['=', '?']) {
            Some(at) => (&body[..at], &body[at..]),
            None => (body, ""),
        };
        let value = argument.strip_prefix('=').unwrap_or("");
        let number = |v: &str| v.split(',').next().and_then(|n| n.trim().parse::<u32>().ok());
        match (name, argument) {
            ("", "") | ("Z", "") | ("+CSMS", _) | ("+CNMA", "") => {
                if name == "Z" {
                    self.echo = true;
                    self.verbose_errors = 0;
                }
                self.final_result("OK")
            }
            ("E0", "") | ("E1", "") => {
                self.echo = name == "E1";
                self.final_result("OK")
            }
            ("I", "") => {
                let imei = self.config.imei.clone();
                for line in ["Manufacturer: huawei", "Model: E220", "Revision: 11.117.09.04.00"] {
                    self.line(line);
                }
                self.line(&format!("IMEI: {imei}"));
                self.final_result("OK")
            }
            ("+CGMI", "") => {
                self.line("huawei");
                self.final_result("OK")
            }
            ("+CGMM", "") => {
                self.line("E220");
                self.final_result("OK")
            }
            ("+CGSN", "") => {
                let imei = self.config.imei.clone();
                self.line(&imei);
                self.final_result("OK")
            }
            ("+CIMI", "") if sim => {
                let imsi = self.config.imsi.clone();
                self.line(&imsi);
                self.final_result("OK")
            }
            ("+CMEE", _) if number(value).is_some_and(|n| n <= 2) => {
                self.verbose_errors = number(value).unwrap_or(0) as u8;
                self.final_result("OK")
            }
            ("+CMGF", "?") => {
                let mode = if self.pdu_mode { 0 } else { 1 };
                self.line(&format!("+CMGF: {mode}"));
                self.final_result("OK")
            }
            ("+CMGF", _) if number(value).is_some_and(|n| n <= 1) => {
                self.pdu_mode = number(value) == Some(0);
                self.final_result("OK")
            }
            ("+CNMI", _) if !value.is_empty() => {
                let fields: Vec<u8> = value.split(',').map(|f| f.trim().parse().unwrap_or(0)).collect();
                self.new_message_mode = fields.get(1).copied().unwrap_or(0);
                self.report_mode = fields.get(3).copied().unwrap_or(0);
                self.final_result("OK")
            }
            ("+CREG", "?") => {
                let stat = if sim { 1 } else { 0 };
                let n = self.registration_reports;
                self.line(&format!("+CREG: {n},{stat}"));
                self.final_result("OK")
            }
            ("+CREG", _) if number(value).is_some_and(|n| n <= 2) => {
                self.registration_reports = number(value).unwrap_or(0) as u8;
                self.final_result("OK")
            }
            ("+COPS", "?") => {
                if !sim {
                    self.line("+COPS: 0");
                } else if self.numeric_operator {
                    let code = self.config.operator.clone();
                    self.line(&format!("+COPS: 0,2,\"{code}\",2"));
                } else {
                    let name = app::sms::operator_name(&self.config.operator).unwrap_or("SIMULATOR").to_string();
                    self.line(&format!("+COPS: 0,0,\"{name}\",2"));
                }
                self.final_result("OK")
            }
            ("+COPS", _) if value.starts_with('3') => {
                self.numeric_operator = value.split(',').nth(1).map(str::trim) == Some("2");
                self.final_result("OK")
            }
            ("+CSQ", "") => {
                let rssi = self.config.rssi;
                self.line(&format!("+CSQ: {rssi},99"));
                self.final_result("OK")
            }
            ("+CPIN", "?") if sim => {
                self.line("+CPIN: READY");
                self.final_result("OK")
            }
            ("+CPIN", "?") | ("+CIMI", "") => self.equipment_error(10, "SIM not inserted"),
            ("+CMGS", _) | ("+CMGL", _) | ("+CMGR", _) | ("+CMGD", _) if !sim => self.final_result("+CMS ERROR: 310"),
            ("+CMGS", _) if !self.pdu_mode => self.final_result("+CMS ERROR: 302"),
            ("+CMGS", _) => match number(value) {
                Some(length @ 1..=176) => {
                    self.awaiting_pdu = Some(length as usize);
                    self.out.extend_from_slice(b"\r\n> ");
                }
                _ => self.final_result("+CMS ERROR: 304"),
            },
            ("+CMGL", _) => {
                let wanted = if value.is_empty() { 0 } else { number(value).unwrap_or(99) };
                if wanted > 4 {
                    return self.final_result("+CMS ERROR: 304");
                }
                let mut lines = Vec::new();
                for (index, slot) in self.storage.iter_mut().enumerate() {
                    let Some(stored) = slot else { continue };
                    let listed = match wanted {
                        0 => stored.unread,
                        1 => !stored.unread,
                        4 => true,
                        _ => false,
                    };
                    if listed {
                        let stat = if stored.unread { 0 } else { 1 };
                        lines.push(format!("+CMGL: {index},{stat},,{}", tpdu_length(&stored.pdu)));
                        lines.push(stored.pdu.clone());
                        stored.unread = false;
                    }
                }
                for line in lines {
                    self.line(&line);
                }
                self.final_result("OK")
            }
            ("+CMGR", _) => match number(value).and_then(|i| self.storage.get_mut(i as usize)) {
                Some(Some(stored)) => {
                    let stat = if stored.unread { 0 } else { 1 };
                    stored.unread = false;
                    let (header, pdu) = (format!("+CMGR: {stat},,{}", tpdu_length(&stored.pdu)), stored.pdu.clone());
                    self.line(&header);
                    self.line(&pdu);
                    self.final_result("OK")
                }
                Some(None) => self.final_result("OK"),
                None => self.final_result("+CMS ERROR: 321"),
            },
            ("+CMGD", _) => {
                // `<index>[,<delflag>]`: 1 deletes every read message, 2 and 3 also sent and
                // unsent ones (this modem stores none), 4 everything; the index then counts not.
                let flag = value.split(',').nth(1).and_then(|f| f.trim().parse::<u8>().ok()).unwrap_or(0);
                match (flag, number(value).and_then(|i| self.storage.get_mut(i as usize))) {
                    (1..=3, _) => self.storage.iter_mut().filter(|slot| slot.as_ref().is_some_and(|s| !s.unread)).for_each(|slot| *slot = None),
                    (4, _) => self.storage.iter_mut().for_each(|slot| *slot = None),
                    (0, Some(slot)) => *slot = None,
                    _ => return self.final_result("+CMS ERROR: 321"),
                }
                self.take_inbox();
                self.final_result("OK")
            }
            _ => self.final_result("ERROR"),
        }
    }

    /// The PDU typed after the prompt: checked, then accepted or refused once the latency passed.
    fn submit(&mut self, hex: &str, announced: usize, now: Instant) {
        let message = match pdu::read_submit(hex) {
            Ok(message) if tpdu_length(hex) == announced => message,
            _ => return self.final_result("+CMS ERROR: 304"),
        };
        let due = now + self.config.send_latency;
        if self.rng.gen_bool(self.config.failure_rate.clamp(0.0, 1.0)) {
            let code = [38, 41, 42][self.rng.gen_range(0..3)];
            self.in_flight = Some(InFlight { due, answer: format!("\r\n+CMS ERROR: {code}\r\n") });
            return;
        }
        let reference = self.next_reference;
        self.next_reference = self.next_reference.wrapping_add(1);
        if message.status_report {
            let delivered = !self.rng.gen_bool(self.config.undelivered_rate.clamp(0.0, 1.0));
            let now_ms = jiff::Timestamp::now().as_millisecond();
            let at = due + self.config.report_delay;
            let code = if delivered { 0x00 } else { 0x41 }; // 0x41: incompatible destination
            let discharged_ms = now_ms + (at - now).as_millis() as i64;
            if let Ok(report) = pdu::status_report(reference, &message.address, code, now_ms, discharged_ms) {
                self.reports.push((at, report));
            }
        }
        let last_part = message.concatenation.as_ref().is_none_or(|c| c.sequence == c.total);
        if last_part && self.rng.gen_bool(self.config.reply_rate.clamp(0.0, 1.0)) {
            const ANSWERS: [&str; 4] = ["Merci, bien reçu !", "STOP", "Pouvez-vous me rappeler ?", "Oui, je suis intéressé"];
            let text = ANSWERS[self.rng.gen_range(0..ANSWERS.len())].to_string();
            self.replies.push((due + self.config.report_delay * 2, message.address.clone(), text));
        }
        let received = SimReceived {
            imei: self.config.imei.clone(),
            reference,
            to: message.address,
            text: message.text,
            part: message.concatenation.map(|c| (c.reference, c.total, c.sequence)),
            status_report: message.status_report,
        };
        if let Some(file) = &self.config.received_file {
            record(file, &received);
        }
        self.shared.lock().expect("simulator state").received.push(received);
        self.in_flight = Some(InFlight { due, answer: format!("\r\n+CMGS: {reference}\r\n\r\nOK\r\n") });
    }

    /// A status report from the network, given as `AT+CNMI`'s `<ds>` asks.
    fn report(&mut self, pdu: String) {
        match self.report_mode {
            1 => {
                let length = tpdu_length(&pdu);
                self.out.extend_from_slice(format!("\r\n+CDS: {length}\r\n{pdu}\r\n").as_bytes());
            }
            2 => {
                if let Some(index) = self.store(pdu) {
                    self.line(&format!("+CDSI: \"SM\",{index}"));
                }
            }
            _ => {}
        }
    }

    /// Messages from the network, each once the storage has room for all its parts (until
    /// then the network keeps it, as a real one retries).
    fn take_inbox(&mut self) {
        loop {
            let Some((sender, text)) = self.shared.lock().expect("simulator state").inbox.front().cloned() else { return };
            let reference = self.rng.r#gen();
            let parts = pdu::deliver(&sender, &text, jiff::Timestamp::now().as_millisecond(), reference).unwrap_or_default();
            let free = self.storage.iter().filter(|slot| slot.is_none()).count();
            if self.new_message_mode != 2 && parts.len() > free {
                return;
            }
            self.shared.lock().expect("simulator state").inbox.pop_front();
            for part in parts {
                if self.new_message_mode == 2 {
                    let length = tpdu_length(&part);
                    self.out.extend_from_slice(format!("\r\n+CMT: ,{length}\r\n{part}\r\n").as_bytes());
                } else if let Some(index) = self.store(part)
                    && self.new_message_mode == 1
                {
                    self.line(&format!("+CMTI: \"SM\",{index}"));
                }
            }
        }
    }

    fn store(&mut self, pdu: String) -> Option<usize> {
        let index = self.storage.iter().position(Option::is_none)?;
        self.storage[index] = Some(StoredPdu { unread: true, pdu });
        Some(index)
    }
}

/// Appends one accepted part to `file` as a JSON line; a failure is logged, not fatal (the
/// simulated network accepted the part either way). The line and its newline go in one
/// append-mode write: `writeln!` writes them apart, and two modems' threads then interleave
/// two objects on one line.
fn record(file: &std::path::Path, received: &SimReceived) {
    use std::io::Write;
    let mut line = serde_json::to_string(received).unwrap_or_default();
    line.push('\n');
    let written = std::fs::OpenOptions::new().create(true).append(true).open(file).and_then(|mut f| f.write_all(line.as_bytes()));
    if let Err(error) = written {
        tracing::warn!(%error, file = %file.display(), "cannot record an accepted part");
    }
}

/// The TPDU length PDU mode announces: the octets after the service centre address.
fn tpdu_length(hex: &str) -> usize {
    let octets = hex.len() / 2;
    let sca = hex.get(..2).and_then(|l| usize::from_str_radix(l, 16).ok()).unwrap_or(0);
    octets.saturating_sub(1 + sca)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn imeis_carry_their_luhn_digit() {
        // A published example IMEI: 49015420323751 → check digit 8.
        assert_eq!(luhn_digit("49015420323751"), 8);
        assert_eq!(SimModemConfig::numbered(7).imei.len(), 15);
    }

    /// The modems of one simulator run on their own threads and share the received file; a
    /// test reading it must find one whole JSON object per line, however their writes meet.
    #[test]
    fn parts_recorded_at_once_by_several_modems_stay_one_per_line() {
        let dir = tempfile::tempdir().expect("temporary directory");
        let file = dir.path().join("received.jsonl");
        let threads: Vec<_> = (0..8)
            .map(|modem| {
                let file = file.clone();
                std::thread::spawn(move || {
                    for part in 0..300u16 {
                        let received = SimReceived {
                            imei: format!("modem {modem}"),
                            reference: (part % 256) as u8,
                            to: "+33612345678".into(),
                            text: "Bonjour Élodie, découvrez nos soldes d'été".repeat(3),
                            part: Some((part, 3, 1)),
                            status_report: true,
                        };
                        record(&file, &received);
                    }
                })
            })
            .collect();
        for thread in threads {
            thread.join().expect("recording thread");
        }
        let text = std::fs::read_to_string(&file).expect("received file");
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 8 * 300);
        for line in lines {
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
            assert!(value["imei"].as_str().is_some_and(|imei| imei.starts_with("modem ")));
        }
    }
}
