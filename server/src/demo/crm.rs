//! The demo's call-centre CRM, so that a newcomer finds every CRM page filled: a contact base
//! imported through the real import (with a few duplicates and bad numbers for its rejects
//! report), an argument tree, a running campaign with its forms, two field sales people, two
//! agents, and four days of calls played through the desk's own functions. Seeded once: a tenant
//! that already has the demo base is left as it is.

use std::path::Path;
use std::time::Duration;

use app::auth::guard::TenantScope;
use app::crm::agents::{self, AgentEdit};
use app::crm::campaigns::results::default_results;
use app::crm::campaigns::{self, CampaignSettings, CampaignState, FormKind};
use app::crm::contacts::uploads::ContactImports;
use app::crm::contacts::{self, ColumnRole, ImportRequest, ImportState, import, source};
use app::crm::desk::{self, CallReport, CallbackFor, DeskContact, Step};
use app::crm::forms::{self, Choice, ContractField, ContractFieldKind, Question, QuestionAnswer, QuestionKind, Questionnaire, YES, NO};
use app::crm::sales::{self, AppointmentRequest, SalesPersonSettings};
use app::crm::trees::{self, Answer, ArgumentTree, Branch, TreeNode};
use app::db::Db;
use app::error::{AppError, Problem};
use app::users;
use jiff::{Timestamp, ToSpan, Zoned, tz::TimeZone};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

pub const DEMO_BASE: &str = "Prospects Île-de-France";
const DEMO_CAMPAIGN: &str = "Fibre — offre d'automne";
const DEMO_TREE: &str = "Script fibre";
const ZONE: &str = "Europe/Paris";
/// The agents who worked the demo campaign (logins of the demo users), with their phones.
const AGENTS: &[(&str, &str)] = &[("agent", "PJSIP/1005"), ("david", "PJSIP/1004")];
const DAYS_OF_CALLS: i64 = 4;
const CALLS_PER_AGENT_AND_DAY: usize = 9;

const FIRST_NAMES: &[&str] = &[
    "Léa", "Hugo", "Chloé", "Louis", "Emma", "Gabriel", "Manon", "Arthur", "Inès", "Jules", "Camille", "Raphaël", "Zoé",
    "Nathan", "Sarah", "Théo", "Jade", "Lucas", "Anaïs", "Maël",
];
const LAST_NAMES: &[&str] = &[
    "Lefèvre", "Garnier", "Faure", "Rousseau", "Blanc", "Guérin", "Muller", "Henry", "Roussel", "Nicolas", "Perrin",
    "Morin", "Mathieu", "Clément", "Gauthier", "Dumont",
];
const TOWNS: &[&str] = &["Paris", "Boulogne-Billancourt", "Saint-Denis", "Versailles", "Créteil", "Nanterre", "Évry", "Cergy"];
const CONTACTS: usize = 150;

/// Seeds the CRM of the demo tenant unless its demo base exists; `admin` imports and owns it.
pub async fn seed(db: &Db, scope: TenantScope, admin: i64, data_dir: &Path, now: i64) -> Result<(), AppError> {
    if contacts::store::list(db, scope).await?.iter().any(|b| b.name == DEMO_BASE) {
        return Ok(());
    }
    let base_id = import_base(db, scope, admin, data_dir, now).await?;
    let tree = script();
    let tree_id = trees::store::create(db, scope, DEMO_TREE, &tree.nodes[0].text, now).await?;
    trees::store::save(db, scope, tree_id, DEMO_TREE, &tree, now).await?;
    let zone = TimeZone::get(ZONE).map_err(|_| AppError::Internal)?;
    let today = Timestamp::from_millisecond(now).map_err(|_| AppError::Internal)?.to_zoned(zone.clone()).date();
    let settings = CampaignSettings {
        name: DEMO_CAMPAIGN.into(),
        product: "Fibre 1 Gb/s".into(),
        base_id,
        starts_on: (today - (DAYS_OF_CALLS + 1).days()).to_string(),
        ends_on: (today + 30.days()).to_string(),
        forms: FormKind::ALL.to_vec(),
        tree_id: Some(tree_id),
        pbx: String::new(),
    };
    let campaign_id = campaigns::store::create(db, scope, &settings, now).await?;
    let forms = forms::store::save(db, scope, campaign_id, &questionnaire(), &default_results()).await?;
    campaigns::store::set_state(db, scope, campaign_id, CampaignState::Active).await?;
    let mut sales_people = Vec::new();
    for (first_name, last_name, phone, area) in
        [("Paul", "Girard", "06 55 10 20 30", "Paris, Hauts-de-Seine"), ("Nadia", "Benali", "06 55 40 50 60", "Val-de-Marne, Essonne")]
    {
        let settings = SalesPersonSettings {
            first_name: first_name.into(),
            last_name: last_name.into(),
            phone: phone.into(),
            email: format!("{}.{}@demo.invalid", first_name.to_lowercase(), last_name.to_lowercase()),
            area: area.into(),
            active: true,
        };
        sales_people.push(sales::store::create(db, scope, &settings).await?);
    }
    let people = users::store::list(db, scope).await?;
    let mut agent_ids = Vec::new();
    for (login, extension) in AGENTS {
        let Some(user) = people.iter().find(|u| u.login == *login) else { continue };
        let edit = AgentEdit {
            first_name: user.first_name.clone(),
            last_name: user.last_name.clone(),
            extension: extension.to_string(),
            caller_number: String::new(),
            campaign_ids: vec![campaign_id],
        };
        agents::store::update(db, scope, user.id, &edit).await?;
        agent_ids.push(user.id);
    }
    let plan = Plan { campaign_id, questionnaire: forms.questionnaire, sales_people, zone };
    play_calls(db, scope, &plan, &agent_ids, &today).await
}

