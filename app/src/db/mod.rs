//! The database: one sqlx `Any` pool over SQLite (embedded default) or PostgreSQL, chosen by the
//! URL. Queries use the portable subset (`$n` parameters, INTEGER/BIGINT, TEXT) so one code path
//! serves both backends. Small write transactions that many tasks run at once go through
//! `Db::write` (group commit on SQLite, see `writer`).

mod writer;

use std::path::Path;
use std::str::FromStr;
use std::time::{SystemTime, UNIX_EPOCH};

use sqlx::any::{AnyConnectOptions, AnyPoolOptions};
use sqlx::migrate::Migrator;
use sqlx::{AnyPool, Executor};
use tokio::sync::oneshot;

pub use writer::Work;

use crate::error::AppError;

static SQLITE_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/sqlite");
static POSTGRES_MIGRATIONS: Migrator = sqlx::migrate!("../migrations/postgres");

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

#[derive(Clone)]
pub struct Db {
    pool: AnyPool,
    backend: Backend,
    /// SQLite's group-commit queue; none on PostgreSQL.
    writer: Option<writer::Queue>,
}

impl std::fmt::Debug for Db {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Db").field("backend", &self.backend).finish_non_exhaustive()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("unsupported database URL (expected sqlite:// or postgres://): {0}")]
    UnsupportedUrl(String),
    #[error("cannot create the data directory {0}: {1}")]
    DataDir(String, std::io::Error),
    #[error(transparent)]
    Sqlx(#[from] sqlx::Error),
    #[error(transparent)]
    Migrate(#[from] sqlx::migrate::MigrateError),
}

impl Db {
    /// Connects, creating the SQLite file (and its directory) on first start.
    pub async fn connect(url: &str) -> Result<Db, DbError> {
        sqlx::any::install_default_drivers();
        let backend = if url.starts_with("sqlite:") {
            Backend::Sqlite
        } else if url.starts_with("postgres:") || url.starts_with("postgresql:") {
            Backend::Postgres
        } else {
            return Err(DbError::UnsupportedUrl(url.to_string()));
        };
        let url = match backend {
            Backend::Sqlite => prepare_sqlite_url(url)?,
            Backend::Postgres => url.to_string(),
        };
        let options = AnyConnectOptions::from_str(&url)?;
        let pool = AnyPoolOptions::new()
            .max_connections(if backend == Backend::Sqlite { 8 } else { 16 })
            // A file does not drop connections: no ping before each use (a round trip to the
            // SQLite worker thread each time, for every dispatcher batch).
            .test_before_acquire(backend == Backend::Postgres)
            .after_connect(move |conn, _| {
                Box::pin(async move {
                    if backend == Backend::Sqlite {
                        // WAL lets readers proceed during a write; the busy timeout queues writers
                        // instead of failing them.
                        conn.execute("PRAGMA journal_mode = WAL").await?;
                        conn.execute("PRAGMA synchronous = NORMAL").await?;
                        conn.execute("PRAGMA busy_timeout = 5000").await?;
                        conn.execute("PRAGMA foreign_keys = ON").await?;
                        // Reports read large indexes: map the file instead of copying pages
                        // through read(), and keep more of them per connection.
                        conn.execute("PRAGMA mmap_size = 1073741824").await?;
                        conn.execute("PRAGMA cache_size = -32768").await?;
                    }
                    Ok(())
                })
            })
            .connect_with(options)
            .await?;
        let writer = (backend == Backend::Sqlite).then(|| writer::start(pool.clone()));
        Ok(Db { pool, backend, writer })
    }

    pub async fn migrate(&self) -> Result<(), DbError> {
        match self.backend {
            Backend::Sqlite => SQLITE_MIGRATIONS.run(&self.pool).await?,
            Backend::Postgres => POSTGRES_MIGRATIONS.run(&self.pool).await?,
        }
        Ok(())
    }

    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// A transaction that reads before it writes. On SQLite it takes the write lock at once
    /// (`BEGIN IMMEDIATE`, waiting out the busy timeout): a deferred one would fail with
    /// "database is locked" if another writer committed between its read and its first write.
    pub async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, sqlx::Error> {
        match self.backend {
            Backend::Sqlite => self.pool.begin_with("BEGIN IMMEDIATE").await,
            Backend::Postgres => self.pool.begin().await,
        }
    }

    /// Runs `work` in a write transaction and returns its result once committed; a failing
    /// `work` leaves nothing behind. On SQLite, work waiting at the same time shares one
    /// transaction and one commit, and a failure fails them all (`writer`); on PostgreSQL each
    /// has its own. For short transactions that read, then write a few rows, and fail only when
    /// the database does: the dispatcher's.
    pub async fn write<T: Send + 'static>(&self, work: Work<T>) -> Result<T, AppError> {
        match &self.writer {
            Some(queue) => {
                let (reply, answer) = oneshot::channel();
                if queue.send(Box::new(writer::Waiting { work, reply })).is_err() {
                    return Err(AppError::Internal);
                }
                answer.await.unwrap_or(Err(AppError::Internal))
            }
            None => {
                let mut transaction = self.pool.begin().await?;
                let value = work(&mut transaction).await?;
                transaction.commit().await?;
                Ok(value)
            }
        }
    }

    /// The database of the current request, provided as Leptos context by the server.
    pub fn from_context() -> Result<Db, AppError> {
        leptos::prelude::use_context::<Db>().ok_or_else(|| {
            tracing::error!("no database in the request context");
            AppError::Internal
        })
    }
}

/// Makes sure the file's directory exists and asks SQLite to create the file if it is missing.
fn prepare_sqlite_url(url: &str) -> Result<String, DbError> {
    let rest = url.trim_start_matches("sqlite:").trim_start_matches("//");
    let path = rest.split('?').next().unwrap_or_default();
    if let Some(dir) = Path::new(path).parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| DbError::DataDir(dir.display().to_string(), e))?;
    }
    Ok(if url.contains("mode=") {
        url.to_string()
    } else if url.contains('?') {
        format!("{url}&mode=rwc")
    } else {
        format!("{url}?mode=rwc")
    })
}

