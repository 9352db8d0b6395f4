//! The dispatcher against both database backends: leases, reports, expiry, retries, credit,
//! status reports and replies, and gateways racing for the same queue.

use super::*;
use crate::auth::guard::TenantScope;
use crate::db::testing::each_backend;
use crate::sms::testing::active_campaign;
use crate::sms::{ModemStatus, MessageState, credit, groups};
use crate::tenants::testing::tenant;

/// 2026-11-23 10:00 UTC.
const T0: i64 = 1_795_428_000_000;
const NUMBER: &str = "+33612345678";

struct Setup {
    scope: TenantScope,
    campaign_id: i64,
    modems: Vec<i64>,
}

async fn setup(db: &Db, modems: usize, credit_parts: i64) -> Setup {
    let scope = tenant(db, "Fleurs & Co", "anne").await;
    let campaign_id = active_campaign(db, scope, "Soldes", T0).await;
    let (group_id, _token) = groups::create(db, "00:1a:2b:3c:4d:5e", "Rack A", modems as u32, 60, T0).await.unwrap();
    groups::set_started(db, group_id, true).await.unwrap();
    let mut ids = Vec::new();
    for i in 0..modems {
        let status = ModemStatus { imei: Some(format!("35927201000{i:04}")), ..ModemStatus::default() };
        ids.push(groups::record_modem(db, group_id, &format!("/dev/ttyUSB{i}"), &status, "", T0).await.unwrap().unwrap());
    }
    credit::set_part_price(db, scope.tenant_id(), 5).await.unwrap();
    if credit_parts > 0 {
        credit::top_up(db, scope.tenant_id(), credit_parts * 5, T0).await.unwrap();
    }
    Setup { scope, campaign_id, modems: ids }
}

async fn queue(db: &Db, setup: &Setup, parts: u32) -> i64 {
    let mut tx = db.begin_write().await.unwrap();
    let id = crate::sms::testing::queue_message(&mut tx, setup.scope.tenant_id(), setup.campaign_id, None, NUMBER, "Bonjour", parts, T0).await.unwrap();
    tx.commit().await.unwrap();
    id
}

async fn message_state(db: &Db, id: i64) -> MessageState {
    let code: String = sqlx::query_scalar("SELECT state FROM sms_messages WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap();
    MessageState::from_code(&code).unwrap()
}

async fn part_states(db: &Db, id: i64) -> Vec<String> {
    sqlx::query_scalar("SELECT state FROM sms_parts WHERE message_id = $1 ORDER BY sequence").bind(id).fetch_all(db.pool()).await.unwrap()
}

async fn campaign_state(db: &Db, id: i64) -> String {
    sqlx::query_scalar("SELECT state FROM sms_campaigns WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap()
}

/// A status report handed over alone; whether it matched a part.
async fn delivery(db: &Db, modem_id: i64, reference: u8, recipient: &str, delivered: bool, code: u8, now: i64) -> Result<bool, AppError> {
    let report = Inbound::Report { reference, recipient: recipient.into(), delivered, code };
    Ok(inbound(db, modem_id, &[report], now).await? == 0)
}

/// A reply handed over alone; its row's id.
async fn incoming(db: &Db, modem_id: i64, sender: &str, text: &str, sent_at_ms: i64, now: i64) -> Result<i64, AppError> {
    inbound(db, modem_id, &[Inbound::Message { sender: sender.into(), text: text.into(), sent_at_ms }], now).await?;
    Ok(sqlx::query_scalar("SELECT MAX(id) FROM sms_incoming").fetch_one(db.pool()).await?)
}

fn sent(lease: &Lease, sequence: u8, reference: u8) -> PartReport {
    PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence, outcome: PartOutcome::Sent { reference: Some(reference) } }
}

fn failed(lease: &Lease, sequence: u8, outcome: PartOutcome) -> PartReport {
    PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence, outcome }
}