/// A CSV as a call centre receives it: Windows-1252 would do too, but the point here is the
/// duplicates and bad numbers the import rejects.
fn contacts_csv() -> String {
    let mut csv = String::from("Prénom;Nom;Téléphone;Ville\n");
    for i in 0..CONTACTS {
        let first = FIRST_NAMES[i % FIRST_NAMES.len()];
        let last = LAST_NAMES[(i * 7 + i / FIRST_NAMES.len()) % LAST_NAMES.len()];
        let town = TOWNS[(i * 3) % TOWNS.len()];
        let phone = format!("06 56 {:02} {:02} {:02}", i / 100, (i / 10) % 10 * 11, i % 100);
        csv.push_str(&format!("{first};{last};{phone};{town}\n"));
    }
    // Rejected on import: the same number twice, a number too short, no number.
    csv.push_str("Lina;Faure;+33 6 56 00 00 00;Paris\nMarc;Noir;06 12;Lyon\nEva;Roy;;Nice\n");
    csv
}

async fn import_base(db: &Db, scope: TenantScope, admin: i64, data_dir: &Path, now: i64) -> Result<i64, AppError> {
    let imports = ContactImports::new(data_dir.join("uploads"), 1 << 20).map_err(|_| AppError::Internal)?;
    let (token, path) = imports.new_upload();
    std::fs::write(&path, contacts_csv()).map_err(|_| AppError::Internal)?;
    let kind = source::sniff(&path)?;
    imports.stage(token.clone(), scope, admin, path, "prospects-idf.csv".into(), kind);
    let request = ImportRequest {
        upload: token,
        name: DEMO_BASE.into(),
        country: "FR".into(),
        has_header: true,
        columns: vec![ColumnRole::FirstName, ColumnRole::LastName, ColumnRole::Phone, ColumnRole::Custom("Ville".into())],
        dedupe_across_bases: false,
    };
    let base_id = import::start(db, &imports, scope, admin, request, now).await?;
    loop {
        match imports.progress(base_id, scope).map(|p| p.state) {
            Some(ImportState::Running) => tokio::time::sleep(Duration::from_millis(20)).await,
            Some(ImportState::Done) => return Ok(base_id),
            Some(ImportState::Failed(error)) => return Err(error),
            None => return Err(AppError::Internal),
        }
    }
}

/// Q1 internet at home? yes → Q2, no → Q3; Q2 fast enough? yes → end, otherwise → Q3;
/// Q3 the offer: every answer ends the script.
fn script() -> ArgumentTree {
    let node = |key, text: &str, yes, no, undecided| TreeNode { key, text: text.into(), yes, no, undecided };
    ArgumentTree {
        start: 1,
        nodes: vec![
            node(1, "Avez-vous internet à la maison ?", Branch::Node(2), Branch::Node(3), Branch::End),
            node(2, "Votre connexion est-elle assez rapide pour vos usages ?", Branch::End, Branch::Node(3), Branch::Node(3)),
            node(3, "Notre fibre 1 Gb/s est à 29,99 € par mois la première année : voulez-vous qu'un conseiller passe chez vous ?", Branch::End, Branch::End, Branch::End),
        ],
    }
}

/// New questions carry key 0: the forms store numbers them.
fn questionnaire() -> Questionnaire {
    let choices = |labels: &[&str]| labels.iter().map(|label| Choice { key: 0, label: label.to_string() }).collect();
    let question = |kind, text: &str, choices, required| Question { key: 0, kind, text: text.into(), choices, required };
    Questionnaire {
        next_key: 0,
        questions: vec![
            question(QuestionKind::Single, "Fournisseur actuel ?", choices(&["Orange", "Free", "SFR", "Bouygues", "Autre"]), true),
            question(QuestionKind::Multiple, "Services utilisés ?", choices(&["Télévision", "Téléphone fixe", "Mobile"]), false),
            question(QuestionKind::YesNo, "Propriétaire de son logement ?", vec![], true),
        ],
        contract: vec![
            ContractField { key: 0, label: "Montant mensuel (€)".into(), kind: ContractFieldKind::Number, required: true },
            ContractField { key: 0, label: "Date de mise en service".into(), kind: ContractFieldKind::Date, required: false },
        ],
    }
}

struct Plan {
    campaign_id: i64,
    questionnaire: Questionnaire,
    sales_people: Vec<i64>,
    zone: TimeZone,
}

