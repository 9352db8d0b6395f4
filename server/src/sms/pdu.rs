//! SMS PDUs as PDU mode carries them (3GPP TS 27.005 §3: the service centre address, then the
//! TPDU of TS 23.040): SMS-SUBMIT built for AT+CMGS, and SMS-DELIVER, SMS-STATUS-REPORT and
//! SMS-SUBMIT read. The modem simulator builds DELIVER and STATUS-REPORT with the same code.
//!
//! Hand-written: the maintained crates either only decode, or split a long text at a fixed
//! count (cutting an escape sequence or a UTF-16 surrogate pair in two), pick the concatenation
//! reference at random (a part sent again must carry the same one), and compute the fill bits
//! wrongly for a 7-octet user data header (16-bit concatenation references).

use jiff::Timestamp;
use jiff::civil::DateTime;
use jiff::tz::{Offset, TimeZone};

use app::sms::gsm7;
use app::sms::text::{Alphabet, Body, MAX_PARTS, split};

/// Validity asked of the service centre: relative, 0xAA = 4 days (TS 23.040 §9.2.3.12.1).
const VALIDITY_4_DAYS: u8 = 0xaa;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PduError {
    /// The PDU is not hexadecimal, or ends before a field it announces.
    Malformed(&'static str),
    /// A message type this reader does not handle.
    UnexpectedType(u8),
    /// A data coding scheme this reader does not handle (compressed text, reserved groups).
    UnsupportedCoding(u8),
    /// The number cannot be an SMS destination.
    BadNumber,
    /// More than `MAX_PARTS` parts.
    TooLong,
}

impl std::fmt::Display for PduError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PduError::Malformed(field) => write!(f, "malformed PDU ({field})"),
            PduError::UnexpectedType(mti) => write!(f, "unexpected message type {mti}"),
            PduError::UnsupportedCoding(dcs) => write!(f, "unsupported data coding scheme {dcs:#04x}"),
            PduError::BadNumber => write!(f, "not a number that can receive SMS"),
            PduError::TooLong => write!(f, "text longer than {MAX_PARTS} parts"),
        }
    }
}

impl std::error::Error for PduError {}

/// Which part of which concatenated message (TS 23.040 §9.2.3.24.1 and .8).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Concatenation {
    pub reference: u16,
    pub total: u8,
    pub sequence: u8,
}

/// One part ready for AT+CMGS: the hex PDU (with an empty service centre address: the SIM's)
/// and the TPDU length the command announces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SubmitPart {
    pub hex: String,
    pub tpdu_length: usize,
}

/// Builds the SMS-SUBMIT PDUs of `text` to `number` (E.164 with `+`, or national digits).
/// `reference` names the concatenated message; keep it when sending a part again.
pub fn submit(number: &str, text: &str, status_report: bool, reference: u8) -> Result<Vec<SubmitPart>, PduError> {
    let address = address_field(number)?;
    let (alphabet, parts) = parts(text, reference)?;
    Ok(parts
        .into_iter()
        .map(|(header, body)| {
            let mut first = 0x01 | 0x10; // SMS-SUBMIT, relative validity period
            if status_report {
                first |= 0x20;
            }
            if header.is_some() {
                first |= 0x40;
            }
            let mut tpdu = vec![first, 0x00];
            tpdu.extend(&address);
            tpdu.push(0x00); // protocol identifier: plain SMS
            tpdu.push(coding(alphabet));
            tpdu.push(VALIDITY_4_DAYS);
            tpdu.extend(user_data(header.as_deref(), &body));
            SubmitPart { hex: format!("00{}", hex(&tpdu)), tpdu_length: tpdu.len() }
        })
        .collect())
}

