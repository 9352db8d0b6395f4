//! SMS campaigns over GSM modems: what a modem reports of itself (read by the gateway's AT engine,
//! shown on the monitoring pages), and what a gateway and the dispatcher say to each other.
//!
//! `gsm7` and `text`: the GSM alphabet and how a text splits into parts (the browser counts
//! parts as the client types); `template`: contact fields in a campaign's message. Behind
//! `ssr`: `groups` (modem groups, their gateways' tokens, the modems they report), `credit`
//! (prepaid balance and its ledger), `dispatch` (leases, reports, expiry, status reports,
//! replies). Pages: `campaigns/` (the client's campaigns, replies and opt-outs), `groups_page`
//! (the operator's modem groups, live through `monitor`), `credit_page` (the operator's view of
//! every tenant's credit).

pub mod api;
pub mod campaigns;
#[cfg(feature = "ssr")]
pub mod credit;
pub mod credit_page;
#[cfg(feature = "ssr")]
pub mod dispatch;
#[cfg(feature = "ssr")]
pub mod groups;
pub mod groups_page;
pub mod gsm7;
pub mod monitor;
pub mod template;
pub mod text;

use serde::{Deserialize, Serialize};

/// A modem group's settings as the operator types them.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupSettings {
    pub mac: String,
    pub alias: String,
    pub modem_count: u32,
    /// SMS parts per minute for the whole group.
    pub parts_per_minute: u32,
}

/// A tenant's prepaid SMS credit as the operator manages it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantCredit {
    pub tenant_id: i64,
    pub name: String,
    pub currency: String,
    /// Minor units of the tenant's currency.
    pub balance: i64,
    pub part_price: i64,
    /// Parts debited over the last 30 days, refunds deducted.
    pub parts_30_days: i64,
    /// `YYYY-MM-DD HH:MM` of the last top-up in the tenant's zone; empty if none.
    pub last_top_up: String,
}

/// A message handed to one modem: its text and number, and the parts still to send (numbered
/// from 1). The gateway builds the PDUs itself from the text and the concatenation reference,
/// so a part sent again is the same part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub message_id: i64,
    /// Names this lease: a report naming an older one is stale.
    pub lease_id: i64,
    pub number: String,
    pub text: String,
    pub concat_reference: u8,
    pub status_report: bool,
    pub parts: Vec<u8>,
    /// How long the lease holds without news (each report renews it).
    pub valid_for_ms: i64,
}

/// What a modem did with one part.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum PartOutcome {
    /// The network accepted it; the reference comes back in the status report.
    Sent { reference: Option<u8> },
    /// The modem or the network refused it (`+CMS ERROR: …` as `result`).
    Refused { result: String, refusal: Refusal },
    /// Nothing went out (the modem did not give the prompt, the line failed before the PDU).
    NotSent { reason: String },
    /// The PDU went out and no answer came: the part may be on its way. Never resent blindly.
    Uncertain { reason: String },
}

/// What a refusal means for the message and for the modem.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Refusal {
    /// The message itself cannot be delivered (unassigned number, barred, invalid message).
    Definitive,
    /// Worth trying again later, on any modem (network congestion, temporary failure).
    Transient,
    /// This modem cannot send now (no SIM, PIN, no network, no service centre): another can.
    Modem,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartReport {
    pub message_id: i64,
    pub lease_id: i64,
    pub sequence: u8,
    pub outcome: PartOutcome,
}

/// The dispatcher's answer to a part report.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReportReply {
    /// Send the next part; the lease holds this much longer.
    Continue { valid_for_ms: i64 },
    /// The lease is over (message done, failed, requeued, paused, or the lease was stale).
    Stop,
    /// The lease is over, and here is the modem's next one, as the gateway asked: one round
    /// trip between messages instead of two.
    Next(Lease),
}

