//! The checks of a questionnaire, a result list and a call's answers, on the server.

use std::collections::HashSet;

use super::*;
use crate::crm::campaigns::results::{ResultFlag, default_results};
use crate::error::{AppError, Field, Item, Problem};

fn item_error(item: Item, position: usize, field: Field, problem: Problem) -> AppError {
    AppError::Item { item, position: position as u32 + 1, field, problem }
}

/// A label: trimmed, required, at most `max` characters, no control characters.
fn label(text: &str, max: u32) -> Result<String, Problem> {
    let text = text.trim();
    if text.is_empty() {
        Err(Problem::Required)
    } else if text.chars().count() > max as usize {
        Err(Problem::TooLong { max })
    } else if text.chars().any(char::is_control) {
        Err(Problem::BadCharacters)
    } else {
        Ok(text.to_string())
    }
}

/// Checks a questionnaire and numbers its new items. `stored_next_key` is the stored
/// questionnaire's: a key at or above it was never given out, so it is refused.
pub fn check_questionnaire(form: &Questionnaire, stored_next_key: u32) -> Result<Questionnaire, AppError> {
    if form.questions.len() > MAX_QUESTIONS {
        return Err(AppError::invalid(Field::Questions, Problem::OutOfRange { min: 0, max: MAX_QUESTIONS as u32 }));
    }
    if form.contract.len() > MAX_CONTRACT_FIELDS {
        return Err(AppError::invalid(Field::ContractFields, Problem::OutOfRange { min: 0, max: MAX_CONTRACT_FIELDS as u32 }));
    }
    let mut next_key = stored_next_key.max(1);
    let mut seen = HashSet::new();
    let mut key_for = |key: u32| -> Result<u32, Problem> {
        if key == 0 {
            next_key += 1;
            Ok(next_key - 1)
        } else if key >= stored_next_key || !seen.insert(key) {
            Err(Problem::BadFormat)
        } else {
            Ok(key)
        }
    };
    let mut questions = Vec::with_capacity(form.questions.len());
    for (i, question) in form.questions.iter().enumerate() {
        let bad = |field, problem| item_error(Item::Question, i, field, problem);
        let key = key_for(question.key).map_err(|p| bad(Field::Questions, p))?;
        let text = label(&question.text, MAX_QUESTION_CHARS).map_err(|p| bad(Field::QuestionText, p))?;
        let mut choices = Vec::new();
        if question.kind != QuestionKind::YesNo {
            if question.choices.len() < 2 || question.choices.len() > MAX_CHOICES {
                return Err(bad(Field::Choices, Problem::OutOfRange { min: 2, max: MAX_CHOICES as u32 }));
            }
            let mut labels = HashSet::new();
            for choice in &question.choices {
                let text = label(&choice.label, MAX_LABEL_CHARS).map_err(|p| bad(Field::Choices, p))?;
                if !labels.insert(text.to_lowercase()) {
                    return Err(bad(Field::Choices, Problem::Repeated));
                }
                choices.push(Choice { key: key_for(choice.key).map_err(|p| bad(Field::Choices, p))?, label: text });
            }
        }
        questions.push(Question { key, kind: question.kind, text, choices, required: question.required });
    }
    let mut contract = Vec::with_capacity(form.contract.len());
    let mut labels = HashSet::new();
    for (i, field) in form.contract.iter().enumerate() {
        let bad = |problem| item_error(Item::ContractField, i, Field::FieldLabel, problem);
        let key = key_for(field.key).map_err(bad)?;
        let text = label(&field.label, MAX_LABEL_CHARS).map_err(bad)?;
        if !labels.insert(text.to_lowercase()) {
            return Err(bad(Problem::Repeated));
        }
        contract.push(ContractField { key, label: text, kind: field.kind, required: field.required });
    }
    Ok(Questionnaire { next_key, questions, contract })
}

/// Checks a result list and gives new results a code. A default result's label left as its
/// translation (in either language) is stored empty, so it keeps following the reader's language.
pub fn check_results(results: &[CallResult], next_key: &mut u32) -> Result<Vec<CallResult>, AppError> {
    if results.is_empty() || results.len() > MAX_RESULTS {
        return Err(AppError::invalid(Field::CallResult, Problem::OutOfRange { min: 1, max: MAX_RESULTS as u32 }));
    }
    let defaults = default_results();
    let mut codes = HashSet::new();
    let mut labels = HashSet::new();
    let mut checked = Vec::with_capacity(results.len());
    for (i, result) in results.iter().enumerate() {
        let bad = |field, problem| item_error(Item::CallResult, i, field, problem);
        let default = defaults.iter().find(|d| !result.code.is_empty() && d.code == result.code);
        // A default result left without a label keeps its translated one.
        let typed = match default {
            Some(default) if result.label.trim().is_empty() => default.label(Locale::en),
            _ => result.label.clone(),
        };
        let text = label(&typed, MAX_LABEL_CHARS).map_err(|p| bad(Field::FieldLabel, p))?;
        let code = if result.code.is_empty() {
            *next_key += 1;
            format!("r{}", *next_key - 1)
        } else {
            result.code.clone()
        };
        if code.len() > 40 || !code.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') || !codes.insert(code.clone()) {
            return Err(bad(Field::CallResult, Problem::BadFormat));
        }
        if !labels.insert(text.to_lowercase()) {
            return Err(bad(Field::FieldLabel, Problem::Repeated));
        }
        let translated = default.is_some_and(|d| d.label(Locale::en) == text || d.label(Locale::fr) == text);
        // Each flag once, in the order the editor lists them, however the request repeats them.
        let flags = ResultFlag::ALL.into_iter().filter(|flag| result.flags.contains(flag)).collect();
        checked.push(CallResult { code, label: if translated { String::new() } else { text }, flags });
    }
    Ok(checked)
}

