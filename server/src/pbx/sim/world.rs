//! The simulated PBX's state. Every change goes through a method that updates the state,
//! broadcasts the AMI events Asterisk would send and appends the queue_log / CDR lines it
//! would write, so the three always agree.

use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::Write;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;
use tokio::sync::broadcast;

use super::SimConfig;
use crate::pbx::ami::Message;

#[derive(Clone, Debug)]
pub struct Member {
    pub interface: String,
    pub name: String,
    pub state_interface: String,
    pub penalty: u32,
    pub paused: bool,
    pub paused_reason: String,
    pub calls_taken: u64,
    pub last_call: i64,
    pub last_pause: i64,
    pub login_time: i64,
    pub in_call: bool,
    /// AST_DEVICE_* code: 1 not in use, 2 in use, 6 ringing.
    pub status: u8,
}

#[derive(Clone, Debug)]
pub struct Caller {
    pub channel: Channel,
    pub position: u32,
    pub original_position: u32,
    pub joined_at: f64,
}

#[derive(Clone, Debug)]
pub struct Channel {
    pub name: String,
    pub uniqueid: String,
    pub linkedid: String,
    pub caller_num: String,
    pub caller_name: String,
    pub context: String,
    pub exten: String,
    pub application: String,
    pub data: String,
    pub created_at: f64,
}

#[derive(Clone, Debug, Default)]
pub struct Queue {
    pub strategy: String,
    pub members: Vec<Member>,
    pub callers: Vec<Caller>,
    pub completed: u64,
    pub abandoned: u64,
    pub hold_total: u64,
    pub talk_total: u64,
}

/// What a member's current call looks like for the CDR when it ends.
#[derive(Clone, Debug)]
pub struct Talk {
    pub queue: String,
    pub caller: Caller,
    pub agent_channel: Channel,
    pub hold_secs: u64,
    pub answered_at: f64,
}

pub struct World {
    pub queues: BTreeMap<String, Queue>,
    pub channels: BTreeMap<String, Channel>,
    events: broadcast::Sender<Arc<Message>>,
    queue_log: Option<File>,
    cdr: Option<File>,
    time_zone: jiff::tz::TimeZone,
    channel_seq: u64,
    unique_seq: u64,
    /// Events broadcast so far (benchmarks and tests read it).
    pub events_sent: u64,
}

/// Seconds since the epoch, with the sub-second part (Asterisk's clock).
pub fn now() -> f64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_secs_f64()).unwrap_or(0.0)
}

