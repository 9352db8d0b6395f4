//! Data functions for argument trees. Each takes a `TenantScope`; another tenant's tree is
//! "not found". Versions that a campaign has run on are never changed: saving adds a version.

use sqlx::Row;

use super::{ArgumentTree, SavedTree, TreeChoice, TreeDetail, TreeSummary};
use crate::auth::guard::TenantScope;
use crate::db::{Db, flag};
use crate::error::{AppError, Field, required_text};

fn body_of(text: &str) -> Result<ArgumentTree, AppError> {
    serde_json::from_str(text).map_err(|error| {
        tracing::error!(%error, "stored argument tree unreadable");
        AppError::Internal
    })
}

fn body_text(tree: &ArgumentTree) -> String {
    serde_json::to_string(tree).expect("a tree always serialises")
}

/// The newest version of a tree: (version, frozen, body).
const LATEST: &str = "SELECT v.version, v.frozen, v.body FROM argument_tree_versions v
     WHERE v.tree_id = $1 ORDER BY v.version DESC LIMIT 1";

async fn campaigns_using(db: &Db, tree_id: i64, only_active: bool) -> Result<Vec<String>, AppError> {
    let sql = if only_active {
        "SELECT name FROM campaigns WHERE tree_id = $1 AND state = 'active' ORDER BY name"
    } else {
        "SELECT name FROM campaigns WHERE tree_id = $1 ORDER BY name"
    };
    Ok(sqlx::query_scalar(sql).bind(tree_id).fetch_all(db.pool()).await?)
}

/// The tenant's trees by name, with their newest version and the campaigns using them.
pub async fn list(db: &Db, scope: TenantScope) -> Result<Vec<TreeSummary>, AppError> {
    let rows = sqlx::query("SELECT id, name FROM argument_trees WHERE tenant_id = $1 ORDER BY lower(name)")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    let mut trees = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let latest = sqlx::query(LATEST).bind(id).fetch_one(db.pool()).await?;
        let body: String = latest.try_get(2)?;
        trees.push(TreeSummary {
            id,
            name: row.try_get(1)?,
            version: latest.try_get(0)?,
            nodes: body_of(&body)?.nodes.len() as i64,
            campaigns: campaigns_using(db, id, false).await?,
        });
    }
    Ok(trees)
}

pub async fn choices(db: &Db, scope: TenantScope) -> Result<Vec<TreeChoice>, AppError> {
    let rows = sqlx::query("SELECT id, name FROM argument_trees WHERE tenant_id = $1 ORDER BY lower(name)")
        .bind(scope.tenant_id())
        .fetch_all(db.pool())
        .await?;
    rows.iter().map(|row| Ok(TreeChoice { id: row.try_get(0)?, name: row.try_get(1)? })).collect()
}