/// The state of a message, as campaign reports show it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum MessageState {
    Queued,
    /// Leased to a modem, parts going out.
    Sending,
    Sent,
    Delivered,
    Failed,
    /// A part may or may not have gone out (a gateway or modem died while sending it); never
    /// resent blindly.
    Unknown,
    /// Not sent at all: opted out, a number that cannot receive SMS, an empty text, or the
    /// campaign was deactivated first.
    Skipped,
}

impl MessageState {
    pub const ALL: [MessageState; 7] = [
        MessageState::Queued,
        MessageState::Sending,
        MessageState::Sent,
        MessageState::Delivered,
        MessageState::Failed,
        MessageState::Unknown,
        MessageState::Skipped,
    ];

    /// How `sms_messages.state` stores it.
    pub fn code(self) -> &'static str {
        match self {
            MessageState::Queued => "queued",
            MessageState::Sending => "leased",
            MessageState::Sent => "sent",
            MessageState::Delivered => "delivered",
            MessageState::Failed => "failed",
            MessageState::Unknown => "unknown",
            MessageState::Skipped => "skipped",
        }
    }

    pub fn from_code(code: &str) -> Option<MessageState> {
        MessageState::ALL.into_iter().find(|state| state.code() == code)
    }

    pub fn label(self, locale: crate::i18n::Locale) -> &'static str {
        use crate::i18n::td_string;
        match self {
            MessageState::Queued => td_string!(locale, sms_message_queued),
            MessageState::Sending => td_string!(locale, sms_message_sending),
            MessageState::Sent => td_string!(locale, sms_message_sent),
            MessageState::Delivered => td_string!(locale, sms_message_delivered),
            MessageState::Failed => td_string!(locale, sms_message_failed),
            MessageState::Unknown => td_string!(locale, sms_message_unknown),
            MessageState::Skipped => td_string!(locale, sms_message_skipped),
        }
    }
}

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

impl SimState {
    pub const ALL: [SimState; 6] = [SimState::Ready, SimState::Locked, SimState::Missing, SimState::Failure, SimState::Busy, SimState::Unknown];

    /// How the modems table stores it.
    pub fn code(self) -> &'static str {
        match self {
            SimState::Ready => "Ready",
            SimState::Locked => "Locked",
            SimState::Missing => "Missing",
            SimState::Failure => "Failure",
            SimState::Busy => "Busy",
            SimState::Unknown => "Unknown",
        }
    }

    pub fn from_code(code: &str) -> SimState {
        SimState::ALL.into_iter().find(|s| s.code() == code).unwrap_or_default()
    }

    pub fn label(self, locale: crate::i18n::Locale) -> &'static str {
        use crate::i18n::td_string;
        match self {
            SimState::Ready => td_string!(locale, sim_ready),
            SimState::Locked => td_string!(locale, sim_locked),
            SimState::Missing => td_string!(locale, sim_missing),
            SimState::Failure => td_string!(locale, sim_failure),
            SimState::Busy => td_string!(locale, sim_busy),
            SimState::Unknown => td_string!(locale, sim_unknown),
        }
    }
}

impl Registration {
    pub const ALL: [Registration; 6] =
        [Registration::NotRegistered, Registration::Home, Registration::Searching, Registration::Denied, Registration::Unknown, Registration::Roaming];

    /// How the modems table stores it.
    pub fn code(self) -> &'static str {
        match self {
            Registration::NotRegistered => "NotRegistered",
            Registration::Home => "Home",
            Registration::Searching => "Searching",
            Registration::Denied => "Denied",
            Registration::Unknown => "Unknown",
            Registration::Roaming => "Roaming",
        }
    }

    pub fn from_code(code: &str) -> Registration {
        Registration::ALL.into_iter().find(|r| r.code() == code).unwrap_or_default()
    }

    pub fn label(self, locale: crate::i18n::Locale) -> &'static str {
        use crate::i18n::td_string;
        match self {
            Registration::NotRegistered => td_string!(locale, registration_none),
            Registration::Home => td_string!(locale, registration_home),
            Registration::Searching => td_string!(locale, registration_searching),
            Registration::Denied => td_string!(locale, registration_denied),
            Registration::Unknown => td_string!(locale, registration_unknown),
            Registration::Roaming => td_string!(locale, registration_roaming),
        }
    }

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

