//! The agent desk: an agent opens one of their active campaigns, gets the next contact (reserved
//! for them alone), calls it, walks the argument tree, sets the call result, and goes on.
//! Reservations are kept alive by the open page; one left by a closed browser runs out and the
//! contact goes back to the others.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::crm::campaigns::FormKind;
use crate::crm::campaigns::results::CallResult;
use crate::crm::forms::{QuestionAnswer, Questionnaire};
use crate::crm::sales::{AppointmentRequest, SalesChoice};
use crate::crm::trees::{Answer, ArgumentTree, Branch};

/// How long a reservation lasts without news from the desk; the page renews it every
/// `KEEP_ALIVE_MS`.
pub const RESERVATION_MS: i64 = 120_000;
pub const KEEP_ALIVE_MS: u32 = 30_000;
/// A contact that did not answer comes back after this long.
pub const RETRY_AFTER_MS: i64 = 3_600_000;
pub const MAX_NOTE_CHARS: usize = 2000;

/// A campaign the agent may work, with what is waiting in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskChoice {
    pub id: i64,
    pub name: String,
    pub product: String,
    /// Contacts never called yet.
    pub fresh: i64,
    /// Callbacks due now for this agent or for anyone.
    pub callbacks_due: i64,
}

/// What the desk needs of its campaign.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskCampaign {
    pub id: i64,
    pub name: String,
    pub product: String,
    /// The argument tree's version handed out now, and the tree.
    pub tree: Option<(i64, ArgumentTree)>,
    pub results: Vec<CallResult>,
    /// The base's custom field names, for the contact card.
    pub custom_fields: Vec<String>,
    /// The campaign's forms that are on, and their questions and contract fields.
    pub forms: Vec<FormKind>,
    pub questionnaire: Questionnaire,
    /// Who appointments can be booked with (with the appointment form).
    pub sales_people: Vec<SalesChoice>,
}

/// The contact reserved for the agent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeskContact {
    /// The campaign_contacts row: what the agent reports on.
    pub slot_id: i64,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub var1: String,
    pub var2: String,
    pub custom: Vec<String>,
    /// Earlier calls of this contact in the campaign.
    pub attempts: i64,
    /// Set when the contact comes back as a booked callback (local time, tenant's zone).
    pub callback_at: Option<String>,
}

/// One node of the walk: the answer given there, or none when the call ended at that node.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Step {
    pub node: u32,
    pub answer: Option<Answer>,
}

/// Who a callback comes back to.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CallbackFor {
    Me,
    Anyone,
}

/// What the agent reports at the end of a call.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallReport {
    pub slot_id: i64,
    pub result: String,
    /// The walk through the argument tree, from its start.
    pub path: Vec<Step>,
    /// `YYYY-MM-DDTHH:MM` in the tenant's zone, with a callback result.
    pub callback_at: String,
    pub callback_for: CallbackFor,
    pub note: String,
    /// Answers to the multiple-choice and yes/no questions.
    #[serde(default)]
    pub answers: Vec<QuestionAnswer>,
    /// The contract's fields by key; all empty: no contract.
    #[serde(default)]
    pub contract: Vec<(u32, String)>,
    /// With a result that carries the appointment flag.
    #[serde(default)]
    pub appointment: Option<AppointmentRequest>,
}

/// Why a walk does not fit the tree.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalkError {
    /// The first step is not the start, or a step does not follow the previous answer.
    OffTheTree,
    /// A step after the end, or an unanswered step before the last.
    Broken,
}

/// Checks that `path` is a walk of `tree` from its start: each answer leads to the next step,
/// and only the last step may be unanswered (the call ended there). An empty path is a call
/// that ended before the script.
pub fn check_walk(tree: &ArgumentTree, path: &[Step]) -> Result<(), WalkError> {
    let mut expected = Some(tree.start);
    for (i, step) in path.iter().enumerate() {
        if expected != Some(step.node) {
            return Err(if expected.is_none() { WalkError::Broken } else { WalkError::OffTheTree });
        }
        let node = tree.node(step.node).ok_or(WalkError::OffTheTree)?;
        expected = match step.answer {
            None if i + 1 == path.len() => None,
            None => return Err(WalkError::Broken),
            Some(answer) => match node.branch(answer) {
                Branch::Node(next) => Some(next),
                Branch::End => None,
                Branch::Unset => return Err(WalkError::OffTheTree),
            },
        };
    }
    Ok(())
}

/// Where a walk stands: the node to answer next, or `None` when the script has ended.
pub fn next_node(tree: &ArgumentTree, path: &[Step]) -> Option<u32> {
    match path.last() {
        None => tree.node(tree.start).map(|n| n.key),
        Some(Step { answer: None, .. }) => None,
        Some(Step { node, answer: Some(answer) }) => match tree.node(*node)?.branch(*answer) {
            Branch::Node(next) => Some(next),
            _ => None,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crm::trees::TreeNode;

    fn tree() -> ArgumentTree {
        let node = |key, yes, no, undecided| TreeNode { key, text: format!("Q{key}"), yes, no, undecided };
        ArgumentTree {
            start: 1,
            nodes: vec![
                node(1, Branch::Node(2), Branch::End, Branch::Node(3)),
                node(2, Branch::End, Branch::End, Branch::End),
                node(3, Branch::Node(2), Branch::End, Branch::End),
            ],
        }
    }

    fn step(node: u32, answer: Option<Answer>) -> Step {
        Step { node, answer }
    }

    #[test]
    fn walks_that_follow_the_branches_are_accepted() {
        let t = tree();
        assert_eq!(check_walk(&t, &[]), Ok(()));
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::No))]), Ok(()));
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::Undecided)), step(3, Some(Answer::Yes)), step(2, Some(Answer::Yes))]), Ok(()));
        // Hung up at Q3.
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::Undecided)), step(3, None)]), Ok(()));
    }

    #[test]
    fn forged_walks_are_refused() {
        let t = tree();
        assert_eq!(check_walk(&t, &[step(2, Some(Answer::Yes))]), Err(WalkError::OffTheTree));
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::Yes)), step(3, Some(Answer::No))]), Err(WalkError::OffTheTree));
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::No)), step(2, Some(Answer::No))]), Err(WalkError::Broken));
        assert_eq!(check_walk(&t, &[step(1, None), step(2, None)]), Err(WalkError::Broken));
        assert_eq!(check_walk(&t, &[step(1, Some(Answer::Yes)), step(9, None)]), Err(WalkError::OffTheTree));
    }

    #[test]
    fn the_next_node_follows_the_last_answer() {
        let t = tree();
        assert_eq!(next_node(&t, &[]), Some(1));
        assert_eq!(next_node(&t, &[step(1, Some(Answer::Undecided))]), Some(3));
        assert_eq!(next_node(&t, &[step(1, Some(Answer::No))]), None);
        assert_eq!(next_node(&t, &[step(1, None)]), None);
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
