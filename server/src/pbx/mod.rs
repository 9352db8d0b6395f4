//! The bridge to Asterisk: the AMI wire protocol (and, later, the client that keeps a
//! connection per PBX, the config renderer and the simulator).

pub mod ami;
pub mod cdr;
pub mod client;
pub mod tail;
pub mod sim;