/// Each agent works the last days from 09:00, a call every seven minutes, with outcomes drawn
/// from a fixed seed (the same demo every time).
async fn play_calls(db: &Db, scope: TenantScope, plan: &Plan, agent_ids: &[i64], today: &jiff::civil::Date) -> Result<(), AppError> {
    let mut rng = StdRng::seed_from_u64(2026);
    let mut booked = 0_i64;
    for days_ago in (1..=DAYS_OF_CALLS).rev() {
        let day = *today - days_ago.days();
        for &agent in agent_ids {
            let start = local(&day, 9, 0, &plan.zone)?;
            let desk = desk::store::open(db, scope, agent, plan.campaign_id, at_ms(&start)).await?;
            let tree_version = desk.tree.as_ref().map(|(version, _)| *version);
            let mut now = start.clone();
            for _ in 0..CALLS_PER_AGENT_AND_DAY {
                let Some(contact) = desk::store::next_contact(db, scope, agent, plan.campaign_id, at_ms(&now)).await? else { break };
                now = now.checked_add((4 + rng.gen_range(0..5)).minutes()).map_err(|_| AppError::Internal)?;
                let report = call_report(&mut rng, plan, &contact, &now, &mut booked);
                match desk::store::finish(db, scope, agent, plan.campaign_id, tree_version, &report, at_ms(&now)).await {
                    // Two appointments drawn at one time: the second becomes a callback request.
                    Err(AppError::Invalid { problem: Problem::Busy, .. }) => {
                        let report = CallReport { result: "interested".into(), appointment: None, ..report };
                        desk::store::finish(db, scope, agent, plan.campaign_id, tree_version, &report, at_ms(&now)).await?
                    }
                    outcome => outcome?,
                }
                now = now.checked_add(3.minutes()).map_err(|_| AppError::Internal)?;
            }
            desk::store::leave(db, scope, agent, plan.campaign_id, at_ms(&now)).await?;
        }
    }
    Ok(())
}

fn call_report(rng: &mut StdRng, plan: &Plan, contact: &DeskContact, now: &Zoned, booked: &mut i64) -> CallReport {
    let result = match rng.gen_range(0..100) {
        0..30 => "no_answer",
        30..55 => "not_interested",
        55..70 => "interested",
        70..85 => "appointment",
        85..93 => "callback",
        93..98 => "wrong_number",
        _ => "do_not_call",
    };
    let contacted = !matches!(result, "no_answer" | "wrong_number");
    let offer = match result {
        "appointment" | "interested" => Answer::Yes,
        "callback" => Answer::Undecided,
        _ => Answer::No,
    };
    let path = if !contacted {
        vec![]
    } else if rng.gen_bool(0.4) {
        vec![Step { node: 1, answer: Some(Answer::No) }, Step { node: 3, answer: Some(offer) }]
    } else if result == "do_not_call" {
        vec![Step { node: 1, answer: None }]
    } else {
        vec![Step { node: 1, answer: Some(Answer::Yes) }, Step { node: 2, answer: Some(Answer::No) }, Step { node: 3, answer: Some(offer) }]
    };
    let questions = &plan.questionnaire.questions;
    let answers = if contacted {
        let pick = |rng: &mut StdRng, question: &Question| question.choices[rng.gen_range(0..question.choices.len())].key;
        let mut answers = vec![
            QuestionAnswer { question: questions[0].key, choices: vec![pick(rng, &questions[0])] },
            QuestionAnswer { question: questions[2].key, choices: vec![if rng.gen_bool(0.6) { YES } else { NO }] },
        ];
        if rng.gen_bool(0.5) {
            answers.push(QuestionAnswer { question: questions[1].key, choices: vec![pick(rng, &questions[1]), pick(rng, &questions[1])] });
        }
        answers
    } else {
        vec![]
    };
    let contract = if result == "appointment" && rng.gen_bool(0.5) {
        let fields = &plan.questionnaire.contract;
        vec![(fields[0].key, format!("{},99", 24 + rng.gen_range(0..3) * 5)), (fields[1].key, String::new())]
    } else {
        vec![]
    };
    let in_two_days = now.date() + 2.days();
    let appointment = (result == "appointment").then(|| {
        *booked += 1;
        AppointmentRequest {
            sales_person_id: plan.sales_people[(*booked % 2) as usize],
            starts_at: format!("{in_two_days}T{:02}:00", 9 + (*booked / 2) % 9),
        }
    });
    CallReport {
        slot_id: contact.slot_id,
        result: result.into(),
        path,
        callback_at: format!("{}T17:30", now.date() + 1.days()),
        callback_for: CallbackFor::Me,
        note: String::new(),
        answers,
        contract,
        appointment,
    }
}

fn local(day: &jiff::civil::Date, hour: i8, minute: i8, zone: &TimeZone) -> Result<Zoned, AppError> {
    day.at(hour, minute, 0, 0).to_zoned(zone.clone()).map_err(|_| AppError::Internal)
}

fn at_ms(at: &Zoned) -> i64 {
    at.timestamp().as_millisecond()
}
