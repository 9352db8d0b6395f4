//! The agent desk against both database backends: contacts handed out once, reservations that
//! run out, callbacks, retries, walks checked against the tree version, tenants and assignments.

use super::{CallReport, CallbackFor, RESERVATION_MS, RETRY_AFTER_MS, Step, store};
use crate::auth::ProfileKind;
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::{CampaignSettings, CampaignState, FormKind, store as campaigns};
use crate::crm::trees::{Answer, ArgumentTree, Branch, store as trees};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::tenants::testing::tenant;
use crate::users::{NewUser, store as users};

/// 2026-11-22 10:00 UTC.
const T0: i64 = 1_795_341_600_000;

async fn agent(db: &Db, scope: TenantScope, login: &str) -> i64 {
    let new = NewUser {
        login: login.into(),
        first_name: "Alice".into(),
        last_name: login.into(),
        password: "correct horse battery".into(),
        profiles: vec![ProfileKind::Agent],
        own_phone: "PJSIP/1001".into(),
    };
    users::create(db, scope, &new, T0).await.unwrap()
}

/// A base of `count` contacts.
async fn base(db: &Db, scope: TenantScope, count: usize) -> i64 {
    let base_id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, 'Clients', 'ready', 'base.csv', 'FR', '[\"Ville\"]', $2, $3) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(count as i64)
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for i in 0..count {
        sqlx::query(
            "INSERT INTO contacts (base_id, line, first_name, last_name, phone, var1, var2, custom, search)
             VALUES ($1, $2, 'Jean', $3, $4, '', '', '[\"Lyon\"]', '')",
        )
        .bind(base_id)
        .bind(i as i64 + 2)
        .bind(format!("Contact {i}"))
        .bind(format!("+3361234{i:04}"))
        .execute(db.pool())
        .await
        .unwrap();
    }
    base_id
}

/// Q1: yes → Q2, no → end, undecided → end; Q2 ends every way.
fn script() -> ArgumentTree {
    let mut tree = ArgumentTree::single("Do you have internet?");
    let second = tree.add_node("Would you like fibre?");
    let node = tree.node_mut(second).unwrap();
    (node.yes, node.no, node.undecided) = (Branch::End, Branch::End, Branch::End);
    tree.node_mut(1).unwrap().yes = Branch::Node(second);
    tree
}

/// An active campaign on a base of `contacts`, with the script, worked by the given agents.
async fn campaign(db: &Db, scope: TenantScope, contacts: usize, agents: &[i64]) -> (i64, i64) {
    let tree_id = trees::create(db, scope, "Script", "Do you have internet?", T0).await.unwrap();
    trees::save(db, scope, tree_id, "Script", &script(), T0).await.unwrap();
    let settings = CampaignSettings {
        name: "Fibre".into(),
        product: "Fibre".into(),
        base_id: base(db, scope, contacts).await,
        starts_on: "2026-11-01".into(),
        ends_on: "2026-12-31".into(),
        forms: vec![FormKind::ArgumentTree],
        tree_id: Some(tree_id),
        pbx: String::new(),
    };
    let id = campaigns::create(db, scope, &settings, T0).await.unwrap();
    for agent in agents {
        sqlx::query("INSERT INTO campaign_agents (campaign_id, user_id) VALUES ($1, $2)").bind(id).bind(agent).execute(db.pool()).await.unwrap();
    }
    campaigns::set_state(db, scope, id, CampaignState::Active).await.unwrap();
    let version: i64 = sqlx::query_scalar("SELECT id FROM argument_tree_versions WHERE tree_id = $1").bind(tree_id).fetch_one(db.pool()).await.unwrap();
    (id, version)
}

fn report(slot_id: i64, result: &str) -> CallReport {
    CallReport {
        slot_id,
        result: result.into(),
        path: vec![],
        callback_at: String::new(),
        callback_for: CallbackFor::Me,
        note: String::new(),
        answers: vec![],
        contract: vec![],
        appointment: None,
    }
}

#[tokio::test]
async fn agents_asking_at_once_never_get_the_same_contact() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let mut agents = Vec::new();
        for i in 0..8 {
            agents.push(agent(&db, scope, &format!("agent{i}")).await);
        }
        let (campaign_id, _) = campaign(&db, scope, 5, &agents).await;
        let asks = agents.iter().map(|&agent_id| {
            let db = db.clone();
            tokio::spawn(async move { store::next_contact(&db, scope, agent_id, campaign_id, T0).await })
        });
        let mut slots = Vec::new();
        for ask in asks {
            if let Some(contact) = ask.await.unwrap().unwrap() {
                slots.push(contact.slot_id);
            }
        }
        slots.sort();
        let handed = slots.len();
        slots.dedup();
        assert_eq!((handed, slots.len()), (5, 5), "5 contacts, each to one agent");
        // Asking again gives an agent back the contact they hold.
        let again = store::next_contact(&db, scope, agents[0], campaign_id, T0 + 1000).await.unwrap();
        let held: Option<i64> = sqlx::query_scalar("SELECT id FROM campaign_contacts WHERE agent_id = $1").bind(agents[0]).fetch_optional(db.pool()).await.unwrap();
        assert_eq!(again.map(|c| c.slot_id), held);
    }
}

