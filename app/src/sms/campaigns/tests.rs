//! SMS campaigns against both database backends: drafts and their checks, activation (messages
//! filled in, opt-outs, numbers that cannot receive SMS), pause, resume and deactivation against
//! the dispatcher, replies and the opt-out list, and tenants kept apart.

use super::{MessageFilter, MessageState, SkipReason, SmsCampaignSettings, SmsCampaignState, store};
use crate::auth::guard::TenantScope;
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::sms::dispatch::{self, Rules};
use crate::sms::{Inbound, ModemStatus, PartOutcome, PartReport, Refusal, credit, groups};
use crate::tenants::testing::tenant;

/// 2026-12-04 09:00 UTC.
const T0: i64 = 1_796_374_800_000;

/// A ready base of `contacts` (first name, phone, town), with one custom field, `Ville`.
async fn base(db: &Db, scope: TenantScope, name: &str, contacts: &[(&str, &str, &str)]) -> i64 {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, $2, 'ready', 'base.csv', 'FR', '[\"Ville\"]', $3, $4) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(name)
    .bind(contacts.len() as i64)
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap();
    for (line, (first_name, phone, town)) in contacts.iter().enumerate() {
        sqlx::query(
            "INSERT INTO contacts (base_id, line, first_name, last_name, phone, var1, var2, custom, search)
             VALUES ($1, $2, $3, 'Martin', $4, '', '', $5, $6)",
        )
        .bind(id)
        .bind(line as i64 + 2)
        .bind(*first_name)
        .bind(*phone)
        .bind(serde_json::to_string(&[town]).unwrap())
        .bind(crate::crm::contacts::search_text(first_name, "Martin", phone, "", ""))
        .execute(db.pool())
        .await
        .unwrap();
    }
    id
}

const CONTACTS: &[(&str, &str, &str)] = &[
    ("Élodie", "+33612345678", "Besançon"),
    ("Jean", "+33142685300", "Paris"),
    ("Ana", "+33756123456", "Lyon"),
    ("Luc", "+33698765432", "Nice"),
];

fn settings(base_id: i64, template: &str) -> SmsCampaignSettings {
    SmsCampaignSettings { name: "Soldes d'hiver".into(), base_id, template: template.into(), status_reports: true }
}

async fn message_states(db: &Db, campaign_id: i64) -> Vec<(String, String, String)> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT number, state, reason FROM sms_messages WHERE campaign_id = $1 ORDER BY id").bind(campaign_id).fetch_all(db.pool()).await.unwrap();
    rows
}

/// A started group with one modem; returns the modem's id.
async fn modem(db: &Db) -> i64 {
    let (group_id, _) = groups::create(db, "00:1a:2b:3c:4d:5e", "Rack A", 1, 60, T0).await.unwrap();
    groups::set_started(db, group_id, true).await.unwrap();
    let status = ModemStatus { imei: Some("359272010000017".into()), ..ModemStatus::default() };
    groups::record_modem(db, group_id, "/dev/ttyUSB0", &status, "", T0).await.unwrap().unwrap()
}

#[tokio::test]
async fn drafts_are_checked_against_their_base() {
    for db in each_backend().await {
        let ours = tenant(&db, "Fleurs & Co", "anne").await;
        let theirs = tenant(&db, "Garage Roux", "paul").await;
        let base_id = base(&db, ours, "Clients", CONTACTS).await;
        let foreign = base(&db, theirs, "Autres", CONTACTS).await;

        assert_eq!(store::create(&db, ours, &settings(base_id, "Bonjour {prenom}"), T0).await, Err(AppError::UnknownTemplateField("prenom".into())));
        assert_eq!(
            store::create(&db, ours, &settings(base_id, "Bonjour {first_name"), T0).await,
            Err(AppError::invalid(Field::Template, Problem::UnbalancedBraces))
        );
        assert_eq!(store::create(&db, ours, &settings(base_id, "   "), T0).await, Err(AppError::invalid(Field::Template, Problem::Required)));
        assert_eq!(
            store::create(&db, ours, &settings(foreign, "Bonjour"), T0).await,
            Err(AppError::invalid(Field::ContactBase, Problem::Required)),
            "another tenant's base is not one of ours"
        );
        let too_long = "a".repeat(super::MAX_TEMPLATE_CHARS + 1);
        assert!(matches!(store::create(&db, ours, &settings(base_id, &too_long), T0).await, Err(AppError::Invalid { field: Field::Template, .. })));

        let id = store::create(&db, ours, &settings(base_id, "Bonjour {first_name} de {ville}"), T0).await.unwrap();
        let draft = store::get(&db, ours, id).await.unwrap();
        assert_eq!((draft.state, draft.base_name.as_str(), draft.progress.messages), (SmsCampaignState::Draft, "Clients", 0));
        assert_eq!(store::get(&db, theirs, id).await, Err(AppError::NotFound));
        assert_eq!(store::activate(&db, theirs, id, T0).await, Err(AppError::NotFound));

        let samples = store::preview(&db, ours, base_id, "Bonjour {first_name} de {Ville}", 3).await.unwrap();
        assert_eq!(samples.iter().map(|s| s.text.as_str()).collect::<Vec<_>>(), ["Bonjour Élodie de Besançon", "Bonjour Jean de Paris", "Bonjour Ana de Lyon"]);
        assert_eq!(store::preview(&db, theirs, base_id, "Bonjour", 3).await, Err(AppError::NotFound));

        // The base is now in use: it stays.
        assert_eq!(crate::crm::contacts::store::delete_base(&db, ours, base_id).await, Err(AppError::invalid(Field::ContactBase, Problem::InUse)));
    }
}