/// Builds the SMS-DELIVER PDUs of `text` from `sender`, time-stamped `at_ms` by the service
/// centre: what a network hands a modem (the modem simulator's incoming messages).
pub fn deliver(sender: &str, text: &str, at_ms: i64, reference: u8) -> Result<Vec<String>, PduError> {
    let address = address_field(sender)?;
    let (alphabet, parts) = parts(text, reference)?;
    Ok(parts
        .into_iter()
        .map(|(header, body)| {
            let mut first = 0x04; // SMS-DELIVER, no more messages waiting
            if header.is_some() {
                first |= 0x40;
            }
            let mut tpdu = vec![first];
            tpdu.extend(&address);
            tpdu.push(0x00);
            tpdu.push(coding(alphabet));
            tpdu.extend(timestamp_field(at_ms));
            tpdu.extend(user_data(header.as_deref(), &body));
            format!("00{}", hex(&tpdu))
        })
        .collect())
}

/// Builds the SMS-STATUS-REPORT of the message `reference` sent to `recipient`, with the
/// status octet `code` (0 delivered, 0x20–0x3f pending, 0x40 and above failed).
pub fn status_report(reference: u8, recipient: &str, code: u8, submitted_ms: i64, discharged_ms: i64) -> Result<String, PduError> {
    let mut tpdu = vec![0x06, reference]; // SMS-STATUS-REPORT, status report qualifier: a submit
    tpdu.extend(address_field(recipient)?);
    tpdu.extend(timestamp_field(submitted_ms));
    tpdu.extend(timestamp_field(discharged_ms));
    tpdu.push(code);
    Ok(format!("00{}", hex(&tpdu)))
}

/// One part of a text: its concatenation header (when there are several parts) and its body.
type Part = (Option<Vec<u8>>, Body);

/// The parts of `text`.
fn parts(text: &str, reference: u8) -> Result<(Alphabet, Vec<Part>), PduError> {
    let (alphabet, bodies) = split(text);
    if bodies.len() > MAX_PARTS {
        return Err(PduError::TooLong);
    }
    let total = bodies.len();
    let parts = bodies
        .into_iter()
        .enumerate()
        .map(|(i, body)| ((total > 1).then(|| vec![0x00, 0x03, reference, total as u8, i as u8 + 1]), body))
        .collect();
    Ok((alphabet, parts))
}

fn coding(alphabet: Alphabet) -> u8 {
    match alphabet {
        Alphabet::Gsm7 => 0x00,
        Alphabet::Ucs2 => 0x08,
        Alphabet::Binary => 0x04,
    }
}

/// A UTC time stamp as swapped semi-octets YY MM DD hh mm ss and a zero zone.
fn timestamp_field(at_ms: i64) -> Vec<u8> {
    let instant = Timestamp::from_millisecond(at_ms).unwrap_or(Timestamp::UNIX_EPOCH);
    let civil = instant.to_zoned(TimeZone::UTC).datetime();
    let swapped = |value: i64| {
        let value = value.rem_euclid(100) as u8;
        ((value % 10) << 4) | (value / 10)
    };
    vec![
        swapped(i64::from(civil.year())),
        swapped(i64::from(civil.month())),
        swapped(i64::from(civil.day())),
        swapped(i64::from(civil.hour())),
        swapped(i64::from(civil.minute())),
        swapped(i64::from(civil.second())),
        0x00,
    ]
}

/// UDL and UD: the header (with its length octet) then the text, aligned on a septet boundary
/// for GSM-7.
fn user_data(header: Option<&[u8]>, body: &Body) -> Vec<u8> {
    let mut head = Vec::new();
    if let Some(header) = header {
        head.push(header.len() as u8);
        head.extend(header);
    }
    match body {
        Body::Septets(septets) => {
            let fill = fill_bits(head.len());
            let header_septets = (head.len() * 8 + fill) / 7;
            let mut out = vec![(header_septets + septets.len()) as u8];
            out.extend(&head);
            // The fill bits open the first octet after the header.
            out.extend(gsm7::pack(septets, fill));
            out
        }
        Body::Units(units) => {
            let mut out = vec![(head.len() + 2 * units.len()) as u8];
            out.extend(&head);
            out.extend(units.iter().flat_map(|u| u.to_be_bytes()));
            out
        }
    }
}

