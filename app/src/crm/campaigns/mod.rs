//! Campaigns: a named effort on one contact base over a period, with the forms its agents fill.
//! Drafts are prepared, activated when agents may call, closed when done (and reopened if need be).

pub mod api;
pub mod pages;
pub mod results;

#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

#[cfg(feature = "ssr")]
use crate::error::{AppError, Field, Problem, required_text};
use crate::i18n::{Locale, td_string};

/// The forms a campaign's agents fill during a call.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum FormKind {
    MultipleChoice,
    Appointment,
    YesNo,
    Contract,
    ArgumentTree,
}

impl FormKind {
    pub const ALL: [FormKind; 5] =
        [FormKind::MultipleChoice, FormKind::Appointment, FormKind::YesNo, FormKind::Contract, FormKind::ArgumentTree];

    pub fn code(self) -> &'static str {
        match self {
            FormKind::MultipleChoice => "multiple_choice",
            FormKind::Appointment => "appointment",
            FormKind::YesNo => "yes_no",
            FormKind::Contract => "contract",
            FormKind::ArgumentTree => "argument_tree",
        }
    }

    pub fn from_code(code: &str) -> Option<FormKind> {
        FormKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            FormKind::MultipleChoice => td_string!(locale, form_multiple_choice),
            FormKind::Appointment => td_string!(locale, form_appointment),
            FormKind::YesNo => td_string!(locale, form_yes_no),
            FormKind::Contract => td_string!(locale, form_contract),
            FormKind::ArgumentTree => td_string!(locale, form_argument_tree),
        }
        .to_string()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CampaignState {
    Draft,
    Active,
    Closed,
}

impl CampaignState {
    pub fn code(self) -> &'static str {
        match self {
            CampaignState::Draft => "draft",
            CampaignState::Active => "active",
            CampaignState::Closed => "closed",
        }
    }

    pub fn from_code(code: &str) -> Option<CampaignState> {
        [CampaignState::Draft, CampaignState::Active, CampaignState::Closed].into_iter().find(|s| s.code() == code)
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            CampaignState::Draft => td_string!(locale, campaign_draft),
            CampaignState::Active => td_string!(locale, campaign_active),
            CampaignState::Closed => td_string!(locale, campaign_closed),
        }
        .to_string()
    }
}

/// What a campaign is made of, as the form edits it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignSettings {
    pub name: String,
    pub product: String,
    pub base_id: i64,
    /// `YYYY-MM-DD`, the tenant's calendar.
    pub starts_on: String,
    pub ends_on: String,
    pub forms: Vec<FormKind>,
    /// The argument tree, required with the argument-tree form.
    pub tree_id: Option<i64>,
    /// The PBX connection the desk's click-to-call goes through; empty: calls are dialled by hand.
    #[serde(default)]
    pub pbx: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignRecord {
    pub id: i64,
    pub settings: CampaignSettings,
    pub base_name: String,
    pub tree_name: Option<String>,
    pub state: CampaignState,
}

/// A campaign to pick (an agent's assignment, the statistics' filter).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CampaignChoice {
    pub id: i64,
    pub name: String,
}

/// A base a campaign may use.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct BaseChoice {
    pub id: i64,
    pub name: String,
    pub contacts: i64,
}

pub const MAX_NAME_CHARS: u32 = 100;

/// Trims and checks the settings; the base is checked against the tenant by the store.
#[cfg(feature = "ssr")]
pub fn validate(settings: &CampaignSettings) -> Result<CampaignSettings, AppError> {
    let name = required_text(&settings.name, Field::CampaignName, MAX_NAME_CHARS)?;
    let product = required_text(&settings.product, Field::Product, MAX_NAME_CHARS)?;
    let starts_on = calendar_day(&settings.starts_on, Field::StartsOn)?;
    let ends_on = calendar_day(&settings.ends_on, Field::EndsOn)?;
    if ends_on < starts_on {
        return Err(AppError::invalid(Field::EndsOn, Problem::BeforeStart));
    }
    let mut forms: Vec<FormKind> = FormKind::ALL.into_iter().filter(|kind| settings.forms.contains(kind)).collect();
    forms.dedup();
    let tree_id = if forms.contains(&FormKind::ArgumentTree) {
        Some(settings.tree_id.filter(|id| *id > 0).ok_or(AppError::invalid(Field::ArgumentTree, Problem::Required))?)
    } else {
        None
    };
    Ok(CampaignSettings { name, product, base_id: settings.base_id, starts_on, ends_on, forms, tree_id, pbx: settings.pbx.trim().to_string() })
}

/// A `YYYY-MM-DD` day that exists (ISO order compares as text).
#[cfg(feature = "ssr")]
fn calendar_day(text: &str, field: Field) -> Result<String, AppError> {
    let text = text.trim();
    if text.is_empty() {
        return Err(AppError::invalid(field, Problem::Required));
    }
    match text.parse::<jiff::civil::Date>() {
        Ok(day) if text.len() == 10 && (2000..=2200).contains(&day.year()) => Ok(day.to_string()),
        _ => Err(AppError::invalid(field, Problem::BadFormat)),
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn settings() -> CampaignSettings {
        CampaignSettings {
            name: " Winter offer ".into(),
            product: "Fibre 1 Gb".into(),
            base_id: 1,
            starts_on: "2026-12-01".into(),
            ends_on: "2027-02-28".into(),
            forms: vec![FormKind::ArgumentTree, FormKind::YesNo, FormKind::YesNo],
            tree_id: Some(4),
            pbx: String::new(),
        }
    }

    #[test]
    fn settings_are_trimmed_and_forms_kept_once_in_order() {
        let valid = validate(&settings()).unwrap();
        assert_eq!(valid.name, "Winter offer");
        assert_eq!(valid.forms, vec![FormKind::YesNo, FormKind::ArgumentTree]);
    }

    #[test]
    fn the_argument_tree_form_needs_a_tree_and_only_it_keeps_one() {
        let without_tree = CampaignSettings { tree_id: None, ..settings() };
        assert_eq!(validate(&without_tree), Err(AppError::invalid(Field::ArgumentTree, Problem::Required)));
        let no_tree_form = CampaignSettings { forms: vec![FormKind::YesNo], ..settings() };
        assert_eq!(validate(&no_tree_form).unwrap().tree_id, None);
    }

    #[test]
    fn dates_must_exist_and_follow_each_other() {
        let with = |starts: &str, ends: &str| validate(&CampaignSettings { starts_on: starts.into(), ends_on: ends.into(), ..settings() });
        assert_eq!(with("2026-12-01", "2026-11-30"), Err(AppError::invalid(Field::EndsOn, Problem::BeforeStart)));
        assert_eq!(with("2027-02-29", "2027-03-01"), Err(AppError::invalid(Field::StartsOn, Problem::BadFormat)));
        assert_eq!(with("", "2027-03-01"), Err(AppError::invalid(Field::StartsOn, Problem::Required)));
        assert_eq!(with("01/12/2026", "2027-03-01"), Err(AppError::invalid(Field::StartsOn, Problem::BadFormat)));
        assert!(with("2028-02-29", "2028-02-29").is_ok());
    }

    #[test]
    fn codes_round_trip() {
        for kind in FormKind::ALL {
            assert_eq!(FormKind::from_code(kind.code()), Some(kind));
        }
        for state in [CampaignState::Draft, CampaignState::Active, CampaignState::Closed] {
            assert_eq!(CampaignState::from_code(state.code()), Some(state));
        }
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
