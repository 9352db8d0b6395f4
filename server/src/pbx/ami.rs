//! Asterisk Manager Interface wire format.
//!
//! AMI is line-based text over TCP: after a one-line banner (`Asterisk Call Manager/x.y.z`),
//! each message is a block of `Key: Value` lines ending with an empty line. Keys may repeat
//! (`Output:` lines of a command, `Variable:` of an action), so a message keeps its fields in
//! order. No maintained Rust crate speaks AMI with what Relais needs (event lists, ActionID
//! correlation, tolerant framing), hence this hand-written codec; ARCHITECTURE.md says so.

use bytes::{Buf, BytesMut};
use tokio_util::codec::{Decoder, Encoder};

/// Largest message accepted; a peer sending more without a blank line is broken or hostile.
pub const MAX_MESSAGE_BYTES: usize = 1 << 20;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Message {
    fields: Vec<(String, String)>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    Response,
    Event,
    Action,
    Unknown,
}

impl Message {
    pub fn new() -> Self {
        Message::default()
    }

    /// Adds a field (builder style, for actions).
    pub fn with(mut self, key: &str, value: impl Into<String>) -> Self {
        self.fields.push((key.to_string(), value.into()));
        self
    }

    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        self.fields.push((key.to_string(), value.into()));
    }

    /// The first value of `key` (AMI keys are case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated key, in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields.iter().filter(move |(k, _)| k.eq_ignore_ascii_case(key)).map(|(_, v)| v.as_str())
    }

    pub fn fields(&self) -> &[(String, String)] {
        &self.fields
    }

    pub fn kind(&self) -> Kind {
        match self.fields.first().map(|(k, _)| k.to_ascii_lowercase()) {
            Some(k) if k == "response" => Kind::Response,
            Some(k) if k == "event" => Kind::Event,
            Some(k) if k == "action" => Kind::Action,
            _ => Kind::Unknown,
        }
    }

    /// The event name, for events.
    pub fn event(&self) -> Option<&str> {
        (self.kind() == Kind::Event).then(|| self.get("Event")).flatten()
    }

    pub fn action_id(&self) -> Option<&str> {
        self.get("ActionID")
    }

    /// `EventList: start` on the response that opens an event list.
    pub fn starts_event_list(&self) -> bool {
        self.get("EventList").is_some_and(|v| v.eq_ignore_ascii_case("start"))
    }

    /// `EventList: Complete` on the `...Complete` event that closes one.
    pub fn completes_event_list(&self) -> bool {
        self.get("EventList").is_some_and(|v| v.eq_ignore_ascii_case("complete"))
    }

    /// Writes the message in wire form (CRLF lines, blank line at the end).
    pub fn encode_into(&self, out: &mut BytesMut) {
        for (key, value) in &self.fields {
            // A CR or LF inside a value would end the line early and let a value inject fields.
            let value: String = value.chars().filter(|c| *c != '\r' && *c != '\n').collect();
            out.extend_from_slice(key.as_bytes());
            out.extend_from_slice(b": ");
            out.extend_from_slice(value.as_bytes());
            out.extend_from_slice(b"\r\n");
        }
        out.extend_from_slice(b"\r\n");
    }
}

/// What arrives on an AMI connection.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Frame {
    /// The first line, e.g. `Asterisk Call Manager/13.0.0`.
    Banner(String),
    Message(Message),
}

#[derive(Debug, thiserror::Error)]
pub enum AmiError {
    #[error("AMI message larger than {MAX_MESSAGE_BYTES} bytes")]
    TooLarge,
    #[error("not an Asterisk manager banner: {0:?}")]
    BadBanner(String),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

/// Splits the byte stream into the banner and messages. Accepts CRLF or bare LF line ends and
/// chunk boundaries anywhere.
#[derive(Debug, Default)]
pub struct AmiCodec {
    banner_seen: bool,
    /// How far the buffer was already searched for the end of a message.
    scanned: usize,
}

impl AmiCodec {
    pub fn new() -> Self {
        AmiCodec::default()
    }

    /// For the PBX side of the wire, which reads actions and never receives a banner.
    pub fn without_banner() -> Self {
        AmiCodec { banner_seen: true, scanned: 0 }
    }
}

impl Decoder for AmiCodec {
    type Item = Frame;
    type Error = AmiError;

