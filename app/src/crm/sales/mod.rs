//! Field sales people: they receive the appointments agents book at the desk, and each has an
//! agenda. A person with appointments cannot be deleted (their agenda is history); they are set
//! inactive instead and no longer offered at the desk.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// How long an appointment holds a sales person's agenda.
pub const APPOINTMENT_MINUTES: i64 = 60;
/// Days shown by one page of an agenda.
pub const AGENDA_DAYS: i64 = 7;
pub const MAX_NAME_CHARS: u32 = 60;
pub const MAX_AREA_CHARS: u32 = 80;
pub const MAX_EMAIL_CHARS: u32 = 120;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesPersonSettings {
    pub first_name: String,
    pub last_name: String,
    /// Typed in any form; stored in E.164 in the tenant's country.
    pub phone: String,
    pub email: String,
    /// The area the person covers, shown to the agent who books.
    pub area: String,
    pub active: bool,
}

impl Default for SalesPersonSettings {
    fn default() -> Self {
        SalesPersonSettings {
            first_name: String::new(),
            last_name: String::new(),
            phone: String::new(),
            email: String::new(),
            area: String::new(),
            active: true,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesPerson {
    pub id: i64,
    pub settings: SalesPersonSettings,
    /// Appointments from now on.
    pub upcoming: i64,
    /// Appointments ever booked.
    pub booked: i64,
}

/// A sales person the desk may book.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesChoice {
    pub id: i64,
    pub name: String,
    pub area: String,
}

/// What the agent asks for at the desk: who, when (`YYYY-MM-DDTHH:MM` in the tenant's zone).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppointmentRequest {
    pub sales_person_id: i64,
    pub starts_at: String,
}

/// One appointment as the agenda shows it (times in the tenant's zone).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgendaEntry {
    pub id: i64,
    /// `HH:MM`.
    pub starts: String,
    pub ends: String,
    pub contact: String,
    pub phone: String,
    pub campaign: String,
    pub agent: String,
    pub note: String,
}

/// One person's appointments over `AGENDA_DAYS` days from `first_day`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Agenda {
    pub sales_person_id: i64,
    pub name: String,
    pub first_day: String,
    pub previous: String,
    pub next: String,
    pub time_zone: String,
    /// Each day `YYYY-MM-DD` with its appointments by time.
    pub days: Vec<(String, Vec<AgendaEntry>)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SalesAdmin {
    pub people: Vec<SalesPerson>,
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