/// What a gateway says of one of its modems after a monitoring round.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModemReport {
    /// The serial port the modem answers on.
    pub port: String,
    pub status: ModemStatus,
    /// Why the modem cannot be used, when it cannot (port unreachable, not answering).
    pub error: String,
}

/// What the dispatcher tells a gateway about its group.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupOrders {
    pub started: bool,
    /// Parts per minute for the whole group.
    pub parts_per_minute: u32,
    pub modem_count: u32,
}

impl GroupOrders {
    /// The least time between two parts on one modem: the group's speed shared by its modems.
    pub fn interval_ms(&self) -> u64 {
        60_000 * u64::from(self.modem_count.max(1)) / u64::from(self.parts_per_minute.max(1))
    }
}

/// Something a modem received and the gateway read from its storage.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Inbound {
    /// A message (its parts joined when it was long).
    Message { sender: String, text: String, sent_at_ms: i64 },
    /// A status report on a part this modem sent with `reference`.
    Report { reference: u8, recipient: String, delivered: bool, code: u8 },
}

#[cfg(all(any(test, feature = "test-support"), feature = "ssr"))]
pub mod testing {
    use crate::auth::guard::TenantScope;
    use crate::db::Db;
    use crate::error::AppError;

    /// Queues one message of a campaign with its parts, as activation does for a whole base:
    /// what the dispatcher's tests and benchmarks send.
    #[allow(clippy::too_many_arguments)]
    pub async fn queue_message(
        c: &mut sqlx::AnyConnection,
        tenant_id: i64,
        campaign_id: i64,
        contact_id: Option<i64>,
        number: &str,
        text: &str,
        parts: u32,
        now: i64,
    ) -> Result<i64, AppError> {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO sms_messages (tenant_id, campaign_id, contact_id, number, text, parts, concat_reference, state, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, 'queued', $8, $8) RETURNING id",
        )
        .bind(tenant_id)
        .bind(campaign_id)
        .bind(contact_id)
        .bind(number)
        .bind(text)
        .bind(i64::from(parts))
        .bind(i64::from(rand::random::<u8>()))
        .bind(now)
        .fetch_one(&mut *c)
        .await?;
        for sequence in 1..=i64::from(parts) {
            sqlx::query("INSERT INTO sms_parts (message_id, sequence) VALUES ($1, $2)").bind(id).bind(sequence).execute(&mut *c).await?;
        }
        Ok(id)
    }

    /// An active SMS campaign named `name` of the tenant, on an empty base of the same name:
    /// what the dispatcher's tests and benchmarks queue messages into. Queue them before a
    /// lease sweep runs: it finishes an active campaign with nothing left to send (`activate`
    /// does both in one transaction).
    pub async fn active_campaign(db: &Db, scope: TenantScope, name: &str, now: i64) -> i64 {
        let base_id: i64 = sqlx::query_scalar(
            "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, created_at)
             VALUES ($1, $2, 'ready', 'base.csv', 'FR', '[]', $3) RETURNING id",
        )
        .bind(scope.tenant_id())
        .bind(name)
        .bind(now)
        .fetch_one(db.pool())
        .await
        .expect("base");
        sqlx::query_scalar("INSERT INTO sms_campaigns (tenant_id, name, base_id, template, state, created_at) VALUES ($1, $2, $3, '', 'active', $4) RETURNING id")
            .bind(scope.tenant_id())
            .bind(name)
            .bind(base_id)
            .bind(now)
            .fetch_one(db.pool())
            .await
            .expect("campaign")
    }
}
