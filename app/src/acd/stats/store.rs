//! The statistics queries. Counting happens in SQL on the report index (per queue, event and
//! time); figures that depend on the tenant's calendar (weekday, half hour, month, day) are
//! counted per UTC half hour or hour in SQL and placed on the local calendar here, which keeps
//! the SQL portable between SQLite and PostgreSQL.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use jiff::civil::Date;
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use sqlx::Row;

use super::{
    HALF_HOUR_MS, AcdReport, AgentFigures, BUCKET_SECS, CallCount, CdrReport, Period, QueueOutcomes, Slot, StatsFilter,
    wait_buckets,
};
use crate::acd::live::control::device_of;
use crate::acd::queues::{QueueRecord, store as queues};
use crate::auth::SessionUser;
use crate::auth::guard::TenantScope;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};

const HOUR_MS: i64 = 3_600_000;
/// Sessions and pauses opened this long before the period still count inside it.
const LOOK_BACK_MS: i64 = 31 * 86_400_000;
const MAX_DAYS: i64 = 366;

/// A period resolved on the tenant's calendar.
#[derive(Clone, Debug)]
pub struct Span {
    pub zone: TimeZone,
    pub zone_name: String,
    pub first: Date,
    pub last: Date,
    pub start_ms: i64,
    pub end_ms: i64,
}

pub async fn tenant_zone(db: &Db, scope: TenantScope) -> Result<(TimeZone, String), AppError> {
    let name: String = sqlx::query("SELECT time_zone FROM tenants WHERE id = $1")
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?
        .try_get("time_zone")?;
    let zone = TimeZone::get(&name).unwrap_or(TimeZone::UTC);
    Ok((zone, name))
}

pub fn resolve(period: &Period, zone: &TimeZone, zone_name: &str, now_ms: i64) -> Result<Span, AppError> {
    let bad = |problem| AppError::invalid(Field::Period, problem);
    let today = Timestamp::from_millisecond(now_ms).map_err(|_| AppError::Internal)?.to_zoned(zone.clone()).date();
    let (first, last) = match period {
        Period::Today => (today, today),
        Period::Yesterday => {
            let day = today.yesterday().map_err(|_| bad(Problem::BadFormat))?;
            (day, day)
        }
        Period::Last10Days => (today.checked_sub(9.days()).map_err(|_| bad(Problem::BadFormat))?, today),
        Period::Month { year, month } => {
            let first = Date::new(*year, *month, 1).map_err(|_| bad(Problem::BadFormat))?;
            (first, first.last_of_month())
        }
        Period::Dates { from, to } => {
            let parse = |text: &str| text.trim().parse::<Date>().map_err(|_| bad(Problem::BadFormat));
            (parse(from)?, parse(to)?)
        }
    };
    let days = (last - first).get_days() as i64 + 1;
    if !(1..=MAX_DAYS).contains(&days) {
        return Err(bad(Problem::OutOfRange { min: 1, max: MAX_DAYS as u32 }));
    }
    let start = |date: Date| -> Result<i64, AppError> {
        Ok(date.to_zoned(zone.clone()).map_err(|_| bad(Problem::BadFormat))?.timestamp().as_millisecond())
    };
    let end_ms = start(last.tomorrow().map_err(|_| bad(Problem::BadFormat))?)?;
    Ok(Span { zone: zone.clone(), zone_name: zone_name.to_string(), first, last, start_ms: start(first)?, end_ms })
}

/// The queues whose statistics the user may read: all of the tenant's for administrators and
/// statistics readers, else those the user supervises.
pub async fn readable_queues(db: &Db, scope: TenantScope, user: &SessionUser) -> Result<Vec<QueueRecord>, AppError> {
    let all = queues::list(db, scope).await?;
    Ok(if user.reads_all_queue_statistics() { all } else { all.into_iter().filter(|q| user.supervises(q.id)).collect() })
}

