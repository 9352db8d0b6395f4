//! Campaign statistics from `crm_calls` and `crm_answers`: a handful of GROUP BY queries on
//! indexed columns, then Rust puts results in the campaign's order, hours on the tenant's
//! calendar and questions in the tree's order. An agent filter of 0 means every agent.

use std::collections::{BTreeMap, HashMap, VecDeque};

use jiff::Timestamp;
use sqlx::Row;

use super::{AgentChoice, AgentCount, CampaignReport, CampaignStatsFilter, FunnelStep, QuestionCounts, ResultCount};
use crate::crm::forms::{QuestionKind, Questionnaire};
use crate::acd::stats::store::{resolve, tenant_zone};
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::results::{CallResult, ResultFlag, results_or_default};
use crate::crm::trees::{Answer, ArgumentTree, Branch};
use crate::db::Db;
use crate::error::AppError;

const HOUR_MS: i64 = 3_600_000;

pub async fn report(db: &Db, scope: TenantScope, filter: &CampaignStatsFilter, now_ms: i64) -> Result<CampaignReport, AppError> {
    let campaigns = crate::crm::campaigns::store::choices(db, scope, true).await?;
    let campaign_id = if filter.campaign_id == 0 { campaigns.first().map_or(0, |c| c.id) } else { filter.campaign_id };
    let campaign = sqlx::query(
        "SELECT name, results, tree_id, starts_on, ends_on, questionnaire FROM campaigns WHERE id = $1 AND tenant_id = $2",
    )
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let (zone, zone_name) = tenant_zone(db, scope).await?;
    let (start_ms, end_ms, first_day, last_day) = match &filter.period {
        Some(period) => {
            let span = resolve(period, &zone, &zone_name, now_ms)?;
            (span.start_ms, span.end_ms, span.first.to_string(), span.last.to_string())
        }
        None => (i64::MIN, i64::MAX, campaign.try_get(3)?, campaign.try_get(4)?),
    };
    let agent = filter.agent_id.unwrap_or(0);
    // Every query of the report takes the same filter: campaign $1, period [$2, $3), agent $4 (0: all).
    let filtered = |sql: &'static str| sqlx::query(sql).bind(campaign_id).bind(start_ms).bind(end_ms).bind(agent);
    let configured = results_or_default(&campaign.try_get::<String, _>(1)?);

    let mut by_result: HashMap<String, i64> = HashMap::new();
    let mut per_agent: BTreeMap<(String, i64), AgentCount> = BTreeMap::new();
    let names: HashMap<i64, String> = sqlx::query("SELECT id, first_name || ' ' || last_name FROM users WHERE tenant_id = $1")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_, sqlx::Error>>()?;
    for row in filtered(
        "SELECT agent_id, result, COUNT(*) FROM crm_calls
         WHERE campaign_id = $1 AND started_at >= $2 AND started_at < $3 AND ($4 = 0 OR agent_id = $4)
         GROUP BY agent_id, result",
    )
    .fetch_all(db.pool())
    .await?
    {
        let (agent_id, result, calls): (Option<i64>, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let agent_id = agent_id.unwrap_or(0);
        let name = names.get(&agent_id).cloned().unwrap_or_default();
        *by_result.entry(result.clone()).or_default() += calls;
        let flags = configured.iter().find(|r| r.code == result);
        let count = per_agent.entry((name.clone(), agent_id)).or_insert(AgentCount { name, calls: 0, contacted: 0, appointments: 0 });
        count.calls += calls;
        if flags.is_some_and(|r| r.has(ResultFlag::Contacted)) {
            count.contacted += calls;
        }
        if flags.is_some_and(|r| r.has(ResultFlag::Appointment)) {
            count.appointments += calls;
        }
    }
    // The campaign's results in its order, then results no longer configured.
    let mut results: Vec<ResultCount> = configured
        .iter()
        .map(|result| ResultCount { calls: by_result.remove(&result.code).unwrap_or(0), result: result.clone() })
        .collect();
    let mut gone: Vec<(String, i64)> = by_result.into_iter().collect();
    gone.sort();
    results.extend(gone.into_iter().map(|(code, calls)| ResultCount {
        result: CallResult { label: code.clone(), code, flags: vec![] },
        calls,
    }));
    let flagged = |flag: ResultFlag| results.iter().filter(|r| r.result.has(flag)).map(|r| r.calls).sum::<i64>();

    let mut per_day: BTreeMap<String, i64> = BTreeMap::new();
    for row in filtered(
        "SELECT started_at / 3600000 AS hour, COUNT(*) FROM crm_calls
         WHERE campaign_id = $1 AND started_at >= $2 AND started_at < $3 AND ($4 = 0 OR agent_id = $4)
         GROUP BY started_at / 3600000",
    )
    .fetch_all(db.pool())
    .await?
    {
        let (hour, calls): (i64, i64) = (row.try_get(0)?, row.try_get(1)?);
        let Ok(at) = Timestamp::from_millisecond(hour * HOUR_MS) else { continue };
        *per_day.entry(at.to_zoned(zone.clone()).date().to_string()).or_default() += calls;
    }

    let mut answers: HashMap<u32, FunnelStep> = HashMap::new();
    for row in filtered(
        "SELECT item, answer, COUNT(*) FROM crm_answers
         WHERE campaign_id = $1 AND form = 'tree' AND at >= $2 AND at < $3 AND ($4 = 0 OR agent_id = $4)
         GROUP BY item, answer",
    )
    .fetch_all(db.pool())
    .await?
    {
        let (item, answer, count): (String, String, i64) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        let Ok(node) = item.parse::<u32>() else { continue };
        let step = answers.entry(node).or_insert(FunnelStep { node, text: String::new(), reached: 0, yes: 0, no: 0, undecided: 0, hung_up: 0 });
        step.reached += count;
        match answer.as_str() {
            "yes" => step.yes += count,
            "no" => step.no += count,
            "undecided" => step.undecided += count,
            _ => step.hung_up += count,
        }
    }
    let tree_id: Option<i64> = campaign.try_get(2)?;
    let tree = match tree_id {
        Some(tree_id) => {
            let body: Option<String> =
                sqlx::query_scalar("SELECT body FROM argument_tree_versions WHERE tree_id = $1 ORDER BY version DESC LIMIT 1")
                    .bind(tree_id)
                    .fetch_optional(db.pool())
                    .await?;
            body.and_then(|body| serde_json::from_str::<ArgumentTree>(&body).ok())
        }
        None => None,
    };
    let funnel = funnel(tree.as_ref(), answers);

    let questionnaire = crate::crm::forms::store::parse(&campaign.try_get::<String, _>(5)?);
    let mut chosen: HashMap<(String, String), i64> = HashMap::new();
    for row in filtered(
        "SELECT item, answer, COUNT(*) FROM crm_answers
         WHERE campaign_id = $1 AND form IN ('choice', 'yes_no') AND at >= $2 AND at < $3 AND ($4 = 0 OR agent_id = $4)
         GROUP BY item, answer",
    )
    .fetch_all(db.pool())
    .await?
    {
        chosen.insert((row.try_get(0)?, row.try_get(1)?), row.try_get(2)?);
    }
    let mut answered: HashMap<String, i64> = HashMap::new();
    for row in filtered(
        "SELECT item, COUNT(DISTINCT call_id) FROM crm_answers
         WHERE campaign_id = $1 AND form IN ('choice', 'yes_no') AND at >= $2 AND at < $3 AND ($4 = 0 OR agent_id = $4)
         GROUP BY item",
    )
    .fetch_all(db.pool())
    .await?
    {
        answered.insert(row.try_get(0)?, row.try_get(1)?);
    }
    let questions = questionnaire
        .questions
        .iter()
        .map(|q| {
            let item = q.key.to_string();
            let count = |answer: &str| chosen.get(&(item.clone(), answer.to_string())).copied().unwrap_or(0);
            let counts = match q.kind {
                QuestionKind::YesNo => vec![("yes".to_string(), count("yes")), ("no".to_string(), count("no"))],
                _ => q.choices.iter().map(|c| (c.label.clone(), count(&c.key.to_string()))).collect(),
            };
            QuestionCounts { key: q.key, text: q.text.clone(), kind: q.kind, answered: answered.get(&item).copied().unwrap_or(0), counts }
        })
        .collect();
    let contracts: i64 = filtered(
        "SELECT COUNT(DISTINCT call_id) FROM crm_answers
         WHERE campaign_id = $1 AND form = 'contract' AND at >= $2 AND at < $3 AND ($4 = 0 OR agent_id = $4)",
    )
    .fetch_one(db.pool())
    .await?
    .try_get(0)?;
    let booked = filtered(
        "SELECT s.first_name || ' ' || s.last_name, COUNT(*) FROM appointments a
         JOIN sales_people s ON s.id = a.sales_person_id JOIN crm_calls c ON c.id = a.call_id
         WHERE a.campaign_id = $1 AND c.started_at >= $2 AND c.started_at < $3 AND ($4 = 0 OR a.agent_id = $4)
         GROUP BY s.id, s.first_name, s.last_name ORDER BY COUNT(*) DESC, s.last_name",
    )
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
    .collect::<Result<Vec<(String, i64)>, AppError>>()?;

    let agents = sqlx::query(
        "SELECT u.id, u.first_name || ' ' || u.last_name FROM users u
         WHERE u.tenant_id = $2 AND (u.id IN (SELECT user_id FROM campaign_agents WHERE campaign_id = $1)
                                     OR u.id IN (SELECT agent_id FROM crm_calls WHERE campaign_id = $1))
         ORDER BY lower(u.last_name), lower(u.first_name)",
    )
    .bind(campaign_id)
    .bind(scope.tenant_id())
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(|row| Ok(AgentChoice { id: row.try_get(0)?, name: row.try_get(1)? }))
    .collect::<Result<Vec<_>, AppError>>()?;

    Ok(CampaignReport {
        campaign_id,
        campaign: campaign.try_get(0)?,
        first_day,
        last_day,
        time_zone: zone_name,
        campaigns,
        agents,
        calls: results.iter().map(|r| r.calls).sum(),
        contacted: flagged(ResultFlag::Contacted),
        appointments: flagged(ResultFlag::Appointment),
        callbacks: flagged(ResultFlag::Callback),
        per_agent: per_agent.into_values().collect(),
        results,
        per_day: per_day.into_iter().collect(),
        funnel,
        questions,
        contracts,
        booked,
    })
}

/// The questions in the order a walk meets them (breadth-first from the start of the newest
/// version), each with its counts; questions answered on older versions only come last.
fn funnel(tree: Option<&ArgumentTree>, mut answers: HashMap<u32, FunnelStep>) -> Vec<FunnelStep> {
    let mut steps = Vec::new();
    if let Some(tree) = tree {
        let mut queue = VecDeque::from([tree.start]);
        let mut seen = std::collections::HashSet::new();
        while let Some(key) = queue.pop_front() {
            let Some(node) = tree.node(key) else { continue };
            if !seen.insert(key) {
                continue;
            }
            let mut step = answers
                .remove(&key)
                .unwrap_or(FunnelStep { node: key, text: String::new(), reached: 0, yes: 0, no: 0, undecided: 0, hung_up: 0 });
            step.text = node.text.clone();
            steps.push(step);
            for answer in Answer::ALL {
                if let Branch::Node(next) = node.branch(answer) {
                    queue.push_back(next);
                }
            }
        }
    }
    let mut older: Vec<FunnelStep> = answers.into_values().collect();
    older.sort_by_key(|step| step.node);
    for step in &mut older {
        step.text = format!("Q{}", step.node);
    }
    steps.extend(older);
    steps
}

/// One call as "download all" writes it.
pub struct CallLine {
    pub at: String,
    pub agent: String,
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub result: CallResult,
    pub callback_at: String,
    pub note: String,
    /// `Q1 yes`, `Q2 hangup`…
    pub walk: Vec<String>,
    /// Each question or contract field answered, with the answer (several choices joined by
    /// ", "); yes/no answers are the codes `yes`/`no`.
    pub answers: Vec<(String, String, bool)>,
}

const EXPORT_PAGE: i64 = 2000;

/// Every call of the campaign, oldest first, paged so no connection is held between pages.
pub async fn calls(
    db: &Db,
    scope: TenantScope,
    campaign_id: i64,
) -> Result<impl futures::Stream<Item = Result<CallLine, AppError>> + Send + 'static, AppError> {
    use futures::StreamExt;
    let campaign = sqlx::query(
        "SELECT c.results, t.time_zone, c.questionnaire FROM campaigns c JOIN tenants t ON t.id = c.tenant_id
         WHERE c.id = $1 AND c.tenant_id = $2",
    )
        .bind(campaign_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let results = results_or_default(&campaign.try_get::<String, _>(0)?);
    let zone: String = campaign.try_get(1)?;
    let questionnaire = std::sync::Arc::new(crate::crm::forms::store::parse(&campaign.try_get::<String, _>(2)?));
    let pool = db.pool().clone();
    let pages = futures::stream::unfold(Some(0_i64), move |after| {
        let (pool, results, zone, questionnaire) = (pool.clone(), results.clone(), zone.clone(), questionnaire.clone());
        async move {
            let after = after?;
            match call_page(&pool, campaign_id, after, &results, &zone, &questionnaire).await {
                Err(error) => Some((vec![Err(error)], None)),
                Ok((lines, _)) if lines.is_empty() => None,
                Ok((lines, last)) => Some((lines.into_iter().map(Ok).collect(), Some(last))),
            }
        }
    });
    Ok(pages.flat_map(futures::stream::iter))
}

async fn call_page(
    pool: &sqlx::AnyPool,
    campaign_id: i64,
    after: i64,
    results: &[CallResult],
    zone: &str,
    questionnaire: &Questionnaire,
) -> Result<(Vec<CallLine>, i64), AppError> {
    use crate::crm::contacts::store::local_time;
    let rows = sqlx::query(
        "SELECT c.id, c.started_at, COALESCE(u.first_name || ' ' || u.last_name, ''), COALESCE(k.first_name, ''),
                COALESCE(k.last_name, ''), c.phone, c.result, c.callback_at, c.note
         FROM crm_calls c LEFT JOIN users u ON u.id = c.agent_id LEFT JOIN contacts k ON k.id = c.contact_id
         WHERE c.campaign_id = $1 AND c.id > $2 ORDER BY c.id LIMIT $3",
    )
    .bind(campaign_id)
    .bind(after)
    .bind(EXPORT_PAGE)
    .fetch_all(pool)
    .await?;
    let (Some(first), Some(last)) = (rows.first(), rows.last()) else { return Ok((vec![], after)) };
    let (first, last): (i64, i64) = (first.try_get(0)?, last.try_get(0)?);
    let mut walks: HashMap<i64, Vec<String>> = HashMap::new();
    for row in sqlx::query(
        "SELECT call_id, item, answer FROM crm_answers
         WHERE campaign_id = $1 AND form = 'tree' AND call_id >= $2 AND call_id <= $3 ORDER BY call_id, position",
    )
    .bind(campaign_id)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await?
    {
        let (call, item, answer): (i64, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?);
        walks.entry(call).or_default().push(format!("Q{item} {answer}"));
    }
    let mut forms: HashMap<i64, Vec<(String, String, bool)>> = HashMap::new();
    for row in sqlx::query(
        "SELECT call_id, form, item, answer FROM crm_answers
         WHERE campaign_id = $1 AND form <> 'tree' AND call_id >= $2 AND call_id <= $3 ORDER BY call_id, position",
    )
    .bind(campaign_id)
    .bind(first)
    .bind(last)
    .fetch_all(pool)
    .await?
    {
        let (call, form, item, answer): (i64, String, String, String) = (row.try_get(0)?, row.try_get(1)?, row.try_get(2)?, row.try_get(3)?);
        let key: u32 = item.parse().unwrap_or(0);
        let (label, value) = if form == "contract" {
            let label = questionnaire.contract.iter().find(|f| f.key == key).map_or_else(|| format!("#{item}"), |f| f.label.clone());
            (label, answer)
        } else {
            let question = questionnaire.questions.iter().find(|q| q.key == key);
            let label = question.map_or_else(|| format!("#{item}"), |q| q.text.clone());
            let value = question
                .and_then(|q| q.choices.iter().find(|c| c.key.to_string() == answer))
                .map_or(answer, |c| c.label.clone());
            (label, value)
        };
        let entries = forms.entry(call).or_default();
        match entries.last_mut() {
            Some((last, values, _)) if *last == label => {
                values.push_str(", ");
                values.push_str(&value);
            }
            _ => entries.push((label, value, form == "yes_no")),
        }
    }
    let lines = rows
        .iter()
        .map(|row| {
            let id: i64 = row.try_get(0)?;
            let code: String = row.try_get(6)?;
            let callback: Option<i64> = row.try_get(7)?;
            Ok(CallLine {
                at: local_time(row.try_get(1)?, zone),
                agent: row.try_get(2)?,
                first_name: row.try_get(3)?,
                last_name: row.try_get(4)?,
                phone: row.try_get(5)?,
                result: results.iter().find(|r| r.code == code).cloned().unwrap_or(CallResult { label: code.clone(), code, flags: vec![] }),
                callback_at: callback.map(|ms| local_time(ms, zone)).unwrap_or_default(),
                note: row.try_get(8)?,
                walk: walks.remove(&id).unwrap_or_default(),
                answers: forms.remove(&id).unwrap_or_default(),
            })
        })
        .collect::<Result<Vec<_>, AppError>>()?;
    Ok((lines, last))
}
