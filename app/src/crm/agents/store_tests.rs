//! Agents against both database backends: creation with assignment all or nothing, checks,
//! counts from the desk's calls, history, tenants apart.

use super::{AgentEdit, NewAgent, store};
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::{CampaignSettings, CampaignState, FormKind, store as campaigns};
use crate::crm::desk::{CallReport, CallbackFor, store as desk};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::tenants::testing::tenant;

const T0: i64 = 1_795_341_600_000;

async fn campaign(db: &Db, scope: TenantScope, name: &str) -> i64 {
    let base_id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, $2, 'ready', 'base.csv', 'FR', '[]', 2, $3) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(name)
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for phone in ["+33612340001", "+33612340002"] {
        sqlx::query("INSERT INTO contacts (base_id, line, first_name, last_name, phone, var1, var2, custom, search) VALUES ($1, 2, 'A', 'B', $2, '', '', '[]', '')")
            .bind(base_id)
            .bind(phone)
            .execute(db.pool())
            .await
            .unwrap();
    }
    let settings = CampaignSettings {
        name: name.into(),
        product: "Fibre".into(),
        base_id,
        starts_on: "2026-11-01".into(),
        ends_on: "2026-12-31".into(),
        forms: vec![FormKind::YesNo],
        tree_id: None,
        pbx: String::new(),
    };
    campaigns::create(db, scope, &settings, T0).await.unwrap()
}

fn new_agent(login: &str, campaign_ids: Vec<i64>) -> NewAgent {
    NewAgent {
        first_name: "Malika".into(),
        last_name: "Benali".into(),
        login: login.into(),
        password: "correct horse battery".into(),
        extension: "PJSIP/1005".into(),
        caller_number: "01 23 45 67 89".into(),
        campaign_ids,
    }
}

#[tokio::test]
async fn an_agent_is_created_assigned_counted_and_has_a_history() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let fibre = campaign(&db, scope, "Fibre").await;
        let id = store::create(&db, scope, &new_agent("malika", vec![fibre, fibre]), T0).await.unwrap();
        let listed = store::list(&db, scope).await.unwrap();
        assert_eq!(listed.len(), 1, "the administrator is not an agent");
        assert_eq!(
            (listed[0].extension.as_str(), listed[0].caller_number.as_str(), listed[0].campaigns.len()),
            ("PJSIP/1005", "+33123456789", 1)
        );

        // Calls at the desk count; an appointment result counts as an appointment.
        campaigns::set_state(&db, scope, fibre, CampaignState::Active).await.unwrap();
        desk::open(&db, scope, id, fibre, T0).await.unwrap();
        for (i, result) in ["appointment", "no_answer"].into_iter().enumerate() {
            let now = T0 + i as i64 * 1000;
            let contact = desk::next_contact(&db, scope, id, fibre, now).await.unwrap().unwrap();
            let report = CallReport {
                slot_id: contact.slot_id,
                result: result.into(),
                path: vec![],
                callback_at: String::new(),
                callback_for: CallbackFor::Me,
                note: String::new(),
                answers: vec![],
                contract: vec![],
                appointment: None,
            };
            desk::finish(&db, scope, id, fibre, None, &report, now).await.unwrap();
        }
        let listed = store::list(&db, scope).await.unwrap();
        assert_eq!((listed[0].calls, listed[0].appointments), (2, 1));

        // Open while the desk sends news; a silent desk counts as left at its last news.
        let sessions = store::sessions(&db, scope, id, T0 + 30_000, 10).await.unwrap();
        assert_eq!((sessions[0].campaign.as_str(), sessions[0].started_at.as_str(), sessions[0].ended_at.as_str()), ("Fibre", "2026-11-22 11:00", ""));
        let sessions = store::sessions(&db, scope, id, T0 + 3_600_000, 10).await.unwrap();
        assert_eq!(sessions[0].ended_at, "2026-11-22 11:00");
        desk::open(&db, scope, id, fibre, T0 + 7_200_000).await.unwrap();
        desk::leave(&db, scope, id, fibre, T0 + 7_260_000).await.unwrap();
        let sessions = store::sessions(&db, scope, id, T0 + 7_300_000, 10).await.unwrap();
        assert_eq!(sessions.iter().map(|s| (s.started_at.as_str(), s.ended_at.as_str())).collect::<Vec<_>>(), vec![
            ("2026-11-22 13:00", "2026-11-22 13:01"),
            ("2026-11-22 11:00", "2026-11-22 11:00"),
        ]);
    }
}

#[tokio::test]
async fn bad_agents_are_refused_whole_and_tenants_stay_apart() {
    for db in each_backend().await {
        let alpha = tenant(&db, "Alpha", "alpha.admin").await;
        let beta = tenant(&db, "Beta", "beta.admin").await;
        let ours = campaign(&db, alpha, "Fibre").await;
        let theirs = campaign(&db, beta, "Mobile").await;
        let refused = |agent: NewAgent| {
            let db = db.clone();
            async move { store::create(&db, alpha, &agent, T0).await }
        };
        assert_eq!(refused(new_agent("xavier", vec![theirs])).await, Err(AppError::invalid(Field::Campaigns, Problem::Unknown)));
        assert_eq!(refused(NewAgent { extension: String::new(), ..new_agent("xavier", vec![]) }).await, Err(AppError::invalid(Field::OwnPhone, Problem::Required)));
        assert_eq!(refused(NewAgent { extension: "1005".into(), ..new_agent("xavier", vec![]) }).await, Err(AppError::invalid(Field::OwnPhone, Problem::BadFormat)));
        assert_eq!(refused(NewAgent { caller_number: "12".into(), ..new_agent("xavier", vec![]) }).await, Err(AppError::invalid(Field::CallerNumber, Problem::BadFormat)));
        assert_eq!(refused(NewAgent { password: "short".into(), ..new_agent("xavier", vec![]) }).await.err().map(|e| matches!(e, AppError::Invalid { field: Field::Password, .. })), Some(true));
        let users: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(db.pool()).await.unwrap();
        assert_eq!(users, 2, "nothing half-created");

        let id = store::create(&db, alpha, &new_agent("malika", vec![ours]), T0).await.unwrap();
        assert_eq!(store::create(&db, beta, &new_agent("malika", vec![]), T0).await, Err(AppError::Duplicate { field: Field::Login }));
        let edit = AgentEdit {
            first_name: "Malika".into(),
            last_name: "Benali-Roux".into(),
            extension: "PJSIP/1006".into(),
            caller_number: "+32 2 555 12 34".into(),
            campaign_ids: vec![],
        };
        assert_eq!(store::update(&db, beta, id, &edit).await, Err(AppError::NotFound));
        assert_eq!(store::sessions(&db, beta, id, T0, 10).await, Err(AppError::NotFound));
        // The tenant's administrator is no agent to edit here.
        let admin: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login = 'alpha.admin'").fetch_one(db.pool()).await.unwrap();
        assert_eq!(store::update(&db, alpha, admin, &edit).await, Err(AppError::NotFound));
        store::update(&db, alpha, id, &edit).await.unwrap();
        let listed = store::list(&db, alpha).await.unwrap();
        assert_eq!((listed[0].last_name.as_str(), listed[0].caller_number.as_str(), listed[0].campaigns.len()), ("Benali-Roux", "+3225551234", 0));
        assert!(store::list(&db, beta).await.unwrap().is_empty());
    }
}
