//! Contact bases: imported from CSV or Excel with a confirmed column mapping, phones normalised
//! to E.164, duplicates and invalid numbers rejected into a downloadable report.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod import;
#[cfg(feature = "ssr")]
pub mod phone;
#[cfg(feature = "ssr")]
pub mod source;
#[cfg(feature = "ssr")]
pub mod store;
#[cfg(feature = "ssr")]
pub mod uploads;

use serde::{Deserialize, Serialize};

use crate::error::AppError;
use crate::i18n::{Locale, td_string};

/// What one column of an imported file holds.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ColumnRole {
    Ignore,
    FirstName,
    LastName,
    Phone,
    Var1,
    Var2,
    /// Kept on each contact under this name.
    Custom(String),
}

impl ColumnRole {
    /// The code used by the mapping form's selects (`custom` keeps the column's header).
    pub fn code(&self) -> &'static str {
        match self {
            ColumnRole::Ignore => "ignore",
            ColumnRole::FirstName => "first_name",
            ColumnRole::LastName => "last_name",
            ColumnRole::Phone => "phone",
            ColumnRole::Var1 => "var1",
            ColumnRole::Var2 => "var2",
            ColumnRole::Custom(_) => "custom",
        }
    }

    pub fn from_code(code: &str, header: &str) -> ColumnRole {
        match code {
            "first_name" => ColumnRole::FirstName,
            "last_name" => ColumnRole::LastName,
            "phone" => ColumnRole::Phone,
            "var1" => ColumnRole::Var1,
            "var2" => ColumnRole::Var2,
            "custom" => ColumnRole::Custom(header.to_string()),
            _ => ColumnRole::Ignore,
        }
    }

    pub const CODES: [&'static str; 7] = ["ignore", "first_name", "last_name", "phone", "var1", "var2", "custom"];

    pub fn code_label(code: &str, locale: Locale) -> String {
        match code {
            "first_name" => td_string!(locale, field_first_name),
            "last_name" => td_string!(locale, field_last_name),
            "phone" => td_string!(locale, field_phone),
            "var1" => td_string!(locale, column_var1),
            "var2" => td_string!(locale, column_var2),
            "custom" => td_string!(locale, column_custom),
            _ => td_string!(locale, column_ignore),
        }
        .to_string()
    }
}

/// How the uploaded file was read, shown to the user with the preview.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileFormat {
    Csv { encoding: String, delimiter: char },
    Xlsx,
    Xls,
}

/// The first rows of an uploaded file and the mapping Relais suggests for its columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilePreview {
    /// The staged upload, named in the import request.
    pub upload: String,
    pub file_name: String,
    pub size_bytes: u64,
    pub format: FileFormat,
    /// Whether the first row looks like column names.
    pub has_header: bool,
    /// One name per column: the header's, or "Column N".
    pub headers: Vec<String>,
    /// Up to five rows after the header.
    pub rows: Vec<Vec<String>>,
    pub suggested: Vec<ColumnRole>,
    pub default_country: String,
}

pub const PREVIEW_ROWS: usize = 5;

/// What the user confirmed: the base's name, the country of national numbers, the columns.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportRequest {
    pub upload: String,
    pub name: String,
    pub country: String,
    pub has_header: bool,
    pub columns: Vec<ColumnRole>,
    /// Also reject numbers already present in the tenant's other bases.
    pub dedupe_across_bases: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ImportState {
    Running,
    Done,
    Failed(AppError),
}

/// Where an import stands, polled by the import page for its progress bar.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ImportProgress {
    pub base_id: i64,
    pub state: ImportState,
    /// Bytes of a CSV file or rows of a workbook read so far, out of `total`.
    pub done: u64,
    pub total: u64,
    pub rows_read: u64,
    pub imported: u64,
    pub rejected: u64,
}

impl ImportProgress {
    pub fn percent(&self) -> u32 {
        match self.state {
            ImportState::Done => 100,
            _ if self.total == 0 => 0,
            _ => ((self.done.min(self.total) * 100) / self.total) as u32,
        }
    }
}

/// Why a row was left out of a base. Stored by code; the report explains it in the reader's
/// language.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum RejectReason {
    MissingPhone,
    InvalidPhone,
    /// The same number appeared earlier in the file, on `first_line`.
    DuplicateInFile { first_line: u64 },
    InOtherBase,
    /// The row has fewer cells than the mapping needs.
    MissingColumns { found: u32, expected: u32 },
}

