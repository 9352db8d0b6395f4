//! The results an agent can give a call, with flags saying what each means for the contact and
//! for the statistics. A campaign without its own list uses the default one, whose labels follow
//! the reader's language.

use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, td_string};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum ResultFlag {
    /// The contact was reached.
    Contacted,
    /// An appointment was booked.
    Appointment,
    NotInterested,
    /// The contact comes back at a booked time.
    Callback,
    WrongNumber,
    /// Never called again.
    DoNotCall,
}

impl ResultFlag {
    pub const ALL: [ResultFlag; 6] = [
        ResultFlag::Contacted,
        ResultFlag::Appointment,
        ResultFlag::NotInterested,
        ResultFlag::Callback,
        ResultFlag::WrongNumber,
        ResultFlag::DoNotCall,
    ];

    pub fn code(self) -> &'static str {
        match self {
            ResultFlag::Contacted => "contacted",
            ResultFlag::Appointment => "appointment",
            ResultFlag::NotInterested => "not_interested",
            ResultFlag::Callback => "callback",
            ResultFlag::WrongNumber => "wrong_number",
            ResultFlag::DoNotCall => "do_not_call",
        }
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            ResultFlag::Contacted => td_string!(locale, flag_contacted),
            ResultFlag::Appointment => td_string!(locale, flag_appointment),
            ResultFlag::NotInterested => td_string!(locale, flag_not_interested),
            ResultFlag::Callback => td_string!(locale, flag_callback),
            ResultFlag::WrongNumber => td_string!(locale, flag_wrong_number),
            ResultFlag::DoNotCall => td_string!(locale, flag_do_not_call),
        }
        .to_string()
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CallResult {
    pub code: String,
    /// Empty for the default results: their label is translated.
    pub label: String,
    pub flags: Vec<ResultFlag>,
}

impl CallResult {
    pub fn has(&self, flag: ResultFlag) -> bool {
        self.flags.contains(&flag)
    }

    pub fn label(&self, locale: Locale) -> String {
        if !self.label.is_empty() {
            return self.label.clone();
        }
        match self.code.as_str() {
            "appointment" => td_string!(locale, result_appointment),
            "interested" => td_string!(locale, result_interested),
            "not_interested" => td_string!(locale, result_not_interested),
            "callback" => td_string!(locale, result_callback),
            "no_answer" => td_string!(locale, result_no_answer),
            "wrong_number" => td_string!(locale, result_wrong_number),
            "do_not_call" => td_string!(locale, result_do_not_call),
            other => return other.to_string(),
        }
        .to_string()
    }

    /// What becomes of the contact after a call with this result.
    pub fn next_status(&self) -> ContactStatus {
        if self.has(ResultFlag::Callback) {
            ContactStatus::Callback
        } else if self.has(ResultFlag::Contacted) || self.has(ResultFlag::WrongNumber) || self.has(ResultFlag::DoNotCall) {
            ContactStatus::Done
        } else {
            ContactStatus::Retry
        }
    }
}

/// Where a contact stands in a campaign (see migration 0009).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ContactStatus {
    Fresh,
    Reserved,
    Callback,
    Retry,
    Done,
}

impl ContactStatus {
    pub fn code(self) -> &'static str {
        match self {
            ContactStatus::Fresh => "fresh",
            ContactStatus::Reserved => "reserved",
            ContactStatus::Callback => "callback",
            ContactStatus::Retry => "retry",
            ContactStatus::Done => "done",
        }
    }
}

/// The list a campaign starts with.
pub fn default_results() -> Vec<CallResult> {
    use ResultFlag::*;
    let result = |code: &str, flags: Vec<ResultFlag>| CallResult { code: code.into(), label: String::new(), flags };
    vec![
        result("appointment", vec![Contacted, Appointment]),
        result("interested", vec![Contacted]),
        result("not_interested", vec![Contacted, NotInterested]),
        result("callback", vec![Contacted, Callback]),
        result("no_answer", vec![]),
        result("wrong_number", vec![WrongNumber]),
        result("do_not_call", vec![Contacted, DoNotCall]),
    ]
}

/// The campaign's results as stored: an empty list means the default one.
pub fn results_or_default(stored: &str) -> Vec<CallResult> {
    match serde_json::from_str::<Vec<CallResult>>(stored) {
        Ok(results) if !results.is_empty() => results,
        _ => default_results(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_decide_what_becomes_of_the_contact() {
        let status = |code: &str| default_results().into_iter().find(|r| r.code == code).unwrap().next_status();
        assert_eq!(status("appointment"), ContactStatus::Done);
        assert_eq!(status("callback"), ContactStatus::Callback);
        assert_eq!(status("no_answer"), ContactStatus::Retry);
        assert_eq!(status("wrong_number"), ContactStatus::Done);
        assert_eq!(status("do_not_call"), ContactStatus::Done);
    }

    #[test]
    fn default_labels_are_translated_and_custom_ones_kept() {
        let results = results_or_default("[]");
        assert_eq!(results[0].label(Locale::fr), "Rendez-vous pris");
        assert_eq!(results[0].label(Locale::en), "Appointment booked");
        let custom = r#"[{"code":"sold","label":"Vendu","flags":["Contacted"]}]"#;
        assert_eq!(results_or_default(custom)[0].label(Locale::en), "Vendu");
        assert_eq!(results_or_default("not json").len(), default_results().len());
    }
}
