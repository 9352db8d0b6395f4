//! What a GSM modem says on its serial line (3GPP TS 27.007 and 27.005, as a Huawei E220 says it).
//!
//! Lines end with CR LF (the echo of a command with a lone CR). Between a command and its final
//! result (`OK`, `ERROR`, `+CMS ERROR: n`, `+CME ERROR: n` or its text) come information lines;
//! unsolicited results (`+CMTI`, `+CDS`, `+CREG`, Huawei's `^RSSI`…) may arrive between any two
//! lines, including between the `> ` prompt of AT+CMGS, which has no line end, and its final
//! result. `+CDS:` and `+CMT:` are followed by a PDU line, which belongs to them.
//!
//! No maintained crate frames this on tokio (`atat` targets no_std firmware with its own
//! transport and typed command set), hence this codec; ARCHITECTURE.md says so.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Longest line accepted: a PDU line is at most 2 × 176 hex digits; anything far longer is noise.
pub const MAX_LINE_BYTES: usize = 4096;

/// Ends the PDU typed after the `> ` prompt.
pub const CTRL_Z: u8 = 0x1a;
/// Abandons the PDU typed after the prompt: nothing is sent.
pub const ESCAPE: u8 = 0x1b;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Line {
    /// `> `: the modem waits for the PDU of AT+CMGS.
    Prompt,
    Final(Final),
    Unsolicited(Unsolicited),
    /// Anything else: an information response (`+CSQ: 20,99`), the echo of a command.
    Text(String),
}

/// The end of a command's answer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Final {
    Ok,
    Error,
    /// `+CMS ERROR: n`, the message service's error (TS 27.005 §3.2.5).
    CmsError(u16),
    /// `+CME ERROR:` with a number, or a text when the modem is set to verbose errors (`AT+CMEE=2`).
    CmeError(ErrorDetail),
    /// `NO CARRIER`, `BUSY`, `NO ANSWER`, `NO DIALTONE`, Huawei's `COMMAND NOT SUPPORT`.
    Other(String),
}

impl std::fmt::Display for Final {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Final::Ok => write!(f, "OK"),
            Final::Error => write!(f, "ERROR"),
            Final::CmsError(code) => write!(f, "+CMS ERROR: {code}"),
            Final::CmeError(ErrorDetail::Code(code)) => write!(f, "+CME ERROR: {code}"),
            Final::CmeError(ErrorDetail::Text(text)) => write!(f, "+CME ERROR: {text}"),
            Final::Other(text) => write!(f, "{text}"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ErrorDetail {
    Code(u16),
    Text(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Unsolicited {
    /// `+CMTI: "SM",3`: a message was stored at that index.
    NewMessage { storage: String, index: u32 },
    /// `+CDSI: "SM",4`: a status report was stored at that index.
    NewReport { storage: String, index: u32 },
    /// `+CDS: 25` and the PDU line after it: a status report given directly.
    StatusReport { pdu: String },
    /// `+CMT: ,23` and the PDU line after it: a message given directly.
    Message { pdu: String },
    /// `+CREG: 1` or `+CREG: 1,"00C3","0010"`: the registration state changed. (The answer to
    /// `AT+CREG?` starts with the reporting mode, `+CREG: 2,1,…`, and stays a `Text`.)
    Registration { stat: u8 },
    Ring,
    /// Huawei's notices: `^RSSI: 17`, `^BOOT: …`, `^MODE: 5,4`, `^SRVST: 2`, `^SIMST: 1`…
    Huawei { name: String, value: String },
}

#[derive(Debug, PartialEq, Eq)]
pub enum AtError {
    LineTooLong,
    Io(String),
}

impl std::fmt::Display for AtError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            AtError::LineTooLong => write!(f, "the modem sent a line longer than {MAX_LINE_BYTES} bytes"),
            AtError::Io(error) => write!(f, "serial line: {error}"),
        }
    }
}

impl std::error::Error for AtError {}

impl From<std::io::Error> for AtError {
    fn from(error: std::io::Error) -> Self {
        AtError::Io(error.to_string())
    }
}

/// What is written to the modem.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outgoing {
    /// A command without its `AT` prefix's line end: `AT+CSQ`.
    Command(String),
    /// The hex PDU typed after the prompt; Ctrl-Z sends it.
    Pdu(String),
    /// Escape: abandons a prompt, so a modem left waiting for a PDU listens to commands again.
    Cancel,
}

/// A result line that announces a PDU on the next line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Awaiting {
    StatusReport,
    Message,
}

#[derive(Debug, Default)]
pub struct AtCodec {
    awaiting: Option<Awaiting>,
}

impl AtCodec {
    pub fn new() -> Self {
        AtCodec::default()
    }
}