#[tokio::test]
async fn activation_fills_every_message_and_leaves_out_what_cannot_be_sent() {
    for db in each_backend().await {
        let scope = tenant(&db, "Fleurs & Co", "anne").await;
        let base_id = base(&db, scope, "Clients", CONTACTS).await;
        sqlx::query("INSERT INTO sms_opt_outs (tenant_id, number, at) VALUES ($1, '+33698765432', $2)").bind(scope.tenant_id()).bind(T0).execute(db.pool()).await.unwrap();
        // Long, and in UCS-2 (the Turkish ı is not in the GSM alphabet): 70 units a part at most.
        let template = format!("{{first_name}}, votre bon d'achat à {{Ville}} vous attend ı. {}", "Offre valable jusqu'au 31 décembre. ".repeat(3));
        let id = store::create(&db, scope, &settings(base_id, &template), T0).await.unwrap();

        let done = store::activate(&db, scope, id, T0).await.unwrap();
        assert_eq!((done.queued, done.skipped), (2, 2));
        let states = message_states(&db, id).await;
        assert_eq!(
            states.iter().map(|(n, s, r)| (n.as_str(), s.as_str(), r.as_str())).collect::<Vec<_>>(),
            [
                ("+33612345678", "queued", ""),
                ("+33142685300", "skipped", SkipReason::NotMobile.code()),
                ("+33756123456", "queued", ""),
                ("+33698765432", "skipped", SkipReason::OptedOut.code()),
            ]
        );
        let (text, parts): (String, i64) =
            sqlx::query_as("SELECT text, parts FROM sms_messages WHERE campaign_id = $1 ORDER BY id LIMIT 1").bind(id).fetch_one(db.pool()).await.unwrap();
        assert!(text.starts_with("Élodie, votre bon d'achat à Besançon"), "{text}");
        assert_eq!(parts as usize, crate::sms::text::plan(&text).1);
        assert!(parts >= 3, "a UCS-2 text of {} characters takes several parts", text.chars().count());
        let rows: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_parts p JOIN sms_messages m ON m.id = p.message_id WHERE m.campaign_id = $1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(rows as u64, done.parts, "one row per part of the queued messages");

        let active = store::get(&db, scope, id).await.unwrap();
        assert_eq!(active.state, SmsCampaignState::Active);
        assert_eq!((active.progress.messages, active.progress.queued, active.progress.skipped), (4, 2, 2));
        assert_eq!(store::activate(&db, scope, id, T0).await, Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow)));
        assert_eq!(store::update(&db, scope, id, &settings(base_id, "Autre")).await, Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow)));
        assert_eq!(store::delete(&db, scope, id).await, Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow)));

        let skipped = store::messages(&db, scope, &MessageFilter { campaign_id: id, state: Some(MessageState::Skipped), ..Default::default() }).await.unwrap();
        assert_eq!(skipped.matching, 2);
        let found = store::messages(&db, scope, &MessageFilter { campaign_id: id, search: "élodie".into(), ..Default::default() }).await.unwrap();
        assert_eq!(found.lines.iter().map(|l| l.name.as_str()).collect::<Vec<_>>(), ["Élodie Martin"]);
        let other = tenant(&db, "Garage Roux", "paul").await;
        assert_eq!(store::messages(&db, other, &MessageFilter { campaign_id: id, ..Default::default() }).await, Err(AppError::NotFound));
    }
}

