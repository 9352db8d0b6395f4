//! One contact import: a blocking thread reads the file, normalises phones and drops duplicates
//! while the async side writes what it sends, so reading and writing overlap. Contacts are
//! committed in chunks into a base that stays 'importing' (invisible) until the last chunk marks
//! it 'ready' with its counts; any failure deletes the base, its contacts and its rejects.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use futures::TryStreamExt;
use sqlx::{Any, AssertSqlSafe, Row};

use super::phone::{self, PhoneProblem};
use super::source::{self, SourceKind};
use super::uploads::{ContactImports, Running};
use super::{
    ColumnRole, FilePreview, ImportRequest, ImportState, MAX_CELL_CHARS, PREVIEW_ROWS, RejectReason, search_text, validate_columns,
};
use crate::auth::guard::TenantScope;
use crate::db::{Backend, Db, placeholders};
use crate::error::{AppError, Field, FileProblem, Problem, required_text};

pub const MAX_BASE_NAME_CHARS: u32 = 100;
/// Rows sent from the reader to the writer at once.
const BATCH_ROWS: usize = 1000;
/// Rows per INSERT statement (at most 900 parameters: under both backends' limits).
const ROWS_PER_STATEMENT: usize = 100;
/// Rows per transaction: long enough to amortise commits, short enough not to block other
/// writers of an SQLite database for long.
const ROWS_PER_COMMIT: u64 = 50_000;

/// A row that made it: its cells cut to size, its phone in E.164.
struct NewContact {
    line: u64,
    first_name: String,
    last_name: String,
    phone: u64,
    var1: String,
    var2: String,
    custom: String,
}

struct Reject {
    line: u64,
    reason: RejectReason,
    /// The row's cells, as a JSON array.
    raw: String,
}

#[derive(Default)]
struct Batch {
    contacts: Vec<NewContact>,
    rejects: Vec<Reject>,
}

/// What the reader needs of the request.
struct Plan {
    has_header: bool,
    columns: Vec<ColumnRole>,
    /// Cells a row needs for every mapped column.
    needed: usize,
    phone_column: usize,
    country: phonenumber::country::Id,
}

/// Checks the request, creates the (invisible) base and starts the import. Returns the base id,
/// which names the import for its progress.
pub async fn start(
    db: &Db,
    imports: &ContactImports,
    scope: TenantScope,
    user_id: i64,
    request: ImportRequest,
    now_ms: i64,
) -> Result<i64, AppError> {
    let name = required_text(&request.name, Field::BaseName, MAX_BASE_NAME_CHARS)?;
    let country = phone::country(&request.country).ok_or(AppError::invalid(Field::Country, Problem::Unknown))?;
    validate_columns(&request.columns)?;
    imports.peek(&request.upload, scope, user_id)?;
    let custom_fields = custom_field_names(&request.columns);
    let taken: Option<i64> = sqlx::query_scalar("SELECT id FROM contact_bases WHERE tenant_id = $1 AND lower(name) = lower($2)")
        .bind(scope.tenant_id())
        .bind(&name)
        .fetch_optional(db.pool())
        .await?;
    if taken.is_some() {
        return Err(AppError::Duplicate { field: Field::BaseName });
    }
    let staged = imports.take(&request.upload, scope, user_id)?;
    let base_id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, created_by, created_at)
         VALUES ($1, $2, 'importing', $3, $4, $5, $6, $7) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(&name)
    .bind(&staged.file_name)
    .bind(request.country.trim().to_ascii_uppercase())
    .bind(serde_json::to_string(&custom_fields).unwrap_or_default())
    .bind(user_id)
    .bind(now_ms)
    .fetch_one(db.pool())
    .await?;
    let plan = Plan {
        has_header: request.has_header,
        needed: request.columns.iter().rposition(|r| *r != ColumnRole::Ignore).map_or(0, |i| i + 1),
        phone_column: request.columns.iter().position(|r| *r == ColumnRole::Phone).unwrap_or(0),
        columns: request.columns,
        country,
    };
    let running = imports.register(base_id, scope);
    let (db, path, kind) = (db.clone(), staged.path, staged.kind);
    let dedupe = request.dedupe_across_bases;
    tokio::spawn(async move {
        let outcome = run(&db, scope, base_id, &path, kind, plan, dedupe, &running).await;
        let _ = tokio::fs::remove_file(&path).await;
        let state = match outcome {
            Ok(()) => ImportState::Done,
            Err(error) => {
                tracing::warn!(base_id, ?error, "contact import failed");
                if let Err(cleanup) = discard(&db, base_id).await {
                    tracing::error!(base_id, ?cleanup, "cannot remove a failed import's base");
                }
                ImportState::Failed(error)
            }
        };
        if let Ok(mut current) = running.state.lock() {
            *current = state;
        }
    });
    Ok(base_id)
}

