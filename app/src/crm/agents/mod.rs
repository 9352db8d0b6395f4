//! Call-centre agents as the CRM sees them: users with the agent profile, their internal
//! extension (their phone, an Asterisk interface), the external number their calls show, the
//! campaigns they work, their desk sessions and their counts of calls and appointments.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

pub use crate::crm::campaigns::CampaignChoice;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentSummary {
    pub id: i64,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub active: bool,
    pub extension: String,
    pub caller_number: String,
    pub campaigns: Vec<CampaignChoice>,
    pub calls: i64,
    pub appointments: i64,
}

/// A new agent's account and assignment.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewAgent {
    pub first_name: String,
    pub last_name: String,
    pub login: String,
    pub password: String,
    /// Asterisk interface of the agent's phone, e.g. `PJSIP/1001`.
    pub extension: String,
    pub caller_number: String,
    pub campaign_ids: Vec<i64>,
}

/// What the agents page may change about an agent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentEdit {
    pub first_name: String,
    pub last_name: String,
    pub extension: String,
    pub caller_number: String,
    pub campaign_ids: Vec<i64>,
}

/// One opening of the desk. `ended_at` is empty while the desk is open; a desk that stopped
/// sending news is counted as left at its last news.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskSession {
    pub campaign: String,
    pub started_at: String,
    pub ended_at: String,
}

/// The agents page's data.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentsAdmin {
    pub agents: Vec<AgentSummary>,
    pub campaigns: Vec<CampaignChoice>,
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