#[tokio::test]
async fn a_base_with_nothing_to_send_finishes_at_once() {
    for db in each_backend().await {
        let scope = tenant(&db, "Fleurs & Co", "anne").await;
        let base_id = base(&db, scope, "Fixes", &[("Jean", "+33142685300", "Paris")]).await;
        let id = store::create(&db, scope, &settings(base_id, "Bonjour"), T0).await.unwrap();
        assert_eq!(store::activate(&db, scope, id, T0).await.unwrap().queued, 0);
        assert_eq!(store::get(&db, scope, id).await.unwrap().state, SmsCampaignState::Finished);
    }
}

#[tokio::test]
async fn pause_holds_messages_and_deactivation_withdraws_them_with_a_refund() {
    let rules = Rules::default();
    for db in each_backend().await {
        let scope = tenant(&db, "Fleurs & Co", "anne").await;
        let modem = modem(&db).await;
        credit::set_part_price(&db, scope.tenant_id(), 5).await.unwrap();
        credit::top_up(&db, scope.tenant_id(), 1_000, T0).await.unwrap();
        let base_id = base(&db, scope, "Clients", CONTACTS).await;
        let id = store::create(&db, scope, &settings(base_id, "Bonjour {first_name}"), T0).await.unwrap();
        store::activate(&db, scope, id, T0).await.unwrap();

        store::pause(&db, scope, id).await.unwrap();
        assert!(dispatch::lease(&db, modem, &rules, T0).await.unwrap().is_none(), "a paused campaign sends nothing");
        assert_eq!(store::pause(&db, scope, id).await, Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow)));
        store::resume(&db, scope, id, T0).await.unwrap();

        // The first message fails for now: debited, it waits for a retry.
        let first = dispatch::lease(&db, modem, &rules, T0).await.unwrap().unwrap();
        let refused = PartOutcome::Refused { result: "+CMS ERROR: 42".into(), refusal: Refusal::Transient };
        dispatch::report(&db, modem, &PartReport { message_id: first.message_id, lease_id: first.lease_id, sequence: 1, outcome: refused }, false, &rules, T0)
            .await
            .unwrap();
        // The second is on its way when the campaign is deactivated.
        let second = dispatch::lease(&db, modem, &rules, T0).await.unwrap().unwrap();
        assert_eq!(credit::get(&db, scope.tenant_id()).await.unwrap().balance, 1_000 - 2 * 5);

        store::deactivate(&db, scope, id, T0 + 1_000).await.unwrap();
        let campaign = store::get(&db, scope, id).await.unwrap();
        assert_eq!(campaign.state, SmsCampaignState::Stopped);
        assert_eq!((campaign.progress.sending, campaign.progress.skipped, campaign.progress.queued), (1, 3, 0), "the message being sent finishes");
        assert_eq!(credit::get(&db, scope.tenant_id()).await.unwrap().balance, 1_000 - 5, "the retried message's part was refunded");
        let sent = PartReport { message_id: second.message_id, lease_id: second.lease_id, sequence: 1, outcome: PartOutcome::Sent { reference: Some(7) } };
        dispatch::report(&db, modem, &sent, false, &rules, T0 + 2_000).await.unwrap();
        let campaign = store::get(&db, scope, id).await.unwrap();
        assert_eq!((campaign.state, campaign.progress.sent), (SmsCampaignState::Stopped, 1));
        assert_eq!(store::resume(&db, scope, id, T0).await, Err(AppError::invalid(Field::CampaignState, Problem::NotAllowedNow)));
        assert!(message_states(&db, id).await.iter().all(|(_, state, reason)| state == "sent" || reason == SkipReason::Deactivated.code() || reason == SkipReason::NotMobile.code()));
    }
}