pub async fn acd_report(db: &Db, scope: TenantScope, readable: &[QueueRecord], filter: &StatsFilter, now_ms: i64) -> Result<AcdReport, AppError> {
    let (zone, zone_name) = tenant_zone(db, scope).await?;
    let span = resolve(&filter.period, &zone, &zone_name, now_ms)?;
    let chosen: Vec<&QueueRecord> =
        readable.iter().filter(|q| filter.queues.is_empty() || filter.queues.contains(&q.settings.name)).collect();
    // Every queue at once, and every query of a queue at once: SQLite serves readers in
    // parallel (WAL), PostgreSQL too.
    let figures = futures::future::try_join_all(chosen.iter().map(|queue| queue_figures(db, queue, &span))).await?;
    let mut report = AcdReport {
        first_day: span.first.to_string(),
        last_day: span.last.to_string(),
        time_zone: span.zone_name.clone(),
        queue_choices: readable.iter().map(|q| q.settings.name.clone()).collect(),
        ..Default::default()
    };
    let mut answered_buckets: Vec<(i64, u64)> = Vec::new();
    let mut abandoned_buckets: Vec<(i64, u64)> = Vec::new();
    let mut per_half_hour: BTreeMap<(i64, String), u64> = BTreeMap::new();
    let mut agents: BTreeMap<String, AgentFigures> = BTreeMap::new();
    let mut agent_names: BTreeSet<String> = BTreeSet::new();
    let mut thresholds = BTreeSet::new();
    for (queue, found) in chosen.iter().zip(figures) {
        thresholds.insert(queue.settings.service_level_secs);
        let mut outcome = QueueOutcomes { queue: queue.settings.name.clone(), ..Default::default() };
        for ((slot, event), count) in found.slots {
            match event.as_str() {
                "ENTERQUEUE" => outcome.offered += count,
                "CONNECT" => outcome.answered += count,
                "ABANDON" => outcome.abandoned += count,
                "EXITWITHTIMEOUT" | "EXITEMPTY" | "EXITWITHKEY" => outcome.timed_out += count,
                "DISSUASION" => outcome.dissuaded += count,
                "CLOSED" => outcome.closed += count,
                _ => {}
            }
            if matches!(event.as_str(), "ENTERQUEUE" | "CONNECT" | "ABANDON") {
                *per_half_hour.entry((slot, event)).or_default() += count;
            }
        }
        let sl = &mut report.service_level;
        sl.offered += outcome.offered;
        sl.answered += outcome.answered;
        sl.abandoned += outcome.abandoned;
        for (bucket, count, within) in found.answered {
            answered_buckets.push((bucket, count));
            sl.answered_within += within;
        }
        for (bucket, count, within) in found.abandoned {
            abandoned_buckets.push((bucket, count));
            sl.abandoned_within += within;
        }
        for (agent, (calls_in, talk)) in found.per_agent {
            let entry = figures_of(&mut agents, &agent);
            entry.calls_in += calls_in;
            entry.talk_secs += talk;
            agent_names.insert(agent);
        }
        for (agent, session, secs) in found.spans {
            let entry = figures_of(&mut agents, &agent);
            if session {
                entry.sessions += 1;
                entry.session_secs += secs;
            } else {
                entry.pauses += 1;
                entry.pause_secs += secs;
            }
            agent_names.insert(agent);
        }
        report.outcomes.push(outcome);
    }
    report.service_level.threshold_secs = if thresholds.len() == 1 { *thresholds.first().unwrap_or(&0) } else { 0 };
    report.waits = wait_buckets(&answered_buckets, &abandoned_buckets);
    let (weekdays, half_hours) = calendar_slots(&per_half_hour, &span.zone);
    report.weekdays = weekdays;
    report.half_hours = half_hours;
    calls_out(db, scope, &chosen, &span, &mut agents).await?;
    report.agent_choices = agent_names.into_iter().collect();
    report.agents = agents
        .into_values()
        .filter(|a| filter.agents.is_empty() || filter.agents.contains(&a.agent))
        .collect();
    Ok(report)
}

/// What one queue contributes: outcomes and agent totals from the half-hour counts, wait
/// buckets and sessions from the lines.
struct QueueFigures {
    /// Outcome events per UTC half hour, from `queue_log_slots`.
    slots: Vec<((i64, String), u64)>,
    /// (hold bucket, count, within the threshold) of answered calls.
    answered: Vec<(i64, u64, u64)>,
    /// (wait bucket, count, within the threshold) of abandoned calls.
    abandoned: Vec<(i64, u64, u64)>,
    /// Per agent: (calls answered, talk time of completed calls).
    per_agent: Vec<(String, (u64, u64))>,
    /// Sessions (true) and pauses (false) per agent, clipped to the period, in seconds.
    spans: Vec<(String, bool, u64)>,
}