impl World {
    pub fn new(config: &SimConfig, events: broadcast::Sender<Arc<Message>>) -> anyhow::Result<World> {
        let open = |path: &Option<std::path::PathBuf>| -> anyhow::Result<Option<File>> {
            path.as_ref()
                .map(|p| {
                    if let Some(dir) = p.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
                    }
                    OpenOptions::new().create(true).append(true).open(p).with_context(|| format!("cannot open {}", p.display()))
                })
                .transpose()
        };
        let mut world = World {
            queues: BTreeMap::new(),
            channels: BTreeMap::new(),
            events,
            queue_log: open(&config.queue_log)?,
            cdr: open(&config.cdr_csv)?,
            time_zone: config.time_zone.clone(),
            channel_seq: 0,
            unique_seq: 0,
            events_sent: 0,
        };
        for queue in &config.queues {
            world.queues.insert(queue.name.clone(), Queue { strategy: queue.strategy.clone(), ..Default::default() });
            for agent in &queue.members {
                world.add_member(&queue.name, &agent.interface, &agent.name, "", 0, false, None).map_err(anyhow::Error::msg)?;
            }
        }
        Ok(world)
    }

    pub fn emit(&mut self, event: Message) {
        self.events_sent += 1;
        let _ = self.events.send(Arc::new(event));
    }

    fn log(&mut self, call_id: &str, queue: &str, agent: &str, event: &str, data: &[&str]) {
        let Some(file) = self.queue_log.as_mut() else { return };
        let line = format!("{}|{call_id}|{queue}|{agent}|{event}|{}\n", now() as i64, data.join("|"));
        if let Err(error) = file.write_all(line.as_bytes()) {
            tracing::warn!(%error, "simulator cannot write the queue_log");
        }
    }

    pub fn new_channel(&mut self, device: &str, local: bool, caller_num: &str, caller_name: &str, context: &str, exten: &str, linkedid: Option<&str>) -> Channel {
        let sequence = self.channel_seq;
        self.channel_seq += 1;
        let uniqueid = format!("{}.{}", now() as i64, self.unique_seq);
        self.unique_seq += 1;
        let name = if local { format!("{device}-{sequence:08x};2") } else { format!("{device}-{sequence:08x}") };
        let channel = Channel {
            name,
            linkedid: linkedid.unwrap_or(&uniqueid).to_string(),
            uniqueid,
            caller_num: caller_num.to_string(),
            caller_name: caller_name.to_string(),
            context: context.to_string(),
            exten: exten.to_string(),
            application: String::new(),
            data: String::new(),
            created_at: now(),
        };
        let mut event = Message::new().with("Event", "Newchannel").with("Privilege", "call,all");
        channel_fields(&mut event, "", &channel, 0);
        self.emit(event);
        self.channels.insert(channel.uniqueid.clone(), channel.clone());
        channel
    }

    pub fn hangup(&mut self, uniqueid: &str) {
        let Some(channel) = self.channels.remove(uniqueid) else { return };
        let mut event = Message::new().with("Event", "Hangup").with("Privilege", "call,all");
        channel_fields(&mut event, "", &channel, 6);
        event.push("Cause", "16");
        event.push("Cause-txt", "Normal Clearing");
        self.emit(event);
    }

    pub fn find_member(&self, queue: &str, interface: &str) -> Option<&Member> {
        self.queues.get(queue)?.members.iter().find(|m| m.interface == interface)
    }

    fn member_mut(&mut self, queue: &str, interface: &str) -> Option<&mut Member> {
        self.queues.get_mut(queue)?.members.iter_mut().find(|m| m.interface == interface)
    }

    /// Emits a member event of the given name with the member's full state.
    fn member_event(&mut self, name: &str, queue: &str, interface: &str) {
        let Some(member) = self.find_member(queue, interface).cloned() else { return };
        let mut event = Message::new().with("Event", name).with("Privilege", "agent,all").with("Queue", queue);
        member_fields(&mut event, &member);
        self.emit(event);
    }

    /// The queues `interface` is a member of: the one named, or all of them (Asterisk's rule
    /// for QueuePause and QueuePenalty without `Queue`).
    fn queues_of(&self, queue: Option<&str>, interface: &str) -> Vec<String> {
        self.queues
            .iter()
            .filter(|(name, q)| queue.is_none_or(|wanted| wanted == name.as_str()) && q.members.iter().any(|m| m.interface == interface))
            .map(|(name, _)| name.clone())
            .collect()
    }

    /// QueueCallerLeave for a caller already taken out of the waiting list.
    fn caller_left(&mut self, queue: &str, caller: &Caller) {
        let count = self.queues.get(queue).map_or(0, |q| q.callers.len());
        let mut leave = Message::new().with("Event", "QueueCallerLeave").with("Privilege", "agent,all");
        channel_fields(&mut leave, "", &caller.channel, 6);
        leave.push("Queue", queue);
        leave.push("Position", caller.position.to_string());
        leave.push("Count", count.to_string());
        self.emit(leave);
    }

    /// QueueAdd: `Err` carries Asterisk's message.
    #[allow(clippy::too_many_arguments)]
    pub fn add_member(
        &mut self,
        queue: &str,
        interface: &str,
        name: &str,
        state_interface: &str,
        penalty: u32,
        paused: bool,
        reason: Option<&str>,
    ) -> Result<(), String> {
        let Some(q) = self.queues.get_mut(queue) else { return Err("Unable to add interface to queue: No such queue".into()) };
        if q.members.iter().any(|m| m.interface == interface) {
            return Err("Unable to add interface: Already there".into());
        }
        let login = now() as i64;
        let state_interface = if state_interface.is_empty() { interface.strip_suffix("/n").unwrap_or(interface) } else { state_interface };
        // A device already busy in another queue shows as in use here too.
        let status = self
            .queues
            .values()
            .flat_map(|q| &q.members)
            .find(|m| m.state_interface == state_interface)
            .map(|m| m.status)
            .unwrap_or(1);
        let member = Member {
            interface: interface.to_string(),
            name: if name.is_empty() { interface.to_string() } else { name.to_string() },
            state_interface: state_interface.to_string(),
            penalty,
            paused,
            paused_reason: if paused { reason.unwrap_or_default().to_string() } else { String::new() },
            calls_taken: 0,
            last_call: 0,
            last_pause: 0,
            login_time: login,
            in_call: false,
            status,
        };
        let member_name = member.name.clone();
        self.queues.get_mut(queue).expect("queue exists").members.push(member);
        self.member_event("QueueMemberAdded", queue, interface);
        self.log("MANAGER", queue, &member_name, "ADDMEMBER", &[""]);
        Ok(())
    }

    pub fn remove_member(&mut self, queue: &str, interface: &str) -> Result<(), String> {
        let Some(q) = self.queues.get_mut(queue) else { return Err("Unable to remove interface from queue: No such queue".into()) };
        let Some(index) = q.members.iter().position(|m| m.interface == interface) else {
            return Err("Unable to remove interface: Not there".into());
        };
        let member = q.members.remove(index);
        let mut event = Message::new().with("Event", "QueueMemberRemoved").with("Privilege", "agent,all").with("Queue", queue);
        member_fields(&mut event, &member);
        self.emit(event);
        self.log("MANAGER", queue, &member.name, "REMOVEMEMBER", &[""]);
        Ok(())
    }

    /// QueuePause; without a queue, the interface is (un)paused in every queue it is in.
    pub fn pause(&mut self, queue: Option<&str>, interface: &str, paused: bool, reason: &str) -> Result<(), String> {
        let queues = self.queues_of(queue, interface);
        if queues.is_empty() {
            return Err("Interface not found".into());
        }
        for queue in queues {
            let at = now() as i64;
            let member = self.member_mut(&queue, interface).expect("member exists");
            member.paused = paused;
            member.paused_reason = if paused { reason.to_string() } else { String::new() };
            if paused {
                member.last_pause = at;
            }
            let name = member.name.clone();
            self.member_event("QueueMemberPause", &queue, interface);
            if paused {
                self.log("NONE", &queue, &name, "PAUSE", &[reason]);
            } else {
                self.log("NONE", &queue, &name, "UNPAUSE", &[""]);
            }
        }
        Ok(())
    }

    pub fn set_penalty(&mut self, queue: Option<&str>, interface: &str, penalty: u32) -> Result<(), String> {
        let queues = self.queues_of(queue, interface);
        if queues.is_empty() {
            return Err("Invalid interface, queuename or penalty".into());
        }
        for queue in queues {
            self.member_mut(&queue, interface).expect("member exists").penalty = penalty;
            self.member_event("QueueMemberPenalty", &queue, interface);
            self.log("NONE", &queue, interface, "PENALTY", &[&penalty.to_string()]);
        }
        Ok(())
    }

    /// Sets a device's state in every queue it is a member of (Asterisk follows the device).
    pub fn set_device(&mut self, state_interface: &str, status: u8, in_call: bool) {
        let targets: Vec<(String, String)> = self
            .queues
            .iter()
            .flat_map(|(q, queue)| {
                queue.members.iter().filter(|m| m.state_interface == state_interface).map(|m| (q.clone(), m.interface.clone()))
            })
            .collect();
        for (queue, interface) in targets {
            let member = self.member_mut(&queue, &interface).expect("member exists");
            if member.status == status && member.in_call == in_call {
                continue;
            }
            member.status = status;
            member.in_call = in_call;
            self.member_event("QueueMemberStatus", &queue, &interface);
        }
    }

    /// A caller enters a queue (its channel is created here).
    pub fn caller_joins(&mut self, queue: &str, number: &str, name: &str) -> Option<String> {
        if !self.queues.contains_key(queue) {
            return None;
        }
        let mut channel = self.new_channel(&format!("Local/{queue}@incoming"), true, number, name, "incoming", queue, None);
        channel.application = "Queue".into();
        channel.data = format!("{queue},r,,,90");
        self.channels.insert(channel.uniqueid.clone(), channel.clone());
        let q = self.queues.get_mut(queue).expect("queue exists");
        let position = q.callers.len() as u32 + 1;
        q.callers.push(Caller { channel: channel.clone(), position, original_position: position, joined_at: now() });
        let mut event = Message::new().with("Event", "QueueCallerJoin").with("Privilege", "agent,all");
        channel_fields(&mut event, "", &channel, 6);
        event.push("Queue", queue);
        event.push("Position", position.to_string());
        event.push("Count", position.to_string());
        self.emit(event);
        self.log(&channel.uniqueid, queue, "NONE", "ENTERQUEUE", &["", number, &position.to_string()]);
        Some(channel.uniqueid)
    }

    /// Takes a caller out of the queue's waiting list, moving those behind up one place.
    fn take_caller(&mut self, queue: &str, uniqueid: &str) -> Option<Caller> {
        let q = self.queues.get_mut(queue)?;
        let index = q.callers.iter().position(|c| c.channel.uniqueid == uniqueid)?;
        let caller = q.callers.remove(index);
        for behind in q.callers.iter_mut().filter(|c| c.position > caller.position) {
            behind.position -= 1;
        }
        Some(caller)
    }

    pub fn agent_called(&mut self, queue: &str, uniqueid: &str, interface: &str) -> Option<Channel> {
        let caller = self.queues.get(queue)?.callers.iter().find(|c| c.channel.uniqueid == uniqueid)?.clone();
        let member = self.find_member(queue, interface)?.clone();
        let local = member.state_interface.starts_with("Local/");
        let agent_channel = self.new_channel(
            &member.state_interface,
            local,
            &caller.channel.caller_num,
            &caller.channel.caller_name,
            "agents",
            queue,
            Some(&caller.channel.linkedid),
        );
        self.set_device(&member.state_interface, 6, false);
        let mut event = Message::new().with("Event", "AgentCalled").with("Privilege", "agent,all");
        agent_fields(&mut event, queue, &caller.channel, &agent_channel, &member);
        self.emit(event);
        Some(agent_channel)
    }

    pub fn ring_no_answer(&mut self, queue: &str, uniqueid: &str, interface: &str, agent_channel: &Channel, ring_ms: u64) {
        let Some(caller) = self.queues.get(queue).and_then(|q| q.callers.iter().find(|c| c.channel.uniqueid == uniqueid)).cloned() else {
            self.hangup(&agent_channel.uniqueid);
            return;
        };
        let Some(member) = self.find_member(queue, interface).cloned() else { return };
        let mut event = Message::new().with("Event", "AgentRingNoAnswer").with("Privilege", "agent,all");
        agent_fields(&mut event, queue, &caller.channel, agent_channel, &member);
        event.push("RingTime", (ring_ms / 1000).to_string());
        self.emit(event);
        self.hangup(&agent_channel.uniqueid);
        self.set_device(&member.state_interface, 1, false);
        self.log(uniqueid, queue, &member.name, "RINGNOANSWER", &[&ring_ms.to_string()]);
    }

    /// The agent answers: the caller leaves the waiting list and the two are bridged.
    pub fn agent_connects(&mut self, queue: &str, uniqueid: &str, interface: &str, agent_channel: &Channel, ring_secs: u64) -> Option<Talk> {
        let caller = self.take_caller(queue, uniqueid)?;
        let member = self.find_member(queue, interface)?.clone();
        let hold = (now() - caller.joined_at).max(0.0) as u64;
        self.caller_left(queue, &caller);
        self.set_device(&member.state_interface, 2, true);
        let mut event = Message::new().with("Event", "AgentConnect").with("Privilege", "agent,all");
        agent_fields(&mut event, queue, &caller.channel, agent_channel, &member);
        event.push("HoldTime", hold.to_string());
        event.push("RingTime", ring_secs.to_string());
        self.emit(event);
        self.log(uniqueid, queue, &member.name, "CONNECT", &[&hold.to_string(), &agent_channel.uniqueid, &ring_secs.to_string()]);
        Some(Talk { queue: queue.to_string(), caller, agent_channel: agent_channel.clone(), hold_secs: hold, answered_at: now() })
    }

    /// The call ends; `by_caller` tells who hung up.
    pub fn complete(&mut self, talk: &Talk, interface: &str, by_caller: bool) {
        let talk_secs = (now() - talk.answered_at).max(0.0) as u64;
        let queue = talk.queue.as_str();
        let member = self.find_member(queue, interface).cloned();
        if let Some(q) = self.queues.get_mut(queue) {
            q.completed += 1;
            q.hold_total += talk.hold_secs;
            q.talk_total += talk_secs;
        }
        let agent_name = member.as_ref().map(|m| m.name.clone()).unwrap_or_else(|| interface.to_string());
        if let Some(member) = &member {
            let mut event = Message::new().with("Event", "AgentComplete").with("Privilege", "agent,all");
            agent_fields(&mut event, queue, &talk.caller.channel, &talk.agent_channel, member);
            event.push("HoldTime", talk.hold_secs.to_string());
            event.push("TalkTime", talk_secs.to_string());
            event.push("Reason", if by_caller { "caller" } else { "agent" });
            self.emit(event);
        }
        self.log(
            &talk.caller.channel.uniqueid,
            queue,
            &agent_name,
            if by_caller { "COMPLETECALLER" } else { "COMPLETEAGENT" },
            &[&talk.hold_secs.to_string(), &talk_secs.to_string(), &talk.caller.original_position.to_string()],
        );
        self.hangup(&talk.agent_channel.uniqueid);
        self.hangup(&talk.caller.channel.uniqueid);
        if let Some(member) = member {
            if let Some(m) = self.member_mut(queue, interface) {
                m.calls_taken += 1;
                m.last_call = now() as i64;
            }
            self.set_device(&member.state_interface, 1, false);
        }
        let start = talk.caller.joined_at;
        let end = now();
        let clid = format!("\"{}\" <{}>", talk.caller.channel.caller_name, talk.caller.channel.caller_num);
        self.cdr_line(&[
            "",
            &talk.caller.channel.caller_num,
            queue,
            "incoming",
            &clid,
            &talk.caller.channel.name,
            &talk.agent_channel.name,
            "Queue",
            &format!("{queue},r,,,90"),
        ], start, Some(start), end, "ANSWERED", &talk.caller.channel.uniqueid, "inbound");
    }

    /// The caller hangs up while waiting.
    pub fn abandon(&mut self, queue: &str, uniqueid: &str) {
        let Some(caller) = self.take_caller(queue, uniqueid) else { return };
        let wait = (now() - caller.joined_at).max(0.0) as u64;
        if let Some(q) = self.queues.get_mut(queue) {
            q.abandoned += 1;
        }
        let mut event = Message::new().with("Event", "QueueCallerAbandon").with("Privilege", "agent,all");
        channel_fields(&mut event, "", &caller.channel, 6);
        event.push("Queue", queue);
        event.push("Position", caller.position.to_string());
        event.push("OriginalPosition", caller.original_position.to_string());
        event.push("HoldTime", wait.to_string());
        self.emit(event);
        self.log(uniqueid, queue, "NONE", "ABANDON", &[&caller.position.to_string(), &caller.original_position.to_string(), &wait.to_string()]);
        self.hangup(uniqueid);
        self.caller_cdr(queue, &caller, "abandoned");
    }

    /// The caller waited too long and leaves the queue (to voicemail, in a real dialplan).
    pub fn timeout(&mut self, queue: &str, uniqueid: &str) {
        let Some(caller) = self.take_caller(queue, uniqueid) else { return };
        let wait = (now() - caller.joined_at).max(0.0) as u64;
        self.caller_left(queue, &caller);
        self.log(uniqueid, queue, "NONE", "EXITWITHTIMEOUT", &[&caller.position.to_string(), &caller.original_position.to_string(), &wait.to_string()]);
        self.hangup(uniqueid);
        self.caller_cdr(queue, &caller, "timeout");
    }

    fn caller_cdr(&mut self, queue: &str, caller: &Caller, userfield: &str) {
        let clid = format!("\"{}\" <{}>", caller.channel.caller_name, caller.channel.caller_num);
        self.cdr_line(
            &["", &caller.channel.caller_num, queue, "incoming", &clid, &caller.channel.name, "", "Queue", &format!("{queue},r,,,90")],
            caller.joined_at,
            Some(caller.joined_at),
            now(),
            "ANSWERED",
            &caller.channel.uniqueid,
            userfield,
        );
    }

    /// A call the agent's phone places (not a queue call): a channel of its own call.
    pub fn place_call(&mut self, state_interface: &str, agent_name: &str, number: &str) -> Channel {
        let extension = state_interface.rsplit('/').next().unwrap_or(state_interface).split('@').next().unwrap_or_default().to_string();
        let local = state_interface.starts_with("Local/");
        let mut channel = self.new_channel(state_interface, local, &extension, agent_name, "from-internal", number, None);
        channel.application = "Dial".into();
        channel.data = format!("PJSIP/{number}@trunk,60");
        self.channels.insert(channel.uniqueid.clone(), channel.clone());
        self.set_device(state_interface, 2, false);
        channel
    }

    pub fn end_placed_call(&mut self, state_interface: &str, channel: &Channel, answered_after: f64) {
        self.hangup(&channel.uniqueid);
        self.set_device(state_interface, 1, false);
        let clid = format!("\"{}\" <{}>", channel.caller_name, channel.caller_num);
        let trunk = format!("PJSIP/trunk-{:08x}", self.channel_seq);
        self.channel_seq += 1;
        self.cdr_line(
            &["", &channel.caller_num, &channel.exten, "from-internal", &clid, &channel.name, &trunk, "Dial", &channel.data],
            channel.created_at,
            Some(channel.created_at + answered_after),
            now(),
            "ANSWERED",
            &channel.uniqueid,
            "outbound",
        );
    }

    /// Appends one Master.csv line: quoted text, bare numbers, local times (cdr_csv's format).
    #[allow(clippy::too_many_arguments)]
    fn cdr_line(&mut self, text: &[&str; 9], start: f64, answer: Option<f64>, end: f64, disposition: &str, uniqueid: &str, userfield: &str) {
        let zone = self.time_zone.clone();
        let Some(file) = self.cdr.as_mut() else { return };
        let local = |secs: f64| -> String {
            jiff::Timestamp::from_second(secs as i64)
                .map(|t| t.to_zoned(zone.clone()).strftime("%Y-%m-%d %H:%M:%S").to_string())
                .unwrap_or_default()
        };
        let quote = |s: &str| format!("\"{}\"", s.replace('"', "\"\""));
        let mut fields: Vec<String> = text.iter().map(|s| quote(s)).collect();
        fields.push(quote(&local(start)));
        fields.push(quote(&answer.map(local).unwrap_or_default()));
        fields.push(quote(&local(end)));
        let duration = (end - start).max(0.0) as i64;
        let billsec = answer.map(|a| (end - a).max(0.0) as i64).unwrap_or(0);
        fields.push(duration.to_string());
        fields.push(billsec.to_string());
        fields.push(quote(disposition));
        fields.push(quote("DOCUMENTATION"));
        fields.push(quote(uniqueid));
        fields.push(quote(userfield));
        let line = fields.join(",") + "\n";
        if let Err(error) = file.write_all(line.as_bytes()) {
            tracing::warn!(%error, "simulator cannot write Master.csv");
        }
    }

    /// The QueueStatus list: QueueParams, QueueMember and QueueEntry events.
    pub fn queue_status(&self, only: Option<&str>, action_id: &str) -> Vec<Message> {
        let mut list = Vec::new();
        let at = now();
        for (name, queue) in self.queues.iter().filter(|(name, _)| only.is_none_or(|o| o == name.as_str())) {
            let served = queue.completed.max(1);
            list.push(
                Message::new()
                    .with("Event", "QueueParams")
                    .with("Queue", name.clone())
                    .with("Max", "0")
                    .with("Strategy", queue.strategy.clone())
                    .with("Calls", queue.callers.len().to_string())
                    .with("Holdtime", (queue.hold_total / served).to_string())
                    .with("TalkTime", (queue.talk_total / served).to_string())
                    .with("Completed", queue.completed.to_string())
                    .with("Abandoned", queue.abandoned.to_string())
                    .with("ServiceLevel", "30")
                    .with("ServicelevelPerf", "0.0")
                    .with("ServicelevelPerf2", "0.0")
                    .with("Weight", "0")
                    .with("ActionID", action_id),
            );
            for member in &queue.members {
                list.push(
                    Message::new()
                        .with("Event", "QueueMember")
                        .with("Queue", name.clone())
                        .with("Name", member.name.clone())
                        .with("Location", member.interface.clone())
                        .with("StateInterface", member.state_interface.clone())
                        .with("Membership", "dynamic")
                        .with("Penalty", member.penalty.to_string())
                        .with("CallsTaken", member.calls_taken.to_string())
                        .with("LastCall", member.last_call.to_string())
                        .with("LastPause", member.last_pause.to_string())
                        .with("LoginTime", member.login_time.to_string())
                        .with("InCall", if member.in_call { "1" } else { "0" })
                        .with("Status", member.status.to_string())
                        .with("Paused", if member.paused { "1" } else { "0" })
                        .with("PausedReason", member.paused_reason.clone())
                        .with("Wrapuptime", "0")
                        .with("ActionID", action_id),
                );
            }
            for caller in &queue.callers {
                list.push(
                    Message::new()
                        .with("Event", "QueueEntry")
                        .with("Queue", name.clone())
                        .with("Position", caller.position.to_string())
                        .with("Channel", caller.channel.name.clone())
                        .with("Uniqueid", caller.channel.uniqueid.clone())
                        .with("CallerIDNum", caller.channel.caller_num.clone())
                        .with("CallerIDName", caller.channel.caller_name.clone())
                        .with("ConnectedLineNum", "<unknown>")
                        .with("ConnectedLineName", "<unknown>")
                        .with("Wait", ((at - caller.joined_at).max(0.0) as u64).to_string())
                        .with("Priority", "0")
                        .with("ActionID", action_id),
                );
            }
        }
        list
    }

    /// The CoreShowChannels list.
    pub fn core_show_channels(&self, action_id: &str) -> Vec<Message> {
        let at = now();
        self.channels
            .values()
            .map(|channel| {
                let mut event = Message::new().with("Event", "CoreShowChannel").with("ActionID", action_id);
                channel_fields(&mut event, "", channel, 6);
                let secs = (at - channel.created_at).max(0.0) as u64;
                event.push("Application", channel.application.clone());
                event.push("ApplicationData", channel.data.clone());
                event.push("Duration", format!("{:02}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60));
                event.push("BridgeId", "");
                event
            })
            .collect()
    }

    /// The newest channel of a device, as ChanSpy and MixMonitor would find it.
    pub fn channel_of_device(&self, device: &str) -> Option<Channel> {
        self.channels
            .values()
            .filter(|c| c.name.starts_with(&format!("{device}-")))
            .max_by(|a, b| a.created_at.total_cmp(&b.created_at))
            .cloned()
    }

    pub fn channel_by_name(&self, name: &str) -> Option<Channel> {
        self.channels.values().find(|c| c.name == name).cloned()
    }
}

/// The channel block of an event, with an optional key prefix (`Dest`, `Spyer`…).
pub fn channel_fields(event: &mut Message, prefix: &str, channel: &Channel, state: u8) {
    let desc = if state == 6 { "Up" } else { "Down" };
    let num = if channel.caller_num.is_empty() { "<unknown>" } else { &channel.caller_num };
    let name = if channel.caller_name.is_empty() { "<unknown>" } else { &channel.caller_name };
    event.push(&format!("{prefix}Channel"), channel.name.clone());
    event.push(&format!("{prefix}ChannelState"), state.to_string());
    event.push(&format!("{prefix}ChannelStateDesc"), desc);
    event.push(&format!("{prefix}CallerIDNum"), num);
    event.push(&format!("{prefix}CallerIDName"), name);
    event.push(&format!("{prefix}ConnectedLineNum"), num);
    event.push(&format!("{prefix}ConnectedLineName"), name);
    event.push(&format!("{prefix}Language"), "en");
    event.push(&format!("{prefix}AccountCode"), "");
    event.push(&format!("{prefix}Context"), channel.context.clone());
    event.push(&format!("{prefix}Exten"), channel.exten.clone());
    event.push(&format!("{prefix}Priority"), "1");
    event.push(&format!("{prefix}Uniqueid"), channel.uniqueid.clone());
    event.push(&format!("{prefix}Linkedid"), channel.linkedid.clone());
}

fn agent_fields(event: &mut Message, queue: &str, caller: &Channel, agent: &Channel, member: &Member) {
    channel_fields(event, "", caller, 6);
    channel_fields(event, "Dest", agent, 6);
    event.push("Queue", queue);
    event.push("Interface", member.interface.clone());
    event.push("MemberName", member.name.clone());
}

fn member_fields(event: &mut Message, member: &Member) {
    event.push("MemberName", member.name.clone());
    event.push("Interface", member.interface.clone());
    event.push("StateInterface", member.state_interface.clone());
    event.push("Membership", "dynamic");
    event.push("Penalty", member.penalty.to_string());
    event.push("CallsTaken", member.calls_taken.to_string());
    event.push("LastCall", member.last_call.to_string());
    event.push("LastPause", member.last_pause.to_string());
    event.push("LoginTime", member.login_time.to_string());
    event.push("InCall", if member.in_call { "1" } else { "0" });
    event.push("Status", member.status.to_string());
    event.push("Paused", if member.paused { "1" } else { "0" });
    event.push("PausedReason", member.paused_reason.clone());
    event.push("Ringinuse", "0");
    event.push("Wrapuptime", "0");
}