/// Checks the question answers and contract fields of a call against the campaign's forms.
/// Required questions must be answered when the contact was reached; a contract is optional,
/// but once any field is filled the required ones must be too.
pub fn check_answers(
    questionnaire: &Questionnaire,
    enabled: &[FormKind],
    answers: &[QuestionAnswer],
    contract: &[(u32, String)],
    contacted: bool,
) -> Result<Vec<AnswerRow>, AppError> {
    let mut rows = Vec::new();
    let mut answered = HashSet::new();
    for answer in answers {
        if answer.choices.is_empty() {
            continue;
        }
        let Some((i, question)) = questionnaire
            .questions
            .iter()
            .enumerate()
            .find(|(_, q)| q.key == answer.question && enabled.contains(&q.kind.form()))
        else {
            return Err(AppError::invalid(Field::Questions, Problem::Unknown));
        };
        let bad = |problem| item_error(Item::Question, i, Field::Answer, problem);
        if !answered.insert(question.key) {
            return Err(bad(Problem::Repeated));
        }
        let mut choices = answer.choices.clone();
        choices.sort_unstable();
        choices.dedup();
        match question.kind {
            QuestionKind::YesNo => {
                let [choice] = choices[..] else { return Err(bad(Problem::BadFormat)) };
                let code = match choice {
                    YES => "yes",
                    NO => "no",
                    _ => return Err(bad(Problem::BadFormat)),
                };
                rows.push(AnswerRow { form: "yes_no", item: question.key.to_string(), answer: code.into() });
            }
            QuestionKind::Single | QuestionKind::Multiple => {
                if question.kind == QuestionKind::Single && choices.len() != 1 {
                    return Err(bad(Problem::BadFormat));
                }
                for choice in choices {
                    if !question.choices.iter().any(|c| c.key == choice) {
                        return Err(bad(Problem::Unknown));
                    }
                    rows.push(AnswerRow { form: "choice", item: question.key.to_string(), answer: choice.to_string() });
                }
            }
        }
    }
    let unanswered = questionnaire
        .questions
        .iter()
        .enumerate()
        .find(|(_, q)| q.required && enabled.contains(&q.kind.form()) && !answered.contains(&q.key));
    if let (true, Some((i, _))) = (contacted, unanswered) {
        return Err(item_error(Item::Question, i, Field::Answer, Problem::Required));
    }
    let filled: Vec<&(u32, String)> = contract.iter().filter(|(_, value)| !value.trim().is_empty()).collect();
    if !filled.is_empty() {
        if !enabled.contains(&FormKind::Contract) {
            return Err(AppError::invalid(Field::ContractFields, Problem::NotAllowedNow));
        }
        for (key, _) in &filled {
            if !questionnaire.contract.iter().any(|f| f.key == *key) {
                return Err(AppError::invalid(Field::ContractFields, Problem::Unknown));
            }
        }
        for (i, field) in questionnaire.contract.iter().enumerate() {
            let bad = |problem| item_error(Item::ContractField, i, Field::FieldValue, problem);
            let value = filled.iter().find(|(key, _)| *key == field.key).map(|(_, v)| v.trim());
            let Some(value) = value else {
                if field.required {
                    return Err(bad(Problem::Required));
                }
                continue;
            };
            let value = contract_value(field.kind, value).map_err(bad)?;
            rows.push(AnswerRow { form: "contract", item: field.key.to_string(), answer: value });
        }
    }
    Ok(rows)
}

/// A contract field's value as stored: numbers with a dot, dates `YYYY-MM-DD`.
fn contract_value(kind: ContractFieldKind, value: &str) -> Result<String, Problem> {
    if value.chars().count() > MAX_CONTRACT_VALUE_CHARS as usize {
        return Err(Problem::TooLong { max: MAX_CONTRACT_VALUE_CHARS });
    }
    if value.chars().any(char::is_control) {
        return Err(Problem::BadCharacters);
    }
    match kind {
        ContractFieldKind::Text => Ok(value.to_string()),
        ContractFieldKind::Number => {
            let normal = value.replace([' ', '\u{a0}', '\u{202f}'], "").replace(',', ".");
            match normal.parse::<f64>() {
                Ok(n) if n.is_finite() => Ok(normal),
                _ => Err(Problem::BadFormat),
            }
        }
        ContractFieldKind::Date => match value.parse::<jiff::civil::Date>() {
            Ok(day) if value.len() == 10 => Ok(day.to_string()),
            _ => Err(Problem::BadFormat),
        },
    }
}
