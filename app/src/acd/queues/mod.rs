//! ACD queues as data: what Asterisk's `queues.conf` will be rendered from, and who supervises
//! and answers each queue (its SV and AG profiles, created and removed with it).

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::error::{AppError, Field, Problem, required_text};

/// Asterisk's ring strategies (`strategy =` in queues.conf).
pub const STRATEGIES: [&str; 8] =
    ["ringall", "leastrecent", "fewestcalls", "random", "rrmemory", "rrordered", "linear", "wrandom"];
/// `announce-holdtime =`: never, at every announcement, or once.
pub const HOLDTIME_CHOICES: [&str; 3] = ["no", "yes", "once"];
/// `announce-position =`: never, always, only within the limit, or only beyond it.
pub const POSITION_CHOICES: [&str; 4] = ["no", "yes", "limit", "more"];

pub const MAX_QUEUE_NAME_CHARS: u32 = 64;
pub const MAX_DESCRIPTION_CHARS: u32 = 200;

/// Everything an administrator sets on a queue. Durations are in seconds; 0 means "off" for
/// wrap-up, maximum wait and announcement frequencies.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueSettings {
    /// The Asterisk queue name: letters, digits, `_` and `-`. Fixed once created, because the
    /// queue_log and the statistics know the queue by it.
    pub name: String,
    pub description: String,
    /// The PBX connection the queue lives on.
    pub pbx: String,
    pub strategy: String,
    pub music_class: String,
    /// Sound played to the agent before the caller is connected (`announce =`); empty: none.
    pub agent_announce: String,
    pub wrapup_secs: u32,
    /// How long each agent rings (`timeout =`).
    pub ring_timeout_secs: u32,
    /// Longest wait before the caller leaves the queue (the `Queue()` timeout); 0: no limit.
    pub max_wait_secs: u32,
    /// How often callers hear their position / hold time (`announce-frequency =`).
    pub announce_frequency_secs: u32,
    /// How often the periodic announcement plays (`periodic-announce-frequency =`).
    pub periodic_announce_secs: u32,
    pub announce_holdtime: String,
    pub announce_position: String,
    /// The service-level threshold (`servicelevel =`).
    pub service_level_secs: u32,
    /// Users holding the queue's supervisor profile.
    pub supervisors: Vec<i64>,
    /// Users holding the queue's agent profile: the ones a supervisor may add to the queue.
    pub agents: Vec<i64>,
}

impl Default for QueueSettings {
    fn default() -> Self {
        QueueSettings {
            name: String::new(),
            description: String::new(),
            pbx: DEFAULT_PBX.to_string(),
            strategy: "rrmemory".into(),
            music_class: "default".into(),
            agent_announce: String::new(),
            wrapup_secs: 0,
            ring_timeout_secs: 15,
            max_wait_secs: 0,
            announce_frequency_secs: 0,
            periodic_announce_secs: 0,
            announce_holdtime: "no".into(),
            announce_position: "no".into(),
            service_level_secs: 30,
            supervisors: vec![],
            agents: vec![],
        }
    }
}

/// The name of the PBX connection when only one is configured.
pub const DEFAULT_PBX: &str = "main";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueRecord {
    pub id: i64,
    pub settings: QueueSettings,
}

/// A user of the tenant as queue forms and the dashboard offer them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserChoice {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub own_phone: String,
}