/// Bits that align GSM-7 text on a septet boundary after a header of `octets` octets.
fn fill_bits(octets: usize) -> usize {
    (7 - (octets * 8) % 7) % 7
}

/// TP-DA: digit count, type of number, digits as swapped semi-octets.
fn address_field(number: &str) -> Result<Vec<u8>, PduError> {
    let (international, digits) = match number.strip_prefix('+') {
        Some(rest) => (true, rest),
        None => (false, number),
    };
    if digits.is_empty() || digits.len() > 20 || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PduError::BadNumber);
    }
    let mut field = vec![digits.len() as u8, if international { 0x91 } else { 0x81 }];
    field.extend(semi_octets(digits));
    Ok(field)
}

fn semi_octets(digits: &str) -> Vec<u8> {
    digits
        .as_bytes()
        .chunks(2)
        .map(|pair| {
            let low = pair[0] - b'0';
            let high = pair.get(1).map_or(0x0f, |d| d - b'0');
            (high << 4) | low
        })
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

/// A message received (SMS-DELIVER), or read back from a submit (what the modem simulator does).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Message {
    /// The sender (SMS-DELIVER) or the destination (SMS-SUBMIT): `+` and digits, or the
    /// alphanumeric name of a sender.
    pub address: String,
    pub text: String,
    pub alphabet: Alphabet,
    pub concatenation: Option<Concatenation>,
    /// When the service centre received it (SMS-DELIVER only), in Unix milliseconds.
    pub sent_at_ms: Option<i64>,
    /// Asked for a status report (SMS-SUBMIT only).
    pub status_report: bool,
}

/// What a status report says of a message the modem sent.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReportStatus {
    Delivered,
    /// The service centre is still trying.
    Pending,
    Failed,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusReport {
    /// The message reference the modem gave in `+CMGS: <mr>`.
    pub reference: u8,
    pub recipient: String,
    pub status: ReportStatus,
    /// TP-ST as received, for the record.
    pub code: u8,
    pub discharged_at_ms: i64,
}

/// Reads an SMS-DELIVER, as `+CMT`, `+CMGR` or `+CMGL` give it.
pub fn read_deliver(pdu: &str) -> Result<Message, PduError> {
    let (mut r, first) = Reader::open(pdu, 0x00)?;
    let address = r.address("originating address")?;
    let _protocol = r.octet("protocol identifier")?;
    let dcs = r.octet("data coding scheme")?;
    let sent_at_ms = r.timestamp("service centre time stamp")?;
    let (text, alphabet, concatenation) = r.user_data(dcs, first & 0x40 != 0)?;
    Ok(Message { address, text, alphabet, concatenation, sent_at_ms: Some(sent_at_ms), status_report: false })
}

/// Reads an SMS-SUBMIT, as the modem simulator receives it after the prompt.
pub fn read_submit(pdu: &str) -> Result<Message, PduError> {
    let (mut r, first) = Reader::open(pdu, 0x01)?;
    let _reference = r.octet("message reference")?;
    let address = r.address("destination address")?;
    let _protocol = r.octet("protocol identifier")?;
    let dcs = r.octet("data coding scheme")?;
    match (first >> 3) & 0x03 {
        0b10 => {
            r.octet("validity period")?;
        }
        0b01 | 0b11 => {
            r.take(7, "validity period")?;
        }
        _ => {}
    }
    let (text, alphabet, concatenation) = r.user_data(dcs, first & 0x40 != 0)?;
    Ok(Message { address, text, alphabet, concatenation, sent_at_ms: None, status_report: first & 0x20 != 0 })
}

/// What a modem's storage holds: a message received or a status report.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Received {
    Message(Message),
    Report(StatusReport),
}

