//! Queue administration: list, create, edit (settings, supervisors, agents), delete.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{CreateQueue, DeleteQueue, QueueAdmin, UpdateQueue, list_queues};
use super::{HOLDTIME_CHOICES, POSITION_CHOICES, QueueRecord, QueueSettings, STRATEGIES, UserChoice};
use crate::auth::Permission;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};

#[component]
pub fn QueuesPage() -> impl IntoView {
    guarded(Permission::ManageQueues, |me| {
        let picks_tenant = me.can(Permission::ManageTenants);
        view! { <Queues picks_tenant /> }
    })
}

#[component]
fn Queues(picks_tenant: bool) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let tenant = Memo::new(move |_| {
        picks_tenant.then(|| query.read().get("tenant").and_then(|t| t.parse::<i64>().ok())).flatten()
    });
    let create = ServerAction::<CreateQueue>::new();
    let update = ServerAction::<UpdateQueue>::new();
    let delete = ServerAction::<DeleteQueue>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, create);
    reload_on_success(saved, update);
    reload_on_success(saved, delete);
    let data = Resource::new(move || (tenant.get(), saved.get()), |(tenant, _)| list_queues(tenant));
    let editing = RwSignal::new(None::<QueueRecord>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <h1>{t!(i18n, menu_queues)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(admin) => {
                        let form_admin = admin.clone();
                        let listed = admin.clone();
                        view! {
                            <QueueTable admin editing delete tenant=tenant.into() />
                            <CsvLink filename="queues.csv" rows=move |locale| queues_csv(&listed, locale) />
                            {move || {
                                editing
                                    .get()
                                    .map(|queue| {
                                        view! { <EditQueue queue admin=form_admin.clone() tenant=tenant.into() update editing /> }
                                    })
                            }}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(delete) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().map(|admin| view! { <NewQueue admin tenant=tenant.into() create /> })
            })}
        </Transition>
    }
}

fn names(users: &[UserChoice], ids: &[i64]) -> String {
    users.iter().filter(|u| ids.contains(&u.id)).map(|u| u.name.clone()).collect::<Vec<_>>().join(", ")
}