    fn decode(&mut self, buf: &mut BytesMut) -> Result<Option<Frame>, AmiError> {
        if !self.banner_seen {
            let Some(end) = buf.iter().position(|&b| b == b'\n') else {
                return if buf.len() > 1024 { Err(AmiError::BadBanner(lossy(&buf[..64]))) } else { Ok(None) };
            };
            let line = lossy(&buf[..end]).trim_end_matches('\r').to_string();
            buf.advance(end + 1);
            self.banner_seen = true;
            if !line.contains("Call Manager") {
                return Err(AmiError::BadBanner(line));
            }
            return Ok(Some(Frame::Banner(line)));
        }
        loop {
            // Blank lines between messages carry nothing.
            while buf.first().is_some_and(|&b| b == b'\r' || b == b'\n') {
                if buf[0] == b'\r' && buf.len() < 2 {
                    return Ok(None);
                }
                buf.advance(1);
                self.scanned = 0;
            }
            let Some((body_end, consumed)) = find_message_end(buf, self.scanned) else {
                if buf.len() > MAX_MESSAGE_BYTES {
                    return Err(AmiError::TooLarge);
                }
                self.scanned = buf.len().saturating_sub(3);
                return Ok(None);
            };
            let block = buf.split_to(consumed);
            self.scanned = 0;
            let message = parse_block(&block[..body_end]);
            if !message.fields.is_empty() {
                return Ok(Some(Frame::Message(message)));
            }
        }
    }
}

impl Encoder<Message> for AmiCodec {
    type Error = AmiError;

    fn encode(&mut self, message: Message, out: &mut BytesMut) -> Result<(), AmiError> {
        message.encode_into(out);
        Ok(())
    }
}

/// Finds the blank line ending a message: returns (end of the body, bytes to consume).
fn find_message_end(buf: &[u8], from: usize) -> Option<(usize, usize)> {
    let mut i = from;
    while let Some(offset) = buf[i..].iter().position(|&b| b == b'\n') {
        let nl = i + offset;
        // The next line is empty if it starts with LF, or with CRLF.
        match buf.get(nl + 1) {
            Some(b'\n') => return Some((nl, nl + 2)),
            Some(b'\r') => match buf.get(nl + 2) {
                Some(b'\n') => return Some((nl, nl + 3)),
                Some(_) => {}
                None => return None,
            },
            Some(_) => {}
            None => return None,
        }
        i = nl + 1;
    }
    None
}

/// Parses `Key: Value` lines. A line without a colon (old-style `Response: Follows` command
/// output, ending with `--END COMMAND--`) is kept as an `Output` field.
fn parse_block(block: &[u8]) -> Message {
    let text = lossy(block);
    let mut message = Message::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                message.push(key, value.strip_prefix(' ').unwrap_or(value));
            }
            _ => {
                if line != "--END COMMAND--" {
                    message.push("Output", line);
                }
            }
        }
    }
    message
}

/// Asterisk sends UTF-8 for names in practice, but nothing guarantees it: never fail on bytes.
fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[cfg(test)]
pub(crate) mod capture {
    //! Reads the byte-exact AMI captures in `shared/fixtures`: chunks introduced by framing lines
    //! `<<< +SECONDS` (from Asterisk) or `>>> +SECONDS` (to it).

    pub struct Chunk {
        pub from_asterisk: bool,
        pub bytes: Vec<u8>,
    }

