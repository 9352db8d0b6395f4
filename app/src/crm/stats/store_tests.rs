//! Campaign statistics against both database backends, from calls made through the desk.

use futures::StreamExt;

use super::{CampaignStatsFilter, store};
use crate::acd::stats::Period;
use crate::auth::ProfileKind;
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::{CampaignSettings, CampaignState, FormKind, store as campaigns};
use crate::crm::desk::{CallReport, CallbackFor, Step, store as desk};
use crate::crm::trees::{Answer, ArgumentTree, Branch, store as trees};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::AppError;
use crate::tenants::testing::tenant;
use crate::users::{NewUser, store as users};

/// 2026-11-22 10:00 UTC (11:00 in Paris).
const T0: i64 = 1_795_341_600_000;
const DAY: i64 = 86_400_000;

async fn agent(db: &Db, scope: TenantScope, login: &str, last_name: &str) -> i64 {
    let new = NewUser {
        login: login.into(),
        first_name: "Agent".into(),
        last_name: last_name.into(),
        password: "correct horse battery".into(),
        profiles: vec![ProfileKind::Agent],
        own_phone: "PJSIP/1001".into(),
    };
    users::create(db, scope, &new, T0).await.unwrap()
}

/// Q1 yes → Q2, no → end, undecided → Q3; Q2 and Q3 end every way.
fn script() -> ArgumentTree {
    let mut tree = ArgumentTree::single("Internet at home?");
    for text in ["Faster line?", "Can I explain?"] {
        let key = tree.add_node(text);
        let node = tree.node_mut(key).unwrap();
        (node.yes, node.no, node.undecided) = (Branch::End, Branch::End, Branch::End);
    }
    let first = tree.node_mut(1).unwrap();
    (first.yes, first.undecided) = (Branch::Node(2), Branch::Node(3));
    tree
}

fn step(node: u32, answer: Option<Answer>) -> Step {
    Step { node, answer }
}

