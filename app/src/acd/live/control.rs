//! The supervisor's actions, checked against rights and against the live queue before they
//! reach the PBX: a member is only acted on when Asterisk reports it in that queue.

use super::{DashboardAction, MAX_PENALTY};
use crate::acd::bridge::{AcdBridge, PbxAction};
use crate::acd::queues::store;
use crate::acd::{MemberLive, QueueLive};
use crate::auth::SessionUser;
use crate::auth::guard::TenantScope;
use crate::db::{Db, now_ms};
use crate::error::{AppError, Field, Problem};

pub const MAX_PAUSE_REASON_CHARS: u32 = 80;

pub async fn perform(
    db: &Db,
    bridge: &dyn AcdBridge,
    user: &SessionUser,
    scope: TenantScope,
    queue_id: i64,
    action: DashboardAction,
) -> Result<(), AppError> {
    let queue = store::get(db, scope, queue_id).await?;
    if !user.sees_all_queues() && !user.supervises(queue_id) {
        return Err(AppError::Forbidden);
    }
    let settings = &queue.settings;
    let live: Option<QueueLive> = bridge
        .board()
        .borrow()
        .iter()
        .find(|p| p.name == settings.pbx)
        .and_then(|p| p.queues.iter().find(|q| q.name == settings.name).cloned());
    let member = |interface: &str| -> Result<MemberLive, AppError> {
        live.as_ref()
            .and_then(|q| q.members.iter().find(|m| m.interface == interface).cloned())
            .ok_or(AppError::invalid(Field::Agent, Problem::Unknown))
    };
    let name = settings.name.clone();
    let action = match action {
        DashboardAction::AddAgent { user_id, penalty } => {
            check_penalty(penalty)?;
            if !settings.agents.contains(&user_id) {
                return Err(AppError::invalid(Field::Agent, Problem::NotAssignable));
            }
            let agent = store::user_choices(db, scope)
                .await?
                .into_iter()
                .find(|u| u.id == user_id)
                .ok_or(AppError::invalid(Field::Agent, Problem::Unknown))?;
            if agent.own_phone.is_empty() {
                return Err(AppError::invalid(Field::OwnPhone, Problem::NoPhone));
            }
            PbxAction::QueueAdd {
                queue: name,
                state_interface: device_of(&agent.own_phone),
                interface: agent.own_phone,
                member_name: agent.name,
                penalty,
            }
        }
        DashboardAction::Remove { interface } => {
            member(&interface)?;
            PbxAction::QueueRemove { queue: name, interface }
        }
        DashboardAction::Pause { interface, reason } => {
            member(&interface)?;
            let reason = reason.trim().to_string();
            if reason.chars().count() > MAX_PAUSE_REASON_CHARS as usize || reason.chars().any(char::is_control) {
                return Err(AppError::invalid(Field::Description, Problem::TooLong { max: MAX_PAUSE_REASON_CHARS }));
            }
            PbxAction::QueuePause { queue: name, interface, paused: true, reason }
        }
        DashboardAction::Unpause { interface } => {
            member(&interface)?;
            PbxAction::QueuePause { queue: name, interface, paused: false, reason: String::new() }
        }
        DashboardAction::SetPenalty { interface, penalty } => {
            check_penalty(penalty)?;
            member(&interface)?;
            PbxAction::QueuePenalty { queue: name, interface, penalty }
        }
        DashboardAction::Listen { interface } => {
            let member = member(&interface)?;
            if user.own_phone.is_empty() {
                return Err(AppError::invalid(Field::OwnPhone, Problem::NoPhone));
            }
            let target = if member.state_interface.is_empty() { device_of(&member.interface) } else { member.state_interface };
            PbxAction::Listen { supervisor_phone: user.own_phone.clone(), target }
        }
        DashboardAction::RecordStart { interface } => {
            let member = member(&interface)?;
            let channel = member.channel.ok_or(AppError::invalid(Field::Agent, Problem::NotInCall))?;
            PbxAction::RecordStart { file: recording_file(&name, &interface, now_ms()), channel }
        }
        DashboardAction::RecordStop { interface } => {
            let member = member(&interface)?;
            let channel = member.channel.ok_or(AppError::invalid(Field::Agent, Problem::NotInCall))?;
            PbxAction::RecordStop { channel }
        }
    };
    bridge.act(&settings.pbx, action).await
}

fn check_penalty(penalty: u32) -> Result<(), AppError> {
    if penalty <= MAX_PENALTY { Ok(()) } else { Err(AppError::invalid(Field::Penalty, Problem::OutOfRange { min: 0, max: MAX_PENALTY })) }
}

/// The device behind a queue interface: `Local/1001@agents/n` rings `Local/1001@agents`.
pub fn device_of(interface: &str) -> String {
    interface.strip_suffix("/n").unwrap_or(interface).to_string()
}

/// A recording file name Asterisk can write anywhere: queue, agent and time, nothing else.
fn recording_file(queue: &str, interface: &str, now_ms: i64) -> String {
    let agent: String = interface.chars().map(|c| if c.is_ascii_alphanumeric() { c } else { '_' }).collect();
    format!("acd-{queue}-{agent}-{now_ms}.wav")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_recording_names() {
        assert_eq!(device_of("Local/1001@agents/n"), "Local/1001@agents");
        assert_eq!(device_of("PJSIP/1001"), "PJSIP/1001");
        assert_eq!(recording_file("support", "Local/1001@agents/n", 5), "acd-support-Local_1001_agents_n-5.wav");
    }
}