impl RejectReason {
    pub fn code(self) -> &'static str {
        match self {
            RejectReason::MissingPhone => "missing_phone",
            RejectReason::InvalidPhone => "invalid_phone",
            RejectReason::DuplicateInFile { .. } => "duplicate",
            RejectReason::InOtherBase => "in_other_base",
            RejectReason::MissingColumns { .. } => "missing_columns",
        }
    }

    /// The detail stored beside the code (the numbers the message needs).
    pub fn detail(self) -> String {
        match self {
            RejectReason::DuplicateInFile { first_line } => first_line.to_string(),
            RejectReason::MissingColumns { found, expected } => format!("{found}/{expected}"),
            _ => String::new(),
        }
    }

    pub fn from_stored(code: &str, detail: &str) -> Option<RejectReason> {
        Some(match code {
            "missing_phone" => RejectReason::MissingPhone,
            "invalid_phone" => RejectReason::InvalidPhone,
            "duplicate" => RejectReason::DuplicateInFile { first_line: detail.parse().ok()? },
            "in_other_base" => RejectReason::InOtherBase,
            "missing_columns" => {
                let (found, expected) = detail.split_once('/')?;
                RejectReason::MissingColumns { found: found.parse().ok()?, expected: expected.parse().ok()? }
            }
            _ => return None,
        })
    }

    pub fn message(self, locale: Locale) -> String {
        use crate::error::fill;
        match self {
            RejectReason::MissingPhone => td_string!(locale, reject_missing_phone).to_string(),
            RejectReason::InvalidPhone => td_string!(locale, reject_invalid_phone).to_string(),
            RejectReason::DuplicateInFile { first_line } => {
                fill(td_string!(locale, reject_duplicate), &[("line", &first_line.to_string())])
            }
            RejectReason::InOtherBase => td_string!(locale, reject_in_other_base).to_string(),
            RejectReason::MissingColumns { found, expected } => fill(
                td_string!(locale, reject_missing_columns),
                &[("found", &found.to_string()), ("expected", &expected.to_string())],
            ),
        }
    }
}

/// A base as listed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseSummary {
    pub id: i64,
    pub name: String,
    pub source_file: String,
    pub country: String,
    pub custom_fields: Vec<String>,
    pub rows_read: i64,
    pub contacts: i64,
    pub rejected: i64,
    pub created_by: String,
    /// When it was imported, in the tenant's time zone.
    pub created_at: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Contact {
    pub id: i64,
    /// The line of the source file it came from.
    pub line: i64,
    pub first_name: String,
    pub last_name: String,
    /// E.164.
    pub phone: String,
    pub var1: String,
    pub var2: String,
    /// Values of the base's custom fields, in their order.
    pub custom: Vec<String>,
}

/// What an edit may change; the phone is normalised again.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactEdit {
    pub first_name: String,
    pub last_name: String,
    pub phone: String,
    pub var1: String,
    pub var2: String,
}

/// One page of a base's contacts, optionally filtered by a search text.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactPage {
    pub base: BaseSummary,
    pub contacts: Vec<Contact>,
    /// Contacts matching the search.
    pub matching: i64,
    pub page: u32,
}

pub const PAGE_SIZE: u32 = 50;

/// Longest free text kept per cell; longer cells are cut (a name is never 500 characters).
pub const MAX_CELL_CHARS: usize = 500;

/// Country codes offered for national numbers, the tenant's default first.
pub const COUNTRIES: [&str; 24] = [
    "FR", "BE", "CH", "LU", "MC", "DE", "ES", "IT", "PT", "GB", "IE", "NL", "US", "CA", "MA", "DZ", "TN", "SN",
    "CI", "CM", "MG", "RE", "GP", "MQ",
];

/// Guesses each column's role from its header: exact or close matches of common names, in
/// French and English; unknown headers become custom fields, and each role is given once.
pub fn suggest_columns(headers: &[String], has_header: bool) -> Vec<ColumnRole> {
    let mut taken = Vec::new();
    headers
        .iter()
        .map(|header| {
            if !has_header {
                return ColumnRole::Ignore;
            }
            let key = simplify(header);
            let role = SYNONYMS
                .iter()
                .find(|(_, names)| names.iter().any(|name| close(&key, name)))
                .map(|(role, _)| role.clone())
                .filter(|role| !taken.contains(role));
            match role {
                Some(role) => {
                    taken.push(role.clone());
                    role
                }
                None if key.is_empty() => ColumnRole::Ignore,
                None => ColumnRole::Custom(header.trim().to_string()),
            }
        })
        .collect()
}

