//! Uploaded contact files wait here, on disk, while their owner confirms the column mapping, and
//! running imports publish their progress here. One value, provided as context by the server.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use super::source::{Progress, SourceKind};
use super::{ImportProgress, ImportState};
use crate::auth::guard::TenantScope;
use crate::error::{AppError, FileProblem};

/// An upload not confirmed within this time is deleted.
const STAGED_FOR: Duration = Duration::from_secs(3600);

#[derive(Clone)]
pub struct ContactImports {
    /// Largest accepted upload.
    pub upload_limit_bytes: u64,
    /// Where uploads are staged (emptied at start).
    pub dir: PathBuf,
    state: Arc<Mutex<State>>,
}

#[derive(Default)]
struct State {
    staged: HashMap<String, Staged>,
    running: HashMap<i64, Arc<Running>>,
}

/// A file received and recognised, not yet imported.
pub struct Staged {
    pub tenant_id: i64,
    pub user_id: i64,
    pub path: PathBuf,
    pub file_name: String,
    pub kind: SourceKind,
    staged_at: Instant,
}

/// The live counters of one import.
pub struct Running {
    pub tenant_id: i64,
    pub progress: Progress,
    pub rows_read: AtomicU64,
    pub imported: AtomicU64,
    pub rejected: AtomicU64,
    pub state: Mutex<ImportState>,
}

impl Running {
    pub fn snapshot(&self, base_id: i64) -> ImportProgress {
        ImportProgress {
            base_id,
            state: self.state.lock().map(|s| s.clone()).unwrap_or(ImportState::Running),
            done: self.progress.done.load(Ordering::Relaxed),
            total: self.progress.total.load(Ordering::Relaxed),
            rows_read: self.rows_read.load(Ordering::Relaxed),
            imported: self.imported.load(Ordering::Relaxed),
            rejected: self.rejected.load(Ordering::Relaxed),
        }
    }
}

impl ContactImports {
    /// Prepares the staging directory, removing what a previous run left in it.
    pub fn new(dir: PathBuf, upload_limit_bytes: u64) -> std::io::Result<ContactImports> {
        if dir.exists() {
            std::fs::remove_dir_all(&dir)?;
        }
        std::fs::create_dir_all(&dir)?;
        Ok(ContactImports { upload_limit_bytes, dir, state: Arc::default() })
    }

    pub fn from_context() -> Result<ContactImports, AppError> {
        leptos::prelude::use_context::<ContactImports>().ok_or_else(|| {
            tracing::error!("no contact imports in the request context");
            AppError::Internal
        })
    }

    /// A fresh file path for an upload and the token that will name it.
    pub fn new_upload(&self) -> (String, PathBuf) {
        use rand::Rng;
        let token = format!("{:032x}", rand::thread_rng().r#gen::<u128>());
        let path = self.dir.join(format!("{token}.upload"));
        (token, path)
    }

    pub fn stage(&self, token: String, scope: TenantScope, user_id: i64, path: PathBuf, file_name: String, kind: SourceKind) {
        let expired: Vec<PathBuf> = {
            let mut state = self.state.lock().expect("imports lock");
            let old: Vec<String> =
                state.staged.iter().filter(|(_, s)| s.staged_at.elapsed() > STAGED_FOR).map(|(t, _)| t.clone()).collect();
            let expired = old.iter().filter_map(|t| state.staged.remove(t)).map(|s| s.path).collect();
            let staged = Staged { tenant_id: scope.tenant_id(), user_id, path, file_name, kind, staged_at: Instant::now() };
            state.staged.insert(token, staged);
            expired
        };
        for path in expired {
            let _ = std::fs::remove_file(path);
        }
    }

    /// The staged upload, if it belongs to this user in this tenant (it stays staged).
    pub fn peek(&self, token: &str, scope: TenantScope, user_id: i64) -> Result<(PathBuf, String, SourceKind), AppError> {
        let state = self.state.lock().expect("imports lock");
        match state.staged.get(token) {
            Some(s) if s.tenant_id == scope.tenant_id() && s.user_id == user_id => {
                Ok((s.path.clone(), s.file_name.clone(), s.kind))
            }
            _ => Err(AppError::File(FileProblem::UploadGone)),
        }
    }

    /// Takes the staged upload for its import: it cannot be imported twice.
    pub fn take(&self, token: &str, scope: TenantScope, user_id: i64) -> Result<Staged, AppError> {
        self.peek(token, scope, user_id)?;
        self.state.lock().expect("imports lock").staged.remove(token).ok_or(AppError::File(FileProblem::UploadGone))
    }

    pub fn register(&self, base_id: i64, scope: TenantScope) -> Arc<Running> {
        let running = Arc::new(Running {
            tenant_id: scope.tenant_id(),
            progress: Progress::default(),
            rows_read: AtomicU64::new(0),
            imported: AtomicU64::new(0),
            rejected: AtomicU64::new(0),
            state: Mutex::new(ImportState::Running),
        });
        self.state.lock().expect("imports lock").running.insert(base_id, running.clone());
        running
    }

    /// The import's progress, only for its tenant.
    pub fn progress(&self, base_id: i64, scope: TenantScope) -> Option<ImportProgress> {
        let state = self.state.lock().expect("imports lock");
        state
            .running
            .get(&base_id)
            .filter(|r| r.tenant_id == scope.tenant_id())
            .map(|running| running.snapshot(base_id))
    }
}
