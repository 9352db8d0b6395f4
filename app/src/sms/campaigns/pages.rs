//! The client's SMS pages: the campaigns (`/sms/campaigns`: list with live progress, the form
//! that drafts one with its template's parts counted as it is typed and previewed on real
//! contacts), one campaign (`/sms/campaigns/:id`: progress, every message's state, its replies),
//! and the replies with the opt-out list (`/sms/replies`).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{
    ActivateSmsCampaign, AddSmsOptOut, CreateSmsCampaign, DeleteSmsCampaign, RemoveSmsOptOut, Run, RunSmsCampaign, UpdateSmsCampaign, list_sms_campaigns,
    sms_bases, sms_campaign, sms_messages, sms_opt_outs, sms_replies,
};
use super::{
    CreditView, MessageFilter, MessageState, OptOut, PAGE_SIZE, Progress, Reply, Sample, SmsBase, SmsCampaignRecord, SmsCampaignSettings,
    SmsCampaignState, reason_text,
};
use crate::auth::Permission;
use crate::error::fill;
use crate::i18n::*;
use crate::money;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, Pager, action_error, reload_on_success};
use crate::sms::template::TemplateField;
use crate::sms::text::{self, Alphabet};

/// How often pages showing running campaigns read them again.
#[cfg(feature = "hydrate")]
const REFRESH_MS: u64 = 2_000;

#[component]
pub fn SmsCampaignsPage() -> impl IntoView {
    guarded(Permission::SmsCampaigns, |_| view! { <SmsCampaigns /> })
}

/// A counter the browser moves every `REFRESH_MS`, for resources that follow running work.
fn refresh_tick() -> RwSignal<usize> {
    let tick = RwSignal::new(0_usize);
    #[cfg(feature = "hydrate")]
    if let Ok(handle) = set_interval_with_handle(move || tick.update(|n| *n += 1), std::time::Duration::from_millis(REFRESH_MS)) {
        on_cleanup(move || handle.clear());
    }
    tick
}