async fn queue_figures(db: &Db, queue: &QueueRecord, span: &Span) -> Result<QueueFigures, AppError> {
    let source = format!("{}:queue_log", queue.settings.pbx);
    let name = queue.settings.name.as_str();
    let threshold = queue.settings.service_level_secs as i64;
    let slots = async {
        // Periods start at local midnight, on a UTC half hour in every zone with a whole or
        // half-hour offset.
        sqlx::query(
            "SELECT event, slot, CAST(SUM(calls) AS BIGINT) AS n FROM queue_log_slots \
             WHERE source = $1 AND queue = $2 AND slot >= $3 AND slot < $4 \
               AND event IN ('ENTERQUEUE', 'CONNECT', 'ABANDON', 'EXITWITHTIMEOUT', 'EXITEMPTY', 'EXITWITHKEY', \
                             'DISSUASION', 'CLOSED') \
             GROUP BY event, slot",
        )
        .bind(&source)
        .bind(name)
        .bind(span.start_ms.div_euclid(HALF_HOUR_MS))
        .bind((span.end_ms + HALF_HOUR_MS - 1).div_euclid(HALF_HOUR_MS))
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| Ok(((row.try_get("slot")?, row.try_get("event")?), row.try_get::<i64, _>("n")? as u64)))
        .collect::<Result<Vec<_>, AppError>>()
    };
    let answered = buckets(db, &source, name, span, "CONNECT", "hold_secs", threshold);
    let abandoned = buckets(db, &source, name, span, "ABANDON", "wait_secs", threshold);
    let per_agent = async {
        sqlx::query(
            "SELECT event, agent, CAST(SUM(calls) AS BIGINT) AS n, CAST(SUM(talk_secs) AS BIGINT) AS talk \
             FROM queue_log_slots \
             WHERE source = $1 AND queue = $2 AND slot >= $3 AND slot < $4 \
               AND event IN ('CONNECT', 'COMPLETECALLER', 'COMPLETEAGENT') \
             GROUP BY event, agent",
        )
        .bind(&source)
        .bind(name)
        .bind(span.start_ms.div_euclid(HALF_HOUR_MS))
        .bind((span.end_ms + HALF_HOUR_MS - 1).div_euclid(HALF_HOUR_MS))
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| {
            let event: String = row.try_get("event")?;
            let count = row.try_get::<Option<i64>, _>("n")?.unwrap_or(0) as u64;
            let talk = row.try_get::<Option<i64>, _>("talk")?.unwrap_or(0) as u64;
            // Calls in count the answers; talk time comes with the completions.
            Ok((row.try_get("agent")?, if event == "CONNECT" { (count, 0) } else { (0, talk) }))
        })
        .collect::<Result<Vec<(String, (u64, u64))>, AppError>>()
    };
    let spans = agent_spans(db, &source, name, span);
    let (slots, answered, abandoned, per_agent, spans) = futures::try_join!(slots, answered, abandoned, per_agent, spans)?;
    Ok(QueueFigures { slots, answered, abandoned, per_agent, spans })
}

/// Counts per 30-second bucket of `column` for one event, with how many were within `threshold`.
async fn buckets(
    db: &Db,
    source: &str,
    queue: &str,
    span: &Span,
    event: &str,
    column: &str,
    threshold: i64,
) -> Result<Vec<(i64, u64, u64)>, AppError> {
    // `column` is one of two names chosen by the caller, never input.
    let sql = format!(
        "SELECT {column} / $5 AS bucket, COUNT(*) AS n, \
                CAST(SUM(CASE WHEN {column} <= $6 THEN 1 ELSE 0 END) AS BIGINT) AS within \
         FROM queue_log_events \
         WHERE source = $1 AND queue = $2 AND event = $7 AND time_ms >= $3 AND time_ms < $4 \
         GROUP BY {column} / $5"
    );
    sqlx::query(sqlx::AssertSqlSafe(sql))
        .bind(source)
        .bind(queue)
        .bind(span.start_ms)
        .bind(span.end_ms)
        .bind(BUCKET_SECS as i64)
        .bind(threshold)
        .bind(event)
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| {
            let bucket: Option<i64> = row.try_get("bucket")?;
            Ok((
                bucket.unwrap_or(0),
                row.try_get::<i64, _>("n")? as u64,
                row.try_get::<Option<i64>, _>("within")?.unwrap_or(0) as u64,
            ))
        })
        .collect()
}

