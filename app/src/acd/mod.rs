//! Automatic call distribution: the live state of queues as supervisors see it. The server's
//! telephony bridge builds it from AMI events; the dashboard (to come) renders it.

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
    /// Queue calls this member completed while we watched, and their total talk time.
    pub received_count: u64,
    pub received_talk_secs: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
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