/// Whether the tree exists in the tenant.
pub async fn owned(db: &Db, scope: TenantScope, tree_id: i64) -> Result<bool, AppError> {
    let found: Option<i64> = sqlx::query_scalar("SELECT id FROM argument_trees WHERE id = $1 AND tenant_id = $2")
        .bind(tree_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?;
    Ok(found.is_some())
}

async fn name_taken(db: &Db, scope: TenantScope, name: &str, except: i64) -> Result<bool, AppError> {
    let taken: Option<i64> =
        sqlx::query_scalar("SELECT id FROM argument_trees WHERE tenant_id = $1 AND lower(name) = lower($2) AND id <> $3")
            .bind(scope.tenant_id())
            .bind(name)
            .bind(except)
            .fetch_optional(db.pool())
            .await?;
    Ok(taken.is_some())
}

/// A new tree of one node, as version 1.
pub async fn create(db: &Db, scope: TenantScope, name: &str, first_question: &str, now_ms: i64) -> Result<i64, AppError> {
    let name = required_text(name, Field::TreeName, super::MAX_NAME_CHARS)?;
    let first = required_text(first_question, Field::FirstQuestion, super::MAX_TEXT_CHARS as u32)?;
    if name_taken(db, scope, &name, 0).await? {
        return Err(AppError::Duplicate { field: Field::TreeName });
    }
    let mut tx = db.pool().begin().await?;
    let id: i64 =
        sqlx::query_scalar("INSERT INTO argument_trees (tenant_id, name, created_at) VALUES ($1, $2, $3) RETURNING id")
            .bind(scope.tenant_id())
            .bind(&name)
            .bind(now_ms)
            .fetch_one(&mut *tx)
            .await?;
    sqlx::query("INSERT INTO argument_tree_versions (tree_id, version, body, frozen, saved_at) VALUES ($1, 1, $2, 0, $3)")
        .bind(id)
        .bind(body_text(&ArgumentTree::single(&first)))
        .bind(now_ms)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(id)
}

/// The newest version of a tree, for the editor.
pub async fn detail(db: &Db, scope: TenantScope, tree_id: i64) -> Result<TreeDetail, AppError> {
    let name: String = sqlx::query_scalar("SELECT name FROM argument_trees WHERE id = $1 AND tenant_id = $2")
        .bind(tree_id)
        .bind(scope.tenant_id())
        .fetch_optional(db.pool())
        .await?
        .ok_or(AppError::NotFound)?;
    let latest = sqlx::query(LATEST).bind(tree_id).fetch_one(db.pool()).await?;
    let body: String = latest.try_get(2)?;
    Ok(TreeDetail {
        id: tree_id,
        name,
        version: latest.try_get(0)?,
        active_campaigns: campaigns_using(db, tree_id, true).await?,
        tree: body_of(&body)?,
    })
}

/// Saves the editor's tree: in place while no campaign has run on the newest version, else as a
/// new version (frozen at once if an active campaign uses the tree, since agents get it now).
pub async fn save(db: &Db, scope: TenantScope, tree_id: i64, name: &str, tree: &ArgumentTree, now_ms: i64) -> Result<SavedTree, AppError> {
    let name = required_text(name, Field::TreeName, super::MAX_NAME_CHARS)?;
    let tree = tree.checked().map_err(AppError::Tree)?;
    if !owned(db, scope, tree_id).await? {
        return Err(AppError::NotFound);
    }
    if name_taken(db, scope, &name, tree_id).await? {
        return Err(AppError::Duplicate { field: Field::TreeName });
    }
    let running = !campaigns_using(db, tree_id, true).await?.is_empty();
    let mut tx = db.begin_write().await?;
    let latest = sqlx::query(LATEST).bind(tree_id).fetch_one(&mut *tx).await?;
    let (version, frozen): (i64, i64) = (latest.try_get(0)?, latest.try_get(1)?);
    let saved = if frozen != 0 {
        sqlx::query("INSERT INTO argument_tree_versions (tree_id, version, body, frozen, saved_at) VALUES ($1, $2, $3, $4, $5)")
            .bind(tree_id)
            .bind(version + 1)
            .bind(body_text(&tree))
            .bind(flag(running))
            .bind(now_ms)
            .execute(&mut *tx)
            .await?;
        SavedTree { version: version + 1, new_version: true }
    } else {
        sqlx::query("UPDATE argument_tree_versions SET body = $1, frozen = $2, saved_at = $3 WHERE tree_id = $4 AND version = $5")
            .bind(body_text(&tree))
            .bind(flag(running))
            .bind(now_ms)
            .bind(tree_id)
            .bind(version)
            .execute(&mut *tx)
            .await?;
        SavedTree { version, new_version: false }
    };
    sqlx::query("UPDATE argument_trees SET name = $1 WHERE id = $2").bind(&name).bind(tree_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(saved)
}

/// Called when a campaign using the tree is activated: agents get the newest version from now
/// on, so it may no longer change.
pub async fn freeze_latest(conn: &mut sqlx::AnyConnection, tree_id: i64) -> Result<(), AppError> {
    sqlx::query(
        "UPDATE argument_tree_versions SET frozen = 1
         WHERE tree_id = $1 AND version = (SELECT MAX(version) FROM argument_tree_versions WHERE tree_id = $1)",
    )
    .bind(tree_id)
    .execute(conn)
    .await?;
    Ok(())
}

/// Deletes a tree no campaign uses, with its versions.
pub async fn delete(db: &Db, scope: TenantScope, tree_id: i64) -> Result<(), AppError> {
    if !owned(db, scope, tree_id).await? {
        return Err(AppError::NotFound);
    }
    if !campaigns_using(db, tree_id, false).await?.is_empty() {
        return Err(AppError::invalid(Field::ArgumentTree, crate::error::Problem::InUse));
    }
    let mut tx = db.pool().begin().await?;
    sqlx::query("DELETE FROM argument_tree_versions WHERE tree_id = $1").bind(tree_id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM argument_trees WHERE id = $1 AND tenant_id = $2")
        .bind(tree_id)
        .bind(scope.tenant_id())
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(())
}