const SYNONYMS: [(ColumnRole, &[&str]); 5] = [
    (ColumnRole::FirstName, &["prenom", "firstname", "first", "givenname", "forename"]),
    (ColumnRole::LastName, &["nom", "lastname", "name", "surname", "familyname", "nomdefamille", "last"]),
    (
        ColumnRole::Phone,
        &["telephone", "tel", "phone", "phonenumber", "mobile", "portable", "gsm", "numero", "number", "msisdn", "cell", "cellphone", "numerodetelephone"],
    ),
    (ColumnRole::Var1, &["variable1", "var1", "v1"]),
    (ColumnRole::Var2, &["variable2", "var2", "v2"]),
];

/// Lower case, accents and everything but letters and digits removed.
fn simplify(header: &str) -> String {
    fold(header).chars().filter(char::is_ascii_alphanumeric).collect()
}

/// Lower case without accents: what searches compare, the same on every backend.
pub fn fold(text: &str) -> String {
    let mut folded = String::with_capacity(text.len());
    fold_into(&mut folded, text);
    folded
}

fn fold_into(out: &mut String, text: &str) {
    out.extend(text.chars().flat_map(char::to_lowercase).map(|c| match c {
        'à' | 'â' | 'ä' | 'á' => 'a',
        'é' | 'è' | 'ê' | 'ë' => 'e',
        'î' | 'ï' | 'í' => 'i',
        'ô' | 'ö' | 'ó' => 'o',
        'ù' | 'û' | 'ü' | 'ú' => 'u',
        'ç' => 'c',
        'ñ' => 'n',
        'ÿ' => 'y',
        other => other,
    }));
}

/// The folded text a contact is found by (built in one allocation: imports make millions).
pub fn search_text(first_name: &str, last_name: &str, phone: &str, var1: &str, var2: &str) -> String {
    let parts = [first_name, last_name, phone, var1, var2];
    let mut text = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for (index, part) in parts.into_iter().enumerate() {
        if index > 0 {
            text.push(' ');
        }
        fold_into(&mut text, part);
    }
    text
}

/// Equal, or one typo (a wrong, missing, extra or swapped letter) away for names long enough
/// that a typo cannot make another word.
fn close(key: &str, name: &str) -> bool {
    key == name || (name.len() >= 6 && strsim::osa_distance(key, name) <= 1)
}

/// Checks the confirmed mapping: exactly one phone column.
pub fn validate_columns(columns: &[ColumnRole]) -> Result<(), AppError> {
    use crate::error::{Field, Problem};
    if columns.iter().filter(|role| **role == ColumnRole::Phone).count() != 1 {
        return Err(AppError::invalid(Field::Columns, Problem::OnePhoneColumn));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(names: &[&str]) -> Vec<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn headers_are_mapped_by_similarity() {
        let roles = suggest_columns(&headers(&["Prénom", "NOM", "Téléphone", "Ville", "Variable 1", "var2", ""]), true);
        assert_eq!(
            roles,
            vec![
                ColumnRole::FirstName,
                ColumnRole::LastName,
                ColumnRole::Phone,
                ColumnRole::Custom("Ville".into()),
                ColumnRole::Var1,
                ColumnRole::Var2,
                ColumnRole::Ignore,
            ]
        );
        // English names, a typo, and a second phone-like column that stays custom.
        let roles = suggest_columns(&headers(&["First name", "Last Name", "Telephnoe", "Mobile"]), true);
        assert_eq!(
            roles,
            vec![ColumnRole::FirstName, ColumnRole::LastName, ColumnRole::Phone, ColumnRole::Custom("Mobile".into())]
        );
        // Without a header row nothing is guessed.
        assert_eq!(suggest_columns(&headers(&["0612345678"]), false), vec![ColumnRole::Ignore]);
    }

    #[test]
    fn one_phone_column_is_required() {
        assert!(validate_columns(&[ColumnRole::FirstName, ColumnRole::Phone]).is_ok());
        assert!(validate_columns(&[ColumnRole::FirstName]).is_err());
        assert!(validate_columns(&[ColumnRole::Phone, ColumnRole::Phone]).is_err());
    }

    #[test]
    fn reject_reasons_round_trip_through_storage() {
        for reason in [
            RejectReason::MissingPhone,
            RejectReason::InvalidPhone,
            RejectReason::DuplicateInFile { first_line: 12 },
            RejectReason::InOtherBase,
            RejectReason::MissingColumns { found: 2, expected: 4 },
        ] {
            assert_eq!(RejectReason::from_stored(reason.code(), &reason.detail()), Some(reason));
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
