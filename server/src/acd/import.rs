//! Tails Asterisk's queue_log into the database.
//!
//! Each call reads what was appended since the source's checkpoint, stores the complete lines
//! and moves the checkpoint in the same transaction, so a crash never loses or repeats a line.
//! A line is identified by (source, file identity, byte offset): re-reading after a lost
//! checkpoint inserts nothing twice. The file identity is a hash of its first line, so a rotated
//! (new) file is noticed even when it has grown past the old offset.

use std::io::SeekFrom;
use std::path::Path;

use app::db::Db;
use sha2::{Digest, Sha256};
use sqlx::Row;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, BufReader};

use super::queue_log::{QueueEvent, parse_line};

/// Lines stored per transaction.
const BATCH_LINES: usize = 5_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: u64,
    /// Lines that could not be parsed: (byte offset, reason). They are passed over, not retried.
    pub rejected: Vec<(u64, String)>,
    /// The file was not the one of the checkpoint (rotated or replaced): read from its start.
    pub restarted: bool,
}

#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    #[error("cannot read {path}: {source}")]
    Read { path: String, source: std::io::Error },
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

pub async fn import_queue_log(db: &Db, source: &str, path: &Path, now_ms: i64) -> Result<ImportReport, ImportError> {
    let read_error = |source: std::io::Error| ImportError::Read { path: path.display().to_string(), source };
    let mut report = ImportReport::default();
    let file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        // Not written yet (Asterisk creates it with the first event): nothing to do.
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(report),
        Err(error) => return Err(read_error(error)),
    };
    let length = file.metadata().await.map_err(read_error)?.len();
    let mut reader = BufReader::new(file);
    let mut first_line = Vec::new();
    reader.read_until(b'\n', &mut first_line).await.map_err(read_error)?;
    if !first_line.ends_with(b"\n") {
        return Ok(report);
    }
    let file_id = hex(&Sha256::digest(&first_line));

    let checkpoint = sqlx::query("SELECT file_id, byte_offset FROM import_checkpoints WHERE source = $1")
        .bind(source)
        .fetch_optional(db.pool())
        .await?;
    let mut offset = match checkpoint {
        Some(row) => {
            let (id, at): (String, i64) = (row.try_get("file_id")?, row.try_get("byte_offset")?);
            if id == file_id && at as u64 <= length {
                at as u64
            } else {
                report.restarted = true;
                0
            }
        }
        None => 0,
    };
    reader.seek(SeekFrom::Start(offset)).await.map_err(read_error)?;

    let mut rest = Vec::new();
    reader.read_to_end(&mut rest).await.map_err(read_error)?;
    // Only complete lines: a line being written stays for the next call.
    let complete = rest.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
    let mut lines = Vec::new();
    let mut at = offset;
    for raw in rest[..complete].split_inclusive(|&b| b == b'\n') {
        lines.push((at, String::from_utf8_lossy(raw).into_owned()));
        at += raw.len() as u64;
    }
    for batch in lines.chunks(BATCH_LINES) {
        let mut tx = db.pool().begin().await?;
        for (line_offset, line) in batch {
            if line.trim().is_empty() {
                continue;
            }
            match parse_line(line) {
                Ok(parsed) => {
                    let figures = Figures::of(&parsed.event);
                    let fixed_fields = 5;
                    let data = line.trim_end_matches(['\r', '\n']).splitn(fixed_fields + 1, '|').nth(fixed_fields).unwrap_or("");
                    let event_name = line.split('|').nth(4).unwrap_or_default();
                    let inserted = sqlx::query(
                        "INSERT INTO queue_log_events (source, file_id, line_offset, time_ms, call_id, queue, \
                           agent, event, data, hold_secs, talk_secs, wait_secs, position, original_position) \
                         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
                         ON CONFLICT (source, file_id, line_offset) DO NOTHING",
                    )
                    .bind(source)
                    .bind(&file_id)
                    .bind(*line_offset as i64)
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
                    .execute(&mut *tx)
                    .await?;
                    report.imported += inserted.rows_affected();
                }
                Err(error) => report.rejected.push((*line_offset, error.to_string())),
            }
        }
        offset = batch.last().map_or(offset, |(o, l)| o + l.len() as u64);
        sqlx::query(
            "INSERT INTO import_checkpoints (source, file_id, byte_offset, updated_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (source) DO UPDATE SET file_id = excluded.file_id, byte_offset = excluded.byte_offset, \
             updated_at = excluded.updated_at",
        )
        .bind(source)
        .bind(&file_id)
        .bind(offset as i64)
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
    }
    if report.restarted {
        tracing::info!(source, path = %path.display(), "queue_log was rotated or replaced: reading the new file from its start");
    }
    for (line_offset, reason) in &report.rejected {
        tracing::warn!(source, line_offset, %reason, "queue_log line rejected");
    }
    Ok(report)
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use app::db::testing::each_backend;

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
    async fn a_missing_file_is_not_an_error() {
        for db in each_backend().await {
            let report = import_queue_log(&db, "pbx", Path::new("/nonexistent/queue_log"), 0).await.unwrap();
            assert_eq!(report, ImportReport::default());
        }
    }
}
