//! The live ACD dashboard: what a supervisor's page receives over its WebSocket, and the
//! actions it may send back.

pub mod api;
#[cfg(feature = "ssr")]
pub mod control;
#[cfg(feature = "ssr")]
pub mod feed;
pub mod page;

use serde::{Deserialize, Serialize};

use super::queues::{QueueRecord, UserChoice};
use super::{CallerLive, DeviceStatus, MemberLive, PbxLive, PbxState};

/// One push to a dashboard: the supervised queues as the PBX sees them now.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Dashboard {
    /// The server's clock when the board was assembled; the page derives times in state and
    /// waits from it, whatever the browser's clock says.
    pub now_ms: i64,
    pub queues: Vec<DashboardQueue>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct DashboardQueue {
    pub id: i64,
    pub name: String,
    pub description: String,
    pub pbx: String,
    /// `None` when no connection of that name is configured.
    pub state: Option<PbxState>,
    /// Whether Asterisk reports the queue at all (it may not be configured there yet).
    pub on_pbx: bool,
    pub members: Vec<MemberLive>,
    pub callers: Vec<CallerLive>,
    /// Users of the queue's agent profile with a phone, who may be added to it.
    pub addable: Vec<UserChoice>,
}

impl DashboardQueue {
    /// Members that can take calls: logged in on a reachable device.
    pub fn agents_connected(&self) -> usize {
        self.members
            .iter()
            .filter(|m| !matches!(m.status, DeviceStatus::Unavailable | DeviceStatus::Invalid | DeviceStatus::Unknown))
            .count()
    }

    pub fn longest_wait_ms(&self, now_ms: i64) -> i64 {
        self.callers.iter().map(|c| now_ms - c.joined_at_ms).max().unwrap_or(0).max(0)
    }
}

/// What a supervisor can do from the dashboard. Members are named by their queue interface,
/// and every action is checked on the server against the live membership of the queue.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardAction {
    AddAgent { user_id: i64, penalty: u32 },
    Remove { interface: String },
    Pause { interface: String, reason: String },
    Unpause { interface: String },
    SetPenalty { interface: String, penalty: u32 },
    Listen { interface: String },
    RecordStart { interface: String },
    RecordStop { interface: String },
}

/// What the browser sends on the dashboard's socket (nothing but a greeting for now; the
/// socket's input side tells the server when the page goes away).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DashboardRequest {
    Hello,
}

pub const MAX_PENALTY: u32 = 100;

/// Puts the configured queues the user may see together with the live board.
pub fn assemble(
    now_ms: i64,
    queues: &[QueueRecord],
    users: &[UserChoice],
    board: &[PbxLive],
) -> Dashboard {
    let queues = queues
        .iter()
        .map(|queue| {
            let pbx = board.iter().find(|p| p.name == queue.settings.pbx);
            let live = pbx.and_then(|p| p.queues.iter().find(|q| q.name == queue.settings.name));
            let addable = users
                .iter()
                .filter(|u| queue.settings.agents.contains(&u.id) && !u.own_phone.is_empty())
                .filter(|u| !live.is_some_and(|l| l.members.iter().any(|m| m.interface == u.own_phone)))
                .cloned()
                .collect();
            DashboardQueue {
                id: queue.id,
                name: queue.settings.name.clone(),
                description: queue.settings.description.clone(),
                pbx: queue.settings.pbx.clone(),
                state: pbx.map(|p| p.state.clone()),
                on_pbx: live.is_some(),
                members: live.map(|l| l.members.clone()).unwrap_or_default(),
                callers: live.map(|l| l.callers.clone()).unwrap_or_default(),
                addable,
            }
        })
        .collect();
    Dashboard { now_ms, queues }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::acd::QueueLive;
    use crate::acd::queues::QueueSettings;

    fn member(interface: &str, status: DeviceStatus) -> MemberLive {
        MemberLive { interface: interface.into(), status, ..Default::default() }
    }

    #[test]
    fn the_board_is_cut_to_the_visible_queues_and_offers_absent_agents() {
        let queues = vec![QueueRecord {
            id: 7,
            settings: QueueSettings { name: "support".into(), agents: vec![1, 2, 3], ..Default::default() },
        }];
        let users = vec![
            UserChoice { id: 1, login: "a".into(), name: "A".into(), own_phone: "PJSIP/1001".into() },
            UserChoice { id: 2, login: "b".into(), name: "B".into(), own_phone: "PJSIP/1002".into() },
            UserChoice { id: 3, login: "c".into(), name: "C".into(), own_phone: "".into() },
            UserChoice { id: 4, login: "d".into(), name: "D".into(), own_phone: "PJSIP/1004".into() },
        ];
        let board = vec![PbxLive {
            name: "main".into(),
            state: PbxState::Connected,
            queues: vec![
                QueueLive {
                    name: "support".into(),
                    members: vec![member("PJSIP/1001", DeviceStatus::NotInUse), member("PJSIP/1009", DeviceStatus::Unavailable)],
                    callers: vec![CallerLive {
                        uniqueid: "1.1".into(),
                        channel: "c".into(),
                        caller_number: "0600".into(),
                        caller_name: "<b>x</b>".into(),
                        position: 1,
                        joined_at_ms: 1_000,
                    }],
                    ..Default::default()
                },
                QueueLive { name: "secret".into(), ..Default::default() },
            ],
        }];
        let dashboard = assemble(31_000, &queues, &users, &board);
        assert_eq!(dashboard.queues.len(), 1, "only the visible queue");
        let support = &dashboard.queues[0];
        assert!(support.on_pbx);
        assert_eq!(support.state, Some(PbxState::Connected));
        let addable: Vec<i64> = support.addable.iter().map(|u| u.id).collect();
        assert_eq!(addable, vec![2], "already a member, without phone or not an agent: not offered");
        assert_eq!(support.agents_connected(), 1);
        assert_eq!(support.longest_wait_ms(dashboard.now_ms), 30_000);

        let elsewhere = vec![QueueRecord { id: 8, settings: QueueSettings { name: "x".into(), pbx: "other".into(), ..Default::default() } }];
        let dashboard = assemble(0, &elsewhere, &users, &board);
        assert_eq!((dashboard.queues[0].state.clone(), dashboard.queues[0].on_pbx), (None, false));
    }
}
