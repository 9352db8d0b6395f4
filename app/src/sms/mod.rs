//! SMS campaigns over GSM modems: what a modem reports of itself (read by the gateway's AT engine,
//! shown on the monitoring pages).

use serde::{Deserialize, Serialize};

/// The SIM as `AT+CPIN?` tells it (TS 27.007 §8.3; `+CME ERROR: 10`/`13`/`14` for the last three).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum SimState {
    Ready,
    /// Waiting for a PIN or PUK: the modem cannot send until someone enters it.
    Locked,
    Missing,
    Failure,
    Busy,
    #[default]
    Unknown,
}

/// Network registration as `AT+CREG?` tells it (TS 27.007 §7.2, `<stat>` 0–5).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub enum Registration {
    NotRegistered,
    Home,
    Searching,
    Denied,
    #[default]
    Unknown,
    Roaming,
}

impl Registration {
    pub fn from_stat(stat: u8) -> Registration {
        match stat {
            0 => Registration::NotRegistered,
            1 => Registration::Home,
            2 => Registration::Searching,
            3 => Registration::Denied,
            5 => Registration::Roaming,
            _ => Registration::Unknown,
        }
    }

    /// Whether a modem so registered can send.
    pub fn can_send(self) -> bool {
        matches!(self, Registration::Home | Registration::Roaming)
    }
}

/// Received signal: dBm (−113 + 2·rssi) and a quality from 0 (none) to 5.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signal {
    pub dbm: i32,
    pub quality: u8,
}

/// What one monitoring round learnt of a modem; a field the modem did not give stays empty.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModemStatus {
    pub imei: Option<String>,
    pub imsi: Option<String>,
    /// The network's MCC and MNC digits (`AT+COPS?` in numeric format), e.g. `20801`.
    pub operator: Option<String>,
    pub signal: Option<Signal>,
    pub sim: SimState,
    pub registration: Registration,
}

impl ModemStatus {
    /// Whether the modem can be given messages to send.
    pub fn can_send(&self) -> bool {
        self.sim == SimState::Ready && self.registration.can_send()
    }
}

/// The network's name for an MCC+MNC code, for the networks Relais's customers use; other codes
/// are shown as digits. (No maintained crate carries the ITU list; it changes rarely.)
pub fn operator_name(code: &str) -> Option<&'static str> {
    Some(match code {
        "20801" | "20802" => "Orange",
        "20810" | "20811" | "20813" => "SFR",
        "20815" | "20816" => "Free Mobile",
        "20820" | "20821" | "20888" => "Bouygues Telecom",
        "20826" => "NRJ Mobile",
        "34001" => "Orange Caraïbe",
        "64710" => "SFR Réunion",
        "20601" => "Proximus",
        "20610" => "Orange Belgium",
        "22801" => "Swisscom",
        "22802" => "Sunrise",
        "60400" => "Orange Maroc",
        "60401" => "IAM",
        "60502" => "Tunisie Telecom",
        "60503" => "Ooredoo TN",
        "60301" => "Mobilis",
        "60302" => "Djezzy",
        "23410" => "O2 UK",
        "23415" => "Vodafone UK",
        "26201" => "Telekom.de",
        "26202" => "Vodafone.de",
        "21401" => "Vodafone ES",
        "21407" => "Movistar",
        "22201" => "TIM",
        "310260" => "T-Mobile US",
        "00101" => "Test network",
        _ => return None,
    })
}