#[tokio::test]
async fn messages_are_leased_once_and_reports_settle_them_and_the_campaign() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 2, 100).await;
        let short = queue(&db, &s, 1).await;
        let long = queue(&db, &s, 2).await;

        let a = lease(&db, s.modems[0], &rules, T0).await.unwrap().expect("a message for modem A");
        let b = lease(&db, s.modems[1], &rules, T0).await.unwrap().expect("another for modem B");
        assert_eq!((a.message_id, b.message_id), (short, long));
        assert_eq!((a.parts.clone(), b.parts.clone()), (vec![1], vec![1, 2]));
        assert!(lease(&db, s.modems[0], &rules, T0).await.unwrap().is_none(), "nothing left to lease");
        assert_eq!(message_state(&db, long).await, MessageState::Sending);
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 500 - 3 * 5, "three parts debited");

        assert_eq!(report(&db, s.modems[0], &sent(&a, 1, 10), false, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(message_state(&db, short).await, MessageState::Sent);
        assert_eq!(report(&db, s.modems[1], &sent(&b, 1, 20), false, &rules, T0).await.unwrap(), ReportReply::Continue { valid_for_ms: rules.lease_ms });
        assert_eq!(campaign_state(&db, s.campaign_id).await, "active");
        // Modem A cannot speak for B's lease.
        assert_eq!(report(&db, s.modems[0], &sent(&b, 2, 11), false, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(part_states(&db, long).await, ["sent", "queued"]);
        assert_eq!(report(&db, s.modems[1], &sent(&b, 2, 21), false, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(message_state(&db, long).await, MessageState::Sent);
        assert_eq!(campaign_state(&db, s.campaign_id).await, "finished");

        // Status reports: delivered, then the long one's second part not delivered.
        assert!(delivery(&db, s.modems[0], 10, "0612345678", true, 0, T0).await.unwrap());
        assert_eq!(message_state(&db, short).await, MessageState::Delivered);
        assert!(!delivery(&db, s.modems[0], 20, NUMBER, true, 0, T0).await.unwrap(), "reference 20 was modem B's");
        assert!(delivery(&db, s.modems[1], 20, NUMBER, true, 0, T0).await.unwrap());
        assert!(delivery(&db, s.modems[1], 21, NUMBER, false, 0x41, T0).await.unwrap());
        assert_eq!(message_state(&db, long).await, MessageState::Failed);
    }
}

#[tokio::test]
async fn an_expired_lease_leaves_one_part_unknown_and_keeps_the_rest_for_its_modem() {
    let rules = Rules { lease_ms: 10_000, affinity_release_ms: 60_000, ..Rules::default() };
    for db in each_backend().await {
        let s = setup(&db, 2, 100).await;
        let id = queue(&db, &s, 3).await;
        let first = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        report(&db, s.modems[0], &sent(&first, 1, 1), false, &rules, T0 + 1_000).await.unwrap();

        // The gateway dies while sending part 2.
        assert_eq!(expire_leases(&db, T0 + 5_000).await.unwrap(), 0, "the lease still holds");
        assert_eq!(expire_leases(&db, T0 + 12_000).await.unwrap(), 1);
        assert_eq!(part_states(&db, id).await, ["sent", "unknown", "queued"]);
        assert_eq!(message_state(&db, id).await, MessageState::Queued);

        // Part 3 waits for modem A (same sender number) while A is alive.
        let now = T0 + 13_000;
        assert!(lease(&db, s.modems[1], &rules, now).await.unwrap().is_none());
        let again = lease(&db, s.modems[0], &rules, now).await.unwrap().expect("modem A takes its message back");
        assert_eq!((again.parts.clone(), again.lease_id), (vec![3], first.lease_id + 1));

        // The dead gateway's late news: part 2 did go out. The stale lease changes nothing else.
        assert_eq!(report(&db, s.modems[0], &sent(&first, 2, 2), false, &rules, now).await.unwrap(), ReportReply::Stop);
        assert_eq!(report(&db, s.modems[0], &sent(&first, 3, 3), false, &rules, now).await.unwrap(), ReportReply::Stop);
        assert_eq!(part_states(&db, id).await, ["sent", "sent", "queued"]);
        report(&db, s.modems[0], &sent(&again, 3, 3), false, &rules, now).await.unwrap();
        assert_eq!(message_state(&db, id).await, MessageState::Sent);

        assert_eq!(campaign_state(&db, s.campaign_id).await, "finished");

        // A lease that ends on its last part settles the message as unknown (a second wave).
        sqlx::query("UPDATE sms_campaigns SET state = 'active' WHERE id = $1").bind(s.campaign_id).execute(db.pool()).await.unwrap();
        let short = queue(&db, &s, 2).await;
        let long = queue(&db, &s, 3).await;
        let leased = lease(&db, s.modems[0], &rules, now).await.unwrap().unwrap();
        report(&db, s.modems[0], &sent(&leased, 1, 4), false, &rules, now).await.unwrap();
        expire_leases(&db, now + 20_000).await.unwrap();
        assert_eq!(part_states(&db, short).await, ["sent", "unknown"]);
        assert_eq!(message_state(&db, short).await, MessageState::Unknown);

        // A message kept for a modem silent too long (A was last seen at T0) goes to another.
        let leased = lease(&db, s.modems[0], &rules, now).await.unwrap().unwrap();
        report(&db, s.modems[0], &sent(&leased, 1, 5), false, &rules, now).await.unwrap();
        expire_leases(&db, now + 20_000).await.unwrap();
        assert!(lease(&db, s.modems[1], &rules, now + 21_000).await.unwrap().is_none());
        let moved = lease(&db, s.modems[1], &rules, T0 + rules.affinity_release_ms + 1).await.unwrap().expect("B takes it over");
        assert_eq!((moved.message_id, moved.parts), (long, vec![3]));
    }
}

#[tokio::test]
async fn a_modem_takes_back_the_message_it_started_before_older_ones() {
    let rules = Rules { lease_ms: 10_000, affinity_release_ms: 60_000, ..Rules::default() };
    for db in each_backend().await {
        let s = setup(&db, 1, 100).await;
        // Older messages of another campaign, paused for now: more than one page of candidates.
        let others = active_campaign(&db, s.scope, "Rentrée", T0).await;
        let mut tx = db.begin_write().await.unwrap();
        for i in 0..2 * CANDIDATES {
            crate::sms::testing::queue_message(&mut tx, s.scope.tenant_id(), others, None, &format!("+3361000000{i}"), "Bonjour", 1, T0).await.unwrap();
        }
        tx.commit().await.unwrap();
        sqlx::query("UPDATE sms_campaigns SET state = 'paused' WHERE id = $1").bind(others).execute(db.pool()).await.unwrap();

        // Modem A starts a long message; its gateway dies after the first part.
        let started = queue(&db, &s, 3).await;
        let first = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        assert_eq!(first.message_id, started);
        report(&db, s.modems[0], &sent(&first, 1, 1), false, &rules, T0).await.unwrap();
        assert_eq!(expire_leases(&db, T0 + 11_000).await.unwrap(), 1);

        // The older campaign resumes: A still finishes the message it started first, so that
        // the recipient is not left with its beginning.
        sqlx::query("UPDATE sms_campaigns SET state = 'active' WHERE id = $1").bind(others).execute(db.pool()).await.unwrap();
        let again = lease(&db, s.modems[0], &rules, T0 + 12_000).await.unwrap().unwrap();
        assert_eq!((again.message_id, again.parts), (started, vec![3]));
    }
}

#[tokio::test]
async fn transient_failures_back_off_set_a_failing_modem_aside_then_give_up_and_refund() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 2, 10).await;
        let id = queue(&db, &s, 2).await;
        let busy = |lease: &Lease| failed(lease, 1, PartOutcome::Refused { result: "+CMS ERROR: 42".into(), refusal: Refusal::Transient });
        let mut now = T0;
        for attempt in 1..=MAX_ATTEMPTS {
            // Modem A fails three times in a row and is set aside; B takes over.
            let modem = if attempt <= FAILURES_BEFORE_SET_ASIDE { s.modems[0] } else { s.modems[1] };
            let leased = lease(&db, modem, &rules, now).await.unwrap().unwrap_or_else(|| panic!("attempt {attempt} leased"));
            assert_eq!(report(&db, modem, &busy(&leased), false, &rules, now).await.unwrap(), ReportReply::Stop);
            if attempt == FAILURES_BEFORE_SET_ASIDE {
                let until: i64 = sqlx::query_scalar("SELECT set_aside_until FROM modems WHERE id = $1").bind(s.modems[0]).fetch_one(db.pool()).await.unwrap();
                assert!(until > now, "modem A is set aside");
            }
            if attempt < MAX_ATTEMPTS {
                assert_eq!(message_state(&db, id).await, MessageState::Queued);
                assert!(lease(&db, s.modems[1], &rules, now + 1).await.unwrap().is_none(), "not before its retry delay");
                now += rules.retry_delay_ms(attempt);
            }
        }
        assert_eq!(message_state(&db, id).await, MessageState::Failed);
        assert_eq!(part_states(&db, id).await, ["cancelled", "cancelled"]);
        let reason: String = sqlx::query_scalar("SELECT reason FROM sms_messages WHERE id = $1").bind(id).fetch_one(db.pool()).await.unwrap();
        assert_eq!(reason, "5 attempts: +CMS ERROR: 42");
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 50, "both parts refunded");
    }
}

