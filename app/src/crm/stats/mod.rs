//! Campaign statistics per campaign and/or agent and period: calls and their results, agents,
//! days, and the argument-tree funnel (how many reached each question and how they left it).

pub mod api;
pub mod page;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::acd::stats::Period;
use crate::crm::campaigns::CampaignChoice;
use crate::crm::campaigns::results::CallResult;
use crate::crm::forms::QuestionKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignStatsFilter {
    /// 0: the tenant's most recent campaign.
    pub campaign_id: i64,
    pub agent_id: Option<i64>,
    /// `None`: the whole campaign.
    pub period: Option<Period>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentChoice {
    pub id: i64,
    pub name: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResultCount {
    pub result: CallResult,
    pub calls: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentCount {
    pub name: String,
    pub calls: i64,
    pub contacted: i64,
    pub appointments: i64,
}

/// One question of the tree: how many calls reached it and how they left it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FunnelStep {
    pub node: u32,
    pub text: String,
    pub reached: i64,
    pub yes: i64,
    pub no: i64,
    pub undecided: i64,
    pub hung_up: i64,
}

/// One multiple-choice or yes/no question: how many calls answered it, and each answer's count
/// (a multiple-answer question's counts can add up to more than the calls).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionCounts {
    pub key: u32,
    pub text: String,
    pub kind: QuestionKind,
    pub answered: i64,
    /// Each answer with its count, in the question's order; yes/no: `yes`, `no` labels are
    /// translated by the page.
    pub counts: Vec<(String, i64)>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignReport {
    pub campaign_id: i64,
    pub campaign: String,
    pub first_day: String,
    pub last_day: String,
    pub time_zone: String,
    pub campaigns: Vec<CampaignChoice>,
    pub agents: Vec<AgentChoice>,
    pub calls: i64,
    pub contacted: i64,
    pub appointments: i64,
    pub callbacks: i64,
    pub results: Vec<ResultCount>,
    pub per_agent: Vec<AgentCount>,
    /// Calls per day of the period, `YYYY-MM-DD`.
    pub per_day: Vec<(String, i64)>,
    pub funnel: Vec<FunnelStep>,
    /// The campaign's current questions, in its order.
    pub questions: Vec<QuestionCounts>,
    /// Calls that recorded a contract.
    pub contracts: i64,
    /// Appointments booked in the period, per field sales person.
    pub booked: Vec<(String, i64)>,
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
