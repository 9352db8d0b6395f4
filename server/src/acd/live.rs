//! The live ACD model: queues, members and waiting callers, kept current from AMI events.
//!
//! It starts from a `QueueStatus` list (QueueParams / QueueMember / QueueEntry) and follows the
//! Asterisk 13+ queue events. After a reconnect the bridge calls `reset` and replays a fresh
//! `QueueStatus`, so the model never depends on events missed while disconnected.

use std::collections::{BTreeMap, HashMap, HashSet};

use app::acd::{CallerLive, DeviceStatus, MemberLive, QueueLive};

use crate::pbx::ami::Message;

const DAY_MS: i64 = 86_400_000;

#[derive(Debug, Default)]
pub struct AcdModel {
    queues: BTreeMap<String, QueueLive>,
    /// Live channels by `Uniqueid`, to find a member's call and count the calls it places.
    channels: HashMap<String, Channel>,
    /// Channels being recorded (MixMonitor started by Relais).
    recording: HashSet<String>,
    /// Today's counters. They survive a reconnect (the PBX does not replay them) and start
    /// again at midnight UTC.
    day: i64,
    received: HashMap<(String, String), Tally>,
    made: HashMap<String, Tally>,
}

#[derive(Debug)]
struct Channel {
    name: String,
    device: String,
    created_ms: i64,
    /// The first channel of its call (`Uniqueid == Linkedid`): a call this device placed.
    originating: bool,
}

#[derive(Debug, Default, Clone, Copy)]
struct Tally {
    count: u64,
    secs: u64,
}

impl AcdModel {
    pub fn new() -> Self {
        AcdModel::default()
    }

    /// Forgets the PBX's state (queues, channels, recordings) before a rebuild; today's
    /// counters stay.
    pub fn reset(&mut self) {
        self.queues.clear();
        self.channels.clear();
        self.recording.clear();
    }

    /// One queue as supervisors see it, with today's counters and the member's current call.
    pub fn queue(&self, name: &str) -> Option<QueueLive> {
        self.queues.get(name).map(|queue| self.present(queue, &self.current_calls()))
    }

    pub fn queues(&self) -> Vec<QueueLive> {
        let calls = self.current_calls();
        self.queues.values().map(|queue| self.present(queue, &calls)).collect()
    }

    pub fn set_recording(&mut self, channel: &str, on: bool) {
        if on {
            self.recording.insert(channel.to_string());
        } else {
            self.recording.remove(channel);
        }
    }

    /// Each device's current call: its newest channel (the agent leg `;2` of a Local pair
    /// wins a tie). One pass over the channels, however many members look it up.
    fn current_calls(&self) -> HashMap<&str, &Channel> {
        let mut calls: HashMap<&str, &Channel> = HashMap::new();
        for channel in self.channels.values() {
            let newer = |known: &&Channel| (channel.created_ms, channel.name.ends_with(";2")) > (known.created_ms, known.name.ends_with(";2"));
            if calls.get(channel.device.as_str()).is_none_or(newer) {
                calls.insert(&channel.device, channel);
            }
        }
        calls
    }

    fn present(&self, queue: &QueueLive, calls: &HashMap<&str, &Channel>) -> QueueLive {
        let mut queue = queue.clone();
        for member in &mut queue.members {
            let device = member_device(member);
            let received = self.received.get(&(queue.name.clone(), member.interface.clone())).copied().unwrap_or_default();
            let made = self.made.get(&device).copied().unwrap_or_default();
            member.received_count = received.count;
            member.received_talk_secs = received.secs;
            member.made_count = made.count;
            member.made_secs = made.secs;
            member.channel = calls.get(device.as_str()).map(|c| c.name.clone());
            member.recording = member.channel.as_ref().is_some_and(|c| self.recording.contains(c));
        }
        queue
    }

    /// Applies one event; events that concern neither queues nor channels are ignored.
    /// `now_ms` stamps state changes, caller arrival and call durations.
    pub fn apply(&mut self, event: &Message, now_ms: i64) {
        let Some(name) = event.event() else { return };
        let day = now_ms.div_euclid(DAY_MS);
        if day != self.day {
            self.day = day;
            self.received.clear();
            self.made.clear();
        }
        match name {
            "Newchannel" | "CoreShowChannel" => {
                let (Some(uniqueid), Some(channel)) = (event.get("Uniqueid"), event.get("Channel")) else { return };
                let age_ms = event.get("Duration").map(duration_secs).unwrap_or(0) * 1000;
                self.channels.entry(uniqueid.to_string()).or_insert_with(|| Channel {
                    name: channel.to_string(),
                    device: channel_device(channel),
                    created_ms: now_ms - age_ms,
                    originating: event.get("Linkedid").is_none_or(|l| l == uniqueid),
                });
                return;
            }
            "Hangup" => {
                let Some(uniqueid) = event.get("Uniqueid") else { return };
                if let Some(channel) = self.channels.remove(uniqueid) {
                    self.recording.remove(&channel.name);
                    if channel.originating {
                        let tally = self.made.entry(channel.device).or_default();
                        tally.count += 1;
                        tally.secs += ((now_ms - channel.created_ms).max(0) / 1000) as u64;
                    }
                }
                return;
            }
            _ => {}
        }
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
                if let Some(interface) = interface(event) {
                    let tally = self.received.entry((queue_name.to_string(), interface.to_string())).or_default();
                    tally.count += 1;
                    tally.secs += number(event, "TalkTime");
                }
                queue.completed += 1;
            }
            _ => {}
        }
    }
}