#[tokio::test]
async fn a_definitive_refusal_fails_the_message_and_refunds_the_parts_that_never_went_out() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 10).await;
        let id = queue(&db, &s, 3).await;
        let leased = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        report(&db, s.modems[0], &sent(&leased, 1, 1), false, &rules, T0).await.unwrap();
        let refused = PartOutcome::Refused { result: "+CMS ERROR: 1".into(), refusal: Refusal::Definitive };
        assert_eq!(report(&db, s.modems[0], &failed(&leased, 2, refused), false, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(part_states(&db, id).await, ["sent", "failed", "cancelled"]);
        assert_eq!(message_state(&db, id).await, MessageState::Failed);
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 50 - 15 + 10);
    }
}

#[tokio::test]
async fn a_campaign_stops_cleanly_when_credit_runs_out() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 3).await;
        let first = queue(&db, &s, 2).await;
        let second = queue(&db, &s, 2).await;
        let leased = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        assert_eq!(leased.message_id, first);
        assert!(lease(&db, s.modems[0], &rules, T0).await.unwrap().is_none(), "one part of credit left: the 2-part message waits");
        assert_eq!(campaign_state(&db, s.campaign_id).await, "no_credit");
        assert_eq!((message_state(&db, second).await, credit::get(&db, s.scope.tenant_id()).await.unwrap().balance), (MessageState::Queued, 5));
        // The message already paid for goes on.
        report(&db, s.modems[0], &sent(&leased, 1, 1), false, &rules, T0).await.unwrap();
        report(&db, s.modems[0], &sent(&leased, 2, 2), false, &rules, T0).await.unwrap();
        assert_eq!(message_state(&db, first).await, MessageState::Sent);
    }
}

