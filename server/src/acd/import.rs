//! The queue_log importer: each line becomes a row of `queue_log_events`, with the figures the
//! statistics read pulled out. Tailing, checkpoints and idempotence are `pbx::tail`'s.

use std::path::Path;

use app::db::Db;
use sqlx::AnyConnection;

use super::queue_log::{QueueEvent, parse_line};
use crate::pbx::tail::{self, ImportError, ImportReport, LineFormat, LineKey, Stored};

/// The queue_log format for `pbx::tail`. Each PBX's queue_log is imported under its own
/// source name (e.g. `pbx1/queue_log`).
struct QueueLogFormat;

impl LineFormat for QueueLogFormat {
    async fn store(&self, conn: &mut AnyConnection, key: &LineKey<'_>, line: &str) -> Result<Stored, sqlx::Error> {
        let parsed = match parse_line(line) {
            Ok(parsed) => parsed,
            Err(error) => return Ok(Stored::Rejected(error.to_string())),
        };
        let figures = Figures::of(&parsed.event);
        let mut fields = line.splitn(6, '|');
        let event_name = fields.nth(4).unwrap_or_default();
        let data = fields.next().unwrap_or_default();
        let inserted = sqlx::query(
            "INSERT INTO queue_log_events (source, file_id, line_offset, time_ms, call_id, queue, \
               agent, event, data, hold_secs, talk_secs, wait_secs, position, original_position) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
             ON CONFLICT (source, file_id, line_offset) DO NOTHING",
        )
        .bind(key.source)
        .bind(key.file_id)
        .bind(key.offset as i64)
        .bind(parsed.time * 1000)
        .bind(&parsed.call_id)
        .bind(&parsed.queue)
        .bind(&parsed.agent)
        .bind(event_name)
        .bind(data)
        .bind(figures.hold_secs)
        .bind(figures.talk_secs)
        .bind(figures.wait_secs)
        .bind(figures.position)
        .bind(figures.original_position)
        .execute(&mut *conn)
        .await?;
        if inserted.rows_affected() == 0 {
            return Ok(Stored::AlreadyThere);
        }
        // A new line of a counted event also counts in its half hour (same transaction).
        if SLOT_EVENTS.contains(&event_name) {
            sqlx::query(
                "INSERT INTO queue_log_slots (source, queue, slot, event, agent, calls, talk_secs) \
                 VALUES ($1, $2, $3, $4, $5, 1, $6) \
                 ON CONFLICT (source, queue, slot, event, agent) DO UPDATE \
                 SET calls = queue_log_slots.calls + 1, talk_secs = queue_log_slots.talk_secs + excluded.talk_secs",
            )
            .bind(key.source)
            .bind(&parsed.queue)
            .bind((parsed.time * 1000).div_euclid(app::acd::stats::HALF_HOUR_MS))
            .bind(event_name)
            .bind(&parsed.agent)
            .bind(figures.talk_secs.unwrap_or(0))
            .execute(&mut *conn)
            .await?;
        }
        Ok(Stored::Inserted)
    }
}

/// The events counted per half hour and agent in `queue_log_slots`: the statistics' outcomes,
/// and completed calls for talk time.
pub const SLOT_EVENTS: [&str; 10] = [
    "ENTERQUEUE", "CONNECT", "ABANDON", "EXITWITHTIMEOUT", "EXITEMPTY", "EXITWITHKEY", "DISSUASION", "CLOSED",
    "COMPLETECALLER", "COMPLETEAGENT",
];

pub async fn import_queue_log(db: &Db, source: &str, path: &Path, now_ms: i64) -> Result<ImportReport, ImportError> {
    tail::import(db, source, path, now_ms, &QueueLogFormat).await
}

/// The figures the statistics read, pulled out of the event.
#[derive(Default)]
struct Figures {
    hold_secs: Option<i64>,
    talk_secs: Option<i64>,
    wait_secs: Option<i64>,
    position: Option<i64>,
    original_position: Option<i64>,
}

impl Figures {
    fn of(event: &QueueEvent) -> Figures {
        let n = |v: u64| Some(v as i64);
        match *event {
            QueueEvent::EnterQueue { position, .. } => Figures { position: n(position.into()), ..Default::default() },
            QueueEvent::Connect { hold_secs, .. } => Figures { hold_secs: n(hold_secs), ..Default::default() },
            QueueEvent::Complete { hold_secs, talk_secs, .. } => {
                Figures { hold_secs: n(hold_secs), talk_secs: n(talk_secs), ..Default::default() }
            }
            QueueEvent::Abandon { position, original_position, wait_secs }
            | QueueEvent::Exit { position, original_position, wait_secs, .. } => Figures {
                wait_secs: n(wait_secs),
                position: n(position.into()),
                original_position: n(original_position.into()),
                ..Default::default()
            },
            _ => Figures::default(),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use app::db::testing::each_backend;
    use sqlx::Row;

    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/asterisk/queue_log");

    async fn count(db: &Db, event: &str) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM queue_log_events WHERE event = $1")
            .bind(event)
            .fetch_one(db.pool())
            .await
            .unwrap()
            .get("n")
    }

    async fn total(db: &Db) -> i64 {
        sqlx::query("SELECT COUNT(*) AS n FROM queue_log_events").fetch_one(db.pool()).await.unwrap().get("n")
    }

    fn temp_copy() -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue_log");
        std::fs::copy(FIXTURE, &path).expect("fixture");
        (dir, path)
    }

