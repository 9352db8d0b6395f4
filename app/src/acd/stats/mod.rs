//! ACD statistics from the imported queue_log (and global call statistics from the CDR).
//!
//! The KPI definitions live here once; the page's help shows them (`KPI_HELP_*`
//! translations say the same in words):
//! - offered = ENTERQUEUE; answered = CONNECT; abandoned = ABANDON; timed out =
//!   EXITWITHTIMEOUT + EXITEMPTY + EXITWITHKEY; dissuaded = DISSUASION and closed = CLOSED
//!   (written by the IVR); percentages are of offered.
//! - service level = answered within T ÷ offered; Asterisk's own variants: answered within T ÷
//!   answered (`ServicelevelPerf`) and (answered + abandoned within T) ÷ (answered + abandoned)
//!   (`ServicelevelPerf2`).
//! - waits are counted in 30-second buckets, labelled by the bucket (never by row order), the
//!   last one open-ended; empty buckets are zeros.
//! - agent sessions pair ADDMEMBER with the next REMOVEMEMBER of the same agent and queue, pauses
//!   PAUSE with UNPAUSE; a pair still open at the end of the period counts up to that end.
//! - calls in = CONNECT; talk time from COMPLETECALLER / COMPLETEAGENT; AHT = talk + wrap-up.
//! - calls out = CDR records of the agent's phone (channel of its device) made by `Dial`.

pub mod api;
pub mod page;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

/// The statistics' calendar grain: outcomes are kept per UTC half hour (`queue_log_slots`).
pub const HALF_HOUR_MS: i64 = 1_800_000;

