//! Call detail records from Asterisk's `Master.csv` (cdr_csv). Columns, in Asterisk's order:
//! accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp, lastdata, start, answer,
//! end, duration, billsec, disposition, amaflags, then uniqueid and userfield when cdr.conf has
//! `loguniqueid` / `loguserfield`. Times are the PBX's local time unless `usegmtime` is set, so
//! the importer is given the PBX's time zone.

use std::path::Path;

use app::db::Db;
use jiff::civil::DateTime;
use jiff::tz::TimeZone;
use sqlx::AnyConnection;

use super::tail::{self, ImportError, ImportReport, LineFormat, LineKey, Stored};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CdrRecord {
    pub account_code: String,
    pub src: String,
    pub dst: String,
    pub dcontext: String,
    pub clid: String,
    pub channel: String,
    pub dst_channel: String,
    pub last_app: String,
    pub last_data: String,
    pub start_ms: i64,
    /// None when the call was never answered.
    pub answer_ms: Option<i64>,
    pub end_ms: i64,
    pub duration_secs: i64,
    pub billsec: i64,
    pub disposition: String,
    pub ama_flags: String,
    pub uniqueid: String,
    pub userfield: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CdrError {
    #[error("not a CSV record: {0}")]
    Csv(String),
    #[error("{0} columns, expected 16 to 18")]
    Columns(usize),
    #[error("bad {field} {value:?}")]
    Value { field: &'static str, value: String },
}

pub fn parse_line(line: &str, zone: &TimeZone) -> Result<CdrRecord, CdrError> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).flexible(true).from_reader(line.as_bytes());
    let record = reader
        .records()
        .next()
        .ok_or_else(|| CdrError::Csv("empty".into()))?
        .map_err(|e| CdrError::Csv(e.to_string()))?;
    if !(16..=18).contains(&record.len()) {
        return Err(CdrError::Columns(record.len()));
    }
    let text = |i: usize| record.get(i).unwrap_or_default().to_string();
    let time = |i: usize, field: &'static str| -> Result<Option<i64>, CdrError> {
        let value = record.get(i).unwrap_or_default().trim();
        if value.is_empty() {
            return Ok(None);
        }
        DateTime::strptime("%Y-%m-%d %H:%M:%S", value)
            .and_then(|local| local.to_zoned(zone.clone()))
            .map(|zoned| Some(zoned.timestamp().as_millisecond()))
            .map_err(|_| CdrError::Value { field, value: value.to_string() })
    };
    let number = |i: usize, field: &'static str| -> Result<i64, CdrError> {
        let value = record.get(i).unwrap_or_default().trim();
        value.parse().map_err(|_| CdrError::Value { field, value: value.to_string() })
    };
    let required = |v: Option<i64>, field: &'static str| v.ok_or(CdrError::Value { field, value: String::new() });
    Ok(CdrRecord {
        account_code: text(0),
        src: text(1),
        dst: text(2),
        dcontext: text(3),
        clid: text(4),
        channel: text(5),
        dst_channel: text(6),
        last_app: text(7),
        last_data: text(8),
        start_ms: required(time(9, "start")?, "start")?,
        answer_ms: time(10, "answer")?,
        end_ms: required(time(11, "end")?, "end")?,
        duration_secs: number(12, "duration")?,
        billsec: number(13, "billsec")?,
        disposition: text(14),
        ama_flags: text(15),
        uniqueid: text(16),
        userfield: text(17),
    })
}

struct CdrFormat {
    zone: TimeZone,
}

impl LineFormat for CdrFormat {
    async fn store(&self, conn: &mut AnyConnection, key: &LineKey<'_>, line: &str) -> Result<Stored, sqlx::Error> {
        let cdr = match parse_line(line, &self.zone) {
            Ok(cdr) => cdr,
            Err(error) => return Ok(Stored::Rejected(error.to_string())),
        };
        let inserted = sqlx::query(
            "INSERT INTO cdr_records (source, file_id, line_offset, account_code, src, dst, dcontext, clid, \
               channel, dst_channel, last_app, last_data, start_ms, answer_ms, end_ms, duration_secs, billsec, \
               disposition, ama_flags, uniqueid, userfield) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21) \
             ON CONFLICT (source, file_id, line_offset) DO NOTHING",
        )
        .bind(key.source)
        .bind(key.file_id)
        .bind(key.offset as i64)
        .bind(&cdr.account_code)
        .bind(&cdr.src)
        .bind(&cdr.dst)
        .bind(&cdr.dcontext)
        .bind(&cdr.clid)
        .bind(&cdr.channel)
        .bind(&cdr.dst_channel)
        .bind(&cdr.last_app)
        .bind(&cdr.last_data)
        .bind(cdr.start_ms)
        .bind(cdr.answer_ms)
        .bind(cdr.end_ms)
        .bind(cdr.duration_secs)
        .bind(cdr.billsec)
        .bind(&cdr.disposition)
        .bind(&cdr.ama_flags)
        .bind(&cdr.uniqueid)
        .bind(&cdr.userfield)
        .execute(&mut *conn)
        .await?;
        Ok(if inserted.rows_affected() > 0 { Stored::Inserted } else { Stored::AlreadyThere })
    }
}

