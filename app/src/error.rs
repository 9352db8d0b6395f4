//! One error type for every server function: it travels to the browser as JSON, maps to an HTTP
//! status on the server and to a translated sentence in the browser. Internals are logged on the
//! server and never sent.

use serde::{Deserialize, Serialize};
use server_fn::codec::JsonEncoding;
use server_fn::error::{FromServerFnError, ServerFnErrorErr};

use crate::i18n::{Locale, td_string};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("not signed in")]
    NotSignedIn,
    #[error("session expired")]
    SessionExpired,
    #[error("not allowed")]
    Forbidden,
    /// Wrong login or password, unknown account, inactive account: deliberately one answer.
    #[error("invalid credentials")]
    InvalidCredentials,
    #[error("too many attempts")]
    TooManyAttempts,
    #[error("invalid {field:?}: {problem:?}")]
    Invalid { field: Field, problem: Problem },
    #[error("{field:?} already taken")]
    Duplicate { field: Field },
    #[error("not found")]
    NotFound,
    /// The PBX connection behind the action is down (or no PBX is configured).
    #[error("PBX not connected")]
    PbxNotConnected,
    /// Asterisk answered the action with an error; its message is shown as sent.
    #[error("PBX refused: {0}")]
    PbxRefused(String),
    /// An uploaded file that cannot be imported as a whole.
    #[error("file: {0:?}")]
    File(FileProblem),
    /// An argument tree that cannot be saved; the problem names the node.
    #[error("argument tree: {0:?}")]
    Tree(crate::crm::trees::TreeProblem),
    /// A problem with one item of a list (a question, a contract field, a call result), named
    /// by its position.
    #[error("{item:?} {position}: {field:?} {problem:?}")]
    Item { item: Item, position: u32, field: Field, problem: Problem },
    /// An SMS template names a field the campaign's contact base does not have.
    #[error("unknown template field {0}")]
    UnknownTemplateField(String),
    #[error("internal error")]
    Internal,
    /// The request never reached the server function or its answer could not be read.
    #[error("transport: {0}")]
    Transport(String),
}

/// The input field a validation error is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Field {
    Login,
    Password,
    NewPassword,
    Confirmation,
    CurrentPassword,
    FirstName,
    LastName,
    TenantName,
    Currency,
    TimeZone,
    Profiles,
    OwnPhone,
    QueueName,
    Description,
    Strategy,
    MusicClass,
    AgentAnnounce,
    WrapUp,
    RingTimeout,
    MaxWait,
    AnnounceFrequency,
    PeriodicAnnounce,
    AnnounceHoldTime,
    AnnouncePosition,
    ServiceLevel,
    Pbx,
    Penalty,
    Agent,
    Period,
    BaseName,
    Country,
    Columns,
    Phone,
    CampaignName,
    Product,
    ContactBase,
    StartsOn,
    EndsOn,
    CampaignState,
    TreeName,
    FirstQuestion,
    ArgumentTree,
    CallResult,
    CallbackAt,
    Note,
    Contact,
    CallerNumber,
    Campaigns,
    Questions,
    QuestionText,
    Choices,
    ContractFields,
    FieldLabel,
    FieldValue,
    Answer,
    SalesPerson,
    AppointmentAt,
    Email,
    Area,
    MacAddress,
    Alias,
    ModemCount,
    Speed,
    ModemGroup,
    Template,
    Amount,
    PartPrice,
}

/// The lists whose items an error can point at.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Item {
    Question,
    ContractField,
    CallResult,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Problem {
    Required,
    TooShort { min: u32 },
    TooLong { max: u32 },
    BadCharacters,
    Mismatch,
    Wrong,
    Unknown,
    NotAssignable,
    SameAsLogin,
    OwnAccount,
    BadFormat,
    OutOfRange { min: u32, max: u32 },
    NoPhone,
    NotInCall,
    OnePhoneColumn,
    BeforeStart,
    NotAllowedNow,
    InUse,
    NotInFuture,
    Repeated,
    /// The person is already booked at that time.
    Busy,
    /// A modem group still started, or with messages on its modems.
    StillSending,
    /// A `{` without its `}` (or the reverse) in an SMS template.
    UnbalancedBraces,
    /// Not an amount of money in the currency (or out of the accepted range).
    NotAnAmount,
}