fn identifier(value: &str, field: Field, max: u32, allow_slash: bool) -> Result<String, AppError> {
    let value = value.trim();
    if value.chars().count() > max as usize {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    let ok = value
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-') || (allow_slash && matches!(c, '/' | '.')));
    if !ok || (allow_slash && (value.starts_with('/') || value.contains(".."))) {
        return Err(AppError::invalid(field, Problem::BadCharacters));
    }
    Ok(value.to_string())
}

fn within(value: u32, field: Field, min: u32, max: u32) -> Result<u32, AppError> {
    if (min..=max).contains(&value) { Ok(value) } else { Err(AppError::invalid(field, Problem::OutOfRange { min, max })) }
}

fn one_of(value: &str, field: Field, choices: &[&str]) -> Result<String, AppError> {
    let value = value.trim();
    if choices.contains(&value) { Ok(value.to_string()) } else { Err(AppError::invalid(field, Problem::Unknown)) }
}

/// Checks and normalises a queue's settings; the first problem found is reported.
pub fn validate(settings: &QueueSettings) -> Result<QueueSettings, AppError> {
    let name = identifier(&settings.name, Field::QueueName, MAX_QUEUE_NAME_CHARS, false)?;
    if name.is_empty() {
        return Err(AppError::invalid(Field::QueueName, Problem::Required));
    }
    let description = match settings.description.trim() {
        "" => String::new(),
        text => required_text(text, Field::Description, MAX_DESCRIPTION_CHARS)?,
    };
    let pbx = identifier(&settings.pbx, Field::Pbx, 32, false)?;
    if pbx.is_empty() {
        return Err(AppError::invalid(Field::Pbx, Problem::Required));
    }
    let music_class = identifier(&settings.music_class, Field::MusicClass, 64, false)?;
    let music_class = if music_class.is_empty() { "default".to_string() } else { music_class };
    let mut supervisors = settings.supervisors.clone();
    supervisors.sort_unstable();
    supervisors.dedup();
    let mut agents = settings.agents.clone();
    agents.sort_unstable();
    agents.dedup();
    Ok(QueueSettings {
        name,
        description,
        pbx,
        strategy: one_of(&settings.strategy, Field::Strategy, &STRATEGIES)?,
        music_class,
        agent_announce: identifier(&settings.agent_announce, Field::AgentAnnounce, 128, true)?,
        wrapup_secs: within(settings.wrapup_secs, Field::WrapUp, 0, 3600)?,
        ring_timeout_secs: within(settings.ring_timeout_secs, Field::RingTimeout, 1, 600)?,
        max_wait_secs: within(settings.max_wait_secs, Field::MaxWait, 0, 86_400)?,
        announce_frequency_secs: within(settings.announce_frequency_secs, Field::AnnounceFrequency, 0, 3600)?,
        periodic_announce_secs: within(settings.periodic_announce_secs, Field::PeriodicAnnounce, 0, 3600)?,
        announce_holdtime: one_of(&settings.announce_holdtime, Field::AnnounceHoldTime, &HOLDTIME_CHOICES)?,
        announce_position: one_of(&settings.announce_position, Field::AnnouncePosition, &POSITION_CHOICES)?,
        service_level_secs: within(settings.service_level_secs, Field::ServiceLevel, 1, 3600)?,
        supervisors,
        agents,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn valid() -> QueueSettings {
        QueueSettings { name: "support".into(), ..Default::default() }
    }

    #[test]
    fn defaults_with_a_name_are_valid_and_normalised() {
        let settings = QueueSettings {
            name: " support ".into(),
            music_class: "".into(),
            supervisors: vec![3, 1, 3],
            ..Default::default()
        };
        let checked = validate(&settings).unwrap();
        assert_eq!(checked.name, "support");
        assert_eq!(checked.music_class, "default");
        assert_eq!(checked.supervisors, vec![1, 3]);
    }

    #[test]
    fn each_rule_names_its_field() {
        let cases = [
            (QueueSettings { name: "".into(), ..valid() }, Field::QueueName, Problem::Required),
            (QueueSettings { name: "sup port".into(), ..valid() }, Field::QueueName, Problem::BadCharacters),
            (QueueSettings { name: "[general]".into(), ..valid() }, Field::QueueName, Problem::BadCharacters),
            (QueueSettings { strategy: "fastest".into(), ..valid() }, Field::Strategy, Problem::Unknown),
            (QueueSettings { ring_timeout_secs: 0, ..valid() }, Field::RingTimeout, Problem::OutOfRange { min: 1, max: 600 }),
            (QueueSettings { wrapup_secs: 3601, ..valid() }, Field::WrapUp, Problem::OutOfRange { min: 0, max: 3600 }),
            (QueueSettings { announce_position: "sometimes".into(), ..valid() }, Field::AnnouncePosition, Problem::Unknown),
            (QueueSettings { agent_announce: "../../etc/passwd".into(), ..valid() }, Field::AgentAnnounce, Problem::BadCharacters),
            (QueueSettings { service_level_secs: 0, ..valid() }, Field::ServiceLevel, Problem::OutOfRange { min: 1, max: 3600 }),
        ];
        for (settings, field, problem) in cases {
            assert_eq!(validate(&settings), Err(AppError::invalid(field, problem)), "{settings:?}");
        }
        let sound = QueueSettings { agent_announce: "custom/beep".into(), ..valid() };
        assert_eq!(validate(&sound).unwrap().agent_announce, "custom/beep");
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