/// Width of the wait buckets, and how many there are before the open-ended last one.
pub const BUCKET_SECS: u32 = 30;
pub const BUCKETS: usize = 10;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Period {
    Today,
    Yesterday,
    Last10Days,
    /// A calendar month (1–12).
    Month { year: i16, month: i8 },
    /// From and to, inclusive, as `YYYY-MM-DD`.
    Dates { from: String, to: String },
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsFilter {
    pub period: Period,
    /// Queue names; empty means every queue the user may read.
    pub queues: Vec<String>,
    /// Agent names as the queue_log has them; empty means all.
    pub agents: Vec<String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueOutcomes {
    pub queue: String,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub dissuaded: u64,
    pub closed: u64,
    pub timed_out: u64,
}

/// Calls whose wait fell in `[from_secs, from_secs + 30)`, or from `from_secs` on for the last.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct WaitBucket {
    pub from_secs: u32,
    pub open_ended: bool,
    pub answered: u64,
    pub abandoned: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ServiceLevel {
    pub threshold_secs: u32,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
    pub answered_within: u64,
    pub abandoned_within: u64,
}

impl ServiceLevel {
    /// Answered within the threshold ÷ offered, in %.
    pub fn level(&self) -> f64 {
        percent(self.answered_within, self.offered)
    }
    /// Asterisk's ServicelevelPerf.
    pub fn asterisk_perf(&self) -> f64 {
        percent(self.answered_within, self.answered)
    }
    /// Asterisk's ServicelevelPerf2.
    pub fn asterisk_perf2(&self) -> f64 {
        percent(self.answered_within + self.abandoned_within, self.answered + self.abandoned)
    }
}

/// Calls by local weekday (1 = Monday … 7 = Sunday) or by local half hour (0 = 00:00–00:30).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Slot {
    pub slot: u8,
    pub offered: u64,
    pub answered: u64,
    pub abandoned: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AgentFigures {
    pub agent: String,
    pub sessions: u64,
    pub session_secs: u64,
    pub pauses: u64,
    pub pause_secs: u64,
    pub calls_in: u64,
    pub talk_secs: u64,
    pub calls_out: u64,
    pub out_secs: u64,
}

impl AgentFigures {
    pub fn average_talk_secs(&self) -> u64 {
        self.talk_secs.checked_div(self.calls_in).unwrap_or(0)
    }
    pub fn average_out_secs(&self) -> u64 {
        self.out_secs.checked_div(self.calls_out).unwrap_or(0)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AcdReport {
    /// The period resolved in the tenant's time zone, as local dates (inclusive).
    pub first_day: String,
    pub last_day: String,
    pub time_zone: String,
    /// What the filters may choose from.
    pub queue_choices: Vec<String>,
    pub agent_choices: Vec<String>,
    pub outcomes: Vec<QueueOutcomes>,
    pub service_level: ServiceLevel,
    pub waits: Vec<WaitBucket>,
    pub weekdays: Vec<Slot>,
    pub half_hours: Vec<Slot>,
    pub agents: Vec<AgentFigures>,
}

/// Global call statistics from the CDR.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallCount {
    /// Month (1–12), day of month (1–31) or hour (0–23).
    pub slot: u8,
    pub calls: u64,
    pub billed_secs: u64,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CdrReport {
    pub year: i16,
    pub month: i8,
    pub time_zone: String,
    pub per_month: Vec<CallCount>,
    pub per_day: Vec<CallCount>,
    pub per_hour: Vec<CallCount>,
}

pub fn percent(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

/// Puts counts per bucket index (wait ÷ 30 s) into the fixed buckets, the last open-ended.
/// Missing buckets are zeros; the label comes from the bucket index, never from input order.
pub fn wait_buckets(answered: &[(i64, u64)], abandoned: &[(i64, u64)]) -> Vec<WaitBucket> {
    let mut buckets: Vec<WaitBucket> = (0..=BUCKETS)
        .map(|i| WaitBucket { from_secs: i as u32 * BUCKET_SECS, open_ended: i == BUCKETS, ..Default::default() })
        .collect();
    let index = |b: i64| (b.max(0) as usize).min(BUCKETS);
    for &(bucket, count) in answered {
        buckets[index(bucket)].answered += count;
    }
    for &(bucket, count) in abandoned {
        buckets[index(bucket)].abandoned += count;
    }
    buckets
}

/// Running totals of a series as % of `whole`.
pub fn cumulative_percent(counts: &[u64], whole: u64) -> Vec<f64> {
    let mut running = 0;
    counts
        .iter()
        .map(|count| {
            running += count;
            percent(running, whole)
        })
        .collect()
}

/// Seconds as `h:mm:ss`.
pub fn hms(secs: u64) -> String {
    format!("{}:{:02}:{:02}", secs / 3600, (secs % 3600) / 60, secs % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_labelled_by_index_and_empty_ones_are_zero() {
        // Rows in any order, a gap at bucket 1, and waits past the last bucket folded into it.
        let buckets = wait_buckets(&[(3, 2), (0, 5), (14, 1), (10, 1)], &[(2, 4)]);
        assert_eq!(buckets.len(), BUCKETS + 1);
        assert_eq!((buckets[0].from_secs, buckets[0].answered), (0, 5));
        assert_eq!((buckets[1].from_secs, buckets[1].answered, buckets[1].abandoned), (30, 0, 0));
        assert_eq!((buckets[2].from_secs, buckets[2].abandoned), (60, 4));
        assert_eq!((buckets[3].from_secs, buckets[3].answered), (90, 2));
        assert!(buckets[10].open_ended);
        assert_eq!((buckets[10].from_secs, buckets[10].answered), (300, 2));
        assert_eq!(cumulative_percent(&[5, 0, 3], 10), vec![50.0, 50.0, 80.0]);
    }

    #[test]
    fn service_level_variants() {
        let sl = ServiceLevel { threshold_secs: 30, offered: 10, answered: 8, abandoned: 2, answered_within: 6, abandoned_within: 1 };
        assert_eq!(sl.level(), 60.0);
        assert_eq!(sl.asterisk_perf(), 75.0);
        assert_eq!(sl.asterisk_perf2(), 70.0);
        assert_eq!(ServiceLevel::default().level(), 0.0, "no call, no division by zero");
    }
}
