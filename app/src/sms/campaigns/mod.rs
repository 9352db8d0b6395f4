//! A tenant's SMS campaigns: a contact base and a message template, drafted, then activated
//! (one message per contact, filled in and queued for the dispatcher), paused, resumed or
//! deactivated; each message's state as the modems and the network report it; the replies that
//! came back and the numbers that asked to hear no more (STOP).

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(all(test, feature = "ssr"))]
mod tests;

use serde::{Deserialize, Serialize};

pub use crate::sms::MessageState;
use crate::i18n::{Locale, td_string};

/// Longest template accepted: ten GSM-7 parts.
pub const MAX_TEMPLATE_CHARS: usize = 1530;
/// Messages (or replies) per page.
pub const PAGE_SIZE: u32 = 50;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum SmsCampaignState {
    Draft,
    Active,
    Paused,
    /// Stopped by the dispatcher: the tenant's credit did not cover the next message.
    NoCredit,
    /// Deactivated by the client: messages not sent yet were withdrawn.
    Stopped,
    /// Every message went out (or definitively failed).
    Finished,
}

impl SmsCampaignState {
    pub const ALL: [SmsCampaignState; 6] = [
        SmsCampaignState::Draft,
        SmsCampaignState::Active,
        SmsCampaignState::Paused,
        SmsCampaignState::NoCredit,
        SmsCampaignState::Stopped,
        SmsCampaignState::Finished,
    ];

    pub fn code(self) -> &'static str {
        match self {
            SmsCampaignState::Draft => "draft",
            SmsCampaignState::Active => "active",
            SmsCampaignState::Paused => "paused",
            SmsCampaignState::NoCredit => "no_credit",
            SmsCampaignState::Stopped => "stopped",
            SmsCampaignState::Finished => "finished",
        }
    }

    pub fn from_code(code: &str) -> Option<SmsCampaignState> {
        SmsCampaignState::ALL.into_iter().find(|s| s.code() == code)
    }

    pub fn label(self, locale: Locale) -> &'static str {
        match self {
            SmsCampaignState::Draft => td_string!(locale, sms_state_draft),
            SmsCampaignState::Active => td_string!(locale, sms_state_active),
            SmsCampaignState::Paused => td_string!(locale, sms_state_paused),
            SmsCampaignState::NoCredit => td_string!(locale, sms_state_no_credit),
            SmsCampaignState::Stopped => td_string!(locale, sms_state_stopped),
            SmsCampaignState::Finished => td_string!(locale, sms_state_finished),
        }
    }

    /// Whether messages may still go out (now or after a resume).
    pub fn can_pause(self) -> bool {
        self == SmsCampaignState::Active
    }

    pub fn can_resume(self) -> bool {
        matches!(self, SmsCampaignState::Paused | SmsCampaignState::NoCredit)
    }

    pub fn can_deactivate(self) -> bool {
        matches!(self, SmsCampaignState::Active | SmsCampaignState::Paused | SmsCampaignState::NoCredit)
    }
}

/// What the client chooses when drafting a campaign.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCampaignSettings {
    pub name: String,
    pub base_id: i64,
    pub template: String,
    /// Ask the network for a status report on each part (what "% received" counts).
    pub status_reports: bool,
}

/// How far a campaign got: its messages by state, and the parts that went out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Progress {
    pub messages: u64,
    pub queued: u64,
    pub sending: u64,
    pub sent: u64,
    pub delivered: u64,
    pub failed: u64,
    pub unknown: u64,
    pub skipped: u64,
    /// Parts handed to the network, and those a status report said were delivered.
    pub parts_sent: u64,
    pub parts_delivered: u64,
    /// Credit debited for its messages, refunds deducted (minor units).
    pub charged: i64,
}

impl Progress {
    /// Messages that reached their last state (sent messages may still be reported delivered).
    pub fn settled(&self) -> u64 {
        self.messages - self.queued - self.sending
    }

    /// Settled messages in whole percent.
    pub fn percent(&self) -> u64 {
        (self.settled() * 100).checked_div(self.messages).unwrap_or(100)
    }

