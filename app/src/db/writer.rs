//! Group commit for SQLite's one writer.
//!
//! SQLite lets one transaction write at a time; the others wait in its busy handler, which
//! sleeps (1, 2, 5 … 100 ms) rather than queueing, so many small concurrent write transactions
//! (the dispatcher's leases and reports, one per modem and per part) spend most of their time
//! asleep while the lock is free. Here they are queued in-process instead: one task takes
//! whatever work is waiting, runs it in one transaction on a connection of its own, commits
//! once, and only then answers each caller. The pieces run one after the other, so each sees
//! what the previous ones wrote: the result is exactly that of running them in turn, for one
//! commit per batch.
//!
//! A piece of work that fails takes its batch with it: everything is rolled back and every
//! caller of the batch is told (the others may simply ask again). Savepoints would confine a
//! failure to its piece, but cost two statements per piece, a fifth of a dispatcher step; the
//! work given here fails only when the database itself does.
//!
//! PostgreSQL needs none of this: its writers lock rows, not the database, and each piece of
//! work runs in its own transaction (`Db::write`).

use futures::future::BoxFuture;
use sqlx::pool::PoolConnection;
use sqlx::{Any, AnyConnection, AnyPool, Connection};
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

/// Runs the waiting work in batches on one connection kept for the writer: taking one from the
/// pool for every batch cost the dispatcher a fifth of a report's time (the pool's hand-off,
/// and a SQLite worker thread gone cold). After a failed batch the connection goes back to
/// the pool, in case it is the connection that failed.
async fn write_batches(pool: AnyPool, mut jobs: mpsc::UnboundedReceiver<Box<dyn Job>>) {
    let mut held: Option<PoolConnection<Any>> = None;
    while let Some(first) = jobs.recv().await {
        let mut batch = vec![first];
        while batch.len() < MAX_BATCH {
            match jobs.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        if held.is_none() {
            held = pool.acquire().await.inspect_err(|error| tracing::error!(%error, "cannot open the writer's connection")).ok();
        }
        let Some(connection) = held.as_mut() else {
            batch.into_iter().for_each(|job| job.abandon());
            continue;
        };
        if !run_batch(connection, batch).await {
            held = None;
        }
    }
}

/// One batch in one transaction; whether it committed.
async fn run_batch(connection: &mut AnyConnection, batch: Vec<Box<dyn Job>>) -> bool {
    let mut transaction = match connection.begin_with("BEGIN IMMEDIATE").await {
        Ok(transaction) => transaction,
        Err(error) => {
            tracing::error!(%error, "cannot start a write transaction");
            batch.into_iter().for_each(|job| job.abandon());
            return false;
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
    committed
}

#[cfg(test)]
mod tests {
    use futures::FutureExt;

    use super::*;
    use crate::db::Db;
    use crate::db::testing::each_backend;

    async fn probe_table(db: &Db) {
        sqlx::query("CREATE TABLE writer_probe (n BIGINT NOT NULL)").execute(db.pool()).await.unwrap();
    }

    async fn probe_values(db: &Db) -> Vec<i64> {
        sqlx::query_scalar("SELECT n FROM writer_probe ORDER BY n").fetch_all(db.pool()).await.unwrap()
    }

    /// Reads the largest value written so far and writes the next one: run in turn, the pieces
    /// write 1, 2, 3 …; run side by side without seeing each other, two would write the same.
    fn next_value() -> Work<i64> {
        Box::new(|c| {
            async move {
                let last: i64 = sqlx::query_scalar("SELECT CAST(COALESCE(MAX(n), 0) AS BIGINT) FROM writer_probe").fetch_one(&mut *c).await?;
                sqlx::query("INSERT INTO writer_probe (n) VALUES ($1)").bind(last + 1).execute(&mut *c).await?;
                Ok(last + 1)
            }
            .boxed()
        })
    }

    /// Writes a row, then fails as a database does.
    fn failing() -> Work<i64> {
        Box::new(|c| {
            async move {
                sqlx::query("INSERT INTO writer_probe (n) VALUES (-1)").execute(&mut *c).await?;
                sqlx::query("INSERT INTO no_such_table (n) VALUES (1)").execute(&mut *c).await?;
                Ok(-1)
            }
            .boxed()
        })
    }

    /// Queues `works` before the writer starts, so that it finds them all waiting, as it does
    /// under load; returns each caller's answer.
    async fn run_waiting(db: &Db, works: Vec<Work<i64>>) -> Vec<Result<i64, AppError>> {
        let (queue, jobs) = mpsc::unbounded_channel::<Box<dyn Job>>();
        let mut answers = Vec::new();
        for work in works {
            let (reply, answer) = oneshot::channel();
            queue.send(Box::new(Waiting { work, reply })).unwrap();
            answers.push(answer);
        }
        drop(queue);
        write_batches(db.pool().clone(), jobs).await;
        let mut results = Vec::new();
        for answer in answers {
            results.push(answer.await.expect("every caller is answered"));
        }
        results
    }

    #[tokio::test]
    async fn concurrent_writes_are_all_committed_each_seeing_the_ones_before() {
        for db in each_backend().await {
            probe_table(&db).await;
            let writers: Vec<_> = (0..40)
                .map(|_| {
                    let db = db.clone();
                    tokio::spawn(async move { db.write(next_value()).await })
                })
                .collect();
            let mut answers = Vec::new();
            for writer in writers {
                answers.push(writer.await.unwrap());
            }
            if db.backend() == crate::db::Backend::Sqlite {
                // Grouped or not, the pieces ran in turn: 1 to 40, each answer its own value.
                let mut values: Vec<i64> = answers.into_iter().map(Result::unwrap).collect();
                values.sort_unstable();
                assert_eq!(values, (1..=40).collect::<Vec<_>>());
                assert_eq!(probe_values(&db).await, (1..=40).collect::<Vec<_>>());
            } else {
                // PostgreSQL runs each in its own transaction, side by side: all are committed.
                assert!(answers.iter().all(Result::is_ok), "{answers:?}");
                assert_eq!(probe_values(&db).await.len(), 40);
            }
        }
    }

    #[tokio::test]
    async fn a_failing_write_leaves_nothing_behind_and_the_next_one_goes_through() {
        for db in each_backend().await {
            probe_table(&db).await;
            assert!(db.write(failing()).await.is_err());
            assert_eq!(probe_values(&db).await, Vec::<i64>::new());
            assert_eq!(db.write(next_value()).await.unwrap(), 1);
            assert_eq!(probe_values(&db).await, vec![1]);
        }
    }

    #[tokio::test]
    async fn a_failing_piece_fails_its_whole_batch_and_only_its_batch() {
        let db = each_backend().await.remove(0);
        assert_eq!(db.backend(), crate::db::Backend::Sqlite);
        probe_table(&db).await;
        // Two batches: the first MAX_BATCH pieces, then the rest, whose second piece fails.
        let mut works: Vec<Work<i64>> = (0..MAX_BATCH).map(|_| next_value()).collect();
        works.extend([next_value(), failing(), next_value()]);
        let answers = run_waiting(&db, works).await;
        let first: Vec<i64> = answers[..MAX_BATCH].iter().map(|answer| *answer.as_ref().unwrap()).collect();
        assert_eq!(first, (1..=MAX_BATCH as i64).collect::<Vec<_>>());
        // The piece before the failure ran, but its batch was rolled back: its caller is told.
        assert!(answers[MAX_BATCH..].iter().all(Result::is_err), "{:?}", &answers[MAX_BATCH..]);
        assert_eq!(probe_values(&db).await, (1..=MAX_BATCH as i64).collect::<Vec<_>>());
    }
}
