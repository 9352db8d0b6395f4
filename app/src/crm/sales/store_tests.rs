//! Field sales people, campaign forms and appointments against both database backends: forms
//! saved in the editor, filled at the desk, booked into an agenda and counted by the statistics.

use futures::StreamExt;

use super::{AppointmentRequest, SalesPersonSettings, store};
use crate::auth::ProfileKind;
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::results::{CallResult, ResultFlag, default_results};
use crate::crm::campaigns::{CampaignSettings, CampaignState, FormKind, store as campaigns};
use crate::crm::desk::{CallReport, CallbackFor, store as desk};
use crate::crm::forms::{Choice, ContractField, ContractFieldKind, NO, Question, QuestionAnswer, QuestionKind, Questionnaire, YES, store as forms};
use crate::crm::stats::{CampaignStatsFilter, store as stats};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Item, Problem};
use crate::tenants::testing::tenant;
use crate::users::{NewUser, store as users};

/// 2026-11-22 10:00 UTC (11:00 in Paris).
const T0: i64 = 1_795_341_600_000;

fn person(first: &str, last: &str) -> SalesPersonSettings {
    SalesPersonSettings {
        first_name: first.into(),
        last_name: last.into(),
        phone: "06 12 34 56 78".into(),
        email: "paul@example.com".into(),
        area: "Lyon 3e".into(),
        active: true,
    }
}

async fn agent(db: &Db, scope: TenantScope, login: &str) -> i64 {
    let new = NewUser {
        login: login.into(),
        first_name: "Agent".into(),
        last_name: login.into(),
        password: "correct horse battery".into(),
        profiles: vec![ProfileKind::Agent],
        own_phone: "PJSIP/1001".into(),
    };
    users::create(db, scope, &new, T0).await.unwrap()
}

/// An active campaign with every form, `contacts` contacts and the agents assigned.
async fn campaign(db: &Db, scope: TenantScope, contacts: i64, agents: &[i64]) -> i64 {
    let base_id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, 'Clients', 'ready', 'c.csv', 'FR', '[]', $2, $3) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(contacts)
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for i in 0..contacts {
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
        forms: vec![FormKind::MultipleChoice, FormKind::YesNo, FormKind::Contract, FormKind::Appointment],
        tree_id: None,
        pbx: String::new(),
    };
    let id = campaigns::create(db, scope, &settings, T0).await.unwrap();
    for agent in agents {
        sqlx::query("INSERT INTO campaign_agents (campaign_id, user_id) VALUES ($1, $2)").bind(id).bind(agent).execute(db.pool()).await.unwrap();
    }
    campaigns::set_state(db, scope, id, CampaignState::Active).await.unwrap();
    id
}

fn new_question(kind: QuestionKind, text: &str, choices: &[&str], required: bool) -> Question {
    let choices = choices.iter().map(|label| Choice { key: 0, label: label.to_string() }).collect();
    Question { key: 0, kind, text: text.into(), choices, required }
}

fn call(slot_id: i64, result: &str, answers: Vec<QuestionAnswer>, contract: Vec<(u32, String)>, appointment: Option<AppointmentRequest>) -> CallReport {
    CallReport {
        slot_id,
        result: result.into(),
        path: vec![],
        callback_at: String::new(),
        callback_for: CallbackFor::Me,
        note: "Code porte 1234".into(),
        answers,
        contract,
        appointment,
    }
}

#[tokio::test]
async fn sales_people_are_checked_listed_and_kept_while_they_have_appointments() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let other = tenant(&db, "Beta", "beta.admin").await;
        let paul = store::create(&db, scope, &person(" Paul ", "Girard")).await.unwrap();
        let listed = store::list(&db, scope, T0).await.unwrap();
        assert_eq!((listed[0].settings.first_name.as_str(), listed[0].settings.phone.as_str()), ("Paul", "+33612345678"));
        let bad_email = SalesPersonSettings { email: "paul@example".into(), ..person("Paul", "Girard") };
        assert_eq!(store::create(&db, scope, &bad_email).await, Err(AppError::invalid(Field::Email, Problem::BadFormat)));
        let bad_phone = SalesPersonSettings { phone: "12".into(), ..person("Paul", "Girard") };
        assert_eq!(store::create(&db, scope, &bad_phone).await, Err(AppError::invalid(Field::Phone, Problem::BadFormat)));
        assert_eq!(store::update(&db, other, paul, &person("X", "Y")).await, Err(AppError::NotFound));
        assert_eq!(store::agenda(&db, other, paul, "", T0).await.map(|_| ()), Err(AppError::NotFound));
        // Inactive people are not offered at the desk.
        let gone = store::create(&db, scope, &SalesPersonSettings { active: false, ..person("Anne", "Roux") }).await.unwrap();
        assert_eq!(store::choices(&db, scope).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), vec![paul]);
        store::delete(&db, scope, gone).await.unwrap();
        assert_eq!(store::delete(&db, other, paul).await, Err(AppError::NotFound));
    }
}