/// Reads a stored PDU (`+CMGR`, `+CMGL`), whichever of the two it is.
pub fn read_received(pdu: &str) -> Result<Received, PduError> {
    match read_deliver(pdu) {
        Err(PduError::UnexpectedType(0x02)) => read_status_report(pdu).map(Received::Report),
        other => other.map(Received::Message),
    }
}

/// Reads an SMS-STATUS-REPORT, as `+CDS` or `+CMGR` give it.
pub fn read_status_report(pdu: &str) -> Result<StatusReport, PduError> {
    let (mut r, _) = Reader::open(pdu, 0x02)?;
    let reference = r.octet("message reference")?;
    let recipient = r.address("recipient address")?;
    let _received_at = r.timestamp("service centre time stamp")?;
    let discharged_at_ms = r.timestamp("discharge time")?;
    let code = r.octet("status")?;
    let status = match code {
        0x00..=0x1f => ReportStatus::Delivered,
        0x20..=0x3f => ReportStatus::Pending,
        _ => ReportStatus::Failed,
    };
    Ok(StatusReport { reference, recipient, status, code, discharged_at_ms })
}

struct Reader {
    bytes: Vec<u8>,
    at: usize,
}

impl Reader {
    /// Reads past the service centre address and the first octet, which must carry the message
    /// type `mti`; returns the reader and that octet.
    fn open(pdu: &str, mti: u8) -> Result<(Reader, u8), PduError> {
        let mut reader = Reader::new(pdu)?;
        let length = reader.octet("service centre length")? as usize;
        reader.take(length, "service centre address")?;
        let first = reader.octet("first octet")?;
        if first & 0x03 != mti {
            return Err(PduError::UnexpectedType(first & 0x03));
        }
        Ok((reader, first))
    }