#[tokio::test]
async fn replies_go_to_the_tenant_that_wrote_and_stop_opts_out() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 10).await;
        let id = queue(&db, &s, 1).await;
        let leased = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        report(&db, s.modems[0], &sent(&leased, 1, 9), false, &rules, T0).await.unwrap();

        let reply = incoming(&db, s.modems[0], NUMBER, "Stop, merci", T0, T0 + 1).await.unwrap();
        let row = sqlx::query("SELECT tenant_id, message_id, opt_out FROM sms_incoming WHERE id = $1").bind(reply).fetch_one(db.pool()).await.unwrap();
        let attributed: (Option<i64>, Option<i64>, i64) = (row.try_get(0).unwrap(), row.try_get(1).unwrap(), row.try_get(2).unwrap());
        assert_eq!(attributed, (Some(s.scope.tenant_id()), Some(id), 1));
        let opted: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sms_opt_outs WHERE tenant_id = $1 AND number = $2")
            .bind(s.scope.tenant_id())
            .bind(NUMBER)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert_eq!(opted, 1);

        let stranger = incoming(&db, s.modems[0], "+33700000000", "STOP", T0, T0 + 2).await.unwrap();
        let tenant: Option<i64> = sqlx::query_scalar("SELECT tenant_id FROM sms_incoming WHERE id = $1").bind(stranger).fetch_one(db.pool()).await.unwrap();
        assert_eq!(tenant, None, "a number nobody wrote to belongs to no tenant and opts out of nothing");
    }
}

#[test]
fn stop_is_the_first_word() {
    assert!(is_stop("STOP"));
    assert!(is_stop(" stop."));
    assert!(is_stop("Stop SVP"));
    assert!(!is_stop("Ne pas stopper"));
    assert!(!is_stop("non stop"));
}

#[tokio::test]
async fn gateways_racing_for_the_queue_never_share_a_message() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 6, 1_000).await;
        let mut ids = Vec::new();
        for _ in 0..60 {
            ids.push(queue(&db, &s, 1).await);
        }
        let mut tasks = Vec::new();
        for &modem in &s.modems {
            let db = db.clone();
            tasks.push(tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(leased) = lease(&db, modem, &rules, T0).await.unwrap() {
                    report(&db, modem, &sent(&leased, 1, (taken.len() % 256) as u8), false, &rules, T0).await.unwrap();
                    taken.push(leased.message_id);
                }
                taken
            }));
        }
        let mut all = Vec::new();
        for task in tasks {
            all.extend(task.await.unwrap());
        }
        all.sort();
        assert_eq!(all, ids, "every message leased exactly once");
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 5_000 - 60 * 5);
        // The last messages settled in concurrent transactions may each have seen the other
        // still being sent: the sweep finishes the campaign then.
        finish_campaigns(&db, T0).await.unwrap();
        assert_eq!(campaign_state(&db, s.campaign_id).await, "finished");
        assert_eq!(finish_campaigns(&db, T0).await.unwrap(), 0, "finished once");
    }
}

