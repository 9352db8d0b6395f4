//! ACD on the server side: the live model fed by the PBX bridge (later: queue_log import and
//! statistics).

pub mod import;
pub mod live;
pub mod queue_log;
pub mod bridge;