    /// Parts reported delivered, as a share of those sent; none before any was sent.
    pub fn delivered_percent(&self) -> Option<u64> {
        (self.parts_sent > 0).then(|| self.parts_delivered * 100 / self.parts_sent)
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCampaignRecord {
    pub id: i64,
    pub settings: SmsCampaignSettings,
    pub base_name: String,
    pub state: SmsCampaignState,
    /// `YYYY-MM-DD HH:MM` in the tenant's zone; empty when it has not happened.
    pub created_at: String,
    pub activated_at: String,
    pub finished_at: String,
    pub progress: Progress,
}

/// Why a message was not sent, as stored in `sms_messages.reason` by Relais itself. Other
/// reasons are the modem's or the network's words (`+CMS ERROR: 38`), shown as they are.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SkipReason {
    OptedOut,
    NotMobile,
    Empty,
    TooLong,
    Deactivated,
}

impl SkipReason {
    pub const ALL: [SkipReason; 5] = [SkipReason::OptedOut, SkipReason::NotMobile, SkipReason::Empty, SkipReason::TooLong, SkipReason::Deactivated];

    pub fn code(self) -> &'static str {
        match self {
            SkipReason::OptedOut => "opted_out",
            SkipReason::NotMobile => "not_mobile",
            SkipReason::Empty => "empty",
            SkipReason::TooLong => "too_long",
            SkipReason::Deactivated => "deactivated",
        }
    }

    pub fn label(self, locale: Locale) -> &'static str {
        match self {
            SkipReason::OptedOut => td_string!(locale, sms_skip_opted_out),
            SkipReason::NotMobile => td_string!(locale, sms_skip_not_mobile),
            SkipReason::Empty => td_string!(locale, sms_skip_empty),
            SkipReason::TooLong => td_string!(locale, sms_skip_too_long),
            SkipReason::Deactivated => td_string!(locale, sms_skip_deactivated),
        }
    }
}

/// A stored reason in the reader's language: Relais's own codes translated, the rest as written.
pub fn reason_text(reason: &str, locale: Locale) -> String {
    SkipReason::ALL.into_iter().find(|r| r.code() == reason).map_or_else(|| reason.to_string(), |r| r.label(locale).to_string())
}

/// One message of a campaign, as its page lists it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageLine {
    pub id: i64,
    pub number: String,
    /// The contact's first and last name.
    pub name: String,
    pub text: String,
    pub parts: u32,
    pub state: MessageState,
    pub reason: String,
    /// The modem the message went out from.
    pub imei: String,
    pub updated_at: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessageFilter {
    pub campaign_id: i64,
    pub state: Option<MessageState>,
    /// Part of a number or a name.
    pub search: String,
    pub page: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MessagePage {
    pub lines: Vec<MessageLine>,
    /// Messages matching the filter.
    pub matching: u64,
    pub page: u32,
}

/// A message received from a contact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reply {
    pub id: i64,
    pub received_at: String,
    pub sender: String,
    pub name: String,
    pub text: String,
    pub campaign: String,
    /// It asked to hear no more: the number went on the opt-out list.
    pub opt_out: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReplyPage {
    pub replies: Vec<Reply>,
    pub matching: u64,
    pub page: u32,
}

/// A number that asked to receive no more of the tenant's campaigns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct OptOut {
    pub number: String,
    pub at: String,
    /// Added by a user rather than by a STOP reply.
    pub by_hand: bool,
}

/// A template filled in for one contact of the base, as the campaign form previews it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sample {
    pub number: String,
    pub name: String,
    pub text: String,
}

/// The campaigns page's list, read again while campaigns run: the tenant's campaigns and credit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsCampaignAdmin {
    pub campaigns: Vec<SmsCampaignRecord>,
    pub credit: CreditView,
}

/// A base a campaign may use, with the fields its template may name.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SmsBase {
    pub id: i64,
    pub name: String,
    pub contacts: i64,
    pub custom_fields: Vec<String>,
}

/// A tenant's prepaid credit as its users see it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CreditView {
    pub balance: i64,
    pub part_price: i64,
    pub currency: String,
}

/// What activating a campaign queued and left out.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Activation {
    pub queued: u64,
    pub parts: u64,
    pub skipped: u64,
}