    pub fn fixture(name: &str) -> Vec<u8> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../shared/fixtures/asterisk")
            .join(name);
        std::fs::read(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    pub fn chunks(capture: &[u8]) -> Vec<Chunk> {
        let mut chunks: Vec<Chunk> = Vec::new();
        let mut rest = capture;
        while !rest.is_empty() {
            let header_end = rest.iter().position(|&b| b == b'\n').expect("framing line");
            let header = std::str::from_utf8(&rest[..header_end]).expect("framing line is text");
            let from_asterisk = header.starts_with("<<<");
            assert!(from_asterisk || header.starts_with(">>>"), "bad framing line {header:?}");
            rest = &rest[header_end + 1..];
            // The chunk runs to the next framing line at a line start.
            let mut end = rest.len();
            let mut i = 0;
            while i < rest.len() {
                if (rest[i..].starts_with(b"<<< +") || rest[i..].starts_with(b">>> +")) && (i == 0 || rest[i - 1] == b'\n') {
                    end = i;
                    break;
                }
                i += rest[i..].iter().position(|&b| b == b'\n').map_or(rest.len() - i, |p| p + 1);
            }
            chunks.push(Chunk { from_asterisk, bytes: rest[..end].to_vec() });
            rest = &rest[end..];
        }
        chunks
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode_all(codec: &mut AmiCodec, pieces: &[&[u8]]) -> Vec<Frame> {
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for piece in pieces {
            buf.extend_from_slice(piece);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        frames
    }

    #[test]
    fn decodes_banner_and_messages_across_any_split() {
        let wire = b"Asterisk Call Manager/13.0.0\r\nResponse: Success\r\nActionID: a1\r\nMessage: Authentication accepted\r\n\r\nEvent: FullyBooted\r\nStatus: Fully Booted\r\n\r\n";
        let whole = decode_all(&mut AmiCodec::new(), &[wire]);
        assert_eq!(whole.len(), 3);
        assert_eq!(whole[0], Frame::Banner("Asterisk Call Manager/13.0.0".into()));
        for split in 1..wire.len() {
            let pieces = decode_all(&mut AmiCodec::new(), &[&wire[..split], &wire[split..]]);
            assert_eq!(pieces, whole, "split at {split}");
        }
        let Frame::Message(login) = &whole[1] else { panic!() };
        assert_eq!(login.kind(), Kind::Response);
        assert_eq!(login.action_id(), Some("a1"));
        assert_eq!(login.get("message"), Some("Authentication accepted"));
    }

    #[test]
    fn accepts_bare_lf_empty_values_and_old_command_output() {
        let wire = b"Asterisk Call Manager/1.1\nResponse: Follows\nActionID: c\nChannel              Location\n--END COMMAND--\n\nEvent: X\nSystemName: \n\n";
        let frames = decode_all(&mut AmiCodec::new(), &[wire]);
        let Frame::Message(follows) = &frames[1] else { panic!() };
        assert_eq!(follows.get_all("Output").collect::<Vec<_>>(), vec!["Channel              Location"]);
        let Frame::Message(event) = &frames[2] else { panic!() };
        assert_eq!(event.get("SystemName"), Some(""));
    }

    #[test]
    fn refuses_a_wrong_banner_and_endless_messages() {
        let mut buf = BytesMut::from(&b"HTTP/1.1 200 OK\r\n"[..]);
        assert!(matches!(AmiCodec::new().decode(&mut buf), Err(AmiError::BadBanner(_))));
        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::from(&b"Asterisk Call Manager/13.0.0\r\n"[..]);
        codec.decode(&mut buf).unwrap();
        buf.extend_from_slice(&b"Key: value\r\n".repeat(MAX_MESSAGE_BYTES / 10));
        assert!(matches!(codec.decode(&mut buf), Err(AmiError::TooLarge)));
    }

    #[test]
    fn encoding_strips_line_breaks_from_values() {
        let action = Message::new().with("Action", "Originate").with("Channel", "PJSIP/1001\r\nAction: Logoff");
        let mut out = BytesMut::new();
        action.encode_into(&mut out);
        assert_eq!(&out[..], b"Action: Originate\r\nChannel: PJSIP/1001Action: Logoff\r\n\r\n");
    }

    #[test]
    fn the_real_capture_parses_completely_in_its_original_chunks() {
        let chunks = capture::chunks(&capture::fixture("ami-session.txt"));
        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::new();
        let mut frames = Vec::new();
        for chunk in chunks.iter().filter(|c| c.from_asterisk) {
            buf.extend_from_slice(&chunk.bytes);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                frames.push(frame);
            }
        }
        assert!(buf.iter().all(|b| b.is_ascii_whitespace()), "undecoded rest: {:?}", lossy(&buf));
        assert_eq!(frames[0], Frame::Banner("Asterisk Call Manager/13.0.0".into()));
        let messages: Vec<&Message> = frames
            .iter()
            .filter_map(|f| if let Frame::Message(m) = f { Some(m) } else { None })
            .collect();
        // Every message has a kind and every field line of the capture was read.
        assert!(messages.iter().all(|m| m.kind() != Kind::Unknown));
        let text = lossy(&chunks.iter().filter(|c| c.from_asterisk).flat_map(|c| c.bytes.clone()).collect::<Vec<_>>());
        let event_lines = text.lines().filter(|l| l.starts_with("Event: ")).count();
        assert_eq!(messages.iter().filter(|m| m.kind() == Kind::Event).count(), event_lines);
        let field_lines = text.lines().skip(1).filter(|l| !l.trim_end_matches('\r').is_empty()).count();
        assert_eq!(messages.iter().map(|m| m.fields().len()).sum::<usize>(), field_lines);
        // The command's output lines are kept in order.
        let command = messages.iter().find(|m| m.action_id() == Some("cap-33")).unwrap();
        assert_eq!(
            command.get_all("Output").collect::<Vec<_>>(),
            vec!["14 active channels", "7 active calls", "23 calls processed"]
        );
        // Accented names survive.
        assert!(messages.iter().any(|m| m.get("MemberName") == Some("Chloé Durand")));
    }

    #[test]
    fn what_relais_sent_in_the_capture_reencodes_byte_for_byte() {
        let chunks = capture::chunks(&capture::fixture("ami-session.txt"));
        let sent: Vec<u8> = chunks.iter().filter(|c| !c.from_asterisk).flat_map(|c| c.bytes.clone()).collect();
        let mut codec = AmiCodec::without_banner();
        let mut buf = BytesMut::from(&sent[..]);
        let mut reencoded = BytesMut::new();
        while let Some(Frame::Message(action)) = codec.decode(&mut buf).unwrap() {
            assert_eq!(action.kind(), Kind::Action);
            action.encode_into(&mut reencoded);
        }
        assert_eq!(lossy(&reencoded), lossy(&sent));
    }
}