#[tokio::test]
async fn a_message_that_comes_back_to_a_deactivated_campaign_is_withdrawn_by_the_sweep() {
    let rules = Rules { lease_ms: 10_000, ..Rules::default() };
    for db in each_backend().await {
        let scope = tenant(&db, "Fleurs & Co", "anne").await;
        let modem = modem(&db).await;
        credit::top_up(&db, scope.tenant_id(), 1_000, T0).await.unwrap();
        let base_id = base(&db, scope, "Clients", &[("Élodie", "+33612345678", "Besançon")]).await;
        let id = store::create(&db, scope, &settings(base_id, "Bonjour"), T0).await.unwrap();
        store::activate(&db, scope, id, T0).await.unwrap();
        let lease = dispatch::lease(&db, modem, &rules, T0).await.unwrap().unwrap();
        store::deactivate(&db, scope, id, T0).await.unwrap();
        // The modem fails for now: the message goes back to the queue of a deactivated campaign.
        let not_sent = PartOutcome::NotSent { reason: "no prompt".into() };
        dispatch::report(&db, modem, &PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence: 1, outcome: not_sent }, false, &rules, T0)
            .await
            .unwrap();
        assert_eq!(dispatch::withdraw_stopped(&db, T0 + 5_000).await.unwrap(), 1);
        assert_eq!(message_states(&db, id).await[0].1, "skipped");
        assert_eq!(credit::get(&db, scope.tenant_id()).await.unwrap().balance, 1_000, "its part, never sent, was refunded");
        assert_eq!(dispatch::withdraw_stopped(&db, T0 + 6_000).await.unwrap(), 0);
    }
}

#[tokio::test]
async fn stop_replies_and_the_opt_out_list_keep_numbers_out_of_later_campaigns() {
    let rules = Rules::default();
    for db in each_backend().await {
        let scope = tenant(&db, "Fleurs & Co", "anne").await;
        let other = tenant(&db, "Garage Roux", "paul").await;
        let modem = modem(&db).await;
        credit::top_up(&db, scope.tenant_id(), 1_000, T0).await.unwrap();
        let base_id = base(&db, scope, "Clients", CONTACTS).await;
        let id = store::create(&db, scope, &settings(base_id, "Bonjour"), T0).await.unwrap();
        store::activate(&db, scope, id, T0).await.unwrap();
        let lease = dispatch::lease(&db, modem, &rules, T0).await.unwrap().unwrap();
        let sent = PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence: 1, outcome: PartOutcome::Sent { reference: Some(3) } };
        dispatch::report(&db, modem, &sent, false, &rules, T0).await.unwrap();
        let reply = |text: &str| Inbound::Message { sender: lease.number.clone(), text: text.into(), sent_at_ms: T0 };
        dispatch::inbound(&db, modem, &[reply("Stop svp")], T0 + 60_000).await.unwrap();
        dispatch::inbound(&db, modem, &[reply("Merci !")], T0 + 30_000).await.unwrap();

        let replies = store::replies(&db, scope, Some(id), 0).await.unwrap();
        assert_eq!(replies.replies.iter().map(|r| (r.text.as_str(), r.opt_out)).collect::<Vec<_>>(), [("Stop svp", true), ("Merci !", false)]);
        assert_eq!(replies.replies[0].campaign, "Soldes d'hiver");
        assert_eq!(store::replies(&db, other, None, 0).await.unwrap().matching, 0, "another tenant sees none of them");

        assert_eq!(store::add_opt_out(&db, scope, "07 56 12 34 56", T0).await.unwrap(), "+33756123456");
        assert!(matches!(store::add_opt_out(&db, scope, "12", T0).await, Err(AppError::Invalid { field: Field::Phone, .. })));
        let list = store::opt_outs(&db, scope).await.unwrap();
        assert_eq!(list.iter().map(|o| (o.number.as_str(), o.by_hand)).collect::<Vec<_>>(), [("+33612345678", false), ("+33756123456", true)]);
        assert!(store::opt_outs(&db, other).await.unwrap().is_empty());
        assert_eq!(store::remove_opt_out(&db, other, "+33756123456").await, Err(AppError::NotFound));

        let later = store::create(&db, scope, &settings(base_id, "Nouvelle offre"), T0).await.unwrap();
        let done = store::activate(&db, scope, later, T0).await.unwrap();
        assert_eq!((done.queued, done.skipped), (1, 3), "two opted out, one fixed line");

        store::remove_opt_out(&db, scope, "+33756123456").await.unwrap();
        let third = store::create(&db, scope, &settings(base_id, "Encore"), T0).await.unwrap();
        assert_eq!(store::activate(&db, scope, third, T0).await.unwrap().queued, 2);
    }
}