fn queues_csv(admin: &QueueAdmin, locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_queue_name).to_string(),
        td_string!(locale, field_description).to_string(),
        td_string!(locale, field_pbx).to_string(),
        td_string!(locale, field_strategy).to_string(),
        td_string!(locale, field_wrapup).to_string(),
        td_string!(locale, field_service_level).to_string(),
        td_string!(locale, queues_supervisors).to_string(),
        td_string!(locale, queues_agents).to_string(),
    ];
    let lines = admin.queues.iter().map(|q| {
        let s = &q.settings;
        vec![
            s.name.clone(),
            s.description.clone(),
            s.pbx.clone(),
            s.strategy.clone(),
            s.wrapup_secs.to_string(),
            s.service_level_secs.to_string(),
            names(&admin.users, &s.supervisors),
            names(&admin.users, &s.agents),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn QueueTable(
    admin: QueueAdmin,
    editing: RwSignal<Option<QueueRecord>>,
    delete: ServerAction<DeleteQueue>,
    tenant: Signal<Option<i64>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let users = admin.users.clone();
    view! {
        <table class="grid" data-testid="queues">
            <thead>
                <tr>
                    <th>{t!(i18n, field_queue_name)}</th>
                    <th>{t!(i18n, field_description)}</th>
                    <th>{t!(i18n, field_pbx)}</th>
                    <th>{t!(i18n, field_strategy)}</th>
                    <th>{t!(i18n, queues_supervisors)}</th>
                    <th>{t!(i18n, queues_agents)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {admin
                    .queues
                    .into_iter()
                    .map(|queue| {
                        let s = queue.settings.clone();
                        let id = queue.id;
                        let name = s.name.clone();
                        view! {
                            <tr data-queue=s.name.clone()>
                                <td>{s.name.clone()}</td>
                                <td>{s.description.clone()}</td>
                                <td>{s.pbx.clone()}</td>
                                <td>{s.strategy.clone()}</td>
                                <td>{names(&users, &s.supervisors)}</td>
                                <td>{names(&users, &s.agents)}</td>
                                <td class="actions">
                                    <button class="link" on:click=move |_| editing.set(Some(queue.clone()))>{t!(i18n, edit)}</button>
                                    <button
                                        class="link danger"
                                        on:click=move |_| {
                                            let question = crate::error::fill(
                                                td_string!(i18n.get_locale(), queues_confirm_delete),
                                                &[("name", &name)],
                                            );
                                            if window().confirm_with_message(&question).unwrap_or(false) {
                                                delete.dispatch(DeleteQueue { tenant_id: tenant.get(), queue_id: id });
                                            }
                                        }
                                    >
                                        {t!(i18n, delete)}
                                    </button>
                                </td>
                            </tr>
                        }
                    })
                    .collect_view()}
            </tbody>
        </table>
    }
}

#[component]
fn NewQueue(admin: QueueAdmin, tenant: Signal<Option<i64>>, create: ServerAction<CreateQueue>) -> impl IntoView {
    let i18n = use_i18n();
    let fields = QueueFields::new(&QueueSettings {
        pbx: admin.pbx_names.first().cloned().unwrap_or_default(),
        ..Default::default()
    });
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            fields.reset();
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateQueue { tenant_id: tenant.get(), settings: fields.settings() });
    };
    view! {
        <form class="card" on:submit=submit data-testid="new-queue">
            <h2>{t!(i18n, queues_new)}</h2>
            <QueueForm fields admin creating=true />
            <ErrorLine error=action_error(create) />
            <button type="submit" disabled=move || create.pending().get()>{t!(i18n, create)}</button>
        </form>
    }
}

#[component]
fn EditQueue(
    queue: QueueRecord,
    admin: QueueAdmin,
    tenant: Signal<Option<i64>>,
    update: ServerAction<UpdateQueue>,
    editing: RwSignal<Option<QueueRecord>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let fields = QueueFields::new(&queue.settings);
    let queue_id = queue.id;
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        update.dispatch(UpdateQueue { tenant_id: tenant.get(), queue_id, settings: fields.settings() });
    };
    view! {
        <form class="card" on:submit=submit data-testid="edit-queue">
            <h2>{move || crate::error::fill(td_string!(i18n.get_locale(), queues_edit), &[("name", &queue.settings.name)])}</h2>
            <QueueForm fields admin creating=false />
            <ErrorLine error=action_error(update) />
            <button type="submit" disabled=move || update.pending().get()>{t!(i18n, save)}</button>
            <button type="button" class="secondary" on:click=move |_| editing.set(None)>{t!(i18n, cancel)}</button>
        </form>
    }
}

/// The form's state: text inputs keep what was typed; numbers are parsed on submit (a value
/// that does not parse is sent as out of range, so the server names the field).
#[derive(Clone, Copy)]
struct QueueFields {
    name: RwSignal<String>,
    description: RwSignal<String>,
    pbx: RwSignal<String>,
    strategy: RwSignal<String>,
    music_class: RwSignal<String>,
    agent_announce: RwSignal<String>,
    wrapup: RwSignal<String>,
    ring_timeout: RwSignal<String>,
    max_wait: RwSignal<String>,
    announce_frequency: RwSignal<String>,
    periodic_announce: RwSignal<String>,
    announce_holdtime: RwSignal<String>,
    announce_position: RwSignal<String>,
    service_level: RwSignal<String>,
    supervisors: RwSignal<Vec<i64>>,
    agents: RwSignal<Vec<i64>>,
    initial: StoredValue<QueueSettings>,
}

impl QueueFields {
    fn new(s: &QueueSettings) -> Self {
        QueueFields {
            name: RwSignal::new(s.name.clone()),
            description: RwSignal::new(s.description.clone()),
            pbx: RwSignal::new(s.pbx.clone()),
            strategy: RwSignal::new(s.strategy.clone()),
            music_class: RwSignal::new(s.music_class.clone()),
            agent_announce: RwSignal::new(s.agent_announce.clone()),
            wrapup: RwSignal::new(s.wrapup_secs.to_string()),
            ring_timeout: RwSignal::new(s.ring_timeout_secs.to_string()),
            max_wait: RwSignal::new(s.max_wait_secs.to_string()),
            announce_frequency: RwSignal::new(s.announce_frequency_secs.to_string()),
            periodic_announce: RwSignal::new(s.periodic_announce_secs.to_string()),
            announce_holdtime: RwSignal::new(s.announce_holdtime.clone()),
            announce_position: RwSignal::new(s.announce_position.clone()),
            service_level: RwSignal::new(s.service_level_secs.to_string()),
            supervisors: RwSignal::new(s.supervisors.clone()),
            agents: RwSignal::new(s.agents.clone()),
            initial: StoredValue::new(s.clone()),
        }
    }

    fn reset(self) {
        let fresh = QueueFields::new(&self.initial.get_value());
        self.name.set(fresh.name.get_untracked());
        self.description.set(String::new());
        self.supervisors.set(vec![]);
        self.agents.set(vec![]);
    }

    fn settings(self) -> QueueSettings {
        let number = |signal: RwSignal<String>| signal.get().trim().parse::<u32>().unwrap_or(u32::MAX);
        QueueSettings {
            name: self.name.get(),
            description: self.description.get(),
            pbx: self.pbx.get(),
            strategy: self.strategy.get(),
            music_class: self.music_class.get(),
            agent_announce: self.agent_announce.get(),
            wrapup_secs: number(self.wrapup),
            ring_timeout_secs: number(self.ring_timeout),
            max_wait_secs: number(self.max_wait),
            announce_frequency_secs: number(self.announce_frequency),
            periodic_announce_secs: number(self.periodic_announce),
            announce_holdtime: self.announce_holdtime.get(),
            announce_position: self.announce_position.get(),
            service_level_secs: number(self.service_level),
            supervisors: self.supervisors.get(),
            agents: self.agents.get(),
        }
    }
}

#[component]
fn Choice(value: RwSignal<String>, choices: Vec<String>, name: &'static str) -> impl IntoView {
    view! {
        <select name=name on:change=move |ev| value.set(event_target_value(&ev))>
            {choices
                .into_iter()
                .map(|choice| {
                    let selected = value.get_untracked() == choice;
                    view! { <option value=choice.clone() selected=selected>{choice.clone()}</option> }
                })
                .collect_view()}
        </select>
    }
}

#[component]
fn QueueForm(fields: QueueFields, admin: QueueAdmin, creating: bool) -> impl IntoView {
    let i18n = use_i18n();
    let strings = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    let mut pbx_names = admin.pbx_names.clone();
    if !pbx_names.contains(&fields.pbx.get_untracked()) {
        pbx_names.push(fields.pbx.get_untracked());
    }
    view! {
        <div class="fields">
            <label>
                {t!(i18n, field_queue_name)}
                <input name="name" maxlength="64" bind:value=fields.name disabled=!creating />
            </label>
            <label>{t!(i18n, field_description)}<input name="description" maxlength="200" bind:value=fields.description /></label>
            <label>
                {t!(i18n, field_pbx)}
                {if creating {
                    view! { <Choice value=fields.pbx choices=pbx_names name="pbx" /> }.into_any()
                } else {
                    view! { <input name="pbx" value=fields.pbx.get_untracked() disabled=true /> }.into_any()
                }}
            </label>
            <label>{t!(i18n, field_strategy)}<Choice value=fields.strategy choices=strings(&STRATEGIES) name="strategy" /></label>
            <label>{t!(i18n, field_music_class)}<input name="music_class" maxlength="64" bind:value=fields.music_class /></label>
            <label>{t!(i18n, field_agent_announce)}<input name="agent_announce" maxlength="128" bind:value=fields.agent_announce /></label>
            <label>{t!(i18n, field_wrapup)}<input name="wrapup" type="number" min="0" max="3600" bind:value=fields.wrapup /></label>
            <label>{t!(i18n, field_ring_timeout)}<input name="ring_timeout" type="number" min="1" max="600" bind:value=fields.ring_timeout /></label>
            <label>{t!(i18n, field_max_wait)}<input name="max_wait" type="number" min="0" max="86400" bind:value=fields.max_wait /></label>
            <label>{t!(i18n, field_announce_frequency)}<input name="announce_frequency" type="number" min="0" max="3600" bind:value=fields.announce_frequency /></label>
            <label>{t!(i18n, field_periodic_announce)}<input name="periodic_announce" type="number" min="0" max="3600" bind:value=fields.periodic_announce /></label>
            <label>{t!(i18n, field_announce_holdtime)}<Choice value=fields.announce_holdtime choices=strings(&HOLDTIME_CHOICES) name="announce_holdtime" /></label>
            <label>{t!(i18n, field_announce_position)}<Choice value=fields.announce_position choices=strings(&POSITION_CHOICES) name="announce_position" /></label>
            <label>{t!(i18n, field_service_level)}<input name="service_level" type="number" min="1" max="3600" bind:value=fields.service_level /></label>
        </div>
        <div class="columns">
            <UserChecks legend=Signal::derive(move || t_string!(i18n, queues_supervisors).to_string()) users=admin.users.clone() selected=fields.supervisors name="supervisors" />
            <UserChecks legend=Signal::derive(move || t_string!(i18n, queues_agents).to_string()) users=admin.users.clone() selected=fields.agents name="agents" />
        </div>
    }
}

#[component]
fn UserChecks(legend: Signal<String>, users: Vec<UserChoice>, selected: RwSignal<Vec<i64>>, name: &'static str) -> impl IntoView {
    view! {
        <fieldset class="profiles" data-testid=name>
            <legend>{legend}</legend>
            {users
                .into_iter()
                .map(|user| {
                    let id = user.id;
                    view! {
                        <label class="check">
                            <input
                                type="checkbox"
                                value=user.login.clone()
                                prop:checked=move || selected.read().contains(&id)
                                on:change=move |ev| {
                                    let on = event_target_checked(&ev);
                                    selected.update(|list| {
                                        list.retain(|u| *u != id);
                                        if on {
                                            list.push(id);
                                        }
                                    });
                                }
                            />
                            {user.name.clone()}
                        </label>
                    }
                })
                .collect_view()}
        </fieldset>
    }
}