    fn new(pdu: &str) -> Result<Reader, PduError> {
        let pdu = pdu.trim().as_bytes();
        if !pdu.len().is_multiple_of(2) {
            return Err(PduError::Malformed("odd number of hex digits"));
        }
        let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8).ok_or(PduError::Malformed("not hexadecimal"));
        let bytes = pdu.chunks(2).map(|pair| Ok(digit(pair[0])? << 4 | digit(pair[1])?)).collect::<Result<_, PduError>>()?;
        Ok(Reader { bytes, at: 0 })
    }

    fn octet(&mut self, field: &'static str) -> Result<u8, PduError> {
        Ok(self.take(1, field)?[0])
    }

    fn take(&mut self, count: usize, field: &'static str) -> Result<&[u8], PduError> {
        let end = self.at.checked_add(count).filter(|&end| end <= self.bytes.len()).ok_or(PduError::Malformed(field))?;
        let taken = &self.bytes[self.at..end];
        self.at = end;
        Ok(taken)
    }

    /// An address field: `+` and digits, national digits, or an alphanumeric sender.
    fn address(&mut self, field: &'static str) -> Result<String, PduError> {
        let digits = self.octet(field)? as usize;
        let kind = self.octet(field)?;
        let octets = self.take(digits.div_ceil(2), field)?.to_vec();
        if kind & 0x70 == 0x50 {
            // Alphanumeric (TS 23.040 §9.1.2.5): GSM-7 septets in `digits` semi-octets.
            return Ok(gsm7::decode(&gsm7::unpack(&octets, 0, digits * 4 / 7)));
        }
        let mut number: String = octets
            .iter()
            .flat_map(|octet| [octet & 0x0f, octet >> 4])
            .take(digits)
            .map(|d| match d {
                0..=9 => char::from(b'0' + d),
                0x0a => '*',
                0x0b => '#',
                _ => 'x',
            })
            .collect();
        if kind & 0x70 == 0x10 {
            number.insert(0, '+');
        }
        Ok(number)
    }

    /// A time stamp: swapped semi-octets YY MM DD hh mm ss, then the zone in quarter hours
    /// (sign in bit 3 of the swapped octet).
    fn timestamp(&mut self, field: &'static str) -> Result<i64, PduError> {
        let octets = self.take(7, field)?.to_vec();
        let value = |octet: u8| (octet & 0x0f) * 10 + (octet >> 4);
        let zone = octets[6];
        let quarters = i32::from((zone & 0x07) * 10 + (zone >> 4));
        let offset_seconds = if zone & 0x08 != 0 { -quarters } else { quarters } * 15 * 60;
        // Two-digit years: GSM started in 1991.
        let year = match i16::from(value(octets[0])) {
            short @ 90.. => 1900 + short,
            short => 2000 + short,
        };
        let datetime = DateTime::new(
            year,
            value(octets[1]) as i8,
            value(octets[2]) as i8,
            value(octets[3]) as i8,
            value(octets[4]) as i8,
            value(octets[5]) as i8,
            0,
        )
        .map_err(|_| PduError::Malformed(field))?;
        let offset = Offset::from_seconds(offset_seconds).map_err(|_| PduError::Malformed(field))?;
        let instant: Timestamp =
            datetime.to_zoned(TimeZone::fixed(offset)).map_err(|_| PduError::Malformed(field))?.timestamp();
        Ok(instant.as_millisecond())
    }

    /// UDL and UD: the text, its alphabet and the concatenation header if any.
    fn user_data(&mut self, dcs: u8, has_header: bool) -> Result<(String, Alphabet, Option<Concatenation>), PduError> {
        let alphabet = alphabet(dcs)?;
        let length = self.octet("user data length")? as usize;
        let octets = match alphabet {
            Alphabet::Gsm7 => (length * 7).div_ceil(8),
            _ => length,
        };
        let data = self.take(octets, "user data")?.to_vec();
        let (header_octets, concatenation) = if has_header {
            let header_length = *data.first().ok_or(PduError::Malformed("user data header"))? as usize;
            let header = data.get(1..1 + header_length).ok_or(PduError::Malformed("user data header"))?;
            (1 + header_length, concatenation(header))
        } else {
            (0, None)
        };
        let text = match alphabet {
            Alphabet::Gsm7 => {
                let fill = fill_bits(header_octets);
                let header_septets = (header_octets * 8 + fill) / 7;
                let count = length.saturating_sub(header_septets);
                gsm7::decode(&gsm7::unpack(&data[header_octets.min(data.len())..], fill, count))
            }
            Alphabet::Ucs2 => {
                let units = data[header_octets.min(data.len())..].chunks_exact(2).map(|pair| u16::from_be_bytes([pair[0], pair[1]]));
                char::decode_utf16(units).map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER)).collect()
            }
            Alphabet::Binary => data[header_octets.min(data.len())..].iter().map(|&b| char::from(b)).collect(),
        };
        Ok((text, alphabet, concatenation))
    }
}

/// The alphabet of a data coding scheme (TS 23.038 §4).
fn alphabet(dcs: u8) -> Result<Alphabet, PduError> {
    match dcs >> 4 {
        // General data coding, uncompressed (bit 5 clear).
        0x0 | 0x1 | 0x4 | 0x5 => match (dcs >> 2) & 0x03 {
            0 => Ok(Alphabet::Gsm7),
            1 => Ok(Alphabet::Binary),
            2 => Ok(Alphabet::Ucs2),
            _ => Err(PduError::UnsupportedCoding(dcs)),
        },
        // Message waiting indications: discard or store, GSM-7; store, UCS-2.
        0xc | 0xd => Ok(Alphabet::Gsm7),
        0xe => Ok(Alphabet::Ucs2),
        // Data coding / message class.
        0xf => Ok(if dcs & 0x04 == 0 { Alphabet::Gsm7 } else { Alphabet::Binary }),
        _ => Err(PduError::UnsupportedCoding(dcs)),
    }
}

