//! What the app needs from the server's telephony bridge, as a trait the server implements and
//! provides through context: the live board of every PBX, and actions sent to a PBX.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;

use tokio::sync::watch;

use super::PbxLive;
use crate::error::AppError;

/// An action on a PBX, already checked against the caller's rights.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PbxAction {
    QueueAdd { queue: String, interface: String, state_interface: String, member_name: String, penalty: u32 },
    QueueRemove { queue: String, interface: String },
    QueuePause { queue: String, interface: String, paused: bool, reason: String },
    QueuePenalty { queue: String, interface: String, penalty: u32 },
    /// Rings `supervisor_phone`; once answered, it listens to `target` (ChanSpy, quiet).
    Listen { supervisor_phone: String, target: String },
    RecordStart { channel: String, file: String },
    RecordStop { channel: String },
    /// Click-to-call: rings `agent_phone`; once answered, dials `number` through the PBX's
    /// outgoing dialplan, presenting `caller_number` (the agent's external number) when set.
    Dial { agent_phone: String, number: String, caller_number: String, contact_name: String },
}

pub type ActionFuture = Pin<Box<dyn Future<Output = Result<(), AppError>> + Send>>;

pub trait AcdBridge: Send + Sync + 'static {
    /// The configured PBX connections, by name.
    fn pbx_names(&self) -> Vec<String>;
    /// The live board of every PBX; the receiver wakes on every change.
    fn board(&self) -> watch::Receiver<Arc<Vec<PbxLive>>>;
    /// Sends the action to the named PBX and waits for Asterisk's answer.
    fn act(&self, pbx: &str, action: PbxAction) -> ActionFuture;
}

/// The bridge in context, or a clear "not connected" when the server runs without one.
pub fn from_context() -> Result<Arc<dyn AcdBridge>, AppError> {
    leptos::prelude::use_context::<Arc<dyn AcdBridge>>().ok_or(AppError::PbxNotConnected)
}