/// Places UTC half-hour counts on the local calendar: per weekday and per half hour of the day.
fn calendar_slots(per_half_hour: &BTreeMap<(i64, String), u64>, zone: &TimeZone) -> (Vec<Slot>, Vec<Slot>) {
    let mut weekdays: Vec<Slot> = (1..=7).map(|d| Slot { slot: d, ..Default::default() }).collect();
    let mut half_hours: Vec<Slot> = (0..48).map(|h| Slot { slot: h, ..Default::default() }).collect();
    for ((slot, event), count) in per_half_hour {
        let Ok(at) = Timestamp::from_millisecond(slot * HALF_HOUR_MS) else { continue };
        let local = at.to_zoned(zone.clone());
        let day = local.weekday().to_monday_one_offset() as usize - 1;
        let half = (local.hour() as usize) * 2 + (local.minute() as usize) / 30;
        for target in [&mut weekdays[day], &mut half_hours[half]] {
            match event.as_str() {
                "ENTERQUEUE" => target.offered += count,
                "CONNECT" => target.answered += count,
                _ => target.abandoned += count,
            }
        }
    }
    (weekdays, half_hours)
}

/// Sessions (ADDMEMBER → REMOVEMEMBER) and pauses (PAUSE → UNPAUSE) per agent, clipped to the
/// period; one still open at its end counts up to that end.
async fn agent_spans(db: &Db, source: &str, queue: &str, span: &Span) -> Result<Vec<(String, bool, u64)>, AppError> {
    let rows = sqlx::query(
        "SELECT agent, event, time_ms FROM queue_log_events \
         WHERE source = $1 AND queue = $2 \
           AND event IN ('ADDMEMBER', 'REMOVEMEMBER', 'PAUSE', 'UNPAUSE', 'PAUSEALL', 'UNPAUSEALL') \
           AND time_ms >= $3 AND time_ms < $4 \
         ORDER BY time_ms",
    )
    .bind(source)
    .bind(queue)
    .bind(span.start_ms - LOOK_BACK_MS)
    .bind(span.end_ms)
    .fetch_all(db.pool())
    .await?;
    let mut open_session: HashMap<String, i64> = HashMap::new();
    let mut open_pause: HashMap<String, i64> = HashMap::new();
    let mut closed: Vec<(String, bool, i64, i64)> = Vec::new();
    for row in rows {
        let agent: String = row.try_get("agent")?;
        let at: i64 = row.try_get("time_ms")?;
        match row.try_get::<String, _>("event")?.as_str() {
            "ADDMEMBER" => {
                open_session.entry(agent).or_insert(at);
            }
            "REMOVEMEMBER" => {
                if let Some(from) = open_session.remove(&agent) {
                    closed.push((agent, true, from, at));
                }
            }
            "PAUSE" | "PAUSEALL" => {
                open_pause.entry(agent).or_insert(at);
            }
            _ => {
                if let Some(from) = open_pause.remove(&agent) {
                    closed.push((agent, false, from, at));
                }
            }
        }
    }
    closed.extend(open_session.into_iter().map(|(agent, from)| (agent, true, from, span.end_ms)));
    closed.extend(open_pause.into_iter().map(|(agent, from)| (agent, false, from, span.end_ms)));
    Ok(closed
        .into_iter()
        .filter_map(|(agent, session, from, to)| {
            let (from, to) = (from.max(span.start_ms), to.min(span.end_ms));
            (to > from).then(|| (agent, session, ((to - from) / 1000) as u64))
        })
        .collect())
}

fn figures_of<'a>(agents: &'a mut BTreeMap<String, AgentFigures>, agent: &str) -> &'a mut AgentFigures {
    agents.entry(agent.to_string()).or_insert_with(|| AgentFigures { agent: agent.to_string(), ..Default::default() })
}

