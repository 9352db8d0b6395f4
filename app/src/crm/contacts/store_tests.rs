//! Contact imports against both database backends: what is imported, what is rejected and why,
//! all-or-nothing failures, and tenants kept apart.

use std::time::Duration;

use super::uploads::ContactImports;
use super::{ColumnRole, ContactEdit, ImportRequest, ImportState, RejectReason, import, source, store};
use crate::auth::guard::TenantScope;
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, FileProblem};
use crate::tenants;

const T0: i64 = 1_700_000_000_000;

/// A tenant and its administrator's id (who uploads).
async fn tenant(db: &Db, name: &str, admin: &str) -> (TenantScope, i64) {
    let scope = tenants::testing::tenant(db, name, admin).await;
    let user: i64 = sqlx::query_scalar("SELECT id FROM users WHERE login = $1").bind(admin).fetch_one(db.pool()).await.unwrap();
    (scope, user)
}

/// Staged uploads in a folder removed when the returned guard drops.
fn imports() -> (tempfile::TempDir, ContactImports) {
    let dir = tempfile::tempdir().unwrap();
    let imports = ContactImports::new(dir.path().join("uploads"), 10 << 20).unwrap();
    (dir, imports)
}

/// Stages `bytes` as an upload, as the upload server function does.
fn stage(imports: &ContactImports, scope: TenantScope, user: i64, bytes: &[u8]) -> String {
    let (token, path) = imports.new_upload();
    std::fs::write(&path, bytes).unwrap();
    let kind = source::sniff(&path).unwrap();
    imports.stage(token.clone(), scope, user, path, "clients.csv".into(), kind);
    token
}

fn request(upload: String, name: &str, columns: Vec<ColumnRole>) -> ImportRequest {
    ImportRequest { upload, name: name.into(), country: "FR".into(), has_header: true, columns, dedupe_across_bases: true }
}