#[tokio::test]
async fn results_agents_days_and_the_funnel_follow_the_calls() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let (alice, bruno) = (agent(&db, scope, "alice", "Martin").await, agent(&db, scope, "bruno", "Durand").await);
        let tree_id = trees::create(&db, scope, "Script", "Internet at home?", T0).await.unwrap();
        trees::save(&db, scope, tree_id, "Script", &script(), T0).await.unwrap();
        let base_id: i64 = sqlx::query_scalar(
            "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
             VALUES ($1, 'Clients', 'ready', 'c.csv', 'FR', '[]', 5, $2) RETURNING id",
        )
        .bind(scope.tenant_id())
        .bind(T0)
        .fetch_one(db.pool())
        .await
        .unwrap();
        for i in 0..5 {
            sqlx::query("INSERT INTO contacts (base_id, line, first_name, last_name, phone, var1, var2, custom, search) VALUES ($1, $2, 'Jean', $3, $4, '', '', '[]', '')")
                .bind(base_id)
                .bind(i + 2)
                .bind(format!("Client {i}"))
                .bind(format!("+3361234000{i}"))
                .execute(db.pool())
                .await
                .unwrap();
        }
        let settings = CampaignSettings {
            name: "Fibre".into(),
            product: "Fibre".into(),
            base_id,
            starts_on: "2026-11-01".into(),
            ends_on: "2026-12-31".into(),
            forms: vec![FormKind::ArgumentTree],
            tree_id: Some(tree_id),
            pbx: String::new(),
        };
        let campaign_id = campaigns::create(&db, scope, &settings, T0).await.unwrap();
        for agent in [alice, bruno] {
            sqlx::query("INSERT INTO campaign_agents (campaign_id, user_id) VALUES ($1, $2)").bind(campaign_id).bind(agent).execute(db.pool()).await.unwrap();
        }
        campaigns::set_state(&db, scope, campaign_id, CampaignState::Active).await.unwrap();
        let version = desk::open(&db, scope, alice, campaign_id, T0).await.unwrap().tree.unwrap().0;
        // (agent, day, result, walk)
        let calls = [
            (alice, 0, "appointment", vec![step(1, Some(Answer::Yes)), step(2, Some(Answer::Yes))]),
            (alice, 0, "not_interested", vec![step(1, Some(Answer::No))]),
            (bruno, 0, "callback", vec![step(1, Some(Answer::Undecided)), step(3, None)]),
            (bruno, 1, "appointment", vec![step(1, Some(Answer::Yes)), step(2, Some(Answer::Undecided))]),
            (bruno, 1, "no_answer", vec![]),
        ];
        for (agent, day, result, path) in calls {
            let now = T0 + day * DAY;
            let contact = desk::next_contact(&db, scope, agent, campaign_id, now).await.unwrap().unwrap();
            let report = CallReport {
                slot_id: contact.slot_id,
                result: result.into(),
                path,
                callback_at: "2026-12-01T09:00".into(),
                callback_for: CallbackFor::Anyone,
                note: "Rappeler, « urgent »".into(),
                answers: vec![],
                contract: vec![],
                appointment: None,
            };
            desk::finish(&db, scope, agent, campaign_id, Some(version), &report, now + 60_000).await.unwrap();
        }

        let whole = CampaignStatsFilter { campaign_id: 0, agent_id: None, period: None };
        let r = store::report(&db, scope, &whole, T0 + 2 * DAY).await.unwrap();
        assert_eq!((r.campaign_id, r.calls, r.contacted, r.appointments, r.callbacks), (campaign_id, 5, 4, 2, 1));
        let count = |code: &str| r.results.iter().find(|c| c.result.code == code).unwrap().calls;
        assert_eq!((count("appointment"), count("no_answer"), count("wrong_number")), (2, 1, 0));
        let funnel: Vec<(u32, i64, i64, i64, i64, i64)> = r.funnel.iter().map(|s| (s.node, s.reached, s.yes, s.no, s.undecided, s.hung_up)).collect();
        assert_eq!(funnel, vec![(1, 4, 2, 1, 1, 0), (2, 2, 1, 0, 1, 0), (3, 1, 0, 0, 0, 1)]);
        assert_eq!(r.funnel[2].text, "Can I explain?");
        let agents: Vec<(String, i64, i64, i64)> = r.per_agent.iter().map(|a| (a.name.clone(), a.calls, a.contacted, a.appointments)).collect();
        assert_eq!(agents, vec![("Agent Durand".into(), 3, 2, 1), ("Agent Martin".into(), 2, 2, 1)]);
        assert_eq!(r.per_day, vec![("2026-11-22".into(), 3), ("2026-11-23".into(), 2)]);
        assert_eq!(r.agents.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(), vec!["Agent Durand", "Agent Martin"]);

        // Bruno on the second day only.
        let narrow = CampaignStatsFilter {
            campaign_id,
            agent_id: Some(bruno),
            period: Some(Period::Dates { from: "2026-11-23".into(), to: "2026-11-23".into() }),
        };
        let r = store::report(&db, scope, &narrow, T0 + 2 * DAY).await.unwrap();
        assert_eq!((r.calls, r.appointments), (2, 1));
        assert_eq!(r.funnel.iter().map(|s| (s.node, s.reached)).collect::<Vec<_>>(), vec![(1, 1), (2, 1), (3, 0)]);

        // Every call, with its walk, for "download all".
        let lines: Vec<_> = store::calls(&db, scope, campaign_id).await.unwrap().collect().await;
        assert_eq!(lines.len(), 5);
        let third = lines[2].as_ref().unwrap();
        assert_eq!((third.agent.as_str(), third.callback_at.as_str(), third.walk.clone()), ("Agent Durand", "2026-12-01 09:00", vec!["Q1 undecided".to_string(), "Q3 hangup".to_string()]));
        assert_eq!(third.note, "Rappeler, « urgent »");

        // Another tenant sees none of it.
        let beta = tenant(&db, "Beta", "beta.admin").await;
        let theirs = CampaignStatsFilter { campaign_id, agent_id: None, period: None };
        assert_eq!(store::report(&db, beta, &theirs, T0).await.err(), Some(AppError::NotFound));
        assert!(store::calls(&db, beta, campaign_id).await.is_err());
    }
}
