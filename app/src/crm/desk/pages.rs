//! The agent desk: the agent's campaigns, then one campaign's desk — contact card,
//! click-to-call, the argument-tree walk (buttons and keyboard), the call result, next contact.

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{DialContact, FinishCall, desk_campaigns, keep_desk, leave_desk, next_desk_contact, open_desk};
use super::{CallReport, CallbackFor, DeskCampaign, DeskContact, KEEP_ALIVE_MS, Step, next_node};
use crate::auth::Permission;
use std::collections::BTreeMap;

use crate::crm::campaigns::FormKind;
use crate::crm::campaigns::results::ResultFlag;
use crate::crm::forms::{ContractField, ContractFieldKind, NO, Question, QuestionAnswer, QuestionKind, YES};
use crate::crm::sales::AppointmentRequest;
use crate::crm::trees::{Answer, ArgumentTree};
use crate::error::{AppError, fill};
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{ErrorLine, action_error};

#[component]
pub fn DeskChoicePage() -> impl IntoView {
    guarded(Permission::UseDesk, |_| view! { <DeskChoices /> })
}

#[component]
pub fn DeskPage() -> impl IntoView {
    guarded(Permission::UseDesk, |_| view! { <Desk /> })
}

#[component]
fn DeskChoices() -> impl IntoView {
    let i18n = use_i18n();
    let choices = OnceResource::new(desk_campaigns());
    view! {
        <h1>{t!(i18n, menu_desk)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match choices.await {
                    Ok(choices) if choices.is_empty() => view! { <p class="muted">{t!(i18n, desk_no_campaign)}</p> }.into_any(),
                    Ok(choices) => {
                        view! {
                            <table class="grid" data-testid="desk-campaigns">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, field_campaign_name)}</th>
                                        <th>{t!(i18n, field_product)}</th>
                                        <th class="num">{t!(i18n, desk_fresh)}</th>
                                        <th class="num">{t!(i18n, desk_callbacks_due)}</th>
                                        <th></th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {choices
                                        .into_iter()
                                        .map(|choice| {
                                            view! {
                                                <tr data-campaign=choice.name.clone()>
                                                    <td>{choice.name.clone()}</td>
                                                    <td>{choice.product.clone()}</td>
                                                    <td class="num">{choice.fresh}</td>
                                                    <td class="num">{choice.callbacks_due}</td>
                                                    <td>
                                                        <a class="button" href=format!("/crm/desk/{}", choice.id)>{t!(i18n, desk_open)}</a>
                                                    </td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Desk() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let campaign_id = params.read_untracked().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0);
    let campaign = OnceResource::new(open_desk(campaign_id));
    view! {
        <p>
            <a href="/crm/desk">{t!(i18n, desk_back)}</a>
        </p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match campaign.await {
                    Ok(campaign) => view! { <Workspace campaign /> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The state of one call at the desk.
#[derive(Clone, Copy)]
struct Call {
    contact: RwSignal<Option<DeskContact>>,
    /// Nothing waiting in the campaign at the last ask.
    nothing_left: RwSignal<bool>,
    /// The held reservation was lost (ran out and taken by someone else).
    lost: RwSignal<bool>,
    path: RwSignal<Vec<Step>>,
    result: RwSignal<String>,
    callback_at: RwSignal<String>,
    callback_for: RwSignal<CallbackFor>,
    note: RwSignal<String>,
    /// Chosen answers by question key (yes/no: `YES` or `NO`).
    answers: RwSignal<BTreeMap<u32, Vec<u32>>>,
    /// Contract values by field key.
    contract: RwSignal<BTreeMap<u32, String>>,
    appointment_with: RwSignal<i64>,
    appointment_at: RwSignal<String>,
    error: RwSignal<Option<AppError>>,
}

impl Call {
    fn new() -> Call {
        Call {
            contact: RwSignal::new(None),
            nothing_left: RwSignal::new(false),
            lost: RwSignal::new(false),
            path: RwSignal::new(vec![]),
            result: RwSignal::new(String::new()),
            callback_at: RwSignal::new(String::new()),
            callback_for: RwSignal::new(CallbackFor::Me),
            note: RwSignal::new(String::new()),
            answers: RwSignal::new(BTreeMap::new()),
            contract: RwSignal::new(BTreeMap::new()),
            appointment_with: RwSignal::new(0),
            appointment_at: RwSignal::new(String::new()),
            error: RwSignal::new(None),
        }
    }

    /// Asks for the next contact and starts a fresh call with it.
    fn next(self, campaign_id: i64) {
        leptos::task::spawn_local(async move {
            match next_desk_contact(campaign_id).await {
                Ok(contact) => {
                    self.nothing_left.set(contact.is_none());
                    self.contact.set(contact);
                    self.lost.set(false);
                    self.path.set(vec![]);
                    self.result.set(String::new());
                    self.callback_at.set(String::new());
                    self.callback_for.set(CallbackFor::Me);
                    self.note.set(String::new());
                    self.answers.set(BTreeMap::new());
                    self.contract.set(BTreeMap::new());
                    self.appointment_with.set(0);
                    self.appointment_at.set(String::new());
                    self.error.set(None);
                }
                Err(error) => self.error.set(Some(error)),
            }
        });
    }
}

#[component]
fn Workspace(campaign: DeskCampaign) -> impl IntoView {
    let i18n = use_i18n();
    let campaign_id = campaign.id;
    let call = Call::new();
    let tree = StoredValue::new(campaign.tree.clone());
    let tree_version = campaign.tree.as_ref().map(|(version, _)| *version);
    let results = StoredValue::new(campaign.results.clone());
    let custom_fields = StoredValue::new(campaign.custom_fields.clone());
    let dial = ServerAction::<DialContact>::new();
    let finish = ServerAction::<FinishCall>::new();

    // In the browser only: the first contact, the keep-alive, leaving the desk, the keyboard.
    Effect::new(move |_| {
        call.next(campaign_id);
        let keep = set_interval_with_handle(
            move || {
                let slot_id = call.contact.with_untracked(|c| c.as_ref().map(|c| c.slot_id));
                leptos::task::spawn_local(async move {
                    if let Ok(false) = keep_desk(campaign_id, slot_id).await {
                        call.lost.set(true);
                    }
                });
            },
            std::time::Duration::from_millis(KEEP_ALIVE_MS.into()),
        );
        let keys = window_event_listener(leptos::ev::keydown, move |ev| {
            if typing(&ev) || ev.ctrl_key() || ev.alt_key() || ev.meta_key() {
                return;
            }
            let answer = match ev.key().to_lowercase().as_str() {
                "y" | "o" => Some(Some(Answer::Yes)),
                "n" => Some(Some(Answer::No)),
                "u" | "i" => Some(Some(Answer::Undecided)),
                "h" | "r" => Some(None),
                "backspace" => {
                    ev.prevent_default();
                    call.path.update(|p| {
                        p.pop();
                    });
                    None
                }
                _ => None,
            };
            if let Some(answer) = answer {
                tree.with_value(|tree| {
                    if let Some((_, tree)) = tree {
                        answer_node(tree, call, answer);
                    }
                });
            }
        });
        on_cleanup(move || {
            if let Ok(keep) = keep {
                keep.clear();
            }
            keys.remove();
            leptos::task::spawn_local(async move {
                let _ = leave_desk(campaign_id).await;
            });
        });
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = finish.value().get() {
            call.next(campaign_id);
        }
    });

    let has_form = {
        let forms = campaign.forms.clone();
        move |form: FormKind| forms.contains(&form)
    };
    let booking = has_form(FormKind::Appointment);
    // Whether the chosen result carries `flag` (an appointment is asked only with the form on).
    let wants = move |flag: ResultFlag| {
        let code = call.result.get();
        (flag != ResultFlag::Appointment || booking) && results.with_value(|results| results.iter().any(|r| r.code == code && r.has(flag)))
    };
    let asked: Vec<Question> =
        campaign.questionnaire.questions.iter().filter(|q| has_form(q.kind.form())).cloned().collect();
    let contract_fields: Vec<ContractField> =
        if has_form(FormKind::Contract) { campaign.questionnaire.contract.clone() } else { vec![] };
    let has_forms = !asked.is_empty() || !contract_fields.is_empty();
    let sales_people = StoredValue::new(campaign.sales_people.clone());
    let save = move |_| {
        let Some(contact) = call.contact.get_untracked() else { return };
        finish.dispatch(FinishCall {
            campaign_id,
            tree_version,
            report: CallReport {
                slot_id: contact.slot_id,
                result: call.result.get_untracked(),
                path: call.path.get_untracked(),
                callback_at: call.callback_at.get_untracked(),
                callback_for: call.callback_for.get_untracked(),
                note: call.note.get_untracked(),
                answers: call
                    .answers
                    .get_untracked()
                    .into_iter()
                    .map(|(question, choices)| QuestionAnswer { question, choices })
                    .collect(),
                contract: call.contract.get_untracked().into_iter().collect(),
                appointment: wants(ResultFlag::Appointment).then(|| AppointmentRequest {
                    sales_person_id: call.appointment_with.get_untracked(),
                    starts_at: call.appointment_at.get_untracked(),
                }),
            },
        });
    };
    let wants_callback = move || wants(ResultFlag::Callback);
    let wants_appointment = move || wants(ResultFlag::Appointment);

    view! {
        <h1>{campaign.name.clone()} <span class="badge">{campaign.product.clone()}</span></h1>
        <ErrorLine error=call.error />
        <Show when=move || call.lost.get()>
            <p class="notice" data-testid="desk-lost">{t!(i18n, desk_lost)}</p>
        </Show>
        <Show when=move || call.nothing_left.get()>
            <div class="card" data-testid="desk-empty">
                <p>{t!(i18n, desk_nothing_left)}</p>
                <button on:click=move |_| call.next(campaign_id)>{t!(i18n, desk_try_again)}</button>
            </div>
        </Show>
        {move || {
            call.contact
                .get()
                .map(|contact| {
                    let phone = contact.phone.clone();
                    let slot_id = contact.slot_id;
                    view! {
                        <div class="desk">
                            <section class="card contact-card" data-testid="contact-card" data-slot=slot_id>
                                <h2 data-testid="contact-name">{format!("{} {}", contact.first_name, contact.last_name).trim().to_string()}</h2>
                                <p class="phone" data-testid="contact-phone">{phone.clone()}</p>
                                <dl class="facts">
                                    <Show when={
                                        let v = contact.var1.clone();
                                        move || !v.is_empty()
                                    }>
                                        <dt>{t!(i18n, column_var1)}</dt>
                                        <dd>{contact.var1.clone()}</dd>
                                    </Show>
                                    <Show when={
                                        let v = contact.var2.clone();
                                        move || !v.is_empty()
                                    }>
                                        <dt>{t!(i18n, column_var2)}</dt>
                                        <dd>{contact.var2.clone()}</dd>
                                    </Show>
                                    {custom_fields
                                        .get_value()
                                        .into_iter()
                                        .zip(contact.custom.clone())
                                        .map(|(name, value)| view! {
                                            <dt>{name}</dt>
                                            <dd>{value}</dd>
                                        })
                                        .collect_view()}
                                    <dt>{t!(i18n, desk_attempts)}</dt>
                                    <dd data-testid="attempts">{contact.attempts}</dd>
                                </dl>
                                {contact
                                    .callback_at
                                    .clone()
                                    .map(|at| {
                                        view! {
                                            <p class="notice" data-testid="callback-notice">
                                                {move || fill(td_string!(i18n.get_locale(), desk_callback_booked), &[("at", &at)])}
                                            </p>
                                        }
                                    })}
                                <button
                                    data-testid="dial"
                                    disabled=move || dial.pending().get()
                                    on:click=move |_| {
                                        dial.dispatch(DialContact { slot_id });
                                    }
                                >
                                    {move || fill(td_string!(i18n.get_locale(), desk_call), &[("phone", &phone)])}
                                </button>
                                <p class="hint" data-testid="dial-state">
                                    {move || match dial.value().get() {
                                        Some(Ok(())) => t_string!(i18n, desk_ringing).to_string(),
                                        _ if dial.pending().get() => t_string!(i18n, desk_calling).to_string(),
                                        _ => String::new(),
                                    }}
                                </p>
                                <ErrorLine error=action_error(dial) />
                            </section>
                            <section class="card walk" data-testid="walk">
                                {move || tree.with_value(|tree| match tree {
                                    Some((_, tree)) => view! { <Walk tree=tree.clone() call /> }.into_any(),
                                    None => view! { <p class="muted">{t!(i18n, desk_no_tree)}</p> }.into_any(),
                                })}
                            </section>
                            {has_forms.then(|| view! { <FormsCard questions=asked.clone() contract=contract_fields.clone() call /> })}
                            <section class="card outcome" data-testid="outcome">
                                <h2>{t!(i18n, field_call_result)}</h2>
                                <div class="results">
                                    {results
                                        .get_value()
                                        .into_iter()
                                        .map(|result| {
                                            let code = result.code.clone();
                                            let chosen = code.clone();
                                            view! {
                                                <label class="check">
                                                    <input
                                                        type="radio"
                                                        name="result"
                                                        value=code.clone()
                                                        prop:checked=move || call.result.get() == chosen
                                                        on:change=move |_| call.result.set(code.clone())
                                                    />
                                                    {move || result.label(i18n.get_locale())}
                                                </label>
                                            }
                                        })
                                        .collect_view()}
                                </div>
                                <Show when=wants_callback>
                                    <label>
                                        {t!(i18n, field_callback_at)}
                                        <input
                                            type="datetime-local"
                                            name="callback_at"
                                            prop:value=move || call.callback_at.get()
                                            on:input=move |ev| call.callback_at.set(event_target_value(&ev))
                                        />
                                    </label>
                                    <label class="check">
                                        <input
                                            type="radio"
                                            name="callback_for"
                                            prop:checked=move || call.callback_for.get() == CallbackFor::Me
                                            on:change=move |_| call.callback_for.set(CallbackFor::Me)
                                        />
                                        {t!(i18n, desk_callback_me)}
                                    </label>
                                    <label class="check">
                                        <input
                                            type="radio"
                                            name="callback_for"
                                            prop:checked=move || call.callback_for.get() == CallbackFor::Anyone
                                            on:change=move |_| call.callback_for.set(CallbackFor::Anyone)
                                        />
                                        {t!(i18n, desk_callback_anyone)}
                                    </label>
                                </Show>
                                <Show when=wants_appointment>
                                    <fieldset data-testid="appointment">
                                        <legend>{t!(i18n, form_appointment)}</legend>
                                        <label>
                                            {t!(i18n, field_sales_person)}
                                            <select
                                                name="sales_person"
                                                on:change=move |ev| call.appointment_with.set(event_target_value(&ev).parse().unwrap_or(0))
                                            >
                                                <option value="0" prop:selected=move || call.appointment_with.get() == 0>
                                                    {t!(i18n, desk_choose_sales_person)}
                                                </option>
                                                {sales_people
                                                    .get_value()
                                                    .into_iter()
                                                    .map(|person| {
                                                        let id = person.id;
                                                        let label = if person.area.is_empty() { person.name.clone() } else { format!("{} ({})", person.name, person.area) };
                                                        view! {
                                                            <option value=id.to_string() prop:selected=move || call.appointment_with.get() == id>
                                                                {label}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        </label>
                                        <label>
                                            {t!(i18n, field_appointment_at)}
                                            <input
                                                type="datetime-local"
                                                name="appointment_at"
                                                prop:value=move || call.appointment_at.get()
                                                on:input=move |ev| call.appointment_at.set(event_target_value(&ev))
                                            />
                                        </label>
                                    </fieldset>
                                </Show>
                                <label>
                                    {t!(i18n, field_note)}
                                    <textarea
                                        name="note"
                                        rows="3"
                                        prop:value=move || call.note.get()
                                        on:input=move |ev| call.note.set(event_target_value(&ev))
                                    ></textarea>
                                </label>
                                <button
                                    data-testid="save-call"
                                    disabled=move || call.result.with(String::is_empty) || finish.pending().get()
                                    on:click=save
                                >
                                    {t!(i18n, desk_save_next)}
                                </button>
                                <ErrorLine error=action_error(finish) />
                            </section>
                        </div>
                    }
                })
        }}
    }
}

/// Whether a key press belongs to a field being typed in, not to the walk.
fn typing(ev: &leptos::ev::KeyboardEvent) -> bool {
    use leptos::wasm_bindgen::JsCast;
    ev.target()
        .and_then(|target| target.dyn_into::<leptos::web_sys::Element>().ok())
        .is_some_and(|element| matches!(element.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
}

/// Records `answer` at the node the walk stands on (`None`: the call ended there).
fn answer_node(tree: &ArgumentTree, call: Call, answer: Option<Answer>) {
    let Some(node) = call.path.with_untracked(|path| next_node(tree, path)) else { return };
    call.path.update(|path| path.push(Step { node, answer }));
}

/// The argument tree, one node at a time, with the way walked so far.
#[component]
fn Walk(tree: ArgumentTree, call: Call) -> impl IntoView {
    let i18n = use_i18n();
    let tree = StoredValue::new(tree);
    let current = move || call.path.with(|path| tree.with_value(|tree| next_node(tree, path)));
    let text_of = move |key: u32| tree.with_value(|tree| tree.node(key).map(|n| n.text.clone()).unwrap_or_default());
    let press = move |answer: Option<Answer>| tree.with_value(|tree| answer_node(tree, call, answer));
    view! {
        <h2>{t!(i18n, field_argument_tree)}</h2>
        <ol class="walked" data-testid="walked">
            {move || {
                let locale = i18n.get_locale();
                call.path
                    .get()
                    .into_iter()
                    .map(|step| {
                        let said = step.answer.map_or_else(|| td_string!(locale, desk_hung_up).to_string(), |a| a.label(locale));
                        view! { <li>{format!("Q{} — {}", step.node, said)}</li> }
                    })
                    .collect_view()
            }}
        </ol>
        {move || match current() {
            Some(key) => view! {
                <div class="node-now" data-testid="current-node" data-node=key>
                    <p class="question">{text_of(key)}</p>
                    <div class="answers">
                        <button data-testid="answer-yes" on:click=move |_| press(Some(Answer::Yes))>
                            {move || Answer::Yes.label(i18n.get_locale())} <kbd>{move || t_string!(i18n, desk_key_yes)}</kbd>
                        </button>
                        <button data-testid="answer-no" on:click=move |_| press(Some(Answer::No))>
                            {move || Answer::No.label(i18n.get_locale())} <kbd>"N"</kbd>
                        </button>
                        <button data-testid="answer-undecided" on:click=move |_| press(Some(Answer::Undecided))>
                            {move || Answer::Undecided.label(i18n.get_locale())} <kbd>{move || t_string!(i18n, desk_key_undecided)}</kbd>
                        </button>
                        <button class="secondary" data-testid="hung-up" on:click=move |_| press(None)>
                            {t!(i18n, desk_hung_up)} <kbd>{move || t_string!(i18n, desk_key_hung_up)}</kbd>
                        </button>
                    </div>
                </div>
            }
            .into_any(),
            None => view! { <p class="success" data-testid="walk-done">{t!(i18n, desk_walk_done)}</p> }.into_any(),
        }}
        <Show when=move || call.path.with(|p| !p.is_empty())>
            <button class="link" data-testid="undo" on:click=move |_| call.path.update(|p| {
                p.pop();
            })>
                {t!(i18n, desk_undo)}
            </button>
        </Show>
    }
}

/// The campaign's questions and contract fields, filled during the call.
#[component]
fn FormsCard(questions: Vec<Question>, contract: Vec<ContractField>, call: Call) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = move |question: u32, choice: u32| call.answers.with(|a| a.get(&question).is_some_and(|c| c.contains(&choice)));
    let choose = move |question: u32, choice: u32, only: bool, on: bool| {
        call.answers.update(|answers| {
            let choices = answers.entry(question).or_default();
            if only {
                choices.clear();
            }
            choices.retain(|c| *c != choice);
            if on {
                choices.push(choice);
            }
            if choices.is_empty() {
                answers.remove(&question);
            }
        })
    };
    let has_contract = !contract.is_empty();
    view! {
        <section class="card desk-forms" data-testid="desk-forms">
            <h2>{t!(i18n, desk_forms)}</h2>
            {questions
                .into_iter()
                .map(|question| {
                    let key = question.key;
                    let name = format!("q{key}");
                    let options: Vec<(u32, Signal<String>)> = match question.kind {
                        QuestionKind::YesNo => vec![
                            (YES, Signal::derive(move || t_string!(i18n, yes).to_string())),
                            (NO, Signal::derive(move || t_string!(i18n, no).to_string())),
                        ],
                        _ => question.choices.iter().map(|c| (c.key, Signal::stored(c.label.clone()))).collect(),
                    };
                    let only = question.kind != QuestionKind::Multiple;
                    view! {
                        <fieldset data-testid="desk-question" data-question=key>
                            <legend>{question.text.clone()} {question.required.then_some(" *")}</legend>
                            {options
                                .into_iter()
                                .map(|(choice, label)| {
                                    let name = name.clone();
                                    view! {
                                        <label class="check">
                                            <input
                                                type=if only { "radio" } else { "checkbox" }
                                                name=name
                                                prop:checked=move || chosen(key, choice)
                                                on:change=move |ev| choose(key, choice, only, event_target_checked(&ev))
                                            />
                                            {move || label.get()}
                                        </label>
                                    }
                                })
                                .collect_view()}
                        </fieldset>
                    }
                })
                .collect_view()}
            {has_contract.then(|| view! {
                <fieldset data-testid="desk-contract">
                    <legend>{t!(i18n, form_contract)}</legend>
                    {contract
                        .into_iter()
                        .map(|field| {
                            let key = field.key;
                            let kind = match field.kind {
                                ContractFieldKind::Text => "text",
                                ContractFieldKind::Number => "text",
                                ContractFieldKind::Date => "date",
                            };
                            view! {
                                <label>
                                    {field.label.clone()} {field.required.then_some(" *")}
                                    <input
                                        type=kind
                                        name=format!("contract{key}")
                                        inputmode=if field.kind == ContractFieldKind::Number { "decimal" } else { "text" }
                                        prop:value=move || call.contract.with(|c| c.get(&key).cloned().unwrap_or_default())
                                        on:input=move |ev| {
                                            let value = event_target_value(&ev);
                                            call.contract.update(|c| {
                                                c.insert(key, value);
                                            });
                                        }
                                    />
                                </label>
                            }
                        })
                        .collect_view()}
                    <p class="hint">{t!(i18n, desk_contract_hint)}</p>
                </fieldset>
            })}
        </section>
    }
}