/// The device a member rings: its state interface, else its interface without `/n`.
fn member_device(member: &MemberLive) -> String {
    if member.state_interface.is_empty() {
        member.interface.strip_suffix("/n").unwrap_or(&member.interface).to_string()
    } else {
        member.state_interface.clone()
    }
}

/// The device of a channel: `Local/1001@agents-00000009;2` and `PJSIP/1001-0000000a` belong
/// to `Local/1001@agents` and `PJSIP/1001`.
fn channel_device(channel: &str) -> String {
    let base = match channel.rsplit_once(';') {
        Some((base, side)) if side.chars().all(|c| c.is_ascii_digit()) => base,
        _ => channel,
    };
    match base.rsplit_once('-') {
        Some((device, sequence)) if !sequence.is_empty() && sequence.chars().all(|c| c.is_ascii_hexdigit()) => {
            device.to_string()
        }
        _ => base.to_string(),
    }
}

/// `HH:MM:SS` (CoreShowChannel's `Duration`) in seconds.
fn duration_secs(text: &str) -> i64 {
    text.split(':').try_fold(0_i64, |total, part| part.trim().parse::<i64>().ok().map(|n| total * 60 + n)).unwrap_or(0)
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

    fn member(model: &AcdModel, queue: &str, name: &str) -> MemberLive {
        model
            .queue(queue)
            .and_then(|q| q.members.into_iter().find(|m| m.name == name))
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
        assert!(model.queues().iter().all(|q| q.callers.is_empty()), "no caller waits at the end");
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
        let mut saw_david_on_a_call = false;
        for (at, event) in &events {
            model.apply(event, *at);
            if event.event() == Some("CoreShowChannelsComplete") {
                // Asterisk listed David's agent leg: the dashboard can record it.
                let david = model.queue("sales").and_then(|q| q.members.into_iter().find(|m| m.name == "David Roux"));
                if let Some(channel) = david.and_then(|d| d.channel) {
                    assert!(channel.starts_with("Local/1004@agents-"), "{channel}");
                    saw_david_on_a_call = true;
                }
            }
            for queue in model.queues() {
                let positions: Vec<u32> = queue.callers.iter().map(|c| c.position).collect();
                let expected: Vec<u32> = (1..=positions.len() as u32).collect();
                assert_eq!(positions, expected, "positions in {} after {:?}", queue.name, event.event());
                most_waiting = most_waiting.max(queue.callers.len());
            }
        }
        assert!(most_waiting >= 2, "the capture has callers waiting together");
        assert!(saw_david_on_a_call);
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

    #[test]
    fn calls_placed_by_a_member_phone_are_counted_and_recordable() {
        let mut model = AcdModel::new();
        let t0 = 1_800_000_000_000;
        model.apply(
            &Message::new()
                .with("Event", "QueueMemberAdded")
                .with("Queue", "q")
                .with("Interface", "PJSIP/1001")
                .with("StateInterface", "PJSIP/1001")
                .with("Status", "1"),
            t0,
        );
        let placed = Message::new()
            .with("Event", "Newchannel")
            .with("Channel", "PJSIP/1001-0000000a")
            .with("Uniqueid", "1.10")
            .with("Linkedid", "1.10");
        // A queue call's agent leg belongs to the caller's call: not a call made.
        let answered = Message::new()
            .with("Event", "Newchannel")
            .with("Channel", "PJSIP/1001-0000000b")
            .with("Uniqueid", "1.12")
            .with("Linkedid", "1.11");
        model.apply(&placed, t0 + 1_000);
        let member = model.queue("q").unwrap().members.remove(0);
        assert_eq!(member.channel.as_deref(), Some("PJSIP/1001-0000000a"));
        model.set_recording("PJSIP/1001-0000000a", true);
        assert!(model.queue("q").unwrap().members[0].recording);
        model.apply(&Message::new().with("Event", "Hangup").with("Uniqueid", "1.10"), t0 + 31_000);
        model.apply(&answered, t0 + 40_000);
        model.apply(&Message::new().with("Event", "Hangup").with("Uniqueid", "1.12"), t0 + 50_000);
        let member = model.queue("q").unwrap().members.remove(0);
        assert_eq!((member.made_count, member.made_secs), (1, 30));
        assert_eq!((member.channel, member.recording), (None, false));
        // Counters survive a rebuild after reconnecting, and start again the next day.
        model.reset();
        model.apply(
            &Message::new().with("Event", "QueueMember").with("Queue", "q").with("Location", "PJSIP/1001").with("StateInterface", "PJSIP/1001"),
            t0 + 60_000,
        );
        assert_eq!(model.queue("q").unwrap().members[0].made_count, 1);
        model.apply(&Message::new().with("Event", "QueueMember").with("Queue", "q").with("Location", "PJSIP/1001"), t0 + DAY_MS);
        assert_eq!(model.queue("q").unwrap().members[0].made_count, 0);
    }

    #[test]
    fn channel_devices() {
        assert_eq!(channel_device("Local/1001@agents-00000009;2"), "Local/1001@agents");
        assert_eq!(channel_device("PJSIP/1001-0000000a"), "PJSIP/1001");
        assert_eq!(channel_device("PJSIP/trunk-provider-000001f3"), "PJSIP/trunk-provider");
        assert_eq!(duration_secs("01:02:03"), 3723);
    }
}
