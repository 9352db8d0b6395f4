//! Asterisk's queue_log: one line per queue event, `epoch|callid|queue|agent|event|data1|…`.
//! This turns a line into a typed event carrying the figures the ACD statistics need (hold,
//! talk, ring and wait times, positions). Custom events written by the dialplan (CLOSED,
//! DISSUASION, …) are kept by name.

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueLogLine {
    /// Unix seconds.
    pub time: i64,
    /// The caller channel's uniqueid, or `NONE` / `MANAGER` for member events.
    pub call_id: String,
    pub queue: String,
    /// The member's name, its interface, or `NONE`.
    pub agent: String,
    pub event: QueueEvent,
}

/// Which side ended an answered call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ender {
    Caller,
    Agent,
    /// Blind or attended transfer (TRANSFER, BLINDTRANSFER, ATTENDEDTRANSFER).
    Transfer,
}

/// How an unanswered call left the queue without abandoning.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Exit {
    /// EXITWITHTIMEOUT: the queue's timeout elapsed.
    Timeout,
    /// EXITEMPTY: no member could take the call.
    Empty,
    /// EXITWITHKEY: the caller pressed a key to leave.
    Key,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QueueEvent {
    EnterQueue { caller_id: String, position: u32 },
    Connect { hold_secs: u64, ring_secs: u64 },
    Complete { by: Ender, hold_secs: u64, talk_secs: u64 },
    Abandon { position: u32, original_position: u32, wait_secs: u64 },
    Exit { how: Exit, position: u32, original_position: u32, wait_secs: u64 },
    RingNoAnswer { ring_ms: u64 },
    AddMember,
    RemoveMember,
    Pause { reason: String },
    Unpause { reason: String },
    Penalty { penalty: i64 },
    /// Anything else, by name: QUEUESTART, CONFIGRELOAD, dialplan events such as CLOSED or
    /// DISSUASION, and events of newer Asterisk versions.
    Other { name: String, data: Vec<String> },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QueueLogError {
    #[error("fewer than five fields")]
    TooFewFields,
    #[error("bad time {0:?}")]
    BadTime(String),
}

pub fn parse_line(line: &str) -> Result<QueueLogLine, QueueLogError> {
    let line = line.trim_end_matches(['\r', '\n']);
    let mut fields = line.split('|');
    let (Some(time), Some(call_id), Some(queue), Some(agent), Some(name)) =
        (fields.next(), fields.next(), fields.next(), fields.next(), fields.next())
    else {
        return Err(QueueLogError::TooFewFields);
    };
    let time = time.trim().parse::<i64>().map_err(|_| QueueLogError::BadTime(time.to_string()))?;
    let data: Vec<&str> = fields.collect();
    let text = |i: usize| data.get(i).copied().unwrap_or_default().to_string();
    let num = |i: usize| data.get(i).and_then(|v| v.trim().parse::<u64>().ok()).unwrap_or(0);
    let pos = |i: usize| num(i) as u32;
    let event = match name {
        "ENTERQUEUE" => QueueEvent::EnterQueue { caller_id: text(1), position: pos(2) },
        "CONNECT" => QueueEvent::Connect { hold_secs: num(0), ring_secs: num(2) },
        "COMPLETECALLER" => QueueEvent::Complete { by: Ender::Caller, hold_secs: num(0), talk_secs: num(1) },
        "COMPLETEAGENT" => QueueEvent::Complete { by: Ender::Agent, hold_secs: num(0), talk_secs: num(1) },
        // TRANSFER: extension|context|holdtime|calltime|origposition
        "TRANSFER" => QueueEvent::Complete { by: Ender::Transfer, hold_secs: num(2), talk_secs: num(3) },
        // BLINDTRANSFER/ATTENDEDTRANSFER: …|holdtime|calltime|origposition as the last three
        "BLINDTRANSFER" | "ATTENDEDTRANSFER" => {
            let n = data.len();
            QueueEvent::Complete {
                by: Ender::Transfer,
                hold_secs: n.checked_sub(3).map_or(0, num),
                talk_secs: n.checked_sub(2).map_or(0, num),
            }
        }
        "ABANDON" => QueueEvent::Abandon { position: pos(0), original_position: pos(1), wait_secs: num(2) },
        "EXITWITHTIMEOUT" | "EXITEMPTY" => QueueEvent::Exit {
            how: if name == "EXITEMPTY" { Exit::Empty } else { Exit::Timeout },
            position: pos(0),
            original_position: pos(1),
            wait_secs: num(2),
        },
        // EXITWITHKEY: key|position|origposition|waittime
        "EXITWITHKEY" => QueueEvent::Exit { how: Exit::Key, position: pos(1), original_position: pos(2), wait_secs: num(3) },
        "RINGNOANSWER" => QueueEvent::RingNoAnswer { ring_ms: num(0) },
        "ADDMEMBER" => QueueEvent::AddMember,
        "REMOVEMEMBER" => QueueEvent::RemoveMember,
        "PAUSE" | "PAUSEALL" => QueueEvent::Pause { reason: text(0) },
        "UNPAUSE" | "UNPAUSEALL" => QueueEvent::Unpause { reason: text(0) },
        "PENALTY" => QueueEvent::Penalty { penalty: data.first().and_then(|v| v.trim().parse().ok()).unwrap_or(0) },
        other => QueueEvent::Other { name: other.to_string(), data: data.iter().map(|s| s.to_string()).collect() },
    };
    Ok(QueueLogLine {
        time,
        call_id: call_id.to_string(),
        queue: queue.to_string(),
        agent: agent.to_string(),
        event,
    })
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn fixture() -> String {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/fixtures/asterisk/queue_log");
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
    }

    #[test]
    fn the_real_queue_log_parses_and_gives_the_known_totals() {
        let lines: Vec<QueueLogLine> = fixture().lines().map(|l| parse_line(l).expect(l)).collect();
        assert_eq!(lines.len(), 43);
        assert!(lines.iter().all(|l| !matches!(l.event, QueueEvent::Other { .. })), "every event is known");
        // (entered, connected, abandoned) per queue
        let mut totals: BTreeMap<&str, (u32, u32, u32)> = BTreeMap::new();
        for line in &lines {
            let entry = totals.entry(line.queue.as_str()).or_default();
            match line.event {
                QueueEvent::EnterQueue { .. } => entry.0 += 1,
                QueueEvent::Connect { .. } => entry.1 += 1,
                QueueEvent::Abandon { .. } => entry.2 += 1,
                _ => {}
            }
        }
        assert_eq!(totals["support"], (8, 6, 2));
        assert_eq!(totals["sales"], (4, 4, 0));
        let talk: u64 = lines
            .iter()
            .filter_map(|l| match l.event { QueueEvent::Complete { talk_secs, .. } => Some(talk_secs), _ => None })
            .sum();
        assert_eq!(talk, 4 + 3 + 4 + 3 + 10 + 19 + 10 + 13 + 14 + 17);
    }

    #[test]
    fn fields_land_where_asterisk_writes_them() {
        let enter = parse_line("1795327404|1795327404.15|support|NONE|ENTERQUEUE||0666126116|2").unwrap();
        assert_eq!(enter.event, QueueEvent::EnterQueue { caller_id: "0666126116".into(), position: 2 });
        let abandon = parse_line("1795327419|1795327413.35|support|NONE|ABANDON|2|4|5").unwrap();
        assert_eq!(abandon.event, QueueEvent::Abandon { position: 2, original_position: 4, wait_secs: 5 });
        let key = parse_line("1|c|q|NONE|EXITWITHKEY|5|1|2|37").unwrap();
        assert_eq!(key.event, QueueEvent::Exit { how: Exit::Key, position: 1, original_position: 2, wait_secs: 37 });
        let transfer = parse_line("1|c|q|Ann|BLINDTRANSFER|2000|default|12|40|1").unwrap();
        assert_eq!(transfer.event, QueueEvent::Complete { by: Ender::Transfer, hold_secs: 12, talk_secs: 40 });
        let pause = parse_line("1795327396|NONE|support|Bruno Petit|PAUSE|lunch").unwrap();
        assert_eq!(pause.event, QueueEvent::Pause { reason: "lunch".into() });
        let custom = parse_line("1|c|q|NONE|DISSUASION|closed-message\r\n").unwrap();
        assert_eq!(custom.event, QueueEvent::Other { name: "DISSUASION".into(), data: vec!["closed-message".into()] });
    }

    #[test]
    fn broken_lines_are_refused_not_guessed() {
        assert_eq!(parse_line("1795327396|NONE|support"), Err(QueueLogError::TooFewFields));
        assert_eq!(parse_line(""), Err(QueueLogError::TooFewFields));
        assert!(matches!(parse_line("yesterday|x|q|a|ENTERQUEUE"), Err(QueueLogError::BadTime(_))));
    }
}