/// Why an uploaded contact file was refused as a whole (row-level problems are rejects instead).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FileProblem {
    Missing,
    Empty,
    NotTabular,
    TooLarge { max_mb: u64 },
    LineTooLong { line: u64, max_kib: u32 },
    ExcelTooLarge,
    UnreadableExcel,
    /// The upload was imported, abandoned, or belongs to someone else.
    UploadGone,
}

impl AppError {
    pub fn invalid(field: Field, problem: Problem) -> Self {
        AppError::Invalid { field, problem }
    }

    /// HTTP status of the server function's response.
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotSignedIn | AppError::SessionExpired | AppError::InvalidCredentials => 401,
            AppError::Forbidden => 403,
            AppError::NotFound => 404,
            AppError::Duplicate { .. } => 409,
            AppError::Invalid { .. } => 422,
            AppError::File(FileProblem::TooLarge { .. }) => 413,
            AppError::File(FileProblem::UploadGone) => 404,
            AppError::File(_) => 422,
            AppError::Tree(_) => 422,
            AppError::Item { .. } => 422,
            AppError::UnknownTemplateField(_) => 422,
            AppError::TooManyAttempts => 429,
            AppError::Internal => 500,
            AppError::PbxNotConnected => 503,
            AppError::PbxRefused(_) => 502,
            AppError::Transport(_) => 502,
        }
    }

    /// The sentence shown to the user, in their language.
    pub fn message(&self, locale: Locale) -> String {
        match self {
            AppError::NotSignedIn => td_string!(locale, error_not_signed_in).to_string(),
            AppError::SessionExpired => td_string!(locale, error_session_expired).to_string(),
            AppError::Forbidden => td_string!(locale, error_forbidden).to_string(),
            AppError::InvalidCredentials => td_string!(locale, error_invalid_credentials).to_string(),
            AppError::TooManyAttempts => td_string!(locale, error_too_many_attempts).to_string(),
            AppError::NotFound => td_string!(locale, error_not_found).to_string(),
            AppError::Internal => td_string!(locale, error_internal).to_string(),
            AppError::PbxNotConnected => td_string!(locale, error_pbx_not_connected).to_string(),
            AppError::PbxRefused(message) => {
                fill(td_string!(locale, error_pbx_refused), &[("message", message)])
            }
            AppError::Transport(_) => td_string!(locale, error_transport).to_string(),
            AppError::File(problem) => problem.message(locale),
            AppError::UnknownTemplateField(name) => fill(td_string!(locale, error_unknown_template_field), &[("name", &format!("{{{name}}}"))]),
            AppError::Tree(problem) => problem.message(locale),
            AppError::Duplicate { field } => {
                fill(td_string!(locale, error_duplicate), &[("field", &field.label(locale))])
            }
            AppError::Item { item, position, field, problem } => {
                let item = match item {
                    Item::Question => td_string!(locale, item_question),
                    Item::ContractField => td_string!(locale, item_contract_field),
                    Item::CallResult => td_string!(locale, item_call_result),
                };
                fill(
                    td_string!(locale, error_item),
                    &[
                        ("item", item),
                        ("position", &position.to_string()),
                        ("field", &field.label(locale)),
                        ("problem", &problem.message(locale)),
                    ],
                )
            }
            AppError::Invalid { field, problem } => {
                let problem = problem.message(locale);
                fill(td_string!(locale, error_invalid), &[("field", &field.label(locale)), ("problem", &problem)])
            }
        }
    }
}