/// Imports and waits for the end; returns the base id and the final state.
async fn import_file(db: &Db, imports: &ContactImports, scope: TenantScope, user: i64, request: ImportRequest) -> (i64, ImportState) {
    let base_id = import::start(db, imports, scope, user, request, T0).await.unwrap();
    for _ in 0..600 {
        let progress = imports.progress(base_id, scope).unwrap();
        if progress.state != ImportState::Running {
            return (base_id, progress.state);
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    panic!("import did not finish");
}

const MESSY: &[u8] = b"Pr\xe9nom;Nom;T\xe9l\xe9phone;Ville\n\
\xc9lodie;Faure;06 12 34 56 78;Besan\xe7on\n\
Jean;Dupont;+33 6 12 34 56 78;Paris\n\
Ana;Roux;12 34;Lyon\n\
Luc;Petit;;Nice\n\
Zo\xe9;Blanc\n\
Marc;Noir;0033 7 98 76 54 32;Lille\n";

fn messy_columns() -> Vec<ColumnRole> {
    vec![ColumnRole::FirstName, ColumnRole::LastName, ColumnRole::Phone, ColumnRole::Custom("Ville".into())]
}

#[tokio::test]
async fn a_messy_file_imports_its_good_rows_and_explains_the_others() {
    for db in each_backend().await {
        let (_staging, imports) = imports();
        let (scope, user) = tenant(&db, "Alpha", "alpha.admin").await;
        let upload = stage(&imports, scope, user, MESSY);
        let (base_id, state) = import_file(&db, &imports, scope, user, request(upload, "Clients", messy_columns())).await;
        assert_eq!(state, ImportState::Done);
        let progress = imports.progress(base_id, scope).unwrap();
        assert_eq!((progress.rows_read, progress.imported, progress.rejected), (6, 2, 4));

        let base = store::base(&db, scope, base_id).await.unwrap();
        assert_eq!((base.contacts, base.rejected, base.rows_read), (2, 4, 6));
        assert_eq!(base.custom_fields, vec!["Ville"]);
        let page = store::page(&db, scope, base_id, "", 0).await.unwrap();
        let contacts: Vec<(&str, &str, &str, &str)> = page
            .contacts
            .iter()
            .map(|c| (c.first_name.as_str(), c.last_name.as_str(), c.phone.as_str(), c.custom[0].as_str()))
            .collect();
        assert_eq!(contacts, vec![("Élodie", "Faure", "+33612345678", "Besançon"), ("Marc", "Noir", "+33798765432", "Lille")]);
        assert_eq!(page.contacts[0].line, 2);

        use futures::TryStreamExt;
        let rejects: Vec<store::RejectLine> = store::rejects(&db, scope, base_id).await.unwrap().try_collect().await.unwrap();
        let reasons: Vec<(i64, Option<RejectReason>)> = rejects.iter().map(|r| (r.line, r.reason)).collect();
        assert_eq!(
            reasons,
            vec![
                (3, Some(RejectReason::DuplicateInFile { first_line: 2 })),
                (4, Some(RejectReason::InvalidPhone)),
                (5, Some(RejectReason::MissingPhone)),
                (6, Some(RejectReason::MissingColumns { found: 2, expected: 4 })),
            ]
        );
        assert_eq!(rejects[0].cells, vec!["Jean", "Dupont", "+33 6 12 34 56 78", "Paris"]);

        // The downloadable report, in French; polling past its end is harmless (HTTP bodies do).
        use futures::StreamExt;
        let lines = store::rejects(&db, scope, base_id).await.unwrap();
        let mut report = std::pin::pin!(import::report_csv(lines, crate::i18n::Locale::fr));
        let mut text = String::new();
        while let Some(chunk) = report.next().await {
            text.push_str(&chunk.unwrap());
        }
        assert!(report.next().await.is_none());
        assert_eq!(
            text,
            "\u{feff}Ligne,Motif,Ligne lue\r\n\
             3,doublon de la ligne 2,Jean,Dupont,'+33 6 12 34 56 78,Paris\r\n\
             4,numéro de téléphone invalide,Ana,Roux,12 34,Lyon\r\n\
             5,pas de numéro de téléphone,Luc,Petit,,Nice\r\n\
             6,2 colonnes au lieu des 4 nécessaires,Zoé,Blanc\r\n"
        );

        // Search by name or phone, case-insensitively; LIKE wildcards are literal.
        assert_eq!(store::page(&db, scope, base_id, "élodie", 0).await.unwrap().matching, 1);
        assert_eq!(store::page(&db, scope, base_id, "ELODIE", 0).await.unwrap().matching, 1);
        assert_eq!(store::page(&db, scope, base_id, "98765", 0).await.unwrap().matching, 1);
        assert_eq!(store::page(&db, scope, base_id, "%", 0).await.unwrap().matching, 0);
    }
}

#[tokio::test]
async fn numbers_of_other_bases_are_rejected_when_asked_and_names_are_unique() {
    for db in each_backend().await {
        let (_staging, imports) = imports();
        let (scope, user) = tenant(&db, "Alpha", "alpha.admin").await;
        let upload = stage(&imports, scope, user, MESSY);
        import_file(&db, &imports, scope, user, request(upload, "First", messy_columns())).await;

        let second = b"phone\n0612345678\n0611111111\n";
        let upload = stage(&imports, scope, user, second);
        let error = import::start(&db, &imports, scope, user, request(upload.clone(), "first", vec![ColumnRole::Phone]), T0).await;
        assert_eq!(error, Err(AppError::Duplicate { field: Field::BaseName }));
        // The refused request left the upload staged for a corrected one.
        let (base_id, _) = import_file(&db, &imports, scope, user, request(upload, "Second", vec![ColumnRole::Phone])).await;
        let base = store::base(&db, scope, base_id).await.unwrap();
        assert_eq!((base.contacts, base.rejected), (1, 1));

        let upload = stage(&imports, scope, user, second);
        let mut again = request(upload, "Third", vec![ColumnRole::Phone]);
        again.dedupe_across_bases = false;
        let (base_id, _) = import_file(&db, &imports, scope, user, again).await;
        assert_eq!(store::base(&db, scope, base_id).await.unwrap().contacts, 2);
    }
}

#[tokio::test]
async fn a_failing_import_leaves_no_base_behind() {
    for db in each_backend().await {
        let (_staging, imports) = imports();
        let (scope, user) = tenant(&db, "Alpha", "alpha.admin").await;
        // Good rows first (more than one write batch, beyond what the upload looks at), then a
        // line far too long.
        let mut bytes = b"phone\n".to_vec();
        for i in 0..30_000 {
            bytes.extend(format!("06{i:08}\n").as_bytes());
        }
        bytes.extend(vec![b'9'; source::MAX_LINE_BYTES + 1]);
        bytes.push(b'\n');
        let upload = stage(&imports, scope, user, &bytes);
        let (base_id, state) = import_file(&db, &imports, scope, user, request(upload, "Broken", vec![ColumnRole::Phone])).await;
        assert_eq!(state, ImportState::Failed(AppError::File(FileProblem::LineTooLong { line: 30_002, max_kib: 64 })));
        assert_eq!(store::base(&db, scope, base_id).await, Err(AppError::NotFound));
        let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM contacts").fetch_one(db.pool()).await.unwrap();
        assert_eq!(left, 0);
        assert!(store::list(&db, scope).await.unwrap().is_empty());
        // The staged file is gone too.
        assert_eq!(std::fs::read_dir(&imports.dir).unwrap().count(), 0);
    }
}

#[tokio::test]
async fn bases_stay_inside_their_tenant() {
    for db in each_backend().await {
        let (_staging, imports) = imports();
        let (alpha, alpha_user) = tenant(&db, "Alpha", "alpha.admin").await;
        let (beta, beta_user) = tenant(&db, "Beta", "beta.admin").await;
        let upload = stage(&imports, alpha, alpha_user, MESSY);
        // Another tenant's user cannot import someone else's upload.
        let stolen = import::start(&db, &imports, beta, beta_user, request(upload.clone(), "Stolen", messy_columns()), T0).await;
        assert_eq!(stolen, Err(AppError::File(FileProblem::UploadGone)));
        let (base_id, _) = import_file(&db, &imports, alpha, alpha_user, request(upload, "Clients", messy_columns())).await;
        assert_eq!(imports.progress(base_id, beta), None);
        assert_eq!(store::page(&db, beta, base_id, "", 0).await, Err(AppError::NotFound));
        assert_eq!(store::delete_base(&db, beta, base_id).await, Err(AppError::NotFound));
        let contact = store::page(&db, alpha, base_id, "", 0).await.unwrap().contacts[0].clone();
        let edit = ContactEdit {
            first_name: "X".into(),
            last_name: "Y".into(),
            phone: "0698765432".into(),
            var1: String::new(),
            var2: String::new(),
        };
        assert_eq!(store::update_contact(&db, beta, contact.id, &edit).await, Err(AppError::NotFound));
        assert_eq!(store::delete_contact(&db, beta, contact.id).await, Err(AppError::NotFound));
        assert!(store::list(&db, beta).await.unwrap().is_empty());

        // Within the tenant: edits normalise the phone and keep it unique in the base.
        store::update_contact(&db, alpha, contact.id, &edit).await.unwrap();
        let page = store::page(&db, alpha, base_id, "", 0).await.unwrap();
        assert_eq!(page.contacts[0].phone, "+33698765432");
        let clash = ContactEdit { phone: "07 98 76 54 32".into(), ..edit };
        assert_eq!(store::update_contact(&db, alpha, contact.id, &clash).await, Err(AppError::Duplicate { field: Field::Phone }));
        store::delete_contact(&db, alpha, contact.id).await.unwrap();
        assert_eq!(store::base(&db, alpha, base_id).await.unwrap().contacts, 1);
        store::delete_base(&db, alpha, base_id).await.unwrap();
        assert!(store::list(&db, alpha).await.unwrap().is_empty());
    }
}