/// `($1, $2, …), (…)` for a multi-row `INSERT` of `rows` rows of `columns` parameters. SQLite gets
/// anonymous `?` instead: sqlx binds numbered parameters there by looking each name up in a
/// list, which made the name lookups of a 900-parameter insert a third of an import's time.
pub fn placeholders(backend: Backend, rows: usize, columns: usize) -> String {
    (0..rows)
        .map(|row| {
            let cells: Vec<String> = (1..=columns)
                .map(|c| match backend {
                    Backend::Sqlite => "?".to_string(),
                    Backend::Postgres => format!("${}", row * columns + c),
                })
                .collect();
            format!("({})", cells.join(", "))
        })
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_number_every_parameter() {
        assert_eq!(placeholders(Backend::Postgres, 2, 3), "($1, $2, $3), ($4, $5, $6)");
        assert_eq!(placeholders(Backend::Sqlite, 2, 2), "(?, ?), (?, ?)");
    }
}

/// Now, as Unix milliseconds (the storage format of every instant).
pub fn now_ms() -> i64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as i64).unwrap_or(0)
}

/// Flags are stored as 0/1 integers on both backends.
pub fn flag(value: bool) -> i64 {
    i64::from(value)
}

#[cfg(any(test, feature = "test-support"))]
pub mod testing {
    //! Every data-layer test runs once per backend: a fresh SQLite file always, and a fresh
    //! PostgreSQL database when `RELAIS_TEST_POSTGRES_URL` points at a server (the test command
    //! starts a throw-away one). Under CI a missing PostgreSQL is an error, not a skip.
    use super::*;
    use rand::Rng;

    pub async fn each_backend() -> Vec<Db> {
        let mut dbs = Vec::new();
        let name: String = format!("relais_test_{:016x}", rand::thread_rng().r#gen::<u64>());
        let dir = std::env::temp_dir().join("relais-tests");
        let file = dir.join(format!("{name}.db"));
        let sqlite = Db::connect(&format!("sqlite://{}", file.display())).await.expect("sqlite");
        sqlite.migrate().await.expect("sqlite migrations");
        dbs.push(sqlite);
        match std::env::var("RELAIS_TEST_POSTGRES_URL") {
            Ok(admin_url) => {
                let admin = Db::connect(&admin_url).await.expect("postgres admin connection");
                // `name` is made here of a fixed prefix and hex digits: nothing from outside.
                sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
                    .execute(admin.pool())
                    .await
                    .expect("create test database");
                admin.pool().close().await;
                let base = admin_url.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin_url);
                let pg = Db::connect(&format!("{base}/{name}")).await.expect("postgres");
                pg.migrate().await.expect("postgres migrations");
                dbs.push(pg);
            }
            Err(_) if std::env::var_os("CI").is_some() => {
                panic!("RELAIS_TEST_POSTGRES_URL must be set under CI: PostgreSQL tests cannot be skipped")
            }
            Err(_) => eprintln!("RELAIS_TEST_POSTGRES_URL not set: PostgreSQL tests skipped"),
        }
        dbs
    }
}
