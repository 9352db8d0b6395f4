//! Server functions for contact bases: thin, each checks the permission and takes the tenant
//! scope from the session.

use leptos::prelude::*;
use server_fn::codec::{GetUrl, Json, MultipartData, MultipartFormData, StreamingText, TextStream};

use super::{BaseSummary, ContactEdit, ContactPage as Page, FilePreview, ImportProgress, ImportRequest};
use crate::error::AppError;

/// Receives a contact file (multipart field `file`), streams it to disk within the upload limit,
/// recognises its format and returns its first rows with a suggested mapping.
#[server(prefix = "/api", endpoint = "crm/bases/upload", input = MultipartFormData)]
pub async fn upload_contacts(data: MultipartData) -> Result<FilePreview, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::ManageContacts).await?;
            let scope = session.tenant_scope(None)?;
            let imports = super::uploads::ContactImports::from_context()?;
            let db = crate::db::Db::from_context()?;
            let multipart = data.into_inner().ok_or(AppError::Internal)?;
            super::import::receive(&db, &imports, scope, session.user.user_id, multipart).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/bases/import", input = Json)]
pub async fn start_contact_import(request: ImportRequest) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let session = require(Permission::ManageContacts).await?;
            let scope = session.tenant_scope(None)?;
            let imports = super::uploads::ContactImports::from_context()?;
            let db = crate::db::Db::from_context()?;
            super::import::start(&db, &imports, scope, session.user.user_id, request, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/bases/progress", input = Json)]
pub async fn contact_import_progress(base_id: i64) -> Result<ImportProgress, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            let imports = super::uploads::ContactImports::from_context()?;
            imports.progress(base_id, scope).ok_or(AppError::NotFound)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/bases/list", input = Json)]
pub async fn list_contact_bases() -> Result<Vec<BaseSummary>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            super::store::list(&crate::db::Db::from_context()?, scope).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/bases/contacts", input = Json)]
pub async fn contacts_of_base(base_id: i64, search: String, page: u32) -> Result<Page, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            super::store::page(&crate::db::Db::from_context()?, scope, base_id, &search, page).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/contacts/update", input = Json)]
pub async fn update_contact(contact_id: i64, edit: ContactEdit) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            super::store::update_contact(&crate::db::Db::from_context()?, scope, contact_id, &edit).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/contacts/delete", input = Json)]
pub async fn delete_contact(contact_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            super::store::delete_contact(&crate::db::Db::from_context()?, scope, contact_id).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/bases/delete", input = Json)]
pub async fn delete_contact_base(base_id: i64) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            super::store::delete_base(&crate::db::Db::from_context()?, scope, base_id).await
        }
        .await,
    )
}

/// The rejects report of a base as a CSV download (a plain link: GET), in the reader's language:
/// line, reason, then the row's cells as read.
#[server(prefix = "/api", endpoint = "crm/bases/rejects", input = GetUrl, output = StreamingText)]
pub async fn contact_rejects(base_id: i64, lang: String) -> Result<TextStream<AppError>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageContacts).await?.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            let locale = if lang == "fr" { crate::i18n::Locale::fr } else { crate::i18n::Locale::en };
            let lines = super::store::rejects(&db, scope, base_id).await?;
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                use http::{HeaderValue, header};
                response.insert_header(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
                if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"rejects-{base_id}.csv\"")) {
                    response.insert_header(header::CONTENT_DISPOSITION, value);
                }
            }
            Ok(TextStream::new(super::import::report_csv(lines, locale)))
        }
        .await,
    )
}