#[component]
fn SmsCampaigns() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateSmsCampaign>::new();
    let update = ServerAction::<UpdateSmsCampaign>::new();
    let delete = ServerAction::<DeleteSmsCampaign>::new();
    let activate = ServerAction::<ActivateSmsCampaign>::new();
    let run = ServerAction::<RunSmsCampaign>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, create);
    reload_on_success(saved, update);
    reload_on_success(saved, delete);
    reload_on_success(saved, activate);
    reload_on_success(saved, run);
    let tick = refresh_tick();
    let data = Resource::new(move || (saved.get(), tick.get()), |_| list_sms_campaigns());
    let bases = Resource::new(move || saved.get(), |_| sms_bases());
    let editing = RwSignal::new(None::<SmsCampaignRecord>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <h1>{t!(i18n, menu_sms_campaigns)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(admin) => {
                        let listed = admin.campaigns.clone();
                        view! {
                            <CreditLine credit=admin.credit.clone() />
                            <CampaignTable campaigns=admin.campaigns currency=admin.credit.currency editing activate run delete />
                            <CsvLink filename="sms-campaigns.csv" rows=move |locale| campaigns_csv(&listed, locale) />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ActivationNotice activate />
        <ErrorLine error=action_error(activate) />
        <ErrorLine error=action_error(run) />
        <ErrorLine error=action_error(delete) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match bases.await {
                    Ok(bases) if bases.is_empty() => view! { <p class="muted" data-testid="no-base">{t!(i18n, sms_no_base)}</p> }.into_any(),
                    Ok(bases) => {
                        let for_edit = bases.clone();
                        view! {
                            {move || {
                                editing
                                    .get()
                                    .map(|campaign| {
                                        view! {
                                            <CampaignForm
                                                initial=campaign.settings.clone()
                                                bases=for_edit.clone()
                                                title=fill(td_string!(i18n.get_locale(), sms_edit), &[("name", &campaign.settings.name)])
                                                testid="edit-sms-campaign"
                                                pending=update.pending().into()
                                                error=action_error(update)
                                                on_save=Callback::new(move |settings| {
                                                    update.dispatch(UpdateSmsCampaign { campaign_id: campaign.id, settings });
                                                })
                                                on_cancel=Some(Callback::new(move |()| editing.set(None)))
                                            />
                                        }
                                    })
                            }}
                            <CampaignForm
                                initial=SmsCampaignSettings {
                                    base_id: bases.first().map_or(0, |b| b.id),
                                    status_reports: true,
                                    ..Default::default()
                                }
                                bases
                                title=t_string!(i18n, sms_new).to_string()
                                testid="new-sms-campaign"
                                pending=create.pending().into()
                                error=action_error(create)
                                on_save=Callback::new(move |settings| {
                                    create.dispatch(CreateSmsCampaign { settings });
                                })
                                on_cancel=None
                            />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// The tenant's balance and the price of one part.
#[component]
fn CreditLine(credit: CreditView) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <p class="credit" data-testid="credit" data-balance=credit.balance>
            {move || {
                let locale = i18n.get_locale();
                fill(
                    td_string!(locale, sms_credit_line),
                    &[
                        ("balance", &money::format(credit.balance, &credit.currency, locale)),
                        ("price", &money::format(credit.part_price, &credit.currency, locale)),
                    ],
                )
            }}
        </p>
    }
}

/// What the last activation queued and left out.
#[component]
fn ActivationNotice(activate: ServerAction<ActivateSmsCampaign>) -> impl IntoView {
    let i18n = use_i18n();
    move || {
        activate.value().get().and_then(Result::ok).map(|done| {
            view! {
                <p class="notice" data-testid="activation">
                    {move || {
                        fill(
                            td_string!(i18n.get_locale(), sms_activated),
                            &[("queued", &done.queued.to_string()), ("parts", &done.parts.to_string()), ("skipped", &done.skipped.to_string())],
                        )
                    }}
                </p>
            }
        })
    }
}

fn state_badge(state: SmsCampaignState) -> &'static str {
    match state {
        SmsCampaignState::Active | SmsCampaignState::Finished => "badge ok",
        SmsCampaignState::Paused | SmsCampaignState::Draft => "badge",
        SmsCampaignState::NoCredit | SmsCampaignState::Stopped => "badge warn",
    }
}

fn percent_text(value: Option<u64>) -> String {
    value.map_or_else(|| "—".to_string(), |p| format!("{p} %"))
}

#[component]
fn CampaignTable(
    campaigns: Vec<SmsCampaignRecord>,
    currency: String,
    editing: RwSignal<Option<SmsCampaignRecord>>,
    activate: ServerAction<ActivateSmsCampaign>,
    run: ServerAction<RunSmsCampaign>,
    delete: ServerAction<DeleteSmsCampaign>,
) -> impl IntoView {
    let i18n = use_i18n();
    if campaigns.is_empty() {
        return view! { <p class="muted">{t!(i18n, sms_none)}</p> }.into_any();
    }
    view! {
        <div class="scroll">
        <table class="grid" data-testid="sms-campaigns">
            <thead>
                <tr>
                    <th>{t!(i18n, field_campaign_name)}</th>
                    <th>{t!(i18n, field_contact_base)}</th>
                    <th>{t!(i18n, field_state)}</th>
                    <th>{t!(i18n, sms_progress)}</th>
                    <th class="num">{t!(i18n, sms_message_sent)}</th>
                    <th class="num">{t!(i18n, modems_delivered_percent)}</th>
                    <th class="num">{t!(i18n, sms_message_failed)}</th>
                    <th class="num">{t!(i18n, sms_cost)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {campaigns
                    .into_iter()
                    .map(|campaign| {
                        let (id, state, p) = (campaign.id, campaign.state, campaign.progress);
                        let name = campaign.settings.name.clone();
                        let currency = currency.clone();
                        let (run_name, row_name, link_name) = (name.clone(), name.clone(), name.clone());
                        view! {
                            <tr data-campaign=row_name data-state=state.code()>
                                <td><a href=format!("/sms/campaigns/{id}")>{link_name}</a></td>
                                <td>{campaign.base_name.clone()}</td>
                                <td><span class=state_badge(state) data-testid="state">{move || state.label(i18n.get_locale())}</span></td>
                                <td>
                                    {if state == SmsCampaignState::Draft {
                                        view! { <span class="muted">"—"</span> }.into_any()
                                    } else {
                                        view! { <ProgressBar progress=p /> }.into_any()
                                    }}
                                </td>
                                <td class="num" data-testid="sent">{p.sent + p.delivered}</td>
                                <td class="num" data-testid="delivered-percent">{percent_text(p.delivered_percent())}</td>
                                <td class="num" data-testid="failed">{p.failed + p.unknown}</td>
                                <td class="num">{move || money::format(p.charged, &currency, i18n.get_locale())}</td>
                                <td class="actions">
                                    <a class="link" href=format!("/sms/campaigns/{id}") data-testid="open">{t!(i18n, sms_open)}</a>
                                    <Show when=move || state == SmsCampaignState::Draft>
                                        {
                                            let (campaign, name) = (campaign.clone(), name.clone());
                                            view! {
                                                <button class="link" data-testid="edit" on:click=move |_| editing.set(Some(campaign.clone()))>{t!(i18n, edit)}</button>
                                                <button
                                                    class="link"
                                                    data-testid="activate"
                                                    on:click={
                                                        let name = name.clone();
                                                        move |_| {
                                                            let question = fill(td_string!(i18n.get_locale(), sms_confirm_activate), &[("name", &name)]);
                                                            if window().confirm_with_message(&question).unwrap_or(false) {
                                                                activate.dispatch(ActivateSmsCampaign { campaign_id: id });
                                                            }
                                                        }
                                                    }
                                                >
                                                    {t!(i18n, campaigns_activate)}
                                                </button>
                                                <button
                                                    class="link danger"
                                                    data-testid="delete"
                                                    on:click=move |_| {
                                                        let question = fill(td_string!(i18n.get_locale(), campaigns_confirm_delete), &[("name", &name)]);
                                                        if window().confirm_with_message(&question).unwrap_or(false) {
                                                            delete.dispatch(DeleteSmsCampaign { campaign_id: id });
                                                        }
                                                    }
                                                >
                                                    {t!(i18n, delete)}
                                                </button>
                                            }
                                        }
                                    </Show>
                                    <RunButtons id state name=run_name run />
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
        </div>
    }
    .into_any()
}

/// Pause, resume and deactivate, as the campaign's state allows.
#[component]
fn RunButtons(id: i64, state: SmsCampaignState, name: String, run: ServerAction<RunSmsCampaign>) -> impl IntoView {
    let i18n = use_i18n();
    let send = move |action: Run| {
        run.dispatch(RunSmsCampaign { campaign_id: id, run: action });
    };
    view! {
        <Show when=move || state.can_pause()>
            <button class="link" data-testid="pause" on:click=move |_| send(Run::Pause)>{t!(i18n, sms_pause)}</button>
        </Show>
        <Show when=move || state.can_resume()>
            <button class="link" data-testid="resume" on:click=move |_| send(Run::Resume)>{t!(i18n, sms_resume)}</button>
        </Show>
        <Show when=move || state.can_deactivate()>
            {
                let name = name.clone();
                view! {
                    <button
                        class="link danger"
                        data-testid="deactivate"
                        on:click=move |_| {
                            let question = fill(td_string!(i18n.get_locale(), sms_confirm_deactivate), &[("name", &name)]);
                            if window().confirm_with_message(&question).unwrap_or(false) {
                                send(Run::Deactivate);
                            }
                        }
                    >
                        {t!(i18n, sms_deactivate)}
                    </button>
                }
            }
        </Show>
    }
}

/// Settled messages over all, as a bar and a count.
#[component]
fn ProgressBar(progress: Progress) -> impl IntoView {
    view! {
        <span class="progress" data-testid="progress" data-settled=progress.settled() data-messages=progress.messages>
            <progress max="100" value=progress.percent()></progress>
            {format!(" {} / {}", progress.settled(), progress.messages)}
        </span>
    }
}

fn campaigns_csv(campaigns: &[SmsCampaignRecord], locale: Locale) -> Vec<Vec<String>> {
    let header = [
        td_string!(locale, field_campaign_name),
        td_string!(locale, field_contact_base),
        td_string!(locale, field_state),
        td_string!(locale, sms_created_at),
        td_string!(locale, sms_activated_at),
        td_string!(locale, sms_messages),
        td_string!(locale, sms_message_queued),
        td_string!(locale, sms_message_sending),
        td_string!(locale, sms_message_sent),
        td_string!(locale, sms_message_delivered),
        td_string!(locale, sms_message_failed),
        td_string!(locale, sms_message_unknown),
        td_string!(locale, sms_message_skipped),
        td_string!(locale, modems_delivered_percent),
    ]
    .map(str::to_string)
    .to_vec();
    let lines = campaigns.iter().map(|c| {
        let p = &c.progress;
        vec![
            c.settings.name.clone(),
            c.base_name.clone(),
            c.state.label(locale).to_string(),
            c.created_at.clone(),
            c.activated_at.clone(),
            p.messages.to_string(),
            p.queued.to_string(),
            p.sending.to_string(),
            p.sent.to_string(),
            p.delivered.to_string(),
            p.failed.to_string(),
            p.unknown.to_string(),
            p.skipped.to_string(),
            percent_text(p.delivered_percent()),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

/// "153 characters · GSM 7-bit · 1 SMS" for a text.
fn length_text(text: &str, locale: Locale) -> String {
    let (alphabet, parts) = text::plan(text);
    let alphabet = match alphabet {
        Alphabet::Gsm7 => td_string!(locale, sms_alphabet_gsm7),
        Alphabet::Ucs2 | Alphabet::Binary => td_string!(locale, sms_alphabet_ucs2),
    };
    fill(
        td_string!(locale, sms_length),
        &[("chars", &text.chars().count().to_string()), ("alphabet", alphabet), ("parts", &parts.to_string())],
    )
}

/// The fields a template of `base` may name, with their labels.
fn template_fields(base: Option<&SmsBase>, locale: Locale) -> Vec<(String, String)> {
    let mut fields: Vec<(String, String)> = TemplateField::STANDARD
        .iter()
        .filter_map(|(code, field)| {
            let label = match field {
                TemplateField::FirstName => td_string!(locale, field_first_name),
                TemplateField::LastName => td_string!(locale, field_last_name),
                TemplateField::Phone => td_string!(locale, field_phone),
                TemplateField::Var1 => td_string!(locale, column_var1),
                TemplateField::Var2 => td_string!(locale, column_var2),
                TemplateField::Custom(_) => return None,
            };
            Some((format!("{{{code}}}"), label.to_string()))
        })
        .collect();
    if let Some(base) = base {
        fields.extend(base.custom_fields.iter().map(|name| (format!("{{{name}}}"), name.clone())));
    }
    fields
}

#[component]
fn CampaignForm(
    initial: SmsCampaignSettings,
    bases: Vec<SmsBase>,
    title: String,
    testid: &'static str,
    pending: Signal<bool>,
    error: Signal<Option<crate::error::AppError>>,
    on_save: Callback<SmsCampaignSettings>,
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(initial.name.clone());
    let base_id = RwSignal::new(initial.base_id);
    let template = RwSignal::new(initial.template.clone());
    let status_reports = RwSignal::new(initial.status_reports);
    let area = NodeRef::<leptos::html::Textarea>::new();
    let bases = StoredValue::new(bases);
    let base = Memo::new(move |_| bases.with_value(|all| all.iter().find(|b| b.id == base_id.get()).cloned()));
    let samples = RwSignal::new(None::<Result<Vec<Sample>, crate::error::AppError>>);
    // The preview follows what is typed, a moment after the typing stops (browser only: the
    // server renders the empty form).
    #[cfg(feature = "hydrate")]
    {
        let asked = std::rc::Rc::new(std::cell::Cell::new(0_u32));
        Effect::new(move |_| {
            let (base_id, typed) = (base_id.get(), template.get());
            let this = asked.get() + 1;
            asked.set(this);
            let asked = asked.clone();
            set_timeout(
                move || {
                    if asked.get() != this || typed.trim().is_empty() {
                        if typed.trim().is_empty() {
                            samples.set(None);
                        }
                        return;
                    }
                    leptos::task::spawn_local(async move {
                        let result = super::api::preview_sms(base_id, typed).await;
                        if asked.get() == this {
                            samples.set(Some(result));
                        }
                    });
                },
                std::time::Duration::from_millis(300),
            );
        });
    }
    let insert = move |field: String| {
        let caret = area.get_untracked().and_then(|a| a.selection_start().ok().flatten()).map(|c| c as usize);
        template.update(|text| {
            // The caret counts UTF-16 units.
            let at = caret
                .and_then(|units| text.char_indices().map(|(i, _)| i).chain([text.len()]).find(|&i| text[..i].encode_utf16().count() >= units))
                .unwrap_or(text.len());
            text.insert_str(at, &field);
        });
    };
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_save.run(SmsCampaignSettings {
            name: name.get_untracked(),
            base_id: base_id.get_untracked(),
            template: template.get_untracked(),
            status_reports: status_reports.get_untracked(),
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid=testid>
            <h2>{title}</h2>
            <div class="fields">
                <label>{t!(i18n, field_campaign_name)}<input name="name" maxlength="120" bind:value=name /></label>
                <label>
                    {t!(i18n, field_contact_base)}
                    <select name="base" on:change=move |ev| base_id.set(event_target_value(&ev).parse().unwrap_or(0))>
                        {bases
                            .get_value()
                            .into_iter()
                            .map(|b| {
                                let selected = b.id == base_id.get_untracked();
                                view! { <option value=b.id.to_string() selected=selected>{format!("{} ({})", b.name, b.contacts)}</option> }
                            })
                            .collect_view()}
                    </select>
                </label>
            </div>
            <label>
                {t!(i18n, field_template)}
                <textarea name="template" rows="5" node_ref=area bind:value=template></textarea>
            </label>
            <p class="fields-insert" data-testid="insert-fields">
                {t!(i18n, sms_insert_field)}
                {move || {
                    template_fields(base.get().as_ref(), i18n.get_locale())
                        .into_iter()
                        .map(|(code, label)| {
                            let inserted = code.clone();
                            view! {
                                <button type="button" class="link" data-field=code on:click=move |_| insert(inserted.clone())>
                                    {label}
                                </button>
                            }
                        })
                        .collect_view()
                }}
            </p>
            <p class="muted" data-testid="template-length">{move || length_text(&template.get(), i18n.get_locale())}</p>
            <label class="check">
                <input type="checkbox" name="status_reports" bind:checked=status_reports />
                {t!(i18n, sms_status_reports)}
            </label>
            {move || match samples.get() {
                None => ().into_any(),
                Some(Err(error)) => view! { <div data-testid="preview-error"><ErrorLine error=Some(error) /></div> }.into_any(),
                Some(Ok(samples)) => view! {
                    <div class="samples" data-testid="samples">
                        <h3>{t!(i18n, sms_preview)}</h3>
                        {samples
                            .into_iter()
                            .map(|sample| {
                                let length = sample.text.clone();
                                view! {
                                    <div class="sample">
                                        <p class="muted">{format!("{} · {}", sample.name, sample.number)}</p>
                                        <p class="sms" data-testid="sample-text">{sample.text}</p>
                                        <p class="muted">{move || length_text(&length, i18n.get_locale())}</p>
                                    </div>
                                }
                            })
                            .collect_view()}
                    </div>
                }
                .into_any(),
            }}
            <ErrorLine error />
            <button type="submit" disabled=move || pending.get()>{t!(i18n, save)}</button>
            {on_cancel.map(|cancel| view! { <button type="button" class="secondary" on:click=move |_| cancel.run(())>{t!(i18n, cancel)}</button> })}
        </form>
    }
}

#[component]
pub fn SmsCampaignPage() -> impl IntoView {
    guarded(Permission::SmsCampaigns, |_| view! { <SmsCampaign /> })
}

/// One campaign: its progress (read again while it runs), its messages and its replies.
#[component]
fn SmsCampaign() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let campaign_id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let run = ServerAction::<RunSmsCampaign>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, run);
    let tick = refresh_tick();
    let campaign = Resource::new(move || (campaign_id.get(), saved.get(), tick.get()), |(id, _, _)| sms_campaign(id));
    let state = RwSignal::new(None::<MessageState>);
    let search = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let page = RwSignal::new(0_u32);
    let messages = Resource::new(
        move || (campaign_id.get(), state.get(), search.get(), page.get(), saved.get(), tick.get()),
        |(campaign_id, state, search, page, _, _)| sms_messages(MessageFilter { campaign_id, state, search, page }),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match campaign.await {
                    Ok(c) => {
                        let p = c.progress;
                        view! {
                            <h1 data-testid="campaign-name">{c.settings.name.clone()}</h1>
                            <p>
                                <span class=state_badge(c.state) data-testid="state" data-state=c.state.code()>{move || c.state.label(i18n.get_locale())}</span>
                                " "
                                <RunButtons id=c.id state=c.state name=c.settings.name.clone() run />
                            </p>
                            <p class="muted">
                                {move || {
                                    fill(
                                        td_string!(i18n.get_locale(), sms_campaign_summary),
                                        &[("base", &c.base_name), ("activated", &c.activated_at), ("finished", &c.finished_at)],
                                    )
                                }}
                            </p>
                            <p class="sms" data-testid="template">{c.settings.template.clone()}</p>
                            <ProgressBar progress=p />
                            <CountTable progress=p />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(run) />
        <h2>{t!(i18n, sms_messages)}</h2>
        <form
            class="filters"
            data-testid="message-filter"
            on:submit=move |ev| {
                ev.prevent_default();
                page.set(0);
                search.set(typed.get_untracked());
            }
        >
            <select
                name="state"
                on:change=move |ev| {
                    page.set(0);
                    state.set(MessageState::ALL.into_iter().find(|s| s.code() == event_target_value(&ev)));
                }
            >
                <option value="">{t!(i18n, sms_all_states)}</option>
                {MessageState::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.code()>{move || s.label(i18n.get_locale())}</option> })
                    .collect_view()}
            </select>
            <input type="search" name="search" bind:value=typed />
            <button type="submit">{t!(i18n, search)}</button>
            <a class="button secondary" download="" data-testid="messages-csv" href=move || {
                format!("/api/sms/campaigns/messages.csv?campaign_id={}&lang={}", campaign_id.get(), i18n.get_locale())
            }>{t!(i18n, export_csv)}</a>
        </form>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match messages.await {
                    Ok(content) => {
                        let pages = (content.matching as u32).div_ceil(PAGE_SIZE).max(1);
                        view! {
                            <p data-testid="matching" data-count=content.matching>
                                {move || {
                                    fill(
                                        td_string!(i18n.get_locale(), sms_matching_messages),
                                        &[("count", &content.matching.to_string()), ("page", &(content.page + 1).to_string()), ("pages", &pages.to_string())],
                                    )
                                }}
                            </p>
                            <table class="grid" data-testid="messages">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, field_phone)}</th>
                                        <th>{t!(i18n, sms_name)}</th>
                                        <th>{t!(i18n, field_template)}</th>
                                        <th class="num">{t!(i18n, sms_parts)}</th>
                                        <th>{t!(i18n, field_state)}</th>
                                        <th>{t!(i18n, modems_imei)}</th>
                                        <th>{t!(i18n, sms_updated_at)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {content
                                        .lines
                                        .into_iter()
                                        .map(|line| {
                                            let reason = line.reason.clone();
                                            view! {
                                                <tr data-number=line.number.clone() data-state=line.state.code()>
                                                    <td class="mono">{line.number.clone()}</td>
                                                    <td>{line.name.clone()}</td>
                                                    <td class="sms">{line.text.clone()}</td>
                                                    <td class="num">{line.parts}</td>
                                                    <td>
                                                        {move || line.state.label(i18n.get_locale())}
                                                        <span class="muted">
                                                            {move || if reason.is_empty() { String::new() } else { format!(" — {}", reason_text(&reason, i18n.get_locale())) }}
                                                        </span>
                                                    </td>
                                                    <td class="mono">{line.imei.clone()}</td>
                                                    <td>{line.updated_at.clone()}</td>
                                                </tr>
                                            }
                                        })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Pager page pages />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <h2>{t!(i18n, sms_replies)}</h2>
        <Replies campaign=Signal::derive(move || Some(campaign_id.get())) tick />
    }
}

/// The campaign's messages by state.
#[component]
fn CountTable(progress: Progress) -> impl IntoView {
    let i18n = use_i18n();
    let p = progress;
    let counts = [
        (MessageState::Queued, p.queued),
        (MessageState::Sending, p.sending),
        (MessageState::Sent, p.sent),
        (MessageState::Delivered, p.delivered),
        (MessageState::Failed, p.failed),
        (MessageState::Unknown, p.unknown),
        (MessageState::Skipped, p.skipped),
    ];
    view! {
        <table class="grid counts" data-testid="counts">
            <thead>
                <tr>
                    {counts.iter().map(|(state, _)| { let state = *state; view! { <th class="num">{move || state.label(i18n.get_locale())}</th> } }).collect_view()}
                    <th class="num">{t!(i18n, modems_delivered_percent)}</th>
                </tr>
            </thead>
            <tbody>
                <tr>
                    {counts.iter().map(|(state, count)| view! { <td class="num" data-state=state.code()>{*count}</td> }).collect_view()}
                    <td class="num" data-testid="delivered-percent">{percent_text(p.delivered_percent())}</td>
                </tr>
            </tbody>
        </table>
    }
}

/// Replies, newest first, a page at a time; of one campaign or of all.
#[component]
fn Replies(campaign: Signal<Option<i64>>, tick: RwSignal<usize>) -> impl IntoView {
    let i18n = use_i18n();
    let page = RwSignal::new(0_u32);
    let replies = Resource::new(move || (campaign.get(), page.get(), tick.get()), |(campaign, page, _)| sms_replies(campaign, page));
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match replies.await {
                    Ok(content) if content.replies.is_empty() => view! { <p class="muted" data-testid="no-reply">{t!(i18n, sms_no_reply)}</p> }.into_any(),
                    Ok(content) => {
                        let pages = (content.matching as u32).div_ceil(PAGE_SIZE).max(1);
                        let listed = content.replies.clone();
                        view! {
                            <p data-testid="reply-count" data-count=content.matching>
                                {move || {
                                    fill(
                                        td_string!(i18n.get_locale(), sms_matching_replies),
                                        &[("count", &content.matching.to_string()), ("page", &(content.page + 1).to_string()), ("pages", &pages.to_string())],
                                    )
                                }}
                            </p>
                            <table class="grid" data-testid="replies">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, sms_received_at)}</th>
                                        <th>{t!(i18n, field_phone)}</th>
                                        <th>{t!(i18n, sms_name)}</th>
                                        <th>{t!(i18n, sms_reply)}</th>
                                        <th>{t!(i18n, field_campaign_name)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {content.replies.into_iter().map(|reply| view! { <ReplyRow reply /> }).collect_view()}
                                </tbody>
                            </table>
                            <Pager page pages />
                            <CsvLink filename="sms-replies.csv" rows=move |locale| replies_csv(&listed, locale) />
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
fn ReplyRow(reply: Reply) -> impl IntoView {
    let i18n = use_i18n();
    let sender = reply.sender.clone();
    view! {
        <tr data-sender=sender>
            <td>{reply.received_at}</td>
            <td class="mono">{reply.sender}</td>
            <td>{reply.name}</td>
            <td class="sms">
                {reply.text}
                <Show when=move || reply.opt_out>
                    <span class="badge warn" data-testid="opt-out">{t!(i18n, sms_opted_out)}</span>
                </Show>
            </td>
            <td>{reply.campaign}</td>
        </tr>
    }
}

fn replies_csv(replies: &[Reply], locale: Locale) -> Vec<Vec<String>> {
    let header = [
        td_string!(locale, sms_received_at),
        td_string!(locale, field_phone),
        td_string!(locale, sms_name),
        td_string!(locale, sms_reply),
        td_string!(locale, field_campaign_name),
        td_string!(locale, sms_opted_out),
    ]
    .map(str::to_string)
    .to_vec();
    let lines = replies.iter().map(|r| {
        let opt_out = if r.opt_out { td_string!(locale, yes) } else { td_string!(locale, no) };
        vec![r.received_at.clone(), r.sender.clone(), r.name.clone(), r.text.clone(), r.campaign.clone(), opt_out.to_string()]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
pub fn SmsRepliesPage() -> impl IntoView {
    guarded(Permission::SmsCampaigns, |_| view! { <SmsReplies /> })
}

/// Every reply, and the opt-out list with its own additions and removals.
#[component]
fn SmsReplies() -> impl IntoView {
    let i18n = use_i18n();
    let tick = refresh_tick();
    let add = ServerAction::<AddSmsOptOut>::new();
    let remove = ServerAction::<RemoveSmsOptOut>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, add);
    reload_on_success(saved, remove);
    let opt_outs = Resource::new(move || saved.get(), |_| sms_opt_outs());
    let number = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = add.value().get() {
            number.set(String::new());
        }
    });
    view! {
        <h1>{t!(i18n, menu_sms_replies)}</h1>
        <Replies campaign=Signal::derive(|| None) tick />
        <h2>{t!(i18n, sms_opt_outs)}</h2>
        <p class="muted">{t!(i18n, sms_opt_outs_help)}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match opt_outs.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted" data-testid="no-opt-out">{t!(i18n, sms_no_opt_out)}</p> }.into_any(),
                    Ok(list) => {
                        let listed = list.clone();
                        view! {
                            <table class="grid" data-testid="opt-outs">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, field_phone)}</th>
                                        <th>{t!(i18n, sms_opted_out_at)}</th>
                                        <th>{t!(i18n, sms_opt_out_source)}</th>
                                        <th>{t!(i18n, actions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list.into_iter().map(|entry| view! { <OptOutRow entry remove /> }).collect_view()}
                                </tbody>
                            </table>
                            <CsvLink filename="sms-opt-outs.csv" rows=move |locale| opt_outs_csv(&listed, locale) />
                        }
                        .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(remove) />
        <form
            class="inline"
            data-testid="add-opt-out"
            on:submit=move |ev| {
                ev.prevent_default();
                add.dispatch(AddSmsOptOut { number: number.get_untracked() });
            }
        >
            <label>{t!(i18n, field_phone)}<input name="number" bind:value=number /></label>
            <button type="submit" disabled=move || add.pending().get()>{t!(i18n, sms_add_opt_out)}</button>
        </form>
        <ErrorLine error=action_error(add) />
    }
}

fn source_label(by_hand: bool, locale: Locale) -> &'static str {
    if by_hand { td_string!(locale, sms_opt_out_by_hand) } else { td_string!(locale, sms_opt_out_by_reply) }
}

#[component]
fn OptOutRow(entry: OptOut, remove: ServerAction<RemoveSmsOptOut>) -> impl IntoView {
    let i18n = use_i18n();
    let number = entry.number.clone();
    view! {
        <tr data-number=entry.number.clone()>
            <td class="mono">{entry.number.clone()}</td>
            <td>{entry.at.clone()}</td>
            <td>{move || source_label(entry.by_hand, i18n.get_locale())}</td>
            <td class="actions">
                <button
                    class="link danger"
                    data-testid="remove"
                    on:click=move |_| {
                        let question = fill(td_string!(i18n.get_locale(), sms_confirm_remove_opt_out), &[("number", &number)]);
                        if window().confirm_with_message(&question).unwrap_or(false) {
                            remove.dispatch(RemoveSmsOptOut { number: number.clone() });
                        }
                    }
                >
                    {t!(i18n, sms_remove_opt_out)}
                </button>
            </td>
        </tr>
    }
}

fn opt_outs_csv(list: &[OptOut], locale: Locale) -> Vec<Vec<String>> {
    let header = [td_string!(locale, field_phone), td_string!(locale, sms_opted_out_at), td_string!(locale, sms_opt_out_source)].map(str::to_string).to_vec();
    let lines = list.iter().map(|o| vec![o.number.clone(), o.at.clone(), source_label(o.by_hand, locale).to_string()]);
    std::iter::once(header).chain(lines).collect()
}
