//! The agents page: the call centre's agents with their extension, caller number, campaigns and
//! counts; create, edit, and each agent's login/logout history per campaign.

use leptos::prelude::*;

use super::api::{CreateAgent, UpdateAgent, agent_sessions, list_agents};
use super::{AgentEdit, AgentSummary, CampaignChoice, NewAgent};
use crate::auth::Permission;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};

#[component]
pub fn AgentsPage() -> impl IntoView {
    guarded(Permission::ManageAgents, |_| view! { <Agents /> })
}

#[component]
fn Agents() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateAgent>::new();
    let update = ServerAction::<UpdateAgent>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, create);
    reload_on_success(saved, update);
    let data = Resource::new(move || saved.get(), |_| list_agents());
    let editing = RwSignal::new(None::<AgentSummary>);
    let history = RwSignal::new(None::<AgentSummary>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <h1>{t!(i18n, menu_agents)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(admin) => {
                        let campaigns = admin.campaigns.clone();
                        let listed = admin.agents.clone();
                        view! {
                            <AgentTable agents=admin.agents.clone() editing history />
                            <CsvLink filename="agents.csv" rows=move |locale| agents_csv(&listed, locale) />
                            {move || {
                                editing
                                    .get()
                                    .map(|agent| {
                                        let id = agent.id;
                                        view! {
                                            <AgentForm
                                                agent=Some(agent)
                                                campaigns=campaigns.clone()
                                                on_create=Callback::new(|_| {})
                                                on_edit=Callback::new(move |edit| {
                                                    update.dispatch(UpdateAgent { agent_id: id, edit });
                                                })
                                            />
                                        }
                                    })
                            }}
                            <ErrorLine error=action_error(update) />
                            {move || history.get().map(|agent| view! { <History agent /> })}
                            <AgentForm
                                agent=None
                                campaigns=admin.campaigns
                                on_create=Callback::new(move |agent| {
                                    create.dispatch(CreateAgent { agent });
                                })
                                on_edit=Callback::new(|_| {})
                            />
                            <ErrorLine error=action_error(create) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

fn agents_csv(agents: &[AgentSummary], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_last_name).to_string(),
        td_string!(locale, field_first_name).to_string(),
        td_string!(locale, field_login).to_string(),
        td_string!(locale, field_extension).to_string(),
        td_string!(locale, field_caller_number).to_string(),
        td_string!(locale, field_campaigns).to_string(),
        td_string!(locale, agents_calls).to_string(),
        td_string!(locale, agents_appointments).to_string(),
    ];
    let lines = agents.iter().map(|a| {
        vec![
            a.last_name.clone(),
            a.first_name.clone(),
            a.login.clone(),
            a.extension.clone(),
            a.caller_number.clone(),
            campaign_names(&a.campaigns),
            a.calls.to_string(),
            a.appointments.to_string(),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

fn campaign_names(campaigns: &[CampaignChoice]) -> String {
    campaigns.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(", ")
}

#[component]
fn AgentTable(agents: Vec<AgentSummary>, editing: RwSignal<Option<AgentSummary>>, history: RwSignal<Option<AgentSummary>>) -> impl IntoView {
    let i18n = use_i18n();
    if agents.is_empty() {
        return view! { <p class="muted">{t!(i18n, agents_none)}</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid="agents">
            <thead>
                <tr>
                    <th>{t!(i18n, agents_name)}</th>
                    <th>{t!(i18n, field_login)}</th>
                    <th>{t!(i18n, field_extension)}</th>
                    <th>{t!(i18n, field_caller_number)}</th>
                    <th>{t!(i18n, field_campaigns)}</th>
                    <th class="num">{t!(i18n, agents_calls)}</th>
                    <th class="num">{t!(i18n, agents_appointments)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {agents
                    .into_iter()
                    .map(|agent| {
                        let (for_edit, for_history) = (agent.clone(), agent.clone());
                        view! {
                            <tr data-agent=agent.login.clone() class:inactive=!agent.active>
                                <td>{format!("{} {}", agent.first_name, agent.last_name)}</td>
                                <td>{agent.login.clone()}</td>
                                <td>{agent.extension.clone()}</td>
                                <td>{agent.caller_number.clone()}</td>
                                <td>{campaign_names(&agent.campaigns)}</td>
                                <td class="num" data-testid="calls">{agent.calls}</td>
                                <td class="num" data-testid="appointments">{agent.appointments}</td>
                                <td class="actions">
                                    <button class="link" on:click=move |_| editing.set(Some(for_edit.clone()))>{t!(i18n, edit)}</button>
                                    <button class="link" on:click=move |_| history.set(Some(for_history.clone()))>
                                        {t!(i18n, agents_history)}
                                    </button>
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

/// Creates an agent (`agent` is `None`) or edits one.
#[component]
fn AgentForm(
    agent: Option<AgentSummary>,
    campaigns: Vec<CampaignChoice>,
    on_create: Callback<NewAgent>,
    on_edit: Callback<AgentEdit>,
) -> impl IntoView {
    let i18n = use_i18n();
    let editing = agent.is_some();
    let agent = agent.unwrap_or(AgentSummary {
        id: 0,
        login: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        active: true,
        extension: String::new(),
        caller_number: String::new(),
        campaigns: vec![],
        calls: 0,
        appointments: 0,
    });
    let first_name = RwSignal::new(agent.first_name.clone());
    let last_name = RwSignal::new(agent.last_name.clone());
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let extension = RwSignal::new(agent.extension.clone());
    let caller_number = RwSignal::new(agent.caller_number.clone());
    let chosen = RwSignal::new(agent.campaigns.iter().map(|c| c.id).collect::<Vec<_>>());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if editing {
            on_edit.run(AgentEdit {
                first_name: first_name.get(),
                last_name: last_name.get(),
                extension: extension.get(),
                caller_number: caller_number.get(),
                campaign_ids: chosen.get(),
            });
        } else {
            on_create.run(NewAgent {
                first_name: first_name.get(),
                last_name: last_name.get(),
                login: login.get(),
                password: password.get(),
                extension: extension.get(),
                caller_number: caller_number.get(),
                campaign_ids: chosen.get(),
            });
        }
    };
    let text = |signal: RwSignal<String>, name: &'static str| {
        view! { <input name=name prop:value=move || signal.get() on:input=move |ev| signal.set(event_target_value(&ev)) /> }
    };
    view! {
        <form class="card" on:submit=submit data-testid=if editing { "edit-agent" } else { "new-agent" }>
            <h2>
                {move || {
                    if editing {
                        format!("{} — {}", t_string!(i18n, agents_edit), agent.login)
                    } else {
                        t_string!(i18n, agents_new).to_string()
                    }
                }}
            </h2>
            <div class="fields">
                <label>{t!(i18n, field_last_name)} {text(last_name, "last_name")}</label>
                <label>{t!(i18n, field_first_name)} {text(first_name, "first_name")}</label>
                <Show when=move || !editing>
                    <label>{t!(i18n, field_login)} {text(login, "login")}</label>
                    <label>
                        {t!(i18n, field_password)}
                        <input type="password" name="password" autocomplete="new-password" prop:value=move || password.get() on:input=move |ev| password.set(event_target_value(&ev)) />
                    </label>
                </Show>
                <label>
                    {t!(i18n, field_extension)} {text(extension, "extension")}
                    <span class="hint">{t!(i18n, agents_extension_hint)}</span>
                </label>
                <label>{t!(i18n, field_caller_number)} {text(caller_number, "caller_number")}</label>
            </div>
            <fieldset class="profiles">
                <legend>{t!(i18n, field_campaigns)}</legend>
                {campaigns
                    .into_iter()
                    .map(|campaign| {
                        let id = campaign.id;
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name="campaign"
                                    value=campaign.name.clone()
                                    prop:checked=move || chosen.with(|c| c.contains(&id))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        chosen.update(|c| {
                                            c.retain(|x| *x != id);
                                            if on {
                                                c.push(id);
                                            }
                                        });
                                    }
                                />
                                {campaign.name.clone()}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <button type="submit">{t!(i18n, save)}</button>
        </form>
    }
}

/// Login/logout history per campaign (seed figure 15).
#[component]
fn History(agent: AgentSummary) -> impl IntoView {
    let i18n = use_i18n();
    let id = agent.id;
    let sessions = Resource::new(move || id, agent_sessions);
    let title = format!("{} {}", agent.first_name, agent.last_name);
    view! {
        <section class="card report" data-testid="agent-history">
            <h2>{move || format!("{} — {}", t_string!(i18n, agents_history), title)}</h2>
            <p>
                {move || format!("{} : {} · {} : {}", t_string!(i18n, agents_calls), agent.calls, t_string!(i18n, agents_appointments), agent.appointments)}
            </p>
            <Transition fallback=|| ()>
                {move || Suspend::new(async move {
                    match sessions.await {
                        Ok(sessions) if sessions.is_empty() => view! { <p class="muted">{t!(i18n, agents_no_session)}</p> }.into_any(),
                        Ok(sessions) => {
                            view! {
                                <table class="grid">
                                    <thead>
                                        <tr>
                                            <th>{t!(i18n, agents_login_at)}</th>
                                            <th>{t!(i18n, agents_logout_at)}</th>
                                            <th>{t!(i18n, field_campaign_name)}</th>
                                        </tr>
                                    </thead>
                                    <tbody>
                                        {sessions
                                            .into_iter()
                                            .map(|s| {
                                                let open = s.ended_at.is_empty();
                                                view! {
                                                    <tr>
                                                        <td>{s.started_at}</td>
                                                        <td>
                                                            {if open {
                                                                view! { <span class="badge ok">{t!(i18n, agents_still_connected)}</span> }.into_any()
                                                            } else {
                                                                s.ended_at.into_any()
                                                            }}
                                                        </td>
                                                        <td>{s.campaign}</td>
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
        </section>
    }
}