impl Decoder for AtCodec {
    type Item = Line;
    type Error = AtError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Line>, AtError> {
        loop {
            let blank = buf.iter().take_while(|&&b| b == b'\r' || b == b'\n').count();
            buf.advance(blank);
            if buf.starts_with(b"> ") || buf.as_ref() == b">" {
                // A lone `>` may be the prompt with its space still on the way.
                if buf.len() < 2 {
                    return Ok(None);
                }
                buf.advance(2);
                return Ok(Some(Line::Prompt));
            }
            let Some(end) = buf.iter().position(|&b| b == b'\r' || b == b'\n') else {
                if buf.len() > MAX_LINE_BYTES {
                    buf.clear();
                    return Err(AtError::LineTooLong);
                }
                return Ok(None);
            };
            if end > MAX_LINE_BYTES {
                buf.clear();
                return Err(AtError::LineTooLong);
            }
            let text = String::from_utf8_lossy(&buf[..end]).trim().to_string();
            buf.advance(end + 1);
            if text.is_empty() {
                continue;
            }
            if let Some(awaiting) = self.awaiting.take() {
                let pdu = text;
                return Ok(Some(Line::Unsolicited(match awaiting {
                    Awaiting::StatusReport => Unsolicited::StatusReport { pdu },
                    Awaiting::Message => Unsolicited::Message { pdu },
                })));
            }
            if text.starts_with("+CDS:") {
                self.awaiting = Some(Awaiting::StatusReport);
                continue;
            }
            if text.starts_with("+CMT:") {
                self.awaiting = Some(Awaiting::Message);
                continue;
            }
            return Ok(Some(classify(text)));
        }
    }
}

impl Encoder<Outgoing> for AtCodec {
    type Error = AtError;

    fn encode(&mut self, item: Outgoing, buf: &mut BytesMut) -> Result<(), AtError> {
        match item {
            Outgoing::Command(command) => {
                buf.extend_from_slice(command.as_bytes());
                buf.extend_from_slice(b"\r");
            }
            Outgoing::Pdu(hex) => {
                buf.extend_from_slice(hex.as_bytes());
                buf.extend_from_slice(&[CTRL_Z]);
            }
            Outgoing::Cancel => buf.extend_from_slice(&[ESCAPE]),
        }
        Ok(())
    }
}

/// One complete line (not a PDU announced by the line before).
fn classify(text: String) -> Line {
    match text.as_str() {
        "OK" => return Line::Final(Final::Ok),
        "ERROR" => return Line::Final(Final::Error),
        "NO CARRIER" | "BUSY" | "NO ANSWER" | "NO DIALTONE" | "COMMAND NOT SUPPORT" => {
            return Line::Final(Final::Other(text));
        }
        "RING" => return Line::Unsolicited(Unsolicited::Ring),
        _ => {}
    }
    if let Some(code) = text.strip_prefix("+CMS ERROR:") {
        return Line::Final(Final::CmsError(code.trim().parse().unwrap_or(500)));
    }
    if let Some(detail) = text.strip_prefix("+CME ERROR:") {
        let detail = detail.trim();
        return Line::Final(Final::CmeError(match detail.parse() {
            Ok(code) => ErrorDetail::Code(code),
            Err(_) => ErrorDetail::Text(detail.to_string()),
        }));
    }
    if let Some(rest) = text.strip_prefix("+CMTI:")
        && let Some((storage, index)) = stored_at(rest)
    {
        return Line::Unsolicited(Unsolicited::NewMessage { storage, index });
    }
    if let Some(rest) = text.strip_prefix("+CDSI:")
        && let Some((storage, index)) = stored_at(rest)
    {
        return Line::Unsolicited(Unsolicited::NewReport { storage, index });
    }
    if let Some(rest) = text.strip_prefix("+CREG:") {
        let values: Vec<&str> = rest.split(',').map(str::trim).collect();
        if (values.len() == 1 || values.len() == 3) && let Ok(stat) = values[0].parse() {
            return Line::Unsolicited(Unsolicited::Registration { stat });
        }
    }
    if let Some(notice) = text.strip_prefix('^')
        && let Some((name, value)) = notice.split_once(':')
    {
        return Line::Unsolicited(Unsolicited::Huawei { name: name.trim().to_string(), value: value.trim().to_string() });
    }
    Line::Text(text)
}

/// `"SM",3` → (`SM`, 3).
fn stored_at(rest: &str) -> Option<(String, u32)> {
    let (storage, index) = rest.split_once(',')?;
    Some((storage.trim().trim_matches('"').to_string(), index.trim().parse().ok()?))
}