#[tokio::test]
async fn a_reservation_left_alone_runs_out_and_goes_to_another_agent() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let (alice, bruno) = (agent(&db, scope, "alice").await, agent(&db, scope, "bruno").await);
        let (campaign_id, _) = campaign(&db, scope, 1, &[alice, bruno]).await;
        let mine = store::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap();
        assert_eq!((mine.last_name.as_str(), mine.custom.clone()), ("Contact 0", vec!["Lyon".to_string()]));
        assert_eq!(store::next_contact(&db, scope, bruno, campaign_id, T0 + 1000).await.unwrap(), None);
        // Kept alive, it stays Alice's past the first deadline.
        assert!(store::keep_alive(&db, scope, alice, campaign_id, Some(mine.slot_id), T0 + RESERVATION_MS - 1000).await.unwrap());
        assert_eq!(store::next_contact(&db, scope, bruno, campaign_id, T0 + RESERVATION_MS + 1000).await.unwrap(), None);
        // Then her browser closes: it runs out and Bruno gets it.
        let later = T0 + 3 * RESERVATION_MS;
        let his = store::next_contact(&db, scope, bruno, campaign_id, later).await.unwrap().unwrap();
        assert_eq!(his.slot_id, mine.slot_id);
        assert!(!store::keep_alive(&db, scope, alice, campaign_id, Some(mine.slot_id), later + 1).await.unwrap());
        assert_eq!(
            store::finish(&db, scope, alice, campaign_id, None, &report(mine.slot_id, "interested"), later + 2).await,
            Err(AppError::invalid(Field::Contact, Problem::NotAllowedNow))
        );
        // Leaving the desk frees what one holds at once.
        store::leave(&db, scope, bruno, campaign_id, later + 3).await.unwrap();
        assert_eq!(store::next_contact(&db, scope, alice, campaign_id, later + 4).await.unwrap().map(|c| c.slot_id), Some(mine.slot_id));
    }
}

#[tokio::test]
async fn results_decide_when_a_contact_comes_back_and_to_whom() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let (alice, bruno) = (agent(&db, scope, "alice").await, agent(&db, scope, "bruno").await);
        let (campaign_id, _) = campaign(&db, scope, 3, &[alice, bruno]).await;
        let first = store::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap();
        // A callback needs a time ahead; 12:30 in Paris is 11:30 UTC.
        let mut callback = report(first.slot_id, "callback");
        assert_eq!(
            store::finish(&db, scope, alice, campaign_id, None, &callback, T0).await,
            Err(AppError::invalid(Field::CallbackAt, Problem::Required))
        );
        callback.callback_at = "2026-11-22T12:30".into();
        store::finish(&db, scope, alice, campaign_id, None, &callback, T0).await.unwrap();
        let second = store::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap();
        store::finish(&db, scope, alice, campaign_id, None, &report(second.slot_id, "no_answer"), T0).await.unwrap();
        let third = store::next_contact(&db, scope, bruno, campaign_id, T0).await.unwrap().unwrap();
        store::finish(&db, scope, bruno, campaign_id, None, &report(third.slot_id, "appointment"), T0).await.unwrap();
        assert_eq!(store::next_contact(&db, scope, bruno, campaign_id, T0 + 60_000).await.unwrap(), None);

        // The callback is Alice's at its time: not Bruno's, even when due.
        let due = T0 + 90 * 60_000;
        let choices = store::choices(&db, scope, alice, due).await.unwrap();
        assert_eq!((choices[0].fresh, choices[0].callbacks_due), (0, 1));
        let bruno_gets = store::next_contact(&db, scope, bruno, campaign_id, due).await.unwrap().unwrap();
        assert_eq!(bruno_gets.slot_id, second.slot_id, "the unanswered contact, due again after an hour");
        assert!(due - T0 >= RETRY_AFTER_MS);
        let back = store::next_contact(&db, scope, alice, campaign_id, due).await.unwrap().unwrap();
        assert_eq!((back.slot_id, back.callback_at.as_deref(), back.attempts), (first.slot_id, Some("2026-11-22 12:30"), 1));
        // Booked for anyone, Bruno may take it.
        let mut anyone = report(back.slot_id, "callback");
        (anyone.callback_at, anyone.callback_for) = ("2026-11-22T14:00".into(), CallbackFor::Anyone);
        store::finish(&db, scope, alice, campaign_id, None, &anyone, due).await.unwrap();
        store::finish(&db, scope, bruno, campaign_id, None, &report(bruno_gets.slot_id, "wrong_number"), due).await.unwrap();
        let at_two = T0 + 3 * 3_600_000 + 1;
        assert_eq!(store::next_contact(&db, scope, bruno, campaign_id, at_two).await.unwrap().map(|c| c.slot_id), Some(first.slot_id));
        let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crm_calls WHERE campaign_id = $1").bind(campaign_id).fetch_one(db.pool()).await.unwrap();
        assert_eq!(calls, 5);
        assert_eq!(
            store::finish(&db, scope, bruno, campaign_id, None, &report(first.slot_id, "sold"), at_two).await,
            Err(AppError::invalid(Field::CallResult, Problem::Required))
        );
    }
}