#[tokio::test]
async fn a_report_asked_again_changes_nothing_more() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 100).await;
        let long = queue(&db, &s, 2).await;
        let _later = queue(&db, &s, 1).await;
        let leased = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        let going_on = ReportReply::Continue { valid_for_ms: rules.lease_ms };
        assert_eq!(report(&db, s.modems[0], &sent(&leased, 1, 7), true, &rules, T0).await.unwrap(), going_on);
        // The answer was lost; the gateway asks again, with the same news.
        assert_eq!(report(&db, s.modems[0], &sent(&leased, 1, 7), true, &rules, T0 + 1_000).await.unwrap(), going_on);
        let parts: Vec<(String, Option<i64>, Option<i64>)> =
            sqlx::query_as("SELECT state, reference, sent_at FROM sms_parts WHERE message_id = $1 ORDER BY sequence").bind(long).fetch_all(db.pool()).await.unwrap();
        assert_eq!(parts, [("sent".to_string(), Some(7), Some(T0)), ("queued".to_string(), None, None)]);
        assert!(matches!(report(&db, s.modems[0], &sent(&leased, 2, 8), true, &rules, T0).await.unwrap(), ReportReply::Next(_)));
        // The last part's report asked again brings no second lease.
        assert_eq!(report(&db, s.modems[0], &sent(&leased, 2, 8), true, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(message_state(&db, long).await, MessageState::Sent);
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 500 - 3 * 5, "each message debited once");
    }
}

#[tokio::test]
async fn a_part_perhaps_sent_is_unknown_and_the_rest_still_goes_out() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 100).await;
        let long = queue(&db, &s, 2).await;
        let leased = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        let uncertain = failed(&leased, 1, PartOutcome::Uncertain { reason: "no answer to AT+CMGS".into() });
        assert_eq!(report(&db, s.modems[0], &uncertain, false, &rules, T0).await.unwrap(), ReportReply::Continue { valid_for_ms: rules.lease_ms });
        let (state, detail): (String, String) =
            sqlx::query_as("SELECT state, detail FROM sms_parts WHERE message_id = $1 AND sequence = 1").bind(long).fetch_one(db.pool()).await.unwrap();
        assert_eq!((state.as_str(), detail.as_str()), ("unknown", "no answer to AT+CMGS"));
        assert_eq!(report(&db, s.modems[0], &sent(&leased, 2, 4), false, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(part_states(&db, long).await, ["unknown", "sent"]);
        assert_eq!(message_state(&db, long).await, MessageState::Unknown);
    }
}

#[tokio::test]
async fn a_report_may_bring_the_modems_next_lease() {
    let rules = Rules::default();
    for db in each_backend().await {
        let s = setup(&db, 1, 100).await;
        let first = queue(&db, &s, 1).await;
        let second = queue(&db, &s, 2).await;
        let a = lease(&db, s.modems[0], &rules, T0).await.unwrap().unwrap();
        assert_eq!(a.message_id, first);
        let next = match report(&db, s.modems[0], &sent(&a, 1, 1), true, &rules, T0).await.unwrap() {
            ReportReply::Next(next) => next,
            other => panic!("expected the next lease, got {other:?}"),
        };
        assert_eq!((next.message_id, next.parts.clone()), (second, vec![1, 2]));
        assert_eq!((message_state(&db, first).await, message_state(&db, second).await), (MessageState::Sent, MessageState::Sending));
        // In the middle of a message the lease goes on; after the last, nothing is left.
        assert_eq!(report(&db, s.modems[0], &sent(&next, 1, 2), true, &rules, T0).await.unwrap(), ReportReply::Continue { valid_for_ms: rules.lease_ms });
        assert_eq!(report(&db, s.modems[0], &sent(&next, 2, 3), true, &rules, T0).await.unwrap(), ReportReply::Stop);
        assert_eq!(credit::get(&db, s.scope.tenant_id()).await.unwrap().balance, 500 - 3 * 5);
    }
}
