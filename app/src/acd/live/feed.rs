//! One dashboard's feed: it wakes on every change of the live board, cuts the board to the
//! queues the user supervises and pushes it when it differs from the last push. Pushes are at
//! least `MIN_GAP` apart (ten a second: more than eyes follow) so a burst of events costs one message, and the session is checked
//! again every `RECHECK` so a revoked session or a lost right ends the feed.

use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use futures::channel::mpsc::Sender;
use futures::{SinkExt, Stream, StreamExt};
use tokio::sync::watch;

use super::{Dashboard, DashboardRequest, assemble};
use crate::acd::PbxLive;
use crate::acd::bridge::AcdBridge;
use crate::acd::queues::{QueueRecord, UserChoice, store};
use crate::auth::guard::{AuthSettings, TenantScope};
use crate::auth::{Permission, SessionUser, sessions};
use crate::db::{Db, now_ms};
use crate::error::AppError;

const MIN_GAP: Duration = Duration::from_millis(100);
const RECHECK: Duration = Duration::from_secs(20);

pub struct Feed {
    pub db: Db,
    pub auth: AuthSettings,
    pub token: String,
    pub user: SessionUser,
    pub scope: TenantScope,
    pub bridge: Option<Arc<dyn AcdBridge>>,
}

type Input = Pin<Box<dyn Stream<Item = Result<DashboardRequest, AppError>> + Send>>;

impl Feed {
    pub async fn run(mut self, mut input: Input, mut out: Sender<Result<Dashboard, AppError>>) {
        let mut board = self.bridge.as_ref().map(|b| b.board());
        let (mut queues, mut users) = match self.load().await {
            Ok(loaded) => loaded,
            Err(error) => {
                let _ = out.send(Err(error)).await;
                return;
            }
        };
        let mut last: Option<Dashboard> = None;
        let mut recheck = tokio::time::interval(RECHECK);
        recheck.tick().await;
        loop {
            let current: Arc<Vec<PbxLive>> =
                board.as_mut().map(|rx| rx.borrow_and_update().clone()).unwrap_or_default();
            let dashboard = assemble(now_ms(), &queues, &users, &current);
            if last.as_ref().is_none_or(|l| l.queues != dashboard.queues) {
                if out.send(Ok(dashboard.clone())).await.is_err() {
                    return;
                }
                last = Some(dashboard);
                tokio::time::sleep(MIN_GAP).await;
            }
            tokio::select! {
                changed = board_changed(&mut board) => if changed.is_err() { return },
                message = input.next() => match message {
                    Some(Ok(DashboardRequest::Hello)) => {}
                    None | Some(Err(_)) => return,
                },
                _ = recheck.tick() => {
                    match self.recheck().await {
                        Ok(()) => match self.load().await {
                            Ok(loaded) => (queues, users) = loaded,
                            Err(error) => { let _ = out.send(Err(error)).await; return }
                        },
                        Err(error) => { let _ = out.send(Err(error)).await; return }
                    }
                    // A periodic push keeps waits and times in state honest on an idle board.
                    last = None;
                }
            }
        }
    }

    async fn load(&self) -> Result<(Vec<QueueRecord>, Vec<UserChoice>), AppError> {
        Ok((store::supervised(&self.db, self.scope, &self.user).await?, store::user_choices(&self.db, self.scope).await?))
    }

    /// The session must still be valid and still allow supervision.
    async fn recheck(&mut self) -> Result<(), AppError> {
        let user = sessions::resolve(&self.db, &self.token, now_ms(), &self.auth.sessions)
            .await?
            .ok_or(AppError::SessionExpired)?;
        if !user.can(Permission::SuperviseQueues) {
            return Err(AppError::Forbidden);
        }
        self.user = user;
        Ok(())
    }
}

/// Waits for the next board change; without a bridge, never.
async fn board_changed(board: &mut Option<watch::Receiver<Arc<Vec<PbxLive>>>>) -> Result<(), watch::error::RecvError> {
    match board {
        Some(rx) => rx.changed().await,
        None => std::future::pending().await,
    }
}