/// The signal of `+CSQ: <rssi>,<ber>`: dBm (−113 + 2·rssi) and a quality from 0 (none) to 5;
/// `None` when the modem does not know (rssi 99).
pub fn signal(line: &str) -> Option<(i32, u8)> {
    let rssi: i32 = line.strip_prefix("+CSQ:")?.split(',').next()?.trim().parse().ok()?;
    if !(0..=31).contains(&rssi) {
        return None;
    }
    let quality = match rssi {
        0..=1 => 0,
        2..=9 => 1,
        10..=14 => 2,
        15..=19 => 3,
        20..=24 => 4,
        _ => 5,
    };
    Some((-113 + 2 * rssi, quality))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(chunks: &[&[u8]]) -> Vec<Line> {
        let mut codec = AtCodec::new();
        let mut buf = BytesMut::new();
        let mut lines = Vec::new();
        for chunk in chunks {
            buf.extend_from_slice(chunk);
            while let Some(line) = codec.decode(&mut buf).unwrap() {
                lines.push(line);
            }
        }
        lines
    }

    const SEND: &[u8] = b"AT+CMGS=23\r\r\n> \r\n+CMTI: \"SM\",3\r\n\r\n+CMGS: 12\r\n\r\nOK\r\n";

    #[test]
    fn an_unsolicited_result_between_the_prompt_and_the_final_result_is_kept_apart() {
        let expected = vec![
            Line::Text("AT+CMGS=23".into()),
            Line::Prompt,
            Line::Unsolicited(Unsolicited::NewMessage { storage: "SM".into(), index: 3 }),
            Line::Text("+CMGS: 12".into()),
            Line::Final(Final::Ok),
        ];
        assert_eq!(decode_all(&[SEND]), expected);
        // The same bytes one at a time, as a slow serial line delivers them.
        let bytes: Vec<&[u8]> = SEND.chunks(1).collect();
        assert_eq!(decode_all(&bytes), expected);
    }

    #[test]
    fn final_results_and_their_codes() {
        let lines = decode_all(&[b"\r\n+CMS ERROR: 38\r\n\r\n+CME ERROR: 10\r\n\r\n+CME ERROR: SIM not inserted\r\nERROR\r\nNO CARRIER\r\n"]);
        assert_eq!(
            lines,
            vec![
                Line::Final(Final::CmsError(38)),
                Line::Final(Final::CmeError(ErrorDetail::Code(10))),
                Line::Final(Final::CmeError(ErrorDetail::Text("SIM not inserted".into()))),
                Line::Final(Final::Error),
                Line::Final(Final::Other("NO CARRIER".into())),
            ]
        );
    }

    #[test]
    fn a_status_report_carries_the_pdu_of_the_next_line() {
        let lines = decode_all(&[b"\r\n+CDS: 25\r\n0791448720003023", b"06C50B915121551532F40000\r\n\r\nOK\r\n"]);
        assert_eq!(
            lines,
            vec![
                Line::Unsolicited(Unsolicited::StatusReport { pdu: "079144872000302306C50B915121551532F40000".into() }),
                Line::Final(Final::Ok),
            ]
        );
    }

    #[test]
    fn registration_notices_are_told_from_the_answer_to_creg() {
        let lines = decode_all(&[b"\r\n+CREG: 5\r\n\r\n+CREG: 1,\"00C3\",\"0010\"\r\n\r\n+CREG: 2,1,\"00C3\",\"0010\"\r\n\r\n+CREG: 0,1\r\n"]);
        assert_eq!(
            lines,
            vec![
                Line::Unsolicited(Unsolicited::Registration { stat: 5 }),
                Line::Unsolicited(Unsolicited::Registration { stat: 1 }),
                Line::Text("+CREG: 2,1,\"00C3\",\"0010\"".into()),
                Line::Text("+CREG: 0,1".into()),
            ]
        );
    }

    #[test]
    fn huawei_notices_and_ring_are_unsolicited() {
        let lines = decode_all(&[b"\r\n^RSSI: 17\r\n\r\n^MODE: 5,4\r\n\r\nRING\r\n\r\n+CDSI: \"SM\",4\r\n"]);
        assert_eq!(
            lines,
            vec![
                Line::Unsolicited(Unsolicited::Huawei { name: "RSSI".into(), value: "17".into() }),
                Line::Unsolicited(Unsolicited::Huawei { name: "MODE".into(), value: "5,4".into() }),
                Line::Unsolicited(Unsolicited::Ring),
                Line::Unsolicited(Unsolicited::NewReport { storage: "SM".into(), index: 4 }),
            ]
        );
    }

    #[test]
    fn a_line_without_end_beyond_the_limit_is_refused_and_dropped() {
        let mut codec = AtCodec::new();
        let mut buf = BytesMut::from(&vec![b'7'; MAX_LINE_BYTES + 1][..]);
        assert_eq!(codec.decode(&mut buf), Err(AtError::LineTooLong));
        assert!(buf.is_empty());
        buf.extend_from_slice(b"OK\r\n");
        assert_eq!(codec.decode(&mut buf), Ok(Some(Line::Final(Final::Ok))));
    }

    #[test]
    fn commands_end_with_cr_and_pdus_with_ctrl_z() {
        let mut codec = AtCodec::new();
        let mut buf = BytesMut::new();
        codec.encode(Outgoing::Command("AT+CMGS=23".into()), &mut buf).unwrap();
        codec.encode(Outgoing::Pdu("0011".into()), &mut buf).unwrap();
        assert_eq!(&buf[..], b"AT+CMGS=23\r0011\x1a");
    }

    #[test]
    fn signal_in_dbm_and_quality() {
        assert_eq!(signal("+CSQ: 20,99"), Some((-73, 4)));
        assert_eq!(signal("+CSQ: 0,0"), Some((-113, 0)));
        assert_eq!(signal("+CSQ: 31,0"), Some((-51, 5)));
        assert_eq!(signal("+CSQ: 99,99"), None);
        assert_eq!(signal("+CREG: 1"), None);
    }
}
