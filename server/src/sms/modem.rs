//! One GSM modem on a serial line: the AT command engine.
//!
//! A modem answers one command at a time. `Modem` writes a command and reads lines until its
//! final result or a deadline, setting aside the unsolicited results that may arrive between any
//! two lines (even between the `> ` prompt of AT+CMGS and its result) for the caller to take.
//! The echo of commands (`ATE1`, a modem's default) is recognised and skipped, so the engine works
//! whichever way the modem is set. A command that times out leaves the line in doubt; `recover`
//! abandons any prompt and waits for the line to fall quiet before the next command.

use std::collections::VecDeque;
use std::time::Duration;

use app::sms::{ModemStatus, Refusal, Registration, Signal, SimState};
use futures::{SinkExt, StreamExt};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::time::Instant;
use tokio_serial::SerialPortBuilderExt;
use tokio_util::codec::Framed;

use super::at::{self, AtCodec, AtError, ErrorDetail, Final, Line, Outgoing, Unsolicited};
use super::pdu::{self, PduError, Received, SubmitPart};

/// How long an ordinary command may take.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a submit may wait for the network after the PDU went out (real modems: 3–10 s).
pub const SEND_TIMEOUT: Duration = Duration::from_secs(60);
/// USB modems ignore the rate; 115,200 is what their drivers announce.
pub const BAUD_RATE: u32 = 115_200;
/// How long the line must stay quiet before `recover` trusts it again.
const QUIET: Duration = Duration::from_millis(200);

#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ModemError {
    #[error("cannot open serial port {path}: {reason}")]
    Open { path: String, reason: String },
    #[error("the serial line closed")]
    Closed,
    #[error("{0}")]
    Line(String),
    #[error("no answer to {command} within {} s", timeout.as_secs_f32())]
    Timeout { command: String, timeout: Duration },
    #[error("{command} refused: {result}")]
    Refused { command: String, result: Final },
    #[error("{command} answered with a > prompt")]
    UnexpectedPrompt { command: String },
}

impl From<AtError> for ModemError {
    fn from(error: AtError) -> Self {
        ModemError::Line(error.to_string())
    }
}

impl ModemError {
    /// Whether the modem may still be talked to (it answered, even if to refuse).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ModemError::Refused { .. })
    }
}

/// Why a part was not sent, and so what may be done with it.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum SendError {
    /// Nothing went out: the part may be given to this or another modem.
    #[error("not sent: {0}")]
    NotSent(ModemError),
    /// The modem or the network refused the part (`+CMS ERROR`).
    #[error("refused: {0}")]
    Refused(Final),
    /// The PDU went out but no result came back: the part may have been sent.
    #[error("unknown: {0}")]
    Uncertain(ModemError),
}

/// Classifies a refused submit: `+CMS ERROR` codes are RP causes of TS 24.011 (0–127), TP
/// failure causes of TS 23.040 (128–255) and the ME codes of TS 27.005 §3.2.5 (300–).
pub fn refusal(result: &Final) -> Refusal {
    match result {
        Final::CmsError(code) => match code {
            1 | 8 | 10 | 21 | 29 | 30 | 50 | 96..=99 | 111 | 128..=255 | 304 | 305 => Refusal::Definitive,
            310..=316 | 320 | 322 | 330 | 331 => Refusal::Modem,
            _ => Refusal::Transient,
        },
        Final::CmeError(ErrorDetail::Code(10..=18)) => Refusal::Modem,
        Final::CmeError(_) | Final::Error | Final::Ok | Final::Other(_) => Refusal::Transient,
    }
}

/// A message or report found in the modem's storage, with its index for deleting it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Stored {
    pub index: u32,
    pub pdu: String,
    pub read: Result<Received, PduError>,
}

pub struct Modem<T> {
    port: Framed<T, AtCodec>,
    unsolicited: VecDeque<Unsolicited>,
    command_timeout: Duration,
}