#[tokio::test]
async fn the_walk_is_checked_against_the_version_given_and_stored() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let alice = agent(&db, scope, "alice").await;
        let (campaign_id, version) = campaign(&db, scope, 2, &[alice]).await;
        let opened = store::open(&db, scope, alice, campaign_id, T0).await.unwrap();
        assert_eq!(opened.tree.as_ref().map(|(v, t)| (*v, t.nodes.len())), Some((version, 2)));
        let contact = store::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap();
        let mut call = report(contact.slot_id, "interested");
        call.path = vec![Step { node: 2, answer: Some(Answer::Yes) }];
        let off_the_tree = AppError::invalid(Field::ArgumentTree, Problem::BadFormat);
        assert_eq!(store::finish(&db, scope, alice, campaign_id, Some(version), &call, T0).await, Err(off_the_tree.clone()));
        assert_eq!(store::finish(&db, scope, alice, campaign_id, Some(version + 1000), &call, T0).await, Err(off_the_tree));
        call.path = vec![Step { node: 1, answer: Some(Answer::Yes) }, Step { node: 2, answer: None }];
        call.note = "  Wants a call about TV too.  ".into();
        store::finish(&db, scope, alice, campaign_id, Some(version), &call, T0 + 5000).await.unwrap();
        let answers: Vec<(String, String)> = sqlx::query_as("SELECT item, answer FROM crm_answers ORDER BY position")
            .fetch_all(db.pool())
            .await
            .unwrap();
        assert_eq!(answers, vec![("1".into(), "yes".into()), ("2".into(), "hangup".into())]);
        let (stored_version, note): (i64, String) = sqlx::query_as("SELECT tree_version_id, note FROM crm_calls").fetch_one(db.pool()).await.unwrap();
        assert_eq!((stored_version, note.as_str()), (version, "Wants a call about TV too."));
        store::leave(&db, scope, alice, campaign_id, T0 + 6000).await.unwrap();
        let (started, ended): (i64, Option<i64>) = sqlx::query_as("SELECT started_at, ended_at FROM agent_sessions").fetch_one(db.pool()).await.unwrap();
        assert_eq!((started, ended), (T0, Some(T0 + 6000)));
    }
}

#[tokio::test]
async fn only_assigned_agents_of_the_tenant_work_an_active_campaign() {
    for db in each_backend().await {
        let alpha = tenant(&db, "Alpha", "alpha.admin").await;
        let beta = tenant(&db, "Beta", "beta.admin").await;
        let alice = agent(&db, alpha, "alice").await;
        let idle = agent(&db, alpha, "idle").await;
        let stranger = agent(&db, beta, "stranger").await;
        let (campaign_id, _) = campaign(&db, alpha, 2, &[alice]).await;
        assert_eq!(store::next_contact(&db, alpha, idle, campaign_id, T0).await, Err(AppError::NotFound));
        assert_eq!(store::next_contact(&db, beta, stranger, campaign_id, T0).await, Err(AppError::NotFound));
        assert!(store::choices(&db, alpha, idle, T0).await.unwrap().is_empty());
        assert_eq!(store::choices(&db, alpha, alice, T0).await.unwrap()[0].fresh, 2);
        let held = store::next_contact(&db, alpha, alice, campaign_id, T0).await.unwrap().unwrap();
        assert_eq!(store::dial_plan(&db, beta, stranger, held.slot_id).await.err(), Some(AppError::NotFound));
        // Without a PBX on the campaign, click-to-call says so.
        assert_eq!(store::dial_plan(&db, alpha, alice, held.slot_id).await.err(), Some(AppError::PbxNotConnected));
        campaigns::set_state(&db, alpha, campaign_id, CampaignState::Closed).await.unwrap();
        assert_eq!(store::next_contact(&db, alpha, alice, campaign_id, T0).await, Err(AppError::NotFound));
    }
}
