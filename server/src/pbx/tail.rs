//! Tailing the files Asterisk appends to (queue_log, CDR Master.csv) into the database.
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
use sqlx::{AnyConnection, Row};
use tokio::io::{AsyncBufReadExt, AsyncSeekExt, BufReader};

/// Lines stored per transaction.
const BATCH_LINES: usize = 5_000;

#[derive(Debug, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub imported: u64,
    /// Lines that could not be read: (byte offset, reason). They are passed over, not retried.
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

/// Where a line comes from: its permanent identity.
pub struct LineKey<'a> {
    pub source: &'a str,
    pub file_id: &'a str,
    pub offset: u64,
}

pub enum Stored {
    Inserted,
    AlreadyThere,
    Rejected(String),
}

/// One file format: how to store one of its lines (with `ON CONFLICT DO NOTHING` on the key).
pub trait LineFormat {
    fn store(
        &self,
        conn: &mut AnyConnection,
        key: &LineKey<'_>,
        line: &str,
    ) -> impl Future<Output = Result<Stored, sqlx::Error>> + Send;
}

/// Imports what was appended to `path` since the last checkpoint of `source`.
pub async fn import<F: LineFormat + Sync>(
    db: &Db,
    source: &str,
    path: &Path,
    now_ms: i64,
    format: &F,
) -> Result<ImportReport, ImportError> {
    let read_error = |source: std::io::Error| ImportError::Read { path: path.display().to_string(), source };
    let mut report = ImportReport::default();
    let file = match tokio::fs::File::open(path).await {
        Ok(file) => file,
        // Not written yet (Asterisk creates it with the first record): nothing to do.
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
    let file_id: String = Sha256::digest(&first_line).iter().map(|b| format!("{b:02x}")).collect();

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

    // Stream the new lines in batches: a first import of a large file never sits in memory.
    let mut batch: Vec<(u64, String)> = Vec::with_capacity(BATCH_LINES);
    let mut raw = Vec::new();
    let mut at_end = false;
    while !at_end {
        batch.clear();
        let mut batch_end = offset;
        while batch.len() < BATCH_LINES {
            raw.clear();
            let read = reader.read_until(b'\n', &mut raw).await.map_err(read_error)?;
            // Only complete lines: a line being written stays for the next call.
            if read == 0 || !raw.ends_with(b"\n") {
                at_end = true;
                break;
            }
            batch.push((batch_end, String::from_utf8_lossy(&raw).into_owned()));
            batch_end += read as u64;
        }
        if batch.is_empty() {
            break;
        }
        let mut tx = db.pool().begin().await?;
        for (line_offset, line) in &batch {
            let text = line.trim_end_matches(['\r', '\n']);
            if text.trim().is_empty() {
                continue;
            }
            let key = LineKey { source, file_id: &file_id, offset: *line_offset };
            match format.store(&mut tx, &key, text).await? {
                Stored::Inserted => report.imported += 1,
                Stored::AlreadyThere => {}
                Stored::Rejected(reason) => report.rejected.push((*line_offset, reason)),
            }
        }
        offset = batch_end;
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
        tracing::info!(source, path = %path.display(), "file was rotated or replaced: reading the new one from its start");
    }
    for (line_offset, reason) in &report.rejected {
        tracing::warn!(source, line_offset, %reason, "line rejected");
    }
    Ok(report)
}
