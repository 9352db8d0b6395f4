use super::*;
use crate::crm::campaigns::results::ResultFlag;
use crate::error::{AppError, Field, Item, Problem};

fn choice(key: u32, label: &str) -> Choice {
    Choice { key, label: label.into() }
}

fn question(key: u32, kind: QuestionKind, text: &str, choices: Vec<Choice>, required: bool) -> Question {
    Question { key, kind, text: text.into(), choices, required }
}

/// A stored questionnaire: Q1 single (2, 3), Q4 multiple (5, 6, 7), Q8 yes/no, contract 9, 10.
fn stored() -> Questionnaire {
    Questionnaire {
        next_key: 11,
        questions: vec![
            question(1, QuestionKind::Single, "Current provider?", vec![choice(2, "Orange"), choice(3, "Free")], true),
            question(4, QuestionKind::Multiple, "Services used?", vec![choice(5, "TV"), choice(6, "Mobile"), choice(7, "Fixed")], false),
            question(8, QuestionKind::YesNo, "Owner of the flat?", vec![], false),
        ],
        contract: vec![
            ContractField { key: 9, label: "Monthly amount".into(), kind: ContractFieldKind::Number, required: true },
            ContractField { key: 10, label: "Start date".into(), kind: ContractFieldKind::Date, required: false },
        ],
    }
}

const ALL_FORMS: [FormKind; 3] = [FormKind::MultipleChoice, FormKind::YesNo, FormKind::Contract];

#[test]
fn new_items_get_fresh_keys_and_old_ones_keep_theirs() {
    let mut form = stored();
    form.questions[0].text = "  Who is your provider?  ".into();
    form.questions[0].choices.push(choice(0, "SFR"));
    form.questions.remove(2);
    form.questions.push(question(0, QuestionKind::YesNo, "Interested in fibre?", vec![choice(0, "ignored")], true));
    let checked = check_questionnaire(&form, 11).unwrap();
    assert_eq!(checked.questions[0].text, "Who is your provider?");
    assert_eq!(checked.questions[0].choices.iter().map(|c| c.key).collect::<Vec<_>>(), vec![2, 3, 11]);
    // The deleted question's key 8 is not given again; yes/no questions carry no choices.
    assert_eq!(checked.questions[2].key, 12);
    assert!(checked.questions[2].choices.is_empty());
    assert_eq!(checked.next_key, 13);
}

#[test]
fn forged_or_repeated_keys_are_refused() {
    let mut form = stored();
    form.questions[1].key = 1;
    assert_eq!(
        check_questionnaire(&form, 11),
        Err(AppError::Item { item: Item::Question, position: 2, field: Field::Questions, problem: Problem::BadFormat })
    );
    let mut form = stored();
    form.contract[0].key = 40;
    assert_eq!(
        check_questionnaire(&form, 11),
        Err(AppError::Item { item: Item::ContractField, position: 1, field: Field::FieldLabel, problem: Problem::BadFormat })
    );
}

#[test]
fn questions_need_text_and_at_least_two_distinct_choices() {
    let mut form = stored();
    form.questions[1].text = " ".into();
    assert_eq!(
        check_questionnaire(&form, 11),
        Err(AppError::Item { item: Item::Question, position: 2, field: Field::QuestionText, problem: Problem::Required })
    );
    let mut form = stored();
    form.questions[0].choices.pop();
    assert_eq!(
        check_questionnaire(&form, 11),
        Err(AppError::Item {
            item: Item::Question,
            position: 1,
            field: Field::Choices,
            problem: Problem::OutOfRange { min: 2, max: MAX_CHOICES as u32 }
        })
    );
    let mut form = stored();
    form.questions[1].choices[2].label = "tv ".into();
    assert_eq!(
        check_questionnaire(&form, 11),
        Err(AppError::Item { item: Item::Question, position: 2, field: Field::Choices, problem: Problem::Repeated })
    );
}

