//! The forms editor of a campaign (`/crm/campaigns/:id/forms`): its multiple-choice and yes/no
//! questions, its contract's fields and its call results, edited in the browser and saved at once.
//! Lists render by position, so typing never re-creates the field being typed in.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{SaveForms, load_forms};
use super::{CampaignForms, Choice, ContractField, ContractFieldKind, Question, QuestionKind, Questionnaire};
use crate::auth::Permission;
use crate::crm::campaigns::FormKind;
use crate::crm::campaigns::results::{CallResult, ResultFlag};
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{ErrorLine, action_error};

#[component]
pub fn FormsPage() -> impl IntoView {
    guarded(Permission::ManageCampaigns, |_| view! { <FormsLoader /> })
}

#[component]
fn FormsLoader() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let campaign_id = params.read_untracked().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let forms = OnceResource::new(load_forms(campaign_id));
    view! {
        <p>
            <a href="/crm/campaigns">{t!(i18n, forms_back)}</a>
        </p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match forms.await {
                    Ok(forms) => view! { <FormsEditor forms /> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn moved<T>(list: &mut [T], i: usize, up: bool) {
    if up && i > 0 {
        list.swap(i, i - 1);
    } else if !up && i + 1 < list.len() {
        list.swap(i, i + 1);
    }
}

/// What the editor shows and edits; the last saved state is kept apart, to tell unsaved changes.
#[derive(Clone, Copy)]
struct Draft {
    questionnaire: RwSignal<Questionnaire>,
    results: RwSignal<Vec<CallResult>>,
}

#[component]
fn FormsEditor(forms: CampaignForms) -> impl IntoView {
    let i18n = use_i18n();
    let campaign_id = forms.campaign_id;
    let locale = i18n.get_locale_untracked();
    // Default results show their label in the editor's language; saving keeps them translated.
    let shown_results: Vec<CallResult> =
        forms.results.iter().map(|r| CallResult { label: r.label(locale), ..r.clone() }).collect();
    let draft = Draft { questionnaire: RwSignal::new(forms.questionnaire.clone()), results: RwSignal::new(shown_results.clone()) };
    let stored = RwSignal::new((forms.questionnaire.clone(), shown_results));
    let unsaved = Memo::new(move |_| stored.with(|(q, r)| draft.questionnaire.with(|d| d != q) || draft.results.with(|d| d != r)));
    let save = ServerAction::<SaveForms>::new();
    Effect::new(move |_| {
        if let Some(Ok(saved)) = save.value().get() {
            let locale = i18n.get_locale_untracked();
            let results: Vec<CallResult> = saved.results.iter().map(|r| CallResult { label: r.label(locale), ..r.clone() }).collect();
            draft.questionnaire.set(saved.questionnaire.clone());
            draft.results.set(results.clone());
            stored.set((saved.questionnaire, results));
        }
    });
    let enabled = StoredValue::new(forms.enabled.clone());
    let off = move |form: FormKind| !enabled.with_value(|e| e.contains(&form));
    let add_question = move |kind: QuestionKind| {
        draft.questionnaire.update(|q| {
            let choices = if kind == QuestionKind::YesNo { vec![] } else { vec![Choice { key: 0, label: String::new() }, Choice { key: 0, label: String::new() }] };
            q.questions.push(Question { key: 0, kind, text: String::new(), choices, required: false });
        })
    };
    let question_count = Memo::new(move |_| draft.questionnaire.with(|q| q.questions.len()));
    let field_count = Memo::new(move |_| draft.questionnaire.with(|q| q.contract.len()));
    let result_count = Memo::new(move |_| draft.results.with(Vec::len));
    view! {
        <h1>{t!(i18n, forms_title)} " — " {forms.campaign.clone()}</h1>
        <p class="hint">{t!(i18n, forms_intro)}</p>
        <section class="card" data-testid="questions">
            <h2>{t!(i18n, field_questions)}</h2>
            <Show when=move || off(FormKind::MultipleChoice) || off(FormKind::YesNo)>
                <p class="notice">{t!(i18n, forms_some_off)}</p>
            </Show>
            <For each=move || 0..question_count.get() key=|i| *i let:i>
                <QuestionCard i draft />
            </For>
            <p class="actions">
                <button type="button" class="secondary" data-testid="add-single" on:click=move |_| add_question(QuestionKind::Single)>
                    {t!(i18n, forms_add_single)}
                </button>
                <button type="button" class="secondary" data-testid="add-multiple" on:click=move |_| add_question(QuestionKind::Multiple)>
                    {t!(i18n, forms_add_multiple)}
                </button>
                <button type="button" class="secondary" data-testid="add-yes-no" on:click=move |_| add_question(QuestionKind::YesNo)>
                    {t!(i18n, forms_add_yes_no)}
                </button>
            </p>
        </section>
        <section class="card" data-testid="contract">
            <h2>{t!(i18n, field_contract_fields)}</h2>
            <Show when=move || off(FormKind::Contract)>
                <p class="notice">{t!(i18n, forms_contract_off)}</p>
            </Show>
            <For each=move || 0..field_count.get() key=|i| *i let:i>
                <ContractRow i draft />
            </For>
            <button
                type="button"
                class="secondary"
                data-testid="add-contract-field"
                on:click=move |_| {
                    draft.questionnaire.update(|q| {
                        q.contract.push(ContractField { key: 0, label: String::new(), kind: ContractFieldKind::Text, required: false })
                    })
                }
            >
                {t!(i18n, forms_add_field)}
            </button>
        </section>
        <section class="card" data-testid="results-editor">
            <h2>{t!(i18n, forms_results)}</h2>
            <p class="hint">{t!(i18n, forms_results_hint)}</p>
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_label)}</th>
                        {ResultFlag::ALL.into_iter().map(|flag| view! { <th>{move || flag.label(i18n.get_locale())}</th> }).collect_view()}
                        <th>{t!(i18n, actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || 0..result_count.get() key=|i| *i let:i>
                        <ResultRow i draft />
                    </For>
                </tbody>
            </table>
            <button
                type="button"
                class="secondary"
                data-testid="add-result"
                on:click=move |_| draft.results.update(|r| r.push(CallResult { code: String::new(), label: String::new(), flags: vec![] }))
            >
                {t!(i18n, forms_add_result)}
            </button>
        </section>
        <p class="hint">
            <Show when=move || unsaved.get()>{t!(i18n, trees_unsaved)}</Show>
        </p>
        <button
            type="button"
            data-testid="save-forms"
            disabled=move || save.pending().get()
            on:click=move |_| {
                save.dispatch(SaveForms { campaign_id, questionnaire: draft.questionnaire.get(), results: draft.results.get() });
            }
        >
            {t!(i18n, save)}
        </button>
        <Show when=move || matches!(save.value().get(), Some(Ok(_))) && !unsaved.get()>
            <p class="success" data-testid="forms-saved">{t!(i18n, forms_saved)}</p>
        </Show>
        <ErrorLine error=action_error(save) />
    }
}

/// One question: its kind, text, whether it is required, its choices, and its place.
#[component]
fn QuestionCard(i: usize, draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let q = draft.questionnaire;
    let read = move |f: &dyn Fn(&Question) -> String| q.with(|q| q.questions.get(i).map(f).unwrap_or_default());
    let edit = move |f: &dyn Fn(&mut Question)| {
        q.update(|q| {
            if let Some(question) = q.questions.get_mut(i) {
                f(question)
            }
        })
    };
    let kind = move || q.with(|q| q.questions.get(i).map(|q| q.kind));
    let choice_count = Memo::new(move |_| q.with(|q| q.questions.get(i).map_or(0, |q| q.choices.len())));
    view! {
        <div class="question-card" data-testid="question" data-position=i + 1>
            <p class="row">
                <strong>{move || format!("{} {}", t_string!(i18n, item_question), i + 1)}</strong>
                <select
                    name="kind"
                    on:change=move |ev| {
                        let chosen = event_target_value(&ev);
                        edit(&|question| {
                            if let Some(kind) = QuestionKind::ALL.into_iter().find(|k| k.code() == chosen) {
                                question.kind = kind;
                                if kind == QuestionKind::YesNo {
                                    question.choices.clear();
                                } else {
                                    while question.choices.len() < 2 {
                                        question.choices.push(Choice { key: 0, label: String::new() });
                                    }
                                }
                            }
                        });
                    }
                >
                    {QuestionKind::ALL
                        .into_iter()
                        .map(|k| view! {
                            <option value=k.code() prop:selected=move || kind() == Some(k)>{move || k.label(i18n.get_locale())}</option>
                        })
                        .collect_view()}
                </select>
                <label class="check">
                    <input
                        type="checkbox"
                        name="required"
                        prop:checked=move || q.with(|q| q.questions.get(i).is_some_and(|q| q.required))
                        on:change=move |ev| {
                            let on = event_target_checked(&ev);
                            edit(&|question| question.required = on);
                        }
                    />
                    {t!(i18n, forms_required)}
                </label>
                <button type="button" class="link" on:click=move |_| q.update(|q| moved(&mut q.questions, i, true))>"↑"</button>
                <button type="button" class="link" on:click=move |_| q.update(|q| moved(&mut q.questions, i, false))>"↓"</button>
                <button
                    type="button"
                    class="link danger"
                    data-testid="delete-question"
                    on:click=move |_| {
                        q.update(|q| {
                            if i < q.questions.len() {
                                q.questions.remove(i);
                            }
                        })
                    }
                >
                    {t!(i18n, delete)}
                </button>
            </p>
            <label>
                {t!(i18n, field_question_text)}
                <input
                    name="question_text"
                    prop:value=move || read(&|q| q.text.clone())
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        edit(&|question| question.text = text.clone());
                    }
                />
            </label>
            <Show when=move || kind().is_some_and(|k| k != QuestionKind::YesNo)>
                <ol class="choices">
                    <For each=move || 0..choice_count.get() key=|c| *c let:c>
                        <li>
                            <input
                                name="choice"
                                placeholder=move || t_string!(i18n, forms_choice).to_string()
                                prop:value=move || read(&|q| q.choices.get(c).map(|c| c.label.clone()).unwrap_or_default())
                                on:input=move |ev| {
                                    let text = event_target_value(&ev);
                                    edit(&|question| {
                                        if let Some(choice) = question.choices.get_mut(c) {
                                            choice.label = text.clone();
                                        }
                                    });
                                }
                            />
                            <button
                                type="button"
                                class="link danger"
                                on:click=move |_| {
                                    edit(&|question| {
                                        if c < question.choices.len() {
                                            question.choices.remove(c);
                                        }
                                    })
                                }
                            >
                                "×"
                            </button>
                        </li>
                    </For>
                </ol>
                <button
                    type="button"
                    class="link"
                    data-testid="add-choice"
                    on:click=move |_| edit(&|question| question.choices.push(Choice { key: 0, label: String::new() }))
                >
                    {t!(i18n, forms_add_choice)}
                </button>
            </Show>
        </div>
    }
}

#[component]
fn ContractRow(i: usize, draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let q = draft.questionnaire;
    let edit = move |f: &dyn Fn(&mut ContractField)| {
        q.update(|q| {
            if let Some(field) = q.contract.get_mut(i) {
                f(field)
            }
        })
    };
    let field = move || q.with(|q| q.contract.get(i).cloned());
    view! {
        <p class="row" data-testid="contract-field">
            <input
                name="field_label"
                placeholder=move || t_string!(i18n, field_label).to_string()
                prop:value=move || field().map(|f| f.label).unwrap_or_default()
                on:input=move |ev| {
                    let text = event_target_value(&ev);
                    edit(&|f| f.label = text.clone());
                }
            />
            <select
                name="field_kind"
                on:change=move |ev| {
                    let chosen = event_target_value(&ev);
                    if let Some(kind) = ContractFieldKind::ALL.into_iter().find(|k| k.code() == chosen) {
                        edit(&|f| f.kind = kind);
                    }
                }
            >
                {ContractFieldKind::ALL
                    .into_iter()
                    .map(|k| view! {
                        <option value=k.code() prop:selected=move || field().is_some_and(|f| f.kind == k)>{move || k.label(i18n.get_locale())}</option>
                    })
                    .collect_view()}
            </select>
            <label class="check">
                <input
                    type="checkbox"
                    name="field_required"
                    prop:checked=move || field().is_some_and(|f| f.required)
                    on:change=move |ev| {
                        let on = event_target_checked(&ev);
                        edit(&|f| f.required = on);
                    }
                />
                {t!(i18n, forms_required)}
            </label>
            <button type="button" class="link" on:click=move |_| q.update(|q| moved(&mut q.contract, i, true))>"↑"</button>
            <button type="button" class="link" on:click=move |_| q.update(|q| moved(&mut q.contract, i, false))>"↓"</button>
            <button
                type="button"
                class="link danger"
                on:click=move |_| {
                    q.update(|q| {
                        if i < q.contract.len() {
                            q.contract.remove(i);
                        }
                    })
                }
            >
                {t!(i18n, delete)}
            </button>
        </p>
    }
}

#[component]
fn ResultRow(i: usize, draft: Draft) -> impl IntoView {
    let i18n = use_i18n();
    let results = draft.results;
    let result = move || results.with(|r| r.get(i).cloned());
    let edit = move |f: &dyn Fn(&mut CallResult)| {
        results.update(|r| {
            if let Some(result) = r.get_mut(i) {
                f(result)
            }
        })
    };
    view! {
        <tr data-testid="result-row">
            <td>
                <input
                    name="result_label"
                    prop:value=move || result().map(|r| r.label).unwrap_or_default()
                    on:input=move |ev| {
                        let text = event_target_value(&ev);
                        edit(&|r| r.label = text.clone());
                    }
                />
            </td>
            {ResultFlag::ALL
                .into_iter()
                .map(|flag| {
                    view! {
                        <td>
                            <input
                                type="checkbox"
                                name=flag.code()
                                prop:checked=move || result().is_some_and(|r| r.has(flag))
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    edit(&|r| {
                                        r.flags.retain(|f| *f != flag);
                                        if on {
                                            r.flags.push(flag);
                                        }
                                    });
                                }
                            />
                        </td>
                    }
                })
                .collect_view()}
            <td class="actions">
                <button type="button" class="link" on:click=move |_| results.update(|r| moved(r, i, true))>"↑"</button>
                <button type="button" class="link" on:click=move |_| results.update(|r| moved(r, i, false))>"↓"</button>
                <button
                    type="button"
                    class="link danger"
                    on:click=move |_| {
                        results.update(|r| {
                            if i < r.len() {
                                r.remove(i);
                            }
                        })
                    }
                >
                    {t!(i18n, delete)}
                </button>
            </td>
        </tr>
    }
}