/// Unique, non-empty names for the custom columns, in column order.
fn custom_field_names(columns: &[ColumnRole]) -> Vec<String> {
    let mut names: Vec<String> = Vec::new();
    for (index, role) in columns.iter().enumerate() {
        if let ColumnRole::Custom(name) = role {
            let mut name: String = name.trim().chars().take(100).collect();
            if name.is_empty() || names.contains(&name) {
                name = format!("{} ({})", if name.is_empty() { "Column" } else { &name }, index + 1);
            }
            names.push(name);
        }
    }
    names
}

/// Removes an import's base and everything in it.
pub async fn discard(db: &Db, base_id: i64) -> Result<(), AppError> {
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM contact_rejects WHERE base_id = $1").bind(base_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM contacts WHERE base_id = $1").bind(base_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM contact_bases WHERE id = $1").bind(base_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Bases left 'importing' by a server that stopped mid-import: removed at start.
pub async fn discard_interrupted(db: &Db) -> Result<u64, AppError> {
    let ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM contact_bases WHERE state = 'importing'").fetch_all(db.pool()).await?;
    for &id in &ids {
        discard(db, id).await?;
    }
    Ok(ids.len() as u64)
}

#[allow(clippy::too_many_arguments)]
async fn run(
    db: &Db,
    scope: TenantScope,
    base_id: i64,
    path: &std::path::Path,
    kind: SourceKind,
    plan: Plan,
    dedupe_across_bases: bool,
    running: &Arc<Running>,
) -> Result<(), AppError> {
    let seen = if dedupe_across_bases { phones_of_other_bases(db, scope).await? } else { HashMap::new() };
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Batch>(8);
    let reader = {
        let (path, running) = (PathBuf::from(path), running.clone());
        tokio::task::spawn_blocking(move || read(&path, kind, &plan, seen, &running, sender))
    };
    let mut tx = db.pool().begin().await?;
    let mut uncommitted = 0_u64;
    let written: Result<(), AppError> = async {
        while let Some(batch) = receiver.recv().await {
            insert_contacts(&mut tx, db.backend(), base_id, &batch.contacts).await?;
            insert_rejects(&mut tx, db.backend(), base_id, &batch.rejects).await?;
            running.imported.fetch_add(batch.contacts.len() as u64, Ordering::Relaxed);
            running.rejected.fetch_add(batch.rejects.len() as u64, Ordering::Relaxed);
            uncommitted += (batch.contacts.len() + batch.rejects.len()) as u64;
            if uncommitted >= ROWS_PER_COMMIT {
                std::mem::replace(&mut tx, db.pool().begin().await?).commit().await?;
                uncommitted = 0;
            }
        }
        Ok(())
    }
    .await;
    // A write failure drops the receiver, which stops the reader.
    drop(receiver);
    let read = reader.await.map_err(|error| {
        tracing::error!(%error, "contact reader panicked");
        AppError::Internal
    })?;
    written?;
    read?;
    sqlx::query("UPDATE contact_bases SET state = 'ready', rows_read = $1, contacts = $2, rejected = $3 WHERE id = $4")
        .bind(running.rows_read.load(Ordering::Relaxed) as i64)
        .bind(running.imported.load(Ordering::Relaxed) as i64)
        .bind(running.rejected.load(Ordering::Relaxed) as i64)
        .bind(base_id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}

/// The tenant's numbers already in a base, keyed like new ones; line 0 marks "another base".
async fn phones_of_other_bases(db: &Db, scope: TenantScope) -> Result<HashMap<u64, u64>, AppError> {
    let mut seen = HashMap::new();
    let mut rows = sqlx::query(
        "SELECT c.phone FROM contacts c JOIN contact_bases b ON b.id = c.base_id
         WHERE b.tenant_id = $1 AND b.state = 'ready'",
    )
    .bind(scope.tenant_id())
    .fetch(db.pool());
    while let Some(row) = rows.try_next().await? {
        let phone: String = row.try_get(0)?;
        if let Ok(number) = phone.trim_start_matches('+').parse::<u64>() {
            seen.insert(number, 0);
        }
    }
    Ok(seen)
}

/// The reader thread: every row becomes a contact or a reject, sent in batches.
fn read(
    path: &std::path::Path,
    kind: SourceKind,
    plan: &Plan,
    mut seen: HashMap<u64, u64>,
    running: &Running,
    sender: tokio::sync::mpsc::Sender<Batch>,
) -> Result<(), AppError> {
    let mut batch = Batch::default();
    let mut first = true;
    let mut writer_gone = false;
    source::read_rows(path, kind, &running.progress, |line, cells| {
        if std::mem::take(&mut first) && plan.has_header {
            return ControlFlow::Continue(());
        }
        running.rows_read.fetch_add(1, Ordering::Relaxed);
        match check_row(plan, &mut seen, line, cells) {
            Ok(contact) => batch.contacts.push(contact),
            Err(reason) => batch.rejects.push(Reject { line, reason, raw: serde_json::to_string(cells).unwrap_or_default() }),
        }
        if batch.contacts.len() + batch.rejects.len() >= BATCH_ROWS && sender.blocking_send(std::mem::take(&mut batch)).is_err() {
            writer_gone = true;
            return ControlFlow::Break(());
        }
        ControlFlow::Continue(())
    })?;
    if !writer_gone {
        let _ = sender.blocking_send(batch);
    }
    Ok(())
}

fn check_row(plan: &Plan, seen: &mut HashMap<u64, u64>, line: u64, cells: &[String]) -> Result<NewContact, RejectReason> {
    if cells.len() < plan.needed {
        return Err(RejectReason::MissingColumns { found: cells.len() as u32, expected: plan.needed as u32 });
    }
    let phone = match phone::normalise(&cells[plan.phone_column], plan.country) {
        Ok(phone) => phone,
        Err(PhoneProblem::Missing) => return Err(RejectReason::MissingPhone),
        Err(PhoneProblem::Invalid) => return Err(RejectReason::InvalidPhone),
    };
    match seen.entry(phone) {
        Entry::Occupied(first) if *first.get() == 0 => return Err(RejectReason::InOtherBase),
        Entry::Occupied(first) => return Err(RejectReason::DuplicateInFile { first_line: *first.get() }),
        Entry::Vacant(slot) => {
            slot.insert(line);
        }
    }
    let mut contact = NewContact {
        line,
        first_name: String::new(),
        last_name: String::new(),
        phone,
        var1: String::new(),
        var2: String::new(),
        custom: String::new(),
    };
    let mut custom = Vec::new();
    for (role, cell) in plan.columns.iter().zip(cells) {
        let value = || cell.trim().chars().take(MAX_CELL_CHARS).collect::<String>();
        match role {
            ColumnRole::FirstName => contact.first_name = value(),
            ColumnRole::LastName => contact.last_name = value(),
            ColumnRole::Var1 => contact.var1 = value(),
            ColumnRole::Var2 => contact.var2 = value(),
            ColumnRole::Custom(_) => custom.push(value()),
            ColumnRole::Phone | ColumnRole::Ignore => {}
        }
    }
    contact.custom = serde_json::to_string(&custom).unwrap_or_default();
    Ok(contact)
}

async fn insert_contacts(
    tx: &mut sqlx::Transaction<'static, Any>,
    backend: Backend,
    base_id: i64,
    contacts: &[NewContact],
) -> Result<(), AppError> {
    for chunk in contacts.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO contacts (base_id, line, first_name, last_name, phone, var1, var2, custom, search) VALUES {}",
            placeholders(backend, chunk.len(), 9)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for c in chunk {
            let phone = phone::e164(c.phone);
            let search = search_text(&c.first_name, &c.last_name, &phone, &c.var1, &c.var2);
            query = query
                .bind(base_id)
                .bind(c.line as i64)
                .bind(c.first_name.as_str())
                .bind(c.last_name.as_str())
                .bind(phone)
                .bind(c.var1.as_str())
                .bind(c.var2.as_str())
                .bind(c.custom.as_str())
                .bind(search);
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

async fn insert_rejects(
    tx: &mut sqlx::Transaction<'static, Any>,
    backend: Backend,
    base_id: i64,
    rejects: &[Reject],
) -> Result<(), AppError> {
    for chunk in rejects.chunks(ROWS_PER_STATEMENT) {
        let sql = format!(
            "INSERT INTO contact_rejects (base_id, line, reason, detail, raw) VALUES {}",
            placeholders(backend, chunk.len(), 5)
        );
        let mut query = sqlx::query(AssertSqlSafe(sql));
        for r in chunk {
            query = query.bind(base_id).bind(r.line as i64).bind(r.reason.code()).bind(r.reason.detail()).bind(r.raw.as_str());
        }
        query.execute(&mut **tx).await?;
    }
    Ok(())
}

/// Streams the multipart field `file` to a staged file within the upload limit, recognises it
/// and previews it. Whatever fails leaves no file behind.
pub async fn receive(
    db: &Db,
    imports: &ContactImports,
    scope: TenantScope,
    user_id: i64,
    mut multipart: multer::Multipart<'static>,
) -> Result<FilePreview, AppError> {
    let (token, path) = imports.new_upload();
    let received = receive_into(&path, imports.upload_limit_bytes, &mut multipart).await;
    let previewed = match received {
        Ok((file_name, size)) => {
            let path = path.clone();
            tokio::task::spawn_blocking(move || preview(&path))
                .await
                .map_err(|_| AppError::Internal)
                .and_then(|preview| preview)
                .map(|preview| (file_name, size, preview))
        }
        Err(error) => Err(error),
    };
    let (file_name, size_bytes, (kind, has_header, headers, rows)) = match previewed {
        Ok(previewed) => previewed,
        Err(error) => {
            let _ = tokio::fs::remove_file(&path).await;
            return Err(error);
        }
    };
    let default_country: String = sqlx::query_scalar("SELECT default_country FROM tenants WHERE id = $1")
        .bind(scope.tenant_id())
        .fetch_one(db.pool())
        .await?;
    imports.stage(token.clone(), scope, user_id, path, file_name.clone(), kind);
    Ok(FilePreview {
        upload: token,
        file_name,
        size_bytes,
        format: kind.format(),
        has_header,
        suggested: super::suggest_columns(&headers, has_header),
        headers,
        rows,
        default_country,
    })
}

/// Writes the `file` field to `path`; returns its (cleaned) name and size.
async fn receive_into(
    path: &std::path::Path,
    limit: u64,
    multipart: &mut multer::Multipart<'static>,
) -> Result<(String, u64), AppError> {
    use tokio::io::AsyncWriteExt;
    let interrupted = |error: multer::Error| {
        tracing::warn!(%error, "contact upload interrupted");
        AppError::Transport("upload interrupted".into())
    };
    while let Some(mut field) = multipart.next_field().await.map_err(interrupted)? {
        if field.name() != Some("file") {
            continue;
        }
        let file_name = clean_file_name(field.file_name().unwrap_or_default());
        let mut file = tokio::fs::File::create(path).await.map_err(|error| {
            tracing::error!(%error, path = %path.display(), "cannot stage an upload");
            AppError::Internal
        })?;
        let mut size = 0_u64;
        while let Some(chunk) = field.chunk().await.map_err(interrupted)? {
            size += chunk.len() as u64;
            if size > limit {
                return Err(AppError::File(FileProblem::TooLarge { max_mb: limit.div_ceil(1 << 20) }));
            }
            file.write_all(&chunk).await.map_err(|_| AppError::Internal)?;
        }
        file.flush().await.map_err(|_| AppError::Internal)?;
        if size == 0 {
            return Err(AppError::File(FileProblem::Empty));
        }
        return Ok((file_name, size));
    }
    Err(AppError::File(FileProblem::Missing))
}

/// The base name of the browser's file name, without control characters, at most 200 characters.
fn clean_file_name(name: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or_default();
    let cleaned: String = base.chars().filter(|c| !c.is_control()).take(200).collect();
    if cleaned.trim().is_empty() { "contacts".to_string() } else { cleaned }
}

type Preview = (SourceKind, bool, Vec<String>, Vec<Vec<String>>);

/// The format, whether the first row is a header, the column names and the first rows.
fn preview(path: &std::path::Path) -> Result<Preview, AppError> {
    let kind = source::sniff(path)?;
    let mut rows: Vec<Vec<String>> = Vec::new();
    source::read_rows(path, kind, &source::Progress::default(), |_, cells| {
        rows.push(cells.iter().map(|c| c.chars().take(MAX_CELL_CHARS).collect()).collect());
        if rows.len() > PREVIEW_ROWS { ControlFlow::Break(()) } else { ControlFlow::Continue(()) }
    })?;
    if rows.is_empty() {
        return Err(AppError::File(FileProblem::Empty));
    }
    let has_header = looks_like_header(&rows[0]);
    let width = rows.iter().map(Vec::len).max().unwrap_or(0);
    let headers = (0..width)
        .map(|i| match rows[0].get(i).map(|h| h.trim()) {
            Some(header) if has_header && !header.is_empty() => header.to_string(),
            _ => format!("#{}", i + 1),
        })
        .collect();
    let mut body: Vec<Vec<String>> = rows.into_iter().skip(usize::from(has_header)).take(PREVIEW_ROWS).collect();
    for row in &mut body {
        row.resize(width, String::new());
    }
    Ok((kind, has_header, headers, body))
}

/// A first row without anything that looks like a phone number (6 digits or more) names columns.
fn looks_like_header(cells: &[String]) -> bool {
    cells.iter().all(|cell| cell.chars().filter(char::is_ascii_digit).count() < 6)
}

/// The rejects report as CSV text: a header line, then each rejected row with its reason.
pub fn report_csv(
    lines: impl futures::Stream<Item = Result<super::store::RejectLine, sqlx::Error>> + Send + 'static,
    locale: crate::i18n::Locale,
) -> impl futures::Stream<Item = Result<String, AppError>> + Send + 'static {
    use crate::i18n::td_string;
    use crate::shell::widgets::{CSV_BOM, csv_line};
    use futures::StreamExt;
    let header = format!(
        "{CSV_BOM}{}",
        csv_line(&[td_string!(locale, report_line), td_string!(locale, report_reason), td_string!(locale, report_cells)])
    );
    futures::stream::once(async move { Ok(header) })
        .chain(lines.map(move |line| {
            let line = line.map_err(AppError::from)?;
            let mut row = vec![line.line.to_string(), line.reason.map(|r| r.message(locale)).unwrap_or_default()];
            row.extend(line.cells);
            Ok(csv_line(&row))
        }))
        // The response body (through compression) may poll once more after the end.
        .fuse()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_names_are_unique_and_never_empty() {
        let columns = vec![
            ColumnRole::Custom("Ville".into()),
            ColumnRole::Phone,
            ColumnRole::Custom("Ville".into()),
            ColumnRole::Custom(" ".into()),
        ];
        assert_eq!(custom_field_names(&columns), vec!["Ville", "Ville (3)", "Column (4)"]);
    }

    #[test]
    fn file_names_lose_their_path_and_controls() {
        assert_eq!(clean_file_name("C:\\Users\\me\\base clients.csv"), "base clients.csv");
        assert_eq!(clean_file_name("../../etc/passwd"), "passwd");
        assert_eq!(clean_file_name("a\u{0}b.csv"), "ab.csv");
        assert_eq!(clean_file_name(""), "contacts");
    }

    #[test]
    fn a_header_row_has_no_phone_in_it() {
        let row = |cells: &[&str]| cells.iter().map(|c| c.to_string()).collect::<Vec<_>>();
        assert!(looks_like_header(&row(&["Nom", "Téléphone", "Code postal 75"])));
        assert!(!looks_like_header(&row(&["Dupont", "06 12 34 56 78"])));
    }
}