/// Calls out of each agent known as a user of the tenant with a phone: CDR records of that
/// phone's channels made by `Dial`.
async fn calls_out(
    db: &Db,
    scope: TenantScope,
    queues: &[&QueueRecord],
    span: &Span,
    agents: &mut BTreeMap<String, AgentFigures>,
) -> Result<(), AppError> {
    if agents.is_empty() {
        return Ok(());
    }
    let phones: HashMap<String, String> = queues::user_choices(db, scope)
        .await?
        .into_iter()
        .filter(|u| !u.own_phone.is_empty())
        .map(|u| (u.name, device_of(&u.own_phone)))
        .collect();
    let sources: BTreeSet<String> = queues.iter().map(|q| format!("{}:cdr", q.settings.pbx)).collect();
    for figures in agents.values_mut() {
        let Some(device) = phones.get(&figures.agent) else { continue };
        let pattern = format!("{}-%", device.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
        for source in &sources {
            let row = sqlx::query(
                "SELECT COUNT(*) AS n, CAST(SUM(billsec) AS BIGINT) AS secs FROM cdr_records \
                 WHERE source = $1 AND start_ms >= $2 AND start_ms < $3 AND last_app = 'Dial' \
                   AND channel LIKE $4 ESCAPE '\\'",
            )
            .bind(source)
            .bind(span.start_ms)
            .bind(span.end_ms)
            .bind(&pattern)
            .fetch_one(db.pool())
            .await?;
            figures.calls_out += row.try_get::<i64, _>("n")? as u64;
            figures.out_secs += row.try_get::<Option<i64>, _>("secs")?.unwrap_or(0) as u64;
        }
    }
    Ok(())
}

/// Calls and billed time from the CDR of the tenant's PBX connections: per month of `year`,
/// per day and per hour of `month`.
pub async fn cdr_report(
    db: &Db,
    scope: TenantScope,
    readable: &[QueueRecord],
    year: i16,
    month: i8,
    now_ms: i64,
) -> Result<CdrReport, AppError> {
    let (zone, zone_name) = tenant_zone(db, scope).await?;
    // Year or month 0: the current month on the tenant's calendar.
    let (year, month) = if year == 0 || month == 0 {
        let today = Timestamp::from_millisecond(now_ms).map_err(|_| AppError::Internal)?.to_zoned(zone.clone()).date();
        (today.year(), today.month())
    } else {
        (year, month)
    };
    let span = resolve(&Period::Dates { from: format!("{year:04}-01-01"), to: format!("{year:04}-12-31") }, &zone, &zone_name, 0)?;
    if !(1..=12).contains(&month) {
        return Err(AppError::invalid(Field::Period, Problem::OutOfRange { min: 1, max: 12 }));
    }
    let mut report = CdrReport {
        year,
        month,
        time_zone: zone_name,
        per_month: (1..=12).map(|m| CallCount { slot: m, ..Default::default() }).collect(),
        per_day: (1..=Date::new(year, month, 1).map(|d| d.days_in_month()).unwrap_or(31) as u8)
            .map(|d| CallCount { slot: d, ..Default::default() })
            .collect(),
        per_hour: (0..24).map(|h| CallCount { slot: h, ..Default::default() }).collect(),
    };
    let sources: BTreeSet<String> = readable.iter().map(|q| format!("{}:cdr", q.settings.pbx)).collect();
    for source in sources {
        for row in sqlx::query(
            "SELECT start_ms / $4 AS hour, COUNT(*) AS n, CAST(SUM(billsec) AS BIGINT) AS secs FROM cdr_records \
             WHERE source = $1 AND start_ms >= $2 AND start_ms < $3 GROUP BY start_ms / $4",
        )
        .bind(&source)
        .bind(span.start_ms)
        .bind(span.end_ms)
        .bind(HOUR_MS)
        .fetch_all(db.pool())
        .await?
        {
            let Ok(at) = Timestamp::from_millisecond(row.try_get::<i64, _>("hour")? * HOUR_MS) else { continue };
            let local = at.to_zoned(zone.clone());
            let (calls, secs) = (row.try_get::<i64, _>("n")? as u64, row.try_get::<Option<i64>, _>("secs")?.unwrap_or(0) as u64);
            let add = |slot: &mut CallCount| {
                slot.calls += calls;
                slot.billed_secs += secs;
            };
            add(&mut report.per_month[local.month() as usize - 1]);
            if local.month() == month {
                add(&mut report.per_day[local.day() as usize - 1]);
                add(&mut report.per_hour[local.hour() as usize]);
            }
        }
    }
    Ok(report)
}