/// Imports what was appended to a Master.csv; `zone` is the PBX's time zone.
pub async fn import_cdr(db: &Db, source: &str, path: &Path, zone: TimeZone, now_ms: i64) -> Result<ImportReport, ImportError> {
    tail::import(db, source, path, now_ms, &CdrFormat { zone }).await
}

#[cfg(test)]
mod tests {
    use app::db::testing::each_backend;
    use sqlx::Row;

    use super::*;

    const FIXTURE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/fixtures/asterisk/Master.csv");

    #[test]
    fn reads_a_real_record_with_its_quoted_caller_id() {
        let text = std::fs::read_to_string(FIXTURE).unwrap();
        let line = text.lines().find(|l| l.contains("\"Queue\",\"support")).unwrap();
        let cdr = parse_line(line, &TimeZone::UTC).unwrap();
        assert_eq!(cdr.clid, "\"Client 2\" <0619722233>");
        assert_eq!((cdr.src.as_str(), cdr.dst.as_str(), cdr.last_app.as_str()), ("0619722233", "support", "Queue"));
        assert_eq!(cdr.start_ms, 1_795_327_399_000, "2026-11-22 06:03:19 UTC");
        assert_eq!(cdr.answer_ms, Some(1_795_327_399_000));
        assert_eq!((cdr.duration_secs, cdr.billsec, cdr.disposition.as_str()), (4, 4, "ANSWERED"));
        assert_eq!((cdr.uniqueid.as_str(), cdr.userfield.as_str()), ("1795327399.5", "inbound"));
        // The same wall-clock time on a PBX in Paris is an hour earlier in UTC (winter).
        let paris = parse_line(line, &TimeZone::get("Europe/Paris").unwrap()).unwrap();
        assert_eq!(cdr.start_ms - paris.start_ms, 3_600_000);
    }

    #[test]
    fn unanswered_calls_and_bad_records() {
        let unanswered = r#""","0600","100","from-internal","","SIP/a","SIP/b","Dial","SIP/b","2026-01-05 10:00:00","","2026-01-05 10:00:30",30,0,"NO ANSWER","DOCUMENTATION""#;
        let cdr = parse_line(unanswered, &TimeZone::UTC).unwrap();
        assert_eq!((cdr.answer_ms, cdr.billsec, cdr.uniqueid.as_str()), (None, 0, ""));
        assert_eq!(parse_line("a,b,c", &TimeZone::UTC), Err(CdrError::Columns(3)));
        let bad_time = unanswered.replace("2026-01-05 10:00:00", "yesterday");
        assert!(matches!(parse_line(&bad_time, &TimeZone::UTC), Err(CdrError::Value { field: "start", .. })));
        let bad_number = unanswered.replace(",30,0,", ",thirty,0,");
        assert!(matches!(parse_line(&bad_number, &TimeZone::UTC), Err(CdrError::Value { field: "duration", .. })));
    }

    #[tokio::test]
    async fn imports_the_real_file_once() {
        for db in each_backend().await {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("Master.csv");
            std::fs::copy(FIXTURE, &path).unwrap();
            let report = import_cdr(&db, "pbx1/cdr", &path, TimeZone::UTC, 0).await.unwrap();
            assert_eq!((report.imported, report.rejected.len()), (36, 0));
            assert_eq!(import_cdr(&db, "pbx1/cdr", &path, TimeZone::UTC, 1).await.unwrap().imported, 0);
            let row = sqlx::query("SELECT COUNT(*) AS n FROM cdr_records WHERE last_app = 'Queue'")
                .fetch_one(db.pool())
                .await
                .unwrap();
            assert_eq!(row.get::<i64, _>("n"), 12, "every caller that entered a queue (queue_log: 12 ENTERQUEUE)");
            let expected_billed: i64 = std::fs::read_to_string(FIXTURE)
                .unwrap()
                .lines()
                .filter(|l| l.contains("\"Queue\""))
                .map(|l| parse_line(l, &TimeZone::UTC).unwrap().billsec)
                .sum();
            // PostgreSQL's SUM of BIGINT is NUMERIC: cast so both backends give an integer.
            let billed: i64 = sqlx::query("SELECT CAST(SUM(billsec) AS BIGINT) AS billed FROM cdr_records WHERE last_app = 'Queue'")
                .fetch_one(db.pool())
                .await
                .unwrap()
                .get("billed");
            assert_eq!(billed, expected_billed);
        }
    }
}