impl Field {
    pub fn label(self, locale: Locale) -> String {
        match self {
            Field::Login => td_string!(locale, field_login),
            Field::Password => td_string!(locale, field_password),
            Field::NewPassword => td_string!(locale, field_new_password),
            Field::Confirmation => td_string!(locale, field_confirmation),
            Field::CurrentPassword => td_string!(locale, field_current_password),
            Field::FirstName => td_string!(locale, field_first_name),
            Field::LastName => td_string!(locale, field_last_name),
            Field::TenantName => td_string!(locale, field_tenant_name),
            Field::Currency => td_string!(locale, field_currency),
            Field::TimeZone => td_string!(locale, field_time_zone),
            Field::Profiles => td_string!(locale, field_profiles),
            Field::OwnPhone => td_string!(locale, field_own_phone),
            Field::QueueName => td_string!(locale, field_queue_name),
            Field::Description => td_string!(locale, field_description),
            Field::Strategy => td_string!(locale, field_strategy),
            Field::MusicClass => td_string!(locale, field_music_class),
            Field::AgentAnnounce => td_string!(locale, field_agent_announce),
            Field::WrapUp => td_string!(locale, field_wrapup),
            Field::RingTimeout => td_string!(locale, field_ring_timeout),
            Field::MaxWait => td_string!(locale, field_max_wait),
            Field::AnnounceFrequency => td_string!(locale, field_announce_frequency),
            Field::PeriodicAnnounce => td_string!(locale, field_periodic_announce),
            Field::AnnounceHoldTime => td_string!(locale, field_announce_holdtime),
            Field::AnnouncePosition => td_string!(locale, field_announce_position),
            Field::ServiceLevel => td_string!(locale, field_service_level),
            Field::Pbx => td_string!(locale, field_pbx),
            Field::Penalty => td_string!(locale, field_penalty),
            Field::Agent => td_string!(locale, field_agent),
            Field::Period => td_string!(locale, field_period),
            Field::BaseName => td_string!(locale, field_base_name),
            Field::Country => td_string!(locale, field_country),
            Field::Columns => td_string!(locale, field_columns),
            Field::Phone => td_string!(locale, field_phone),
            Field::CampaignName => td_string!(locale, field_campaign_name),
            Field::Product => td_string!(locale, field_product),
            Field::ContactBase => td_string!(locale, field_contact_base),
            Field::StartsOn => td_string!(locale, field_starts_on),
            Field::EndsOn => td_string!(locale, field_ends_on),
            Field::CampaignState => td_string!(locale, field_campaign_state),
            Field::TreeName => td_string!(locale, field_tree_name),
            Field::FirstQuestion => td_string!(locale, field_first_question),
            Field::ArgumentTree => td_string!(locale, field_argument_tree),
            Field::CallResult => td_string!(locale, field_call_result),
            Field::CallbackAt => td_string!(locale, field_callback_at),
            Field::Note => td_string!(locale, field_note),
            Field::Contact => td_string!(locale, field_contact),
            Field::CallerNumber => td_string!(locale, field_caller_number),
            Field::Campaigns => td_string!(locale, field_campaigns),
            Field::Questions => td_string!(locale, field_questions),
            Field::QuestionText => td_string!(locale, field_question_text),
            Field::Choices => td_string!(locale, field_choices),
            Field::ContractFields => td_string!(locale, field_contract_fields),
            Field::FieldLabel => td_string!(locale, field_label),
            Field::FieldValue => td_string!(locale, field_value),
            Field::Answer => td_string!(locale, field_answer),
            Field::SalesPerson => td_string!(locale, field_sales_person),
            Field::AppointmentAt => td_string!(locale, field_appointment_at),
            Field::Email => td_string!(locale, field_email),
            Field::Area => td_string!(locale, field_area),
            Field::MacAddress => td_string!(locale, field_mac_address),
            Field::Alias => td_string!(locale, field_alias),
            Field::ModemCount => td_string!(locale, field_modem_count),
            Field::Speed => td_string!(locale, field_speed),
            Field::ModemGroup => td_string!(locale, field_modem_group),
            Field::Template => td_string!(locale, field_template),
            Field::Amount => td_string!(locale, field_amount),
            Field::PartPrice => td_string!(locale, field_part_price),
        }
        .to_string()
    }
}

