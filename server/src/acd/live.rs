//! The live ACD model: queues, members and waiting callers, kept current from AMI events.
//!
//! It starts from a `QueueStatus` list (QueueParams / QueueMember / QueueEntry) and follows the
//! Asterisk 13+ queue events. After a reconnect the bridge calls `reset` and replays a fresh
//! `QueueStatus`, so the model never depends on events missed while disconnected.

use std::collections::BTreeMap;

use app::acd::{CallerLive, DeviceStatus, MemberLive, QueueLive};

use crate::pbx::ami::Message;

#[derive(Debug, Default)]
pub struct AcdModel {
    queues: BTreeMap<String, QueueLive>,
}

impl AcdModel {
    pub fn new() -> Self {
        AcdModel::default()
    }

    pub fn reset(&mut self) {
        self.queues.clear();
    }

    pub fn queue(&self, name: &str) -> Option<&QueueLive> {
        self.queues.get(name)
    }

    pub fn queues(&self) -> impl Iterator<Item = &QueueLive> {
        self.queues.values()
    }

    /// Applies one event; events that do not concern queues are ignored. `now_ms` stamps
    /// state changes and caller arrival.
    pub fn apply(&mut self, event: &Message, now_ms: i64) {
        let Some(name) = event.event() else { return };
        let Some(queue_name) = event.get("Queue") else { return };
        let queue = self.queues.entry(queue_name.to_string()).or_insert_with(|| QueueLive {
            name: queue_name.to_string(),
            ..Default::default()
        });
        match name {
            "QueueParams" => {
                queue.strategy = event.get("Strategy").unwrap_or_default().to_string();
                queue.completed = number(event, "Completed");
                queue.abandoned = number(event, "Abandoned");
            }
            "QueueMember" | "QueueMemberAdded" | "QueueMemberStatus" | "QueueMemberPause"
            | "QueueMemberPenalty" | "QueueMemberRinginuse" => update_member(queue, event, now_ms),
            "QueueMemberRemoved" => {
                if let Some(interface) = interface(event) {
                    queue.members.retain(|m| m.interface != interface);
                }
            }
            "QueueEntry" | "QueueCallerJoin" => {
                let wait_ms = number(event, "Wait") as i64 * 1000;
                let caller = CallerLive {
                    uniqueid: event.get("Uniqueid").unwrap_or_default().to_string(),
                    channel: event.get("Channel").unwrap_or_default().to_string(),
                    caller_number: event.get("CallerIDNum").unwrap_or_default().to_string(),
                    caller_name: event.get("CallerIDName").unwrap_or_default().to_string(),
                    position: number(event, "Position") as u32,
                    joined_at_ms: now_ms - wait_ms,
                };
                queue.callers.retain(|c| c.uniqueid != caller.uniqueid);
                queue.callers.push(caller);
                queue.callers.sort_by_key(|c| c.position);
            }
            "QueueCallerLeave" => remove_caller(queue, event),
            "QueueCallerAbandon" => {
                queue.abandoned += 1;
                remove_caller(queue, event);
            }
            "AgentComplete" => {
                if let Some(member) = interface(event).and_then(|i| queue.members.iter_mut().find(|m| m.interface == i)) {
                    member.received_count += 1;
                    member.received_talk_secs += number(event, "TalkTime");
                }
                queue.completed += 1;
            }
            _ => {}
        }
    }
}

/// The member's interface: `Interface` in events, `Location` in the QueueStatus list.
fn interface(event: &Message) -> Option<&str> {
    event.get("Interface").or_else(|| event.get("Location"))
}

fn number(event: &Message, key: &str) -> u64 {
    event.get(key).and_then(|v| v.trim().parse().ok()).unwrap_or(0)
}

fn update_member(queue: &mut QueueLive, event: &Message, now_ms: i64) {
    let Some(interface) = interface(event) else { return };
    let index = match queue.members.iter().position(|m| m.interface == interface) {
        Some(index) => index,
        None => {
            queue.members.push(MemberLive {
                interface: interface.to_string(),
                state_since_ms: now_ms,
                ..Default::default()
            });
            queue.members.len() - 1
        }
    };
    let member = &mut queue.members[index];
    if let Some(name) = event.get("MemberName").or_else(|| event.get("Name")) {
        member.name = name.to_string();
    }
    if let Some(state_interface) = event.get("StateInterface") {
        member.state_interface = state_interface.to_string();
    }
    if let Some(penalty) = event.get("Penalty").and_then(|p| p.trim().parse().ok()) {
        member.penalty = penalty;
    }
    if let Some(taken) = event.get("CallsTaken").and_then(|p| p.trim().parse().ok()) {
        member.calls_taken = taken;
    }
    if let Some(in_call) = event.get("InCall") {
        member.in_call = in_call.trim() == "1";
    }
    let status = event.get("Status").map(DeviceStatus::from_ami).unwrap_or(member.status);
    let paused = event.get("Paused").map(|p| p.trim() == "1").unwrap_or(member.paused);
    if status != member.status || paused != member.paused {
        member.state_since_ms = now_ms;
    }
    member.status = status;
    member.paused = paused;
    member.paused_reason = if paused {
        event.get("PausedReason").or_else(|| event.get("Reason")).unwrap_or(&member.paused_reason).to_string()
    } else {
        String::new()
    };
}

fn remove_caller(queue: &mut QueueLive, event: &Message) {
    let Some(uniqueid) = event.get("Uniqueid") else { return };
    let Some(index) = queue.callers.iter().position(|c| c.uniqueid == uniqueid) else { return };
    let left = queue.callers.remove(index);
    // Asterisk moves everyone behind the leaver up one place.
    for caller in queue.callers.iter_mut().filter(|c| c.position > left.position) {
        caller.position -= 1;
    }
}

