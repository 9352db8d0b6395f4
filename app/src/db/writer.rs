//! Group commit for SQLite's one writer.
//!
//! SQLite lets one transaction write at a time; the others wait in its busy handler, which
//! sleeps (1, 2, 5 … 100 ms) rather than queueing, so many small concurrent write transactions
//! (the dispatcher's leases and reports, one per modem and per part) spend most of their time
//! asleep while the lock is free. Here they are queued in-process instead: one task takes
//! whatever work is waiting, runs it in one transaction, commits once, and only then answers
//! each caller. The pieces run one after the other, so each sees what the previous ones wrote:
//! the result is exactly that of running them in turn, for one commit per batch.
//!
//! A piece of work that fails takes its batch with it: everything is rolled back and every
//! caller of the batch is told (the others may simply ask again). Savepoints would confine a
//! failure to its piece, but cost two statements per piece, a fifth of a dispatcher step; the
//! work given here fails only when the database itself does.
//!
//! PostgreSQL needs none of this: its writers lock rows, not the database, and each piece of
//! work runs in its own transaction (`Db::write`).

use futures::future::BoxFuture;
use sqlx::{AnyConnection, AnyPool};
use tokio::sync::{mpsc, oneshot};

use crate::error::AppError;

/// Most pieces of work in one transaction. Measured on the dispatcher benchmark: 4 gave the
/// best throughput; larger batches make every caller of a batch wait for the slowest piece.
const MAX_BATCH: usize = 4;

/// A piece of work for one transaction, as `Db::write` takes it.
pub type Work<T> = Box<dyn for<'c> FnOnce(&'c mut AnyConnection) -> BoxFuture<'c, Result<T, AppError>> + Send>;

/// A piece of work with its caller waiting for the answer, whatever its type.
pub(super) trait Job: Send {
    /// Runs the work; the answer waits for the commit.
    fn run<'c>(self: Box<Self>, connection: &'c mut AnyConnection) -> BoxFuture<'c, Done>;
    /// The batch could not start, or an earlier piece failed: the caller is told.
    fn abandon(self: Box<Self>);
}

/// A piece that ran: whether it succeeded, and how to answer its caller once the batch
/// committed (or failed to).
pub(super) struct Done {
    ok: bool,
    answer: Box<dyn FnOnce(bool) + Send>,
}

pub(super) struct Waiting<T> {
    pub work: Work<T>,
    pub reply: oneshot::Sender<Result<T, AppError>>,
}

impl<T: Send + 'static> Job for Waiting<T> {
    fn run<'c>(self: Box<Self>, connection: &'c mut AnyConnection) -> BoxFuture<'c, Done> {
        let Waiting { work, reply } = *self;
        Box::pin(async move {
            let result = work(connection).await;
            let ok = result.is_ok();
            let answer = Box::new(move |committed: bool| {
                let _ = reply.send(match result {
                    Ok(_) if !committed => Err(AppError::Internal),
                    other => other,
                });
            });
            Done { ok, answer }
        })
    }

    fn abandon(self: Box<Self>) {
        let _ = self.reply.send(Err(AppError::Internal));
    }
}

/// The queue of work for the writer task.
pub(super) type Queue = mpsc::UnboundedSender<Box<dyn Job>>;

/// Starts the writer task; it ends when the last `Db` holding the queue is dropped.
pub(super) fn start(pool: AnyPool) -> Queue {
    let (queue, jobs) = mpsc::unbounded_channel();
    tokio::spawn(write_batches(pool, jobs));
    queue
}

async fn write_batches(pool: AnyPool, mut jobs: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        let mut transaction = match pool.begin_with("BEGIN IMMEDIATE").await {
            Ok(transaction) => transaction,
            Err(error) => {
                tracing::error!(%error, "cannot start a write transaction");
                batch.into_iter().for_each(|job| job.abandon());
                continue;
            }
        };
        let mut answers = Vec::with_capacity(batch.len());
        let mut failed = false;
        for job in batch {
            if failed {
                job.abandon();
                continue;
            }
            let done = job.run(&mut transaction).await;
            failed = !done.ok;
            answers.push(done);
        }
        let committed = !failed && transaction.commit().await.inspect_err(|error| tracing::error!(%error, "cannot commit a batch")).is_ok();
        for done in answers {
            (done.answer)(committed);
        }
    }
}