#[test]
fn results_keep_their_codes_new_ones_are_numbered_and_default_labels_stay_translated() {
    let mut results = crate::crm::campaigns::results::default_results();
    results[0].label = "Rendez-vous pris".into();
    results[1].label = "Interested in the offer".into();
    let repeated = vec![ResultFlag::Callback, ResultFlag::Contacted, ResultFlag::Callback];
    results.push(CallResult { code: String::new(), label: "Sold".into(), flags: repeated });
    for result in results.iter_mut().skip(2).take(5) {
        result.label = result.label(Locale::en);
    }
    let mut next_key = 11;
    let checked = check_results(&results, &mut next_key).unwrap();
    assert_eq!(checked[0].label, "", "the French default label stays translated");
    assert_eq!(checked[1].label, "Interested in the offer");
    assert_eq!(checked[7].code, "r11");
    assert_eq!(checked[7].flags, [ResultFlag::Contacted, ResultFlag::Callback], "each flag once, however often it was sent");
    assert_eq!(next_key, 12);
    assert_eq!(check_results(&[], &mut next_key), Err(AppError::invalid(Field::CallResult, Problem::OutOfRange { min: 1, max: MAX_RESULTS as u32 })));
    let twice = vec![checked[7].clone(), CallResult { code: String::new(), ..checked[7].clone() }];
    assert_eq!(
        check_results(&twice, &mut next_key),
        Err(AppError::Item { item: Item::CallResult, position: 2, field: Field::FieldLabel, problem: Problem::Repeated })
    );
}

fn answer(question: u32, choices: &[u32]) -> QuestionAnswer {
    QuestionAnswer { question, choices: choices.to_vec() }
}

#[test]
fn answers_become_rows_per_choice() {
    let rows = check_answers(
        &stored(),
        &ALL_FORMS,
        &[answer(1, &[3]), answer(4, &[7, 5, 5]), answer(8, &[YES])],
        &[(9, "39,90".into()), (10, String::new())],
        true,
    )
    .unwrap();
    let rows: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r.form, r.item.as_str(), r.answer.as_str())).collect();
    assert_eq!(
        rows,
        vec![("choice", "1", "3"), ("choice", "4", "5"), ("choice", "4", "7"), ("yes_no", "8", "yes"), ("contract", "9", "39.90")]
    );
}

#[test]
fn required_questions_bind_only_reached_contacts() {
    let err = check_answers(&stored(), &ALL_FORMS, &[answer(8, &[NO])], &[], true);
    assert_eq!(err, Err(AppError::Item { item: Item::Question, position: 1, field: Field::Answer, problem: Problem::Required }));
    assert_eq!(check_answers(&stored(), &ALL_FORMS, &[], &[], false), Ok(vec![]));
    // A form that is off is neither asked nor accepted.
    assert_eq!(check_answers(&stored(), &[FormKind::YesNo], &[answer(8, &[NO])], &[], true).map(|r| r.len()), Ok(1));
    assert_eq!(
        check_answers(&stored(), &[FormKind::YesNo], &[answer(1, &[2])], &[], true),
        Err(AppError::invalid(Field::Questions, Problem::Unknown))
    );
}

#[test]
fn bad_answers_are_refused() {
    let check = |answers: &[QuestionAnswer]| check_answers(&stored(), &ALL_FORMS, answers, &[], false);
    let error = |position, problem| Err(AppError::Item { item: Item::Question, position, field: Field::Answer, problem });
    assert_eq!(check(&[answer(1, &[2, 3])]), error(1, Problem::BadFormat));
    assert_eq!(check(&[answer(1, &[5])]), error(1, Problem::Unknown));
    assert_eq!(check(&[answer(8, &[7])]), error(3, Problem::BadFormat));
    assert_eq!(check(&[answer(8, &[YES]), answer(8, &[NO])]), error(3, Problem::Repeated));
    assert_eq!(check(&[answer(99, &[1])]), Err(AppError::invalid(Field::Questions, Problem::Unknown)));
}

#[test]
fn a_started_contract_must_be_complete_and_well_formed() {
    let check = |contract: &[(u32, &str)], forms: &[FormKind]| {
        let contract: Vec<(u32, String)> = contract.iter().map(|(k, v)| (*k, v.to_string())).collect();
        check_answers(&stored(), forms, &[], &contract, false)
    };
    let error = |position, problem| Err(AppError::Item { item: Item::ContractField, position, field: Field::FieldValue, problem });
    assert_eq!(check(&[(10, "2027-01-01")], &ALL_FORMS), error(1, Problem::Required));
    assert_eq!(check(&[(9, "forty")], &ALL_FORMS), error(1, Problem::BadFormat));
    assert_eq!(check(&[(9, "40"), (10, "2027-02-30")], &ALL_FORMS), error(2, Problem::BadFormat));
    assert_eq!(check(&[(9, "1 200,50")], &ALL_FORMS).unwrap()[0].answer, "1200.50");
    assert_eq!(check(&[(9, "40")], &[FormKind::YesNo]), Err(AppError::invalid(Field::ContractFields, Problem::NotAllowedNow)));
    assert_eq!(check(&[(9, " ")], &[FormKind::YesNo]), Ok(vec![]));
}