#[tokio::test]
async fn forms_filled_at_the_desk_reach_the_agenda_and_the_statistics() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let other = tenant(&db, "Beta", "beta.admin").await;
        let alice = agent(&db, scope, "alice").await;
        let bruno = agent(&db, scope, "bruno").await;
        let campaign_id = campaign(&db, scope, 4, &[alice, bruno]).await;
        let paul = store::create(&db, scope, &person("Paul", "Girard")).await.unwrap();

        // The editor saves new items with key 0; the server numbers them.
        let draft = Questionnaire {
            next_key: 0,
            questions: vec![
                new_question(QuestionKind::Single, "Current provider?", &["Orange", "Free"], true),
                new_question(QuestionKind::Multiple, "Services used?", &["TV", "Mobile"], false),
                new_question(QuestionKind::YesNo, "Owner?", &[], false),
            ],
            contract: vec![ContractField { key: 0, label: "Monthly amount".into(), kind: ContractFieldKind::Number, required: true }],
        };
        let mut results = default_results();
        results.push(CallResult { code: String::new(), label: "Sold".into(), flags: vec![ResultFlag::Contacted] });
        assert_eq!(forms::save(&db, other, campaign_id, &draft, &results).await.map(|_| ()), Err(AppError::NotFound));
        let saved = forms::save(&db, scope, campaign_id, &draft, &results).await.unwrap();
        let q = &saved.questionnaire;
        assert_eq!(q.questions.iter().map(|q| q.key).collect::<Vec<_>>(), vec![1, 4, 7]);
        assert_eq!(q.questions[0].choices.iter().map(|c| c.key).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!((q.contract[0].key, q.next_key), (8, 10), "the new result took key 9");
        assert_eq!(saved.results.last().unwrap().code, "r9");
        let (provider, services, owner, amount) = (1, 4, 7, 8);
        let (free, tv, mobile) = (3, 5, 6);

        let opened = desk::open(&db, scope, alice, campaign_id, T0).await.unwrap();
        assert_eq!((opened.questionnaire.questions.len(), opened.sales_people.len()), (3, 1));

        // A reached contact must answer the required question.
        let slot = desk::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap().slot_id;
        let unanswered = call(slot, "interested", vec![], vec![], None);
        assert_eq!(
            desk::finish(&db, scope, alice, campaign_id, None, &unanswered, T0).await,
            Err(AppError::Item { item: Item::Question, position: 1, field: Field::Answer, problem: Problem::Required })
        );
        // An appointment result needs a sales person and a time ahead.
        let answers = vec![
            QuestionAnswer { question: provider, choices: vec![free] },
            QuestionAnswer { question: services, choices: vec![tv, mobile] },
            QuestionAnswer { question: owner, choices: vec![YES] },
        ];
        let no_booking = call(slot, "appointment", answers.clone(), vec![], None);
        assert_eq!(
            desk::finish(&db, scope, alice, campaign_id, None, &no_booking, T0).await,
            Err(AppError::invalid(Field::SalesPerson, Problem::Required))
        );
        let past = AppointmentRequest { sales_person_id: paul, starts_at: "2026-11-21T10:00".into() };
        let in_the_past = call(slot, "appointment", answers.clone(), vec![], Some(past));
        assert_eq!(
            desk::finish(&db, scope, alice, campaign_id, None, &in_the_past, T0).await,
            Err(AppError::invalid(Field::AppointmentAt, Problem::NotInFuture))
        );
        let at_ten = AppointmentRequest { sales_person_id: paul, starts_at: "2026-11-24T10:00".into() };
        let contract = vec![(amount, "39,90".to_string())];
        let booked = call(slot, "appointment", answers, contract, Some(at_ten));
        desk::finish(&db, scope, alice, campaign_id, None, &booked, T0).await.unwrap();

        // Bruno cannot book Paul half an hour later; an hour later he can.
        let slot = desk::next_contact(&db, scope, bruno, campaign_id, T0).await.unwrap().unwrap().slot_id;
        let answers = vec![QuestionAnswer { question: provider, choices: vec![free] }, QuestionAnswer { question: owner, choices: vec![NO] }];
        let clash = AppointmentRequest { sales_person_id: paul, starts_at: "2026-11-24T10:30".into() };
        let clashing = call(slot, "appointment", answers.clone(), vec![], Some(clash));
        assert_eq!(
            desk::finish(&db, scope, bruno, campaign_id, None, &clashing, T0).await,
            Err(AppError::invalid(Field::AppointmentAt, Problem::Busy))
        );
        let calls: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM crm_calls").fetch_one(db.pool()).await.unwrap();
        assert_eq!(calls, 1, "a refused booking leaves no call behind");
        let at_eleven = AppointmentRequest { sales_person_id: paul, starts_at: "2026-11-24T11:00".into() };
        desk::finish(&db, scope, bruno, campaign_id, None, &call(slot, "appointment", answers, vec![], Some(at_eleven)), T0).await.unwrap();

        // A no-answer needs no answers; a result without the flag cannot book.
        let slot = desk::next_contact(&db, scope, alice, campaign_id, T0).await.unwrap().unwrap().slot_id;
        let stray = AppointmentRequest { sales_person_id: paul, starts_at: "2026-11-25T11:00".into() };
        assert_eq!(
            desk::finish(&db, scope, alice, campaign_id, None, &call(slot, "no_answer", vec![], vec![], Some(stray)), T0).await,
            Err(AppError::invalid(Field::AppointmentAt, Problem::NotAllowedNow))
        );
        desk::finish(&db, scope, alice, campaign_id, None, &call(slot, "no_answer", vec![], vec![], None), T0).await.unwrap();

        // The agenda, in the tenant's zone.
        let agenda = store::agenda(&db, scope, paul, "2026-11-23", T0).await.unwrap();
        assert_eq!((agenda.previous.as_str(), agenda.next.as_str()), ("2026-11-16", "2026-11-30"));
        let day = &agenda.days.iter().find(|(d, _)| d == "2026-11-24").unwrap().1;
        let shown: Vec<(&str, &str, &str, &str)> = day.iter().map(|e| (e.starts.as_str(), e.ends.as_str(), e.contact.as_str(), e.agent.as_str())).collect();
        assert_eq!(shown, vec![("10:00", "11:00", "Jean Client 0", "Agent alice"), ("11:00", "12:00", "Jean Client 1", "Agent bruno")]);
        assert_eq!(day[0].note, "Code porte 1234");
        assert_eq!(store::list(&db, scope, T0).await.unwrap()[0].upcoming, 2);
        assert_eq!(store::delete(&db, scope, paul).await, Err(AppError::invalid(Field::SalesPerson, Problem::InUse)));

        // The statistics count the answers, the contract and the appointments.
        let r = stats::report(&db, scope, &CampaignStatsFilter { campaign_id, agent_id: None, period: None }, T0).await.unwrap();
        type Counts = Vec<(String, i64)>;
        let counts: Vec<(&str, i64, Counts)> = r.questions.iter().map(|q| (q.text.as_str(), q.answered, q.counts.clone())).collect();
        let pairs = |list: &[(&str, i64)]| list.iter().map(|(a, n)| (a.to_string(), *n)).collect::<Counts>();
        assert_eq!(
            counts,
            vec![
                ("Current provider?", 2, pairs(&[("Orange", 0), ("Free", 2)])),
                ("Services used?", 1, pairs(&[("TV", 1), ("Mobile", 1)])),
                ("Owner?", 2, pairs(&[("yes", 1), ("no", 1)])),
            ]
        );
        assert_eq!((r.contracts, r.booked.clone()), (1, vec![("Paul Girard".to_string(), 2)]));
        let only_bruno = CampaignStatsFilter { campaign_id, agent_id: Some(bruno), period: None };
        let r = stats::report(&db, scope, &only_bruno, T0).await.unwrap();
        assert_eq!((r.questions[0].answered, r.contracts, r.booked[0].1), (1, 0, 1));

        // "Download all" names the questions and the chosen answers.
        let lines: Vec<_> = stats::calls(&db, scope, campaign_id).await.unwrap().collect().await;
        let first = lines[0].as_ref().unwrap();
        let answers: Vec<(&str, &str)> = first.answers.iter().map(|(q, a, _)| (q.as_str(), a.as_str())).collect();
        assert_eq!(
            answers,
            vec![("Current provider?", "Free"), ("Services used?", "TV, Mobile"), ("Owner?", "yes"), ("Monthly amount", "39.90")]
        );

        // Renaming keeps the answers; a deleted question's key is never given again.
        let mut edited = saved.questionnaire.clone();
        edited.questions[0].choices[1].label = "Free (Iliad)".into();
        edited.questions.remove(1);
        edited.questions.push(new_question(QuestionKind::YesNo, "Fibre eligible?", &[], false));
        let again = forms::save(&db, scope, campaign_id, &edited, &saved.results).await.unwrap();
        assert_eq!(again.questionnaire.questions[2].key, 10);
        let r = stats::report(&db, scope, &CampaignStatsFilter { campaign_id, agent_id: None, period: None }, T0).await.unwrap();
        assert_eq!(r.questions[0].counts[1], ("Free (Iliad)".to_string(), 2));
    }
}
