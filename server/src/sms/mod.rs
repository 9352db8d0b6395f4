//! SMS over GSM modems: what the server's machinery needs to talk to a modem on a serial line.
//! `at` frames and classifies what a modem says; `gsm7` and `pdu` encode and read the messages.

pub mod at;
pub mod gsm7;
pub mod pdu;
