//! Automatic call distribution: queues as data, the live state of queues as supervisors see it
//! (built by the server's telephony bridge from AMI events), the live dashboard and its actions.

pub mod live;
pub mod queues;
pub mod stats;
#[cfg(feature = "ssr")]
pub mod bridge;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueLive {
    pub name: String,
    pub strategy: String,
    /// Members by interface, in the order Asterisk reported them.
    pub members: Vec<MemberLive>,
    /// Waiting callers, by position.
    pub callers: Vec<CallerLive>,
    pub completed: u64,
    pub abandoned: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MemberLive {
    /// The queue interface, e.g. `PJSIP/1001` or `Local/1001@agents/n`: the member's key.
    pub interface: String,
    pub name: String,
    pub state_interface: String,
    pub penalty: i64,
    pub paused: bool,
    pub paused_reason: String,
    pub status: DeviceStatus,
    pub in_call: bool,
    /// Asterisk's own count of calls answered from this queue since the member joined.
    pub calls_taken: u64,
    /// When the status or pause state last changed (Unix ms), for "time in state".
    pub state_since_ms: i64,
    /// Queue calls this member completed today, and their total talk time.
    pub received_count: u64,
    pub received_talk_secs: u64,
    /// Calls the member's phone placed today (not queue calls), and their total duration.
    pub made_count: u64,
    pub made_secs: u64,
    /// The member's current channel, when on a call: what recording applies to.
    pub channel: Option<String>,
    pub recording: bool,
}

/// One PBX connection as supervisors see it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PbxLive {
    pub name: String,
    pub state: PbxState,
    pub queues: Vec<QueueLive>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PbxState {
    Connecting,
    Connected,
    /// Lost; retrying. After a few failed attempts in a row it is shown as unreachable.
    Reconnecting { attempt: u32 },
    Unreachable { attempt: u32 },
}

impl PbxState {
    pub fn from_attempts(attempt: u32) -> PbxState {
        if attempt >= 3 { PbxState::Unreachable { attempt } } else { PbxState::Reconnecting { attempt } }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct CallerLive {
    pub uniqueid: String,
    pub channel: String,
    /// Caller number and name as the network gave them: plain text, never markup.
    pub caller_number: String,
    pub caller_name: String,
    pub position: u32,
    pub joined_at_ms: i64,
}

/// Asterisk's device state of a member (`Status:` field, `AST_DEVICE_*` values).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeviceStatus {
    #[default]
    Unknown,
    NotInUse,
    InUse,
    Busy,
    Invalid,
    Unavailable,
    Ringing,
    RingInUse,
    OnHold,
}

impl DeviceStatus {
    pub fn from_ami(code: &str) -> DeviceStatus {
        match code.trim() {
            "1" => DeviceStatus::NotInUse,
            "2" => DeviceStatus::InUse,
            "3" => DeviceStatus::Busy,
            "4" => DeviceStatus::Invalid,
            "5" => DeviceStatus::Unavailable,
            "6" => DeviceStatus::Ringing,
            "7" => DeviceStatus::RingInUse,
            "8" => DeviceStatus::OnHold,
            _ => DeviceStatus::Unknown,
        }
    }
}
