//! Live monitoring of the modem groups: what each group and modem is, and what it did in the
//! last 24 hours. The operator's page receives it over a WebSocket (`api::live_modems`); the
//! feed reads it again every `POLL` and pushes it when it changed, so counters move as parts go
//! out and gateways report, without reloading the page.

use serde::{Deserialize, Serialize};

use super::{Registration, SimState, Signal};

/// The window the counters cover.
pub const WINDOW_MS: i64 = 24 * 3_600_000;
/// A gateway not heard from for this long is shown as disconnected (it reports every 20 s).
pub const SILENT_AFTER_MS: i64 = 60_000;

/// Parts sent, delivered (a status report said so) and messages waiting, over `WINDOW_MS`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Counters {
    pub sent: u64,
    pub delivered: u64,
    /// Messages waiting for this modem or group: leased to it, or kept for it (a long message's
    /// remaining parts).
    pub queued: u64,
}

impl Counters {
    /// Delivered as a share of sent, in whole percent; none when nothing was sent.
    pub fn delivered_percent(&self) -> Option<u64> {
        (self.sent > 0).then(|| self.delivered * 100 / self.sent)
    }

    #[cfg(feature = "ssr")]
    fn add(&mut self, other: &Counters) {
        self.sent += other.sent;
        self.delivered += other.delivered;
        self.queued += other.queued;
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModemLive {
    pub id: i64,
    pub imei: String,
    pub port: String,
    /// The network's name, or its MCC+MNC digits when Relais does not know it.
    pub operator: String,
    pub sim: SimState,
    pub registration: Registration,
    pub signal: Option<Signal>,
    /// Why the modem cannot be used, as its gateway or the dispatcher last said.
    pub error: String,
    pub seen_at_ms: i64,
    /// Set aside after repeated failures until then (0: not set aside).
    pub set_aside_until_ms: i64,
    pub counters: Counters,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GroupLive {
    pub id: i64,
    pub mac: String,
    pub alias: String,
    pub modem_count: u32,
    pub parts_per_minute: u32,
    pub started: bool,
    /// When its gateway last called (0: never).
    pub seen_at_ms: i64,
    pub counters: Counters,
    pub modems: Vec<ModemLive>,
}

impl GroupLive {
    pub fn connected(&self, now_ms: i64) -> bool {
        self.seen_at_ms > 0 && now_ms - self.seen_at_ms < SILENT_AFTER_MS
    }
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ModemBoard {
    /// The server's clock when the board was read.
    pub at_ms: i64,
    /// Messages of active campaigns waiting for any modem.
    pub waiting: u64,
    pub groups: Vec<GroupLive>,
}

/// What the page sends on its socket (only a greeting: the feed pushes by itself).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum BoardRequest {
    Hello,
}

#[cfg(feature = "ssr")]
pub use store::board;

#[cfg(feature = "ssr")]
mod store {
    use std::collections::HashMap;

    use sqlx::Row;

    use super::*;
    use crate::db::Db;
    use crate::error::AppError;
    use crate::sms::operator_name;

    /// Every group with its modems and their counters, read at `now`.
    pub async fn board(db: &Db, now: i64) -> Result<ModemBoard, AppError> {
        let mut counters: HashMap<i64, Counters> = HashMap::new();
        let sent = sqlx::query(
            "SELECT modem_id, COUNT(*), SUM(CASE WHEN state = 'delivered' THEN 1 ELSE 0 END) FROM sms_parts
             WHERE sent_at >= $1 AND modem_id IS NOT NULL GROUP BY modem_id",
        )
        .bind(now - WINDOW_MS)
        .fetch_all(db.pool())
        .await?;
        for row in sent {
            let entry = counters.entry(row.try_get(0)?).or_default();
            entry.sent = row.try_get::<i64, _>(1)? as u64;
            entry.delivered = row.try_get::<Option<i64>, _>(2)?.unwrap_or(0) as u64;
        }
        let waiting = sqlx::query(
            "SELECT COALESCE(lease_modem_id, modem_id), COUNT(*) FROM sms_messages
             WHERE state IN ('queued', 'leased') GROUP BY COALESCE(lease_modem_id, modem_id)",
        )
        .fetch_all(db.pool())
        .await?;
        let mut unassigned = 0;
        for row in waiting {
            let count = row.try_get::<i64, _>(1)? as u64;
            match row.try_get::<Option<i64>, _>(0)? {
                Some(modem_id) => counters.entry(modem_id).or_default().queued = count,
                None => unassigned = count,
            }
        }
        let modem_rows = sqlx::query(
            "SELECT id, group_id, imei, port, operator, sim, registration, signal_dbm, signal_quality, error, seen_at, set_aside_until
             FROM modems ORDER BY group_id, port, imei",
        )
        .fetch_all(db.pool())
        .await?;
        let mut modems: HashMap<i64, Vec<ModemLive>> = HashMap::new();
        for row in modem_rows {
            let id: i64 = row.try_get(0)?;
            let operator: String = row.try_get(4)?;
            let dbm: Option<i64> = row.try_get(7)?;
            let quality: Option<i64> = row.try_get(8)?;
            let set_aside_until: i64 = row.try_get(11)?;
            modems.entry(row.try_get(1)?).or_default().push(ModemLive {
                id,
                imei: row.try_get(2)?,
                port: row.try_get(3)?,
                operator: operator_name(&operator).map(str::to_string).unwrap_or(operator),
                sim: SimState::from_code(&row.try_get::<String, _>(5)?),
                registration: Registration::from_code(&row.try_get::<String, _>(6)?),
                signal: dbm.zip(quality).map(|(dbm, quality)| Signal { dbm: dbm as i32, quality: quality as u8 }),
                error: row.try_get(9)?,
                seen_at_ms: row.try_get(10)?,
                set_aside_until_ms: if set_aside_until > now { set_aside_until } else { 0 },
                counters: counters.get(&id).copied().unwrap_or_default(),
            });
        }
        let group_rows = sqlx::query("SELECT id, mac, alias, modem_count, parts_per_minute, started, seen_at FROM modem_groups ORDER BY alias, id")
            .fetch_all(db.pool())
            .await?;
        let mut groups = Vec::with_capacity(group_rows.len());
        for row in group_rows {
            let id: i64 = row.try_get(0)?;
            let modems = modems.remove(&id).unwrap_or_default();
            let mut total = Counters::default();
            for modem in &modems {
                total.add(&modem.counters);
            }
            groups.push(GroupLive {
                id,
                mac: row.try_get(1)?,
                alias: row.try_get(2)?,
                modem_count: row.try_get::<i64, _>(3)? as u32,
                parts_per_minute: row.try_get::<i64, _>(4)? as u32,
                started: row.try_get::<i64, _>(5)? != 0,
                seen_at_ms: row.try_get(6)?,
                counters: total,
                modems,
            });
        }
        Ok(ModemBoard { at_ms: now, waiting: unassigned, groups })
    }
}

#[cfg(feature = "ssr")]
pub mod feed {
    //! One monitoring page's feed: the board read every `POLL`, pushed when it changed (the
    //! clock aside), and at least every `KEEPALIVE` so "connected" stays true to the clock; the
    //! session is checked again every `RECHECK`, so a revoked session or right ends the feed.

    use std::pin::Pin;
    use std::time::Duration;

    use futures::channel::mpsc::Sender;
    use futures::{SinkExt, Stream, StreamExt};

    use super::{BoardRequest, ModemBoard, board};
    use crate::auth::guard::AuthSettings;
    use crate::auth::{Permission, sessions};
    use crate::db::{Db, now_ms};
    use crate::error::AppError;

    const POLL: Duration = Duration::from_secs(1);
    const KEEPALIVE: Duration = Duration::from_secs(10);
    const RECHECK: Duration = Duration::from_secs(20);

    type Input = Pin<Box<dyn Stream<Item = Result<BoardRequest, AppError>> + Send>>;

    pub async fn run(db: Db, auth: AuthSettings, token: String, mut input: Input, mut out: Sender<Result<ModemBoard, AppError>>) {
        let mut last: Option<ModemBoard> = None;
        let mut last_push = tokio::time::Instant::now();
        let mut poll = tokio::time::interval(POLL);
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        loop {
            tokio::select! {
                _ = poll.tick() => {
                    let now = now_ms();
                    let current = match board(&db, now).await {
                        Ok(current) => current,
                        Err(error) => { let _ = out.send(Err(error)).await; return }
                    };
                    let changed = last.as_ref().is_none_or(|l| l.groups != current.groups || l.waiting != current.waiting);
                    if changed || last_push.elapsed() >= KEEPALIVE {
                        if out.send(Ok(current.clone())).await.is_err() {
                            return;
                        }
                        last = Some(current);
                        last_push = tokio::time::Instant::now();
                    }
                }
                message = input.next() => match message {
                    Some(Ok(BoardRequest::Hello)) => {}
                    None | Some(Err(_)) => return,
                },
                _ = recheck.tick() => {
                    let allowed = match sessions::resolve(&db, &token, now_ms(), &auth.sessions).await {
                        Ok(Some(user)) if user.can(Permission::ManageModems) && user.is_operator => Ok(()),
                        Ok(Some(_)) => Err(AppError::Forbidden),
                        Ok(None) => Err(AppError::SessionExpired),
                        Err(error) => Err(error),
                    };
                    if let Err(error) = allowed {
                        let _ = out.send(Err(error)).await;
                        return;
                    }
                }
            }
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;
    use crate::db::testing::each_backend;
    use crate::error::{AppError, Field, Problem};
    use crate::sms::dispatch::{self, Rules};
    use crate::sms::testing::active_campaign;
    use crate::sms::{Inbound, ModemStatus, PartOutcome, PartReport, credit, groups};
    use crate::tenants::testing::tenant;

    const T0: i64 = 1_796_374_800_000;

    #[tokio::test]
    async fn the_board_counts_what_each_modem_sent_and_what_waits() {
        let rules = Rules::default();
        for db in each_backend().await {
            let scope = tenant(&db, "Fleurs & Co", "anne").await;
            credit::top_up(&db, scope.tenant_id(), 1_000, T0).await.unwrap();
            let campaign_id = active_campaign(&db, scope, "Soldes", T0).await;
            let (rack, _) = groups::create(&db, "00:1a:2b:3c:4d:5e", "Rack A", 2, 60, T0).await.unwrap();
            let (idle, _) = groups::create(&db, "00:1a:2b:3c:4d:5f", "Rack B", 1, 30, T0).await.unwrap();
            groups::set_started(&db, rack, true).await.unwrap();
            let status = |imei: &str| ModemStatus { imei: Some(imei.into()), operator: Some("20801".into()), ..ModemStatus::default() };
            let first = groups::record_modem(&db, rack, "/dev/ttyUSB0", &status("359272010000017"), "", T0).await.unwrap().unwrap();
            groups::record_modem(&db, rack, "/dev/ttyUSB2", &status("359272010000025"), "", T0).await.unwrap().unwrap();
            for number in ["+33612345678", "+33612345679", "+33612345670"] {
                let mut tx = db.begin_write().await.unwrap();
                crate::sms::testing::queue_message(&mut tx, scope.tenant_id(), campaign_id, None, number, "Bonjour", 1, T0).await.unwrap();
                tx.commit().await.unwrap();
            }
            for reference in [1, 2] {
                let lease = dispatch::lease(&db, first, &rules, T0).await.unwrap().unwrap();
                let sent = PartReport { message_id: lease.message_id, lease_id: lease.lease_id, sequence: 1, outcome: PartOutcome::Sent { reference: Some(reference) } };
                dispatch::report(&db, first, &sent, false, &rules, T0 + 1_000).await.unwrap();
            }
            let report = Inbound::Report { reference: 1, recipient: "+33612345678".into(), delivered: true, code: 0 };
            assert_eq!(dispatch::inbound(&db, first, &[report], T0 + 2_000).await, Ok(0));
            let leased = dispatch::lease(&db, first, &rules, T0).await.unwrap().unwrap();

            let board = board(&db, T0 + 3_000).await.unwrap();
            assert_eq!(board.groups.iter().map(|g| g.alias.as_str()).collect::<Vec<_>>(), ["Rack A", "Rack B"]);
            let a = &board.groups[0];
            assert_eq!(a.counters, Counters { sent: 2, delivered: 1, queued: 1 });
            assert_eq!(a.counters.delivered_percent(), Some(50));
            assert_eq!(a.modems.len(), 2);
            assert_eq!((a.modems[0].imei.as_str(), a.modems[0].operator.as_str()), ("359272010000017", "Orange"));
            assert_eq!(a.modems[1].counters, Counters::default());
            assert!(a.started && !board.groups[1].started);
            assert!(board.groups[1].modems.is_empty());
            assert_eq!(board.waiting, 0);
            // Counters cover 24 hours.
            assert_eq!(super::board(&db, T0 + WINDOW_MS + 2_000).await.unwrap().groups[0].counters.sent, 0);

            // A started group, or one with a message on its modems, is not deleted.
            assert_eq!(groups::delete(&db, rack).await, Err(AppError::invalid(Field::ModemGroup, Problem::StillSending)));
            groups::set_started(&db, rack, false).await.unwrap();
            assert_eq!(groups::delete(&db, rack).await, Err(AppError::invalid(Field::ModemGroup, Problem::StillSending)));
            let sent = PartReport { message_id: leased.message_id, lease_id: leased.lease_id, sequence: 1, outcome: PartOutcome::Sent { reference: Some(3) } };
            dispatch::report(&db, first, &sent, false, &rules, T0 + 4_000).await.unwrap();
            groups::delete(&db, rack).await.unwrap();
            let board = super::board(&db, T0 + 5_000).await.unwrap();
            assert_eq!(board.groups.len(), 1);
            let imeis: Vec<String> = sqlx::query_scalar("SELECT DISTINCT imei FROM sms_parts WHERE state <> 'queued'").fetch_all(db.pool()).await.unwrap();
            assert_eq!(imeis, ["359272010000017"], "which modem sent each part outlives the group");

            assert_eq!(groups::update(&db, idle, "00-1A-2B-3C-4D-5F", "Rack B2", 4, 120).await, Ok(()));
            let renamed = &super::board(&db, T0).await.unwrap().groups[0];
            assert_eq!((renamed.alias.as_str(), renamed.modem_count, renamed.parts_per_minute), ("Rack B2", 4, 120));
            let (other, _) = groups::create(&db, "00:1a:2b:3c:4d:60", "Rack C", 1, 30, T0).await.unwrap();
            assert_eq!(groups::update(&db, other, "00:1a:2b:3c:4d:5f", "Rack C", 1, 30).await, Err(AppError::Duplicate { field: Field::MacAddress }));
            assert_eq!(groups::update(&db, 9_999, "00:1a:2b:3c:4d:61", "Rack D", 1, 30).await, Err(AppError::NotFound));
        }
    }

    #[tokio::test]
    async fn a_new_token_locks_the_old_one_out() {
        for db in each_backend().await {
            let (id, old) = groups::create(&db, "00:1a:2b:3c:4d:5e", "Rack A", 2, 60, T0).await.unwrap();
            assert_eq!(groups::authenticate(&db, &old, T0).await.unwrap().map(|g| g.id), Some(id));
            let new = groups::renew_token(&db, id).await.unwrap();
            assert_ne!(new, old);
            assert_eq!(groups::authenticate(&db, &old, T0).await.unwrap(), None);
            assert_eq!(groups::authenticate(&db, &new, T0).await.unwrap().map(|g| g.id), Some(id));
            assert_eq!(groups::renew_token(&db, 9_999).await, Err(AppError::NotFound));
        }
    }
}