impl Modem<tokio_serial::SerialStream> {
    /// Opens the serial port at `path` (a USB modem's `/dev/ttyUSB0`, or a simulator's pty).
    pub fn open(path: &str) -> Result<Self, ModemError> {
        let port = tokio_serial::new(path, BAUD_RATE)
            .open_native_async()
            .map_err(|error| ModemError::Open { path: path.to_string(), reason: error.to_string() })?;
        Ok(Modem::new(port))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> Modem<T> {
    pub fn new(io: T) -> Self {
        Modem { port: Framed::new(io, AtCodec::new()), unsolicited: VecDeque::new(), command_timeout: COMMAND_TIMEOUT }
    }

    /// How long commands other than a submit's network wait may take (tests shorten it).
    pub fn with_command_timeout(mut self, timeout: Duration) -> Self {
        self.command_timeout = timeout;
        self
    }

    /// The unsolicited results read so far, oldest first.
    pub fn take_unsolicited(&mut self) -> Vec<Unsolicited> {
        self.unsolicited.drain(..).collect()
    }

    /// Waits, while no command runs, for an unsolicited result until `until`; `None` if none came.
    pub async fn wait_unsolicited(&mut self, until: Instant) -> Result<Option<Unsolicited>, ModemError> {
        loop {
            if let Some(notice) = self.unsolicited.pop_front() {
                return Ok(Some(notice));
            }
            match tokio::time::timeout_at(until, self.port.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(ModemError::Closed),
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(Some(Ok(Line::Unsolicited(notice)))) => return Ok(Some(notice)),
                // A late line of a command given up on: nothing waits for it any more.
                Ok(Some(Ok(_))) => {}
            }
        }
    }

    /// Sends `command` and returns its information lines once the modem says `OK`.
    pub async fn command(&mut self, command: &str, timeout: Duration) -> Result<Vec<String>, ModemError> {
        self.port.send(Outgoing::Command(command.to_string())).await?;
        let deadline = Instant::now() + timeout;
        let mut lines = Vec::new();
        loop {
            match self.next_line(command, timeout, deadline).await? {
                Line::Text(text) if lines.is_empty() && text.eq_ignore_ascii_case(command) => {}
                Line::Text(text) => lines.push(text),
                Line::Final(Final::Ok) => return Ok(lines),
                Line::Final(result) => return Err(ModemError::Refused { command: command.to_string(), result }),
                Line::Prompt => {
                    self.port.send(Outgoing::Cancel).await?;
                    return Err(ModemError::UnexpectedPrompt { command: command.to_string() });
                }
                Line::Unsolicited(_) => unreachable!("next_line sets unsolicited results aside"),
            }
        }
    }

    /// Sends one part in PDU mode; returns the message reference of `+CMGS: <mr>` (with which
    /// the status report will come back), if the modem gave one.
    pub async fn send_part(&mut self, part: &SubmitPart, timeout: Duration) -> Result<Option<u8>, SendError> {
        let command = format!("AT+CMGS={}", part.tpdu_length);
        self.port.send(Outgoing::Command(command.clone())).await.map_err(|e| SendError::NotSent(e.into()))?;
        let deadline = Instant::now() + self.command_timeout;
        loop {
            match self.next_line(&command, self.command_timeout, deadline).await.map_err(SendError::NotSent)? {
                Line::Prompt => break,
                Line::Final(result) => return Err(SendError::Refused(result)),
                // The echo of the command.
                Line::Text(_) => {}
                Line::Unsolicited(_) => unreachable!("next_line sets unsolicited results aside"),
            }
        }
        self.port.send(Outgoing::Pdu(part.hex.clone())).await.map_err(|e| SendError::Uncertain(e.into()))?;
        let deadline = Instant::now() + timeout;
        let mut reference = None;
        loop {
            match self.next_line(&command, timeout, deadline).await.map_err(SendError::Uncertain)? {
                Line::Text(text) => {
                    if let Some(value) = text.strip_prefix("+CMGS:") {
                        reference = value.split(',').next().and_then(|mr| mr.trim().parse().ok());
                    }
                    // Otherwise the echo of the PDU.
                }
                Line::Final(Final::Ok) => return Ok(reference),
                Line::Final(result) => return Err(SendError::Refused(result)),
                Line::Prompt => {}
                Line::Unsolicited(_) => unreachable!("next_line sets unsolicited results aside"),
            }
        }
    }

    /// Sets the modem up for Relais: numbered errors, PDU mode, new messages and status reports
    /// stored and announced (`+CMTI`, `+CDSI`), registration changes announced, operators in
    /// numeric form. Every command is tried; the first refusal is returned (a modem without
    /// its SIM refuses some and can still be monitored).
    pub async fn initialise(&mut self) -> Result<(), ModemError> {
        self.recover().await?;
        let mut first_refusal = None;
        for command in ["AT+CMEE=1", "AT+CMGF=0", "AT+CNMI=2,1,0,2,0", "AT+CREG=1", "AT+COPS=3,2"] {
            match self.command(command, self.command_timeout).await {
                Ok(_) => {}
                Err(refused) if refused.is_refusal() => {
                    first_refusal.get_or_insert(refused);
                }
                Err(error) => return Err(error),
            }
        }
        first_refusal.map_or(Ok(()), Err)
    }

    /// Abandons whatever the modem was doing (a prompt waiting for a PDU, an answer still on its
    /// way) and checks that it answers `AT` again. A late answer can pass for the `AT`'s, so the
    /// line must then stay quiet; a line arriving meanwhile was the real answer, and it starts over.
    pub async fn recover(&mut self) -> Result<(), ModemError> {
        self.port.send(Outgoing::Cancel).await?;
        for _ in 0..5 {
            self.command("AT", self.command_timeout).await?;
            if self.quiet_for(QUIET).await? {
                return Ok(());
            }
        }
        Err(ModemError::Line("the modem keeps answering commands it was not given".into()))
    }

    /// Whether no line but unsolicited results arrives for `period`.
    async fn quiet_for(&mut self, period: Duration) -> Result<bool, ModemError> {
        if self.solicited_line(Instant::now() + period).await?.is_none() {
            return Ok(true);
        }
        // Let whatever else was on its way arrive before trying again.
        while self.solicited_line(Instant::now() + QUIET).await?.is_some() {}
        Ok(false)
    }

    /// One monitoring round: IMEI, SIM, IMSI, operator, signal and registration. A value the
    /// modem refuses to give stays empty; a modem that stops answering is an error.
    pub async fn status(&mut self) -> Result<ModemStatus, ModemError> {
        let imei = self.optional("AT+CGSN").await?.as_deref().and_then(identity);
        let sim = match self.command("AT+CPIN?", self.command_timeout).await {
            Ok(lines) => lines.iter().find_map(|line| line.strip_prefix("+CPIN:")).map_or(SimState::Unknown, sim_state),
            Err(ModemError::Refused { result: Final::CmeError(detail), .. }) => sim_error(&detail),
            Err(refused) if refused.is_refusal() => SimState::Unknown,
            Err(error) => return Err(error),
        };
        let mut status = ModemStatus { imei, sim, ..ModemStatus::default() };
        if status.sim == SimState::Ready {
            status.imsi = self.optional("AT+CIMI").await?.as_deref().and_then(identity);
        }
        status.operator = self.optional("AT+COPS?").await?.as_deref().and_then(operator);
        status.signal = self
            .optional("AT+CSQ")
            .await?
            .as_deref()
            .and_then(|lines| lines.iter().find_map(|line| at::signal(line)))
            .map(|(dbm, quality)| Signal { dbm, quality });
        status.registration = self.optional("AT+CREG?").await?.as_deref().and_then(registration).unwrap_or_default();
        Ok(status)
    }

    /// Every message and status report in the modem's storage (`AT+CMGL=4`: all, PDU mode).
    /// Deleting them is left to the caller, once it has kept them.
    pub async fn stored(&mut self) -> Result<Vec<Stored>, ModemError> {
        let lines = self.command("AT+CMGL=4", self.command_timeout).await?;
        let mut stored = Vec::new();
        let mut index = None;
        for line in lines {
            if let Some(header) = line.strip_prefix("+CMGL:") {
                index = header.split(',').next().and_then(|i| i.trim().parse().ok());
            } else if let Some(index) = index.take() {
                let read = pdu::read_received(&line);
                stored.push(Stored { index, pdu: line, read });
            }
        }
        Ok(stored)
    }

    pub async fn delete(&mut self, index: u32) -> Result<(), ModemError> {
        self.command(&format!("AT+CMGD={index}"), self.command_timeout).await.map(drop)
    }

    /// Deletes every message already read (`AT+CMGD=1,1`, TS 27.005 §3.5.4): what the last
    /// `stored` listed, in one command; messages that arrived since are unread and stay.
    pub async fn delete_read(&mut self) -> Result<(), ModemError> {
        self.command("AT+CMGD=1,1", self.command_timeout).await.map(drop)
    }

    /// The answer to `command`, or `None` if the modem refused it.
    async fn optional(&mut self, command: &str) -> Result<Option<Vec<String>>, ModemError> {
        match self.command(command, self.command_timeout).await {
            Ok(lines) => Ok(Some(lines)),
            Err(refused) if refused.is_refusal() => Ok(None),
            Err(error) => Err(error),
        }
    }

    /// The next line of `command`'s answer, unsolicited results set aside.
    async fn next_line(&mut self, command: &str, timeout: Duration, deadline: Instant) -> Result<Line, ModemError> {
        self.solicited_line(deadline).await?.ok_or_else(|| ModemError::Timeout { command: command.to_string(), timeout })
    }

    /// The next line that is not an unsolicited result (those are set aside), or `None` at `until`.
    async fn solicited_line(&mut self, until: Instant) -> Result<Option<Line>, ModemError> {
        loop {
            match tokio::time::timeout_at(until, self.port.next()).await {
                Err(_) => return Ok(None),
                Ok(None) => return Err(ModemError::Closed),
                Ok(Some(Err(error))) => return Err(error.into()),
                Ok(Some(Ok(Line::Unsolicited(notice)))) => self.unsolicited.push_back(notice),
                Ok(Some(Ok(line))) => return Ok(Some(line)),
            }
        }
    }
}

/// An IMEI or IMSI: the digits of the answer (some modems prefix `+CGSN:` or quote it).
fn identity(lines: &[String]) -> Option<String> {
    let line = lines.last()?;
    let value = line.rsplit(':').next().unwrap_or(line).trim().trim_matches('"');
    (value.len() >= 6 && value.bytes().all(|b| b.is_ascii_digit())).then(|| value.to_string())
}

/// `+CPIN: READY`, `SIM PIN`, `SIM PUK`, `PH-SIM PIN`…, and `NOT INSERTED` as some modems say it.
fn sim_state(code: &str) -> SimState {
    match code.trim() {
        "READY" => SimState::Ready,
        "NOT INSERTED" | "NOT READY" => SimState::Missing,
        _ => SimState::Locked,
    }
}

/// `+CME ERROR` to `AT+CPIN?`: 10 not inserted, 11/12/17/18 PIN or PUK, 13 failure, 14 busy,
/// 15 wrong SIM (TS 27.007 §9.2.1), by number or by its verbose text.
fn sim_error(detail: &ErrorDetail) -> SimState {
    match detail {
        ErrorDetail::Code(10) => SimState::Missing,
        ErrorDetail::Code(11 | 12 | 17 | 18) => SimState::Locked,
        ErrorDetail::Code(13 | 15) => SimState::Failure,
        ErrorDetail::Code(14) => SimState::Busy,
        ErrorDetail::Code(_) => SimState::Unknown,
        ErrorDetail::Text(text) => {
            let text = text.to_ascii_lowercase();
            if text.contains("not inserted") {
                SimState::Missing
            } else if text.contains("busy") {
                SimState::Busy
            } else if text.contains("pin") || text.contains("puk") {
                SimState::Locked
            } else if text.contains("failure") || text.contains("wrong") {
                SimState::Failure
            } else {
                SimState::Unknown
            }
        }
    }
}

/// `+COPS: 0,2,"20801",2` → `20801`; `+COPS: 0` (no network) → none.
fn operator(lines: &[String]) -> Option<String> {
    let value = lines.iter().find_map(|line| line.strip_prefix("+COPS:"))?;
    let fields: Vec<&str> = value.split(',').map(str::trim).collect();
    let name = fields.get(2)?.trim_matches('"');
    (!name.is_empty()).then(|| name.to_string())
}

/// `+CREG: <n>,<stat>[,<lac>,<ci>]` → stat.
fn registration(lines: &[String]) -> Option<Registration> {
    let value = lines.iter().find_map(|line| line.strip_prefix("+CREG:"))?;
    let stat = value.split(',').nth(1)?.trim().parse().ok()?;
    Some(Registration::from_stat(stat))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refusals_say_what_to_do_with_the_message() {
        assert_eq!(refusal(&Final::CmsError(1)), Refusal::Definitive, "unassigned number");
        assert_eq!(refusal(&Final::CmsError(304)), Refusal::Definitive, "invalid PDU");
        assert_eq!(refusal(&Final::CmsError(42)), Refusal::Transient, "congestion");
        assert_eq!(refusal(&Final::CmsError(500)), Refusal::Transient, "unknown error");
        assert_eq!(refusal(&Final::CmsError(310)), Refusal::Modem, "SIM not inserted");
        assert_eq!(refusal(&Final::CmsError(331)), Refusal::Modem, "no network service");
        assert_eq!(refusal(&Final::Error), Refusal::Transient);
    }

    #[test]
    fn monitoring_answers_are_read_as_modems_write_them() {
        let lines = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(identity(&lines(&["359272012345678"])), Some("359272012345678".into()));
        assert_eq!(identity(&lines(&["+CGSN: \"359272012345678\""])), Some("359272012345678".into()));
        assert_eq!(identity(&lines(&["ERROR?"])), None);
        assert_eq!(sim_state(" READY"), SimState::Ready);
        assert_eq!(sim_state(" SIM PIN"), SimState::Locked);
        assert_eq!(sim_error(&ErrorDetail::Code(10)), SimState::Missing);
        assert_eq!(sim_error(&ErrorDetail::Text("SIM failure".into())), SimState::Failure);
        assert_eq!(operator(&lines(&["+COPS: 0,2,\"20810\",2"])), Some("20810".into()));
        assert_eq!(operator(&lines(&["+COPS: 0"])), None);
        assert_eq!(registration(&lines(&["+CREG: 1,5,\"00C3\",\"0010\""])), Some(Registration::Roaming));
        assert_eq!(registration(&lines(&["+CREG: 0,2"])), Some(Registration::Searching));
    }
}