    #[tokio::test]
    async fn imports_the_real_file_once_however_often_it_is_read() {
        for db in each_backend().await {
            let (_dir, path) = temp_copy();
            let first = import_queue_log(&db, "pbx1", &path, 0).await.unwrap();
            assert_eq!((first.imported, first.rejected.len(), first.restarted), (43, 0, false));
            assert_eq!((count(&db, "ENTERQUEUE").await, count(&db, "CONNECT").await, count(&db, "ABANDON").await), (12, 10, 2));
            let again = import_queue_log(&db, "pbx1", &path, 1).await.unwrap();
            assert_eq!(again, ImportReport::default());
            // Even with the checkpoint lost (a restored backup, say), nothing is counted twice.
            sqlx::query("DELETE FROM import_checkpoints").execute(db.pool()).await.unwrap();
            assert_eq!(import_queue_log(&db, "pbx1", &path, 2).await.unwrap().imported, 0);
            assert_eq!(total(&db).await, 43);
            // Another PBX's file is its own source.
            assert_eq!(import_queue_log(&db, "pbx2", &path, 3).await.unwrap().imported, 43);
        }
    }

    #[tokio::test]
    async fn follows_appends_waits_for_whole_lines_and_survives_rotation() {
        for db in each_backend().await {
            let (_dir, path) = temp_copy();
            import_queue_log(&db, "pbx", &path, 0).await.unwrap();
            let mut file = std::fs::OpenOptions::new().append(true).open(&path).unwrap();
            write!(file, "1795327500|1795327500.1|support|NONE|ENTERQUEUE||0600000000|1\n1795327501|1795327500.1|sup").unwrap();
            file.flush().unwrap();
            let partial = import_queue_log(&db, "pbx", &path, 1).await.unwrap();
            assert_eq!(partial.imported, 1, "the half-written line waits");
            write!(file, "port|NONE|ABANDON|1|1|1\nnot a queue_log line\n1795327502|NONE|support|Ann|PAUSE|break\n").unwrap();
            file.flush().unwrap();
            let rest = import_queue_log(&db, "pbx", &path, 2).await.unwrap();
            assert_eq!(rest.imported, 2);
            assert_eq!(rest.rejected.len(), 1, "{:?}", rest.rejected);
            assert_eq!(total(&db).await, 46);
            let wait: i64 = sqlx::query("SELECT wait_secs FROM queue_log_events WHERE call_id = '1795327500.1' AND event = 'ABANDON'")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get("wait_secs");
            assert_eq!(wait, 1);

            // Rotation: a new file, longer than the old offset, starting with other lines.
            let mut rotated = String::new();
            for n in 0..60 {
                rotated.push_str(&format!("{}|{n}.1|sales|NONE|ENTERQUEUE||06000000{n:02}|1\n", 1795328000 + n));
            }
            std::fs::write(&path, rotated).unwrap();
            let after = import_queue_log(&db, "pbx", &path, 3).await.unwrap();
            assert_eq!((after.imported, after.restarted), (60, true));
            assert_eq!(total(&db).await, 106);
            assert_eq!(import_queue_log(&db, "pbx", &path, 4).await.unwrap().imported, 0);
        }
    }

    #[tokio::test]
    async fn a_large_file_is_imported_in_several_transactions() {
        for db in each_backend().await {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("queue_log");
            let lines = 12_345;
            let mut text = String::new();
            for n in 0..lines {
                text.push_str(&format!("{}|{n}.1|support|NONE|ENTERQUEUE||0600000000|1\n", 1795328000 + n));
            }
            std::fs::write(&path, &text).unwrap();
            let report = import_queue_log(&db, "pbx", &path, 0).await.unwrap();
            assert_eq!(report.imported, lines as u64);
            let offset: i64 = sqlx::query("SELECT byte_offset FROM import_checkpoints WHERE source = 'pbx'")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get("byte_offset");
            assert_eq!(offset as usize, text.len(), "the checkpoint ends at the end of the file");
            assert_eq!(total(&db).await, lines);
        }
    }

    #[tokio::test]
    async fn a_missing_file_is_not_an_error() {
        for db in each_backend().await {
            let report = import_queue_log(&db, "pbx", Path::new("/nonexistent/queue_log"), 0).await.unwrap();
            assert_eq!(report, ImportReport::default());
        }
    }
}
