//! The field sales people page: the list, a form to add or edit one, and a person's agenda a
//! week at a time.

use leptos::prelude::*;

use super::api::{CreateSalesPerson, DeleteSalesPerson, UpdateSalesPerson, list_sales_people, sales_agenda};
use super::{Agenda, SalesPerson, SalesPersonSettings};
use crate::auth::Permission;
use crate::error::fill;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};

#[component]
pub fn SalesPage() -> impl IntoView {
    guarded(Permission::ManageAgents, |_| view! { <SalesPeople /> })
}

#[component]
fn SalesPeople() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateSalesPerson>::new();
    let update = ServerAction::<UpdateSalesPerson>::new();
    let delete = ServerAction::<DeleteSalesPerson>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, create);
    reload_on_success(saved, update);
    reload_on_success(saved, delete);
    let data = Resource::new(move || saved.get(), |_| list_sales_people());
    let editing = RwSignal::new(None::<SalesPerson>);
    let agenda_of = RwSignal::new(None::<(i64, String)>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <h1>{t!(i18n, menu_sales)}</h1>
        <p class="hint">{t!(i18n, sales_intro)}</p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(admin) => {
                        let listed = admin.people.clone();
                        view! {
                            <SalesTable people=admin.people editing agenda_of delete />
                            <CsvLink filename="sales-people.csv" rows=move |locale| sales_people_csv(&listed, locale) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(delete) />
        {move || {
            agenda_of.get().map(|(id, first_day)| view! { <AgendaCard id first_day agenda_of /> })
        }}
        {move || {
            editing
                .get()
                .map(|person| {
                    let id = person.id;
                    view! {
                        <SalesForm
                            initial=person.settings
                            title=Signal::derive(move || t_string!(i18n, sales_edit).to_string())
                            testid="edit-sales-person"
                            on_save=Callback::new(move |settings| {
                                update.dispatch(UpdateSalesPerson { id, settings });
                            })
                        />
                    }
                })
        }}
        <ErrorLine error=action_error(update) />
        <SalesForm
            initial=SalesPersonSettings::default()
            title=Signal::derive(move || t_string!(i18n, sales_new).to_string())
            testid="new-sales-person"
            on_save=Callback::new(move |settings| {
                create.dispatch(CreateSalesPerson { settings });
            })
        />
        <ErrorLine error=action_error(create) />
    }
}

fn sales_people_csv(people: &[SalesPerson], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_first_name).to_string(),
        td_string!(locale, field_last_name).to_string(),
        td_string!(locale, field_phone).to_string(),
        td_string!(locale, field_email).to_string(),
        td_string!(locale, field_area).to_string(),
        td_string!(locale, field_active).to_string(),
        td_string!(locale, sales_upcoming).to_string(),
        td_string!(locale, sales_booked).to_string(),
    ];
    let lines = people.iter().map(|p| {
        let s = &p.settings;
        vec![
            s.first_name.clone(),
            s.last_name.clone(),
            s.phone.clone(),
            s.email.clone(),
            s.area.clone(),
            if s.active { td_string!(locale, yes) } else { td_string!(locale, no) }.to_string(),
            p.upcoming.to_string(),
            p.booked.to_string(),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn SalesTable(
    people: Vec<SalesPerson>,
    editing: RwSignal<Option<SalesPerson>>,
    agenda_of: RwSignal<Option<(i64, String)>>,
    delete: ServerAction<DeleteSalesPerson>,
) -> impl IntoView {
    let i18n = use_i18n();
    if people.is_empty() {
        return view! { <p class="muted">{t!(i18n, sales_none)}</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid="sales-people">
            <thead>
                <tr>
                    <th>{t!(i18n, agents_name)}</th>
                    <th>{t!(i18n, field_phone)}</th>
                    <th>{t!(i18n, field_email)}</th>
                    <th>{t!(i18n, field_area)}</th>
                    <th class="num">{t!(i18n, sales_upcoming)}</th>
                    <th class="num">{t!(i18n, sales_booked)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {people
                    .into_iter()
                    .map(|person| {
                        let id = person.id;
                        let s = person.settings.clone();
                        let name = format!("{} {}", s.first_name, s.last_name);
                        let for_edit = person.clone();
                        let can_delete = person.booked == 0;
                        let asked = name.clone();
                        view! {
                            <tr data-sales-person=name.clone() class:inactive=!s.active>
                                <td>{name.clone()}</td>
                                <td>{s.phone.clone()}</td>
                                <td>{s.email.clone()}</td>
                                <td>{s.area.clone()}</td>
                                <td class="num" data-testid="upcoming">{person.upcoming}</td>
                                <td class="num">{person.booked}</td>
                                <td class="actions">
                                    <button class="link" on:click=move |_| agenda_of.set(Some((id, String::new())))>
                                        {t!(i18n, sales_agenda)}
                                    </button>
                                    <button class="link" on:click=move |_| editing.set(Some(for_edit.clone()))>{t!(i18n, edit)}</button>
                                    <Show when=move || can_delete>
                                        {
                                            let asked = asked.clone();
                                            view! {
                                                <button
                                                    class="link danger"
                                                    on:click=move |_| {
                                                        let question = fill(td_string!(i18n.get_locale(), sales_confirm_delete), &[("name", &asked)]);
                                                        if window().confirm_with_message(&question).unwrap_or(false) {
                                                            delete.dispatch(DeleteSalesPerson { id });
                                                        }
                                                    }
                                                >
                                                    {t!(i18n, delete)}
                                                </button>
                                            }
                                        }
                                    </Show>
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

#[component]
fn SalesForm(initial: SalesPersonSettings, title: Signal<String>, testid: &'static str, on_save: Callback<SalesPersonSettings>) -> impl IntoView {
    let i18n = use_i18n();
    let first_name = RwSignal::new(initial.first_name);
    let last_name = RwSignal::new(initial.last_name);
    let phone = RwSignal::new(initial.phone);
    let email = RwSignal::new(initial.email);
    let area = RwSignal::new(initial.area);
    let active = RwSignal::new(initial.active);
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_save.run(SalesPersonSettings {
            first_name: first_name.get(),
            last_name: last_name.get(),
            phone: phone.get(),
            email: email.get(),
            area: area.get(),
            active: active.get(),
        });
    };
    let text = move |name: &'static str, label: Signal<String>, value: RwSignal<String>| {
        view! {
            <label>
                {move || label.get()}
                <input name=name prop:value=move || value.get() on:input=move |ev| value.set(event_target_value(&ev)) />
            </label>
        }
    };
    view! {
        <form class="card" on:submit=submit data-testid=testid>
            <h2>{move || title.get()}</h2>
            {text("first_name", Signal::derive(move || t_string!(i18n, field_first_name).to_string()), first_name)}
            {text("last_name", Signal::derive(move || t_string!(i18n, field_last_name).to_string()), last_name)}
            {text("phone", Signal::derive(move || t_string!(i18n, field_phone).to_string()), phone)}
            {text("email", Signal::derive(move || t_string!(i18n, field_email).to_string()), email)}
            {text("area", Signal::derive(move || t_string!(i18n, field_area).to_string()), area)}
            <label class="check">
                <input type="checkbox" name="active" prop:checked=move || active.get() on:change=move |ev| active.set(event_target_checked(&ev)) />
                {t!(i18n, field_active)}
            </label>
            <button type="submit">{t!(i18n, save)}</button>
        </form>
    }
}

/// One person's week, with the previous and next weeks a click away.
#[component]
fn AgendaCard(id: i64, first_day: String, agenda_of: RwSignal<Option<(i64, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let agenda = Resource::new(move || (id, first_day.clone()), |(id, first_day)| sales_agenda(id, first_day));
    view! {
        <section class="card" data-testid="agenda">
            <Transition fallback=move || view! { <p class="muted">{t!(i18n, stats_loading)}</p> }>
                {move || Suspend::new(async move {
                    match agenda.await {
                        Ok(agenda) => view! { <AgendaWeek agenda agenda_of /> }.into_any(),
                        Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                    }
                })}
            </Transition>
        </section>
    }
}

#[component]
fn AgendaWeek(agenda: Agenda, agenda_of: RwSignal<Option<(i64, String)>>) -> impl IntoView {
    let i18n = use_i18n();
    let id = agenda.sales_person_id;
    let (previous, next) = (agenda.previous.clone(), agenda.next.clone());
    let rows = {
        let agenda = agenda.clone();
        move |locale: Locale| {
            let mut rows = vec![vec![
                td_string!(locale, crm_stats_day).to_string(),
                td_string!(locale, sales_from).to_string(),
                td_string!(locale, sales_to).to_string(),
                td_string!(locale, field_contact).to_string(),
                td_string!(locale, field_phone).to_string(),
                td_string!(locale, field_campaign_name).to_string(),
                td_string!(locale, field_agent).to_string(),
                td_string!(locale, field_note).to_string(),
            ]];
            for (day, entries) in &agenda.days {
                for e in entries {
                    rows.push(vec![
                        day.clone(),
                        e.starts.clone(),
                        e.ends.clone(),
                        e.contact.clone(),
                        e.phone.clone(),
                        e.campaign.clone(),
                        e.agent.clone(),
                        e.note.clone(),
                    ]);
                }
            }
            rows
        }
    };
    view! {
        <h2>{move || fill(td_string!(i18n.get_locale(), sales_agenda_of), &[("name", &agenda.name)])}</h2>
        <p class="actions">
            <button class="link" data-testid="agenda-previous" on:click=move |_| agenda_of.set(Some((id, previous.clone())))>
                {t!(i18n, sales_previous_week)}
            </button>
            <span>{format!("{} ({})", agenda.first_day, agenda.time_zone)}</span>
            <button class="link" data-testid="agenda-next" on:click=move |_| agenda_of.set(Some((id, next.clone())))>
                {t!(i18n, sales_next_week)}
            </button>
            <button class="link" on:click=move |_| agenda_of.set(None)>{t!(i18n, close)}</button>
        </p>
        <div class="agenda">
            {agenda
                .days
                .into_iter()
                .map(|(day, entries)| {
                    view! {
                        <div class="agenda-day" data-day=day.clone()>
                            <h3>{day.clone()}</h3>
                            {if entries.is_empty() {
                                view! { <p class="muted">"—"</p> }.into_any()
                            } else {
                                entries
                                    .into_iter()
                                    .map(|e| {
                                        view! {
                                            <div class="appointment" data-testid="appointment">
                                                <strong>{format!("{}–{}", e.starts, e.ends)}</strong>
                                                <span>{e.contact}</span>
                                                <span>{e.phone}</span>
                                                <span class="muted">{format!("{} · {}", e.campaign, e.agent)}</span>
                                                {(!e.note.is_empty()).then(|| view! { <em>{e.note}</em> })}
                                            </div>
                                        }
                                    })
                                    .collect_view()
                                    .into_any()
                            }}
                        </div>
                    }
                })
                .collect_view()}
        </div>
        <CsvLink filename=format!("agenda-{id}.csv") rows />
    }
}
