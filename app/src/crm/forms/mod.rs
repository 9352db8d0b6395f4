//! A campaign's forms as its agents fill them: multiple-choice questions (one or several
//! answers), yes/no questions, the contract's fields, and the list of call results. The model and
//! its checks are shared by the editor (every problem shown while typing) and the server (which
//! refuses the first).
//!
//! Every question, choice and contract field has a key that is never reused: answers are stored
//! by key, so renaming keeps the statistics and a deleted question's answers never attach to a
//! new one. New items come with key 0 and the server numbers them from `next_key`.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::crm::campaigns::FormKind;
use crate::crm::campaigns::results::CallResult;
use crate::i18n::{Locale, td_string};

pub const MAX_QUESTIONS: usize = 50;
pub const MAX_CHOICES: usize = 20;
pub const MAX_CONTRACT_FIELDS: usize = 30;
pub const MAX_RESULTS: usize = 30;
pub const MAX_QUESTION_CHARS: u32 = 300;
pub const MAX_LABEL_CHARS: u32 = 80;
pub const MAX_CONTRACT_VALUE_CHARS: u32 = 200;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QuestionKind {
    /// Multiple choice, one answer.
    Single,
    /// Multiple choice, one or more answers.
    Multiple,
    YesNo,
}

impl QuestionKind {
    pub const ALL: [QuestionKind; 3] = [QuestionKind::Single, QuestionKind::Multiple, QuestionKind::YesNo];

    /// The campaign form the question belongs to: it is asked only when that form is on.
    pub fn form(self) -> FormKind {
        match self {
            QuestionKind::Single | QuestionKind::Multiple => FormKind::MultipleChoice,
            QuestionKind::YesNo => FormKind::YesNo,
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            QuestionKind::Single => "single",
            QuestionKind::Multiple => "multiple",
            QuestionKind::YesNo => "yes_no",
        }
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            QuestionKind::Single => td_string!(locale, question_single),
            QuestionKind::Multiple => td_string!(locale, question_multiple),
            QuestionKind::YesNo => td_string!(locale, form_yes_no),
        }
        .to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Choice {
    pub key: u32,
    pub label: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub key: u32,
    pub kind: QuestionKind,
    pub text: String,
    /// Empty for yes/no questions.
    pub choices: Vec<Choice>,
    /// Must be answered when the contact was reached.
    pub required: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ContractFieldKind {
    Text,
    Number,
    Date,
}

impl ContractFieldKind {
    pub const ALL: [ContractFieldKind; 3] = [ContractFieldKind::Text, ContractFieldKind::Number, ContractFieldKind::Date];

    pub fn code(self) -> &'static str {
        match self {
            ContractFieldKind::Text => "text",
            ContractFieldKind::Number => "number",
            ContractFieldKind::Date => "date",
        }
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            ContractFieldKind::Text => td_string!(locale, contract_text),
            ContractFieldKind::Number => td_string!(locale, contract_number),
            ContractFieldKind::Date => td_string!(locale, contract_date),
        }
        .to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContractField {
    pub key: u32,
    pub label: String,
    pub kind: ContractFieldKind,
    pub required: bool,
}

/// The questions and contract fields of a campaign (stored as JSON in `campaigns.questionnaire`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Questionnaire {
    /// The next key to give a new question, choice or contract field.
    #[serde(default)]
    pub next_key: u32,
    #[serde(default)]
    pub questions: Vec<Question>,
    #[serde(default)]
    pub contract: Vec<ContractField>,
}

/// What the forms editor loads and saves.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignForms {
    pub campaign_id: i64,
    pub campaign: String,
    /// The forms switched on in the campaign (the editor shows the others greyed).
    pub enabled: Vec<FormKind>,
    pub questionnaire: Questionnaire,
    pub results: Vec<CallResult>,
}

/// What the agent answered to one question: choice keys, or `YES`/`NO` for a yes/no question.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QuestionAnswer {
    pub question: u32,
    pub choices: Vec<u32>,
}

pub const YES: u32 = 1;
pub const NO: u32 = 0;

/// One answer row as stored in `crm_answers`: the form, the item (question or field key) and
/// the answer (choice key, `yes`/`no`, or the contract field's value).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AnswerRow {
    pub form: &'static str,
    pub item: String,
    pub answer: String,
}

#[cfg(feature = "ssr")]
mod checks;
#[cfg(feature = "ssr")]
pub use checks::{check_answers, check_questionnaire, check_results};

#[cfg(all(test, feature = "ssr"))]
mod tests;