#[cfg(test)]
mod tests {
    use bytes::BytesMut;
    use tokio_util::codec::Decoder;

    use super::*;
    use crate::pbx::ami::{AmiCodec, Frame, capture};

    /// Replays what Asterisk sent in a capture through the codec and the model, with the
    /// capture's own clock.
    fn replay(name: &str) -> (AcdModel, Vec<(i64, Message)>) {
        let raw = capture::fixture(name);
        let text = String::from_utf8_lossy(&raw);
        let times: Vec<i64> = text
            .lines()
            .filter(|l| l.starts_with("<<< +"))
            .map(|l| (l[5..].trim().parse::<f64>().unwrap() * 1000.0) as i64)
            .collect();
        let mut model = AcdModel::new();
        let mut codec = AmiCodec::new();
        let mut buf = BytesMut::new();
        let mut seen = Vec::new();
        let t0 = 1_795_327_390_000;
        for (chunk, at) in capture::chunks(&raw).into_iter().filter(|c| c.from_asterisk).zip(times) {
            buf.extend_from_slice(&chunk.bytes);
            while let Some(frame) = codec.decode(&mut buf).unwrap() {
                if let Frame::Message(message) = frame {
                    model.apply(&message, t0 + at);
                    seen.push((t0 + at, message));
                }
            }
        }
        (model, seen)
    }

    fn member<'a>(model: &'a AcdModel, queue: &str, name: &str) -> &'a MemberLive {
        model
            .queue(queue)
            .and_then(|q| q.members.iter().find(|m| m.name == name))
            .unwrap_or_else(|| panic!("{name} not in {queue}"))
    }

    #[test]
    fn the_real_capture_ends_in_the_state_asterisk_reported() {
        let (model, _) = replay("ami-session.txt");
        let support = model.queue("support").unwrap();
        let names: Vec<&str> = support.members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(names.len(), 3, "{names:?}");
        for name in ["Alice Martin", "Bruno Petit", "Chloé Durand"] {
            assert!(names.contains(&name), "{name} missing from {names:?}");
        }
        assert_eq!(member(&model, "support", "Alice Martin").penalty, 3);
        let bruno = member(&model, "support", "Bruno Petit");
        assert_eq!((bruno.penalty, bruno.paused, bruno.paused_reason.as_str()), (1, false, ""));
        assert_eq!(member(&model, "support", "Chloé Durand").penalty, 0);
        let sales = model.queue("sales").unwrap();
        assert_eq!(sales.members.len(), 1);
        assert_eq!(member(&model, "sales", "Chloé Durand").penalty, 2);
        assert!(model.queues().all(|q| q.callers.is_empty()), "no caller waits at the end");
        let taken = |q, n| member(&model, q, n).calls_taken;
        assert_eq!(
            (taken("support", "Alice Martin"), taken("support", "Bruno Petit"), taken("support", "Chloé Durand")),
            (2, 1, 3)
        );
        assert_eq!(taken("sales", "Chloé Durand"), 0);
        assert_eq!(model.queue("strategyless"), None);
        assert_eq!(support.strategy, "rrmemory");
        assert_eq!(sales.strategy, "ringall");
    }

    #[test]
    fn waiting_callers_come_and_go_in_order_during_the_capture() {
        let (_, events) = replay("ami-session.txt");
        // Rebuild step by step and check the waiting list never goes wrong.
        let mut model = AcdModel::new();
        let mut most_waiting = 0;
        for (at, event) in &events {
            model.apply(event, *at);
            for queue in model.queues() {
                let positions: Vec<u32> = queue.callers.iter().map(|c| c.position).collect();
                let expected: Vec<u32> = (1..=positions.len() as u32).collect();
                assert_eq!(positions, expected, "positions in {} after {:?}", queue.name, event.event());
                most_waiting = most_waiting.max(queue.callers.len());
            }
        }
        assert!(most_waiting >= 2, "the capture has callers waiting together");
    }

    #[test]
    fn pause_reason_and_time_in_state_follow_events() {
        let mut model = AcdModel::new();
        let added = Message::new()
            .with("Event", "QueueMemberAdded")
            .with("Queue", "q")
            .with("MemberName", "Ann")
            .with("Interface", "PJSIP/1")
            .with("Status", "1")
            .with("Paused", "0");
        model.apply(&added, 1_000);
        let paused = Message::new()
            .with("Event", "QueueMemberPause")
            .with("Queue", "q")
            .with("Interface", "PJSIP/1")
            .with("Paused", "1")
            .with("PausedReason", "<b>lunch</b>");
        model.apply(&paused, 5_000);
        let ann = &model.queue("q").unwrap().members[0];
        assert!(ann.paused);
        assert_eq!(ann.paused_reason, "<b>lunch</b>", "kept as text; the page escapes it");
        assert_eq!(ann.state_since_ms, 5_000);
        // A repeated status without change keeps the time in state.
        model.apply(&paused, 9_000);
        assert_eq!(model.queue("q").unwrap().members[0].state_since_ms, 5_000);
        let complete = Message::new()
            .with("Event", "AgentComplete")
            .with("Queue", "q")
            .with("Interface", "PJSIP/1")
            .with("TalkTime", "42");
        model.apply(&complete, 10_000);
        model.apply(&complete, 11_000);
        let ann = &model.queue("q").unwrap().members[0];
        assert_eq!((ann.received_count, ann.received_talk_secs), (2, 84));
    }
}
