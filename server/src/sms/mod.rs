//! SMS over GSM modems: what the server's machinery needs to talk to a modem on a serial line.
//! `at` frames and classifies what a modem says; `pdu` encodes and reads the messages (with the
//! GSM alphabet and the splitting into parts of `app::sms`);
//! `modem` is the AT command engine on a serial port; `gateway` drives a group's modems
//! in parallel against the dispatcher (`dispatcher`: the database side); `sim` is the modem
//! simulator on a pseudo-terminal.

pub mod api;
pub mod at;
pub mod dispatcher;
pub mod gateway;
pub mod modem;
pub mod pdu;
pub mod remote;
pub mod sim;

#[cfg(test)]
mod tests;