/// The concatenation element of a user data header, with an 8-bit or a 16-bit reference.
fn concatenation(header: &[u8]) -> Option<Concatenation> {
    let mut rest = header;
    while let [id, length, tail @ ..] = rest {
        let length = *length as usize;
        let value = tail.get(..length)?;
        match (id, value) {
            (0x00, [reference, total, sequence]) => {
                return Some(Concatenation { reference: u16::from(*reference), total: *total, sequence: *sequence });
            }
            (0x08, [high, low, total, sequence]) => {
                return Some(Concatenation { reference: u16::from_be_bytes([*high, *low]), total: *total, sequence: *sequence });
            }
            _ => rest = &tail[length..],
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use app::sms::text::plan;

    fn at(instant: &str) -> i64 {
        instant.parse::<Timestamp>().unwrap().as_millisecond()
    }

    #[test]
    fn a_short_gsm7_submit_matches_the_classic_vector() {
        let parts = submit("+46708251358", "hellohello", false, 0).unwrap();
        assert_eq!(parts, [SubmitPart { hex: "0011000B916407281553F80000AA0AE8329BFD4697D9EC37".into(), tpdu_length: 23 }]);
        let with_report = submit("+46708251358", "hellohello", true, 0).unwrap();
        assert!(with_report[0].hex.starts_with("0031"), "status report requested: TP-SRR set");
    }

    #[test]
    fn a_deliver_is_read_with_its_sender_and_time() {
        let message = read_deliver("07916407058099F9040B916407950303F100008921222140140004D4E2940A").unwrap();
        assert_eq!(message.address, "+46705930301");
        assert_eq!(message.text, "TEST");
        assert_eq!(message.alphabet, Alphabet::Gsm7);
        assert_eq!(message.sent_at_ms, Some(at("1998-12-22T12:04:41Z")));
    }

    #[test]
    fn a_status_report_tells_delivered_pending_or_failed() {
        let build = |status: &str| format!("079144872000302306C50B915121551532F40120112143650001201121536500{status}");
        let delivered = read_status_report(&build("00")).unwrap();
        assert_eq!((delivered.reference, delivered.recipient.as_str(), delivered.status), (0xc5, "+15125551234", ReportStatus::Delivered));
        assert_eq!(delivered.discharged_at_ms, at("2010-02-11T12:35:56Z"));
        assert_eq!(read_status_report(&build("30")).unwrap().status, ReportStatus::Pending);
        assert_eq!(read_status_report(&build("41")).unwrap().status, ReportStatus::Failed);
        assert_eq!(read_status_report("0791448720003023"), Err(PduError::Malformed("first octet")));
        assert_eq!(read_status_report("0004"), Err(PduError::UnexpectedType(0)), "an SMS-DELIVER is not a report");
    }

    #[test]
    fn built_delivers_and_reports_read_back() {
        let at_ms = at("2026-11-23T09:15:30Z");
        let long = "Réponse: ".to_string() + &"merci ".repeat(40);
        let parts = deliver("+33612345678", &long, at_ms, 9).unwrap();
        assert_eq!(parts.len(), 2);
        let read: Vec<Message> = parts.iter().map(|p| read_deliver(p).unwrap()).collect();
        assert_eq!(read.iter().map(|m| m.text.as_str()).collect::<String>(), long);
        assert!(read.iter().all(|m| m.address == "+33612345678" && m.sent_at_ms == Some(at_ms)));
        assert_eq!(read[1].concatenation, Some(Concatenation { reference: 9, total: 2, sequence: 2 }));

        let report = status_report(42, "+33612345678", 0x00, at_ms, at_ms + 4_000).unwrap();
        let expected = StatusReport { reference: 42, recipient: "+33612345678".into(), status: ReportStatus::Delivered, code: 0, discharged_at_ms: at_ms + 4_000 };
        assert_eq!(read_received(&report), Ok(Received::Report(expected)));
        assert!(matches!(read_received(&parts[0]), Ok(Received::Message(m)) if m.text.starts_with("Réponse")));
        assert_eq!(read_received(&submit("+33612345678", "x", false, 0).unwrap()[0].hex), Err(PduError::UnexpectedType(1)));
    }

    #[test]
    fn a_long_text_is_split_in_parts_that_read_back_in_order() {
        let text = "Bonjour Élodie, votre offre fibre 1 Gb/s à 29,99 € par mois vous attend : répondez OUI pour qu'un conseiller vous rappelle, ou STOP pour ne plus recevoir nos messages. Merci !";
        assert_eq!(plan(text), (Alphabet::Gsm7, 2));
        let parts = submit("+33656000001", text, true, 42).unwrap();
        assert_eq!(parts.len(), 2);
        let read: Vec<Message> = parts.iter().map(|p| read_submit(&p.hex).unwrap()).collect();
        assert_eq!(read[0].concatenation, Some(Concatenation { reference: 42, total: 2, sequence: 1 }));
        assert_eq!(read[1].concatenation, Some(Concatenation { reference: 42, total: 2, sequence: 2 }));
        assert_eq!(format!("{}{}", read[0].text, read[1].text), text);
        assert!(read.iter().all(|m| m.status_report && m.address == "+33656000001"));
        for part in &parts {
            assert_eq!(part.hex.len(), 2 + 2 * part.tpdu_length);
        }
    }

    #[test]
    fn ucs2_is_used_when_needed_and_never_cuts_a_character() {
        // 66 characters then an emoji (a surrogate pair) across the 67-unit boundary.
        let text = format!("{}📞 Ça coûte moins cher que vous ne le pensez, rappelez-nous !", "ê".repeat(66));
        let (alphabet, count) = plan(&text);
        assert_eq!((alphabet, count), (Alphabet::Ucs2, 2));
        let parts = submit("0656000002", &text, false, 7).unwrap();
        let read: Vec<Message> = parts.iter().map(|p| read_submit(&p.hex).unwrap()).collect();
        assert_eq!(read[0].address, "0656000002");
        assert!(read[1].text.starts_with('📞'), "the pair moved whole to the second part");
        assert_eq!(format!("{}{}", read[0].text, read[1].text), text);
    }

    #[test]
    fn an_escape_is_never_left_at_the_end_of_a_part() {
        let text = format!("{}€ la suite", "a".repeat(152));
        let parts = submit("+33656000003", &text, false, 1).unwrap();
        let read: Vec<Message> = parts.iter().map(|p| read_submit(&p.hex).unwrap()).collect();
        assert_eq!(read[0].text, "a".repeat(152));
        assert_eq!(read[1].text, "€ la suite");
    }

    #[test]
    fn a_16_bit_reference_header_aligns_the_text_without_fill_bits() {
        // UDH of 7 octets (05 ... is 8-bit; 06 08 04 is 16-bit): 56 bits, a whole number of septets.
        let header = [0x06, 0x08, 0x04, 0x12, 0x34, 0x02, 0x01];
        let septets = gsm7::encode("Hi").unwrap();
        let mut ud = header.to_vec();
        ud.extend(gsm7::pack(&septets, fill_bits(header.len())));
        let pdu = format!("00440B913366560000F10000{}{:02X}{}", "62111221436500", 8 + 2, hex(&ud));
        let message = read_deliver(&pdu).unwrap();
        assert_eq!(message.text, "Hi");
        assert_eq!(message.concatenation, Some(Concatenation { reference: 0x1234, total: 2, sequence: 1 }));
    }

    #[test]
    fn bad_numbers_and_malformed_pdus_are_refused() {
        assert_eq!(submit("+33 6 56", "x", false, 0), Err(PduError::BadNumber));
        assert_eq!(submit("", "x", false, 0), Err(PduError::BadNumber));
        assert_eq!(read_deliver("0"), Err(PduError::Malformed("odd number of hex digits")));
        assert_eq!(read_deliver("ZZ"), Err(PduError::Malformed("not hexadecimal")));
        assert!(matches!(read_deliver("0004"), Err(PduError::Malformed(_))));
        assert_eq!(submit("+33656000004", &"x".repeat(153 * 256), false, 0), Err(PduError::TooLong));
    }
}