impl Problem {
    pub fn message(self, locale: Locale) -> String {
        match self {
            Problem::Required => td_string!(locale, problem_required).to_string(),
            Problem::TooShort { min } => fill(td_string!(locale, problem_too_short), &[("min", &min.to_string())]),
            Problem::TooLong { max } => fill(td_string!(locale, problem_too_long), &[("max", &max.to_string())]),
            Problem::BadCharacters => td_string!(locale, problem_bad_characters).to_string(),
            Problem::Mismatch => td_string!(locale, problem_mismatch).to_string(),
            Problem::Wrong => td_string!(locale, problem_wrong).to_string(),
            Problem::Unknown => td_string!(locale, problem_unknown).to_string(),
            Problem::NotAssignable => td_string!(locale, problem_not_assignable).to_string(),
            Problem::SameAsLogin => td_string!(locale, problem_same_as_login).to_string(),
            Problem::OwnAccount => td_string!(locale, problem_own_account).to_string(),
            Problem::BadFormat => td_string!(locale, problem_bad_format).to_string(),
            Problem::OutOfRange { min, max } => fill(
                td_string!(locale, problem_out_of_range),
                &[("min", &min.to_string()), ("max", &max.to_string())],
            ),
            Problem::NoPhone => td_string!(locale, problem_no_phone).to_string(),
            Problem::NotInCall => td_string!(locale, problem_not_in_call).to_string(),
            Problem::OnePhoneColumn => td_string!(locale, problem_one_phone_column).to_string(),
            Problem::BeforeStart => td_string!(locale, problem_before_start).to_string(),
            Problem::NotAllowedNow => td_string!(locale, problem_not_allowed_now).to_string(),
            Problem::InUse => td_string!(locale, problem_in_use).to_string(),
            Problem::NotInFuture => td_string!(locale, problem_not_in_future).to_string(),
            Problem::Repeated => td_string!(locale, problem_repeated).to_string(),
            Problem::Busy => td_string!(locale, problem_busy).to_string(),
            Problem::StillSending => td_string!(locale, problem_still_sending).to_string(),
            Problem::UnbalancedBraces => fill(td_string!(locale, problem_unbalanced_braces), &[("open", "{"), ("close", "}")]),
            Problem::NotAnAmount => td_string!(locale, problem_not_an_amount).to_string(),
        }
    }
}

impl FileProblem {
    pub fn message(self, locale: Locale) -> String {
        match self {
            FileProblem::Missing => td_string!(locale, file_missing).to_string(),
            FileProblem::Empty => td_string!(locale, file_empty).to_string(),
            FileProblem::NotTabular => td_string!(locale, file_not_tabular).to_string(),
            FileProblem::TooLarge { max_mb } => {
                fill(td_string!(locale, file_too_large), &[("max", &max_mb.to_string())])
            }
            FileProblem::LineTooLong { line, max_kib } => fill(
                td_string!(locale, file_line_too_long),
                &[("line", &line.to_string()), ("max", &max_kib.to_string())],
            ),
            FileProblem::ExcelTooLarge => td_string!(locale, file_excel_too_large).to_string(),
            FileProblem::UnreadableExcel => td_string!(locale, file_unreadable_excel).to_string(),
            FileProblem::UploadGone => td_string!(locale, file_upload_gone).to_string(),
        }
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        AppError::Transport(value.to_string())
    }
}

#[cfg(feature = "ssr")]
impl From<sqlx::Error> for AppError {
    fn from(error: sqlx::Error) -> Self {
        tracing::error!(%error, "database error");
        AppError::Internal
    }
}

/// Puts values into a translated sentence's `%name%` placeholders.
pub fn fill(template: &str, values: &[(&str, &str)]) -> String {
    values.iter().fold(template.to_string(), |text, (name, value)| text.replace(&format!("%{name}%"), value))
}

/// Checks a free-text field: trimmed, required, at most `max` characters, no control characters.
pub fn required_text(value: &str, field: Field, max: u32) -> Result<String, AppError> {
    let value = value.trim();
    if value.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    if value.chars().count() > max as usize {
        return Err(AppError::invalid(field, Problem::TooLong { max }));
    }
    if value.chars().any(char::is_control) {
        return Err(AppError::invalid(field, Problem::BadCharacters));
    }
    Ok(value.to_string())
}
