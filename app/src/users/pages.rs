//! User management: a client administrator manages its tenant's users; the operator
//! administrator picks the tenant (`?tenant=ID`).

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

use super::api::{CreateUser, ResetUserPassword, UpdateUser, list_users};
use super::{NewUser, UserSummary, UserUpdate};
use crate::auth::{Permission, ProfileKind, SessionUser};
use crate::error::fill;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error};
use crate::tenants::api::list_tenants;

#[component]
pub fn UsersPage() -> impl IntoView {
    guarded(Permission::ManageUsers, |me| view! { <Users me /> })
}

#[component]
fn Users(me: SessionUser) -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let picks_tenant = me.can(Permission::ManageTenants);
    let tenant = Memo::new(move |_| {
        picks_tenant.then(|| query.read().get("tenant").and_then(|t| t.parse::<i64>().ok())).flatten()
    });
    let tenants = Resource::new(
        || (),
        move |_| async move { if picks_tenant { list_tenants().await.map(Some) } else { Ok(None) } },
    );
    let create = ServerAction::<CreateUser>::new();
    let update = ServerAction::<UpdateUser>::new();
    let reset = ServerAction::<ResetUserPassword>::new();
    let users = Resource::new(
        move || (tenant.get(), create.version().get(), update.version().get()),
        |(tenant, _, _)| list_users(tenant),
    );
    let own_is_operator = me.is_operator;
    let operator_tenant = Signal::derive(move || match tenant.get() {
        None => own_is_operator,
        Some(id) => tenants
            .get()
            .and_then(Result::ok)
            .flatten()
            .and_then(|list| list.into_iter().find(|t| t.id == id))
            .is_some_and(|t| t.is_operator),
    });
    let editing = RwSignal::new(None::<UserSummary>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    Effect::new(move |_| {
        tenant.track();
        editing.set(None);
    });

    view! {
        <h1>{t!(i18n, menu_users)}</h1>
        <Show when=move || picks_tenant>
            <TenantPicker tenant tenants />
        </Show>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match users.await {
                    Ok(list) => {
                        let listed = list.clone();
                        view! {
                            <UserTable list editing />
                            <CsvLink filename="users.csv" rows=move |locale| users_csv(&listed, locale) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        {move || {
            editing
                .get()
                .map(|user| {
                    view! { <EditUser user tenant=tenant.into() operator_tenant update reset editing /> }
                })
        }}
        <NewUserForm tenant=tenant.into() operator_tenant create />
    }
}

#[component]
fn TenantPicker(
    tenant: Memo<Option<i64>>,
    tenants: Resource<Result<Option<Vec<crate::tenants::TenantSummary>>, crate::error::AppError>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let navigate = use_navigate();
    view! {
        <label class="inline">
            {t!(i18n, users_tenant)}
            <select
                data-testid="tenant-picker"
                on:change=move |ev| {
                    navigate(&format!("/admin/users?tenant={}", event_target_value(&ev)), Default::default());
                }
            >
                <Transition fallback=|| ()>
                    {move || {
                        tenants
                            .get()
                            .and_then(Result::ok)
                            .flatten()
                            .unwrap_or_default()
                            .into_iter()
                            .map(|t| {
                                let selected = tenant.get().map_or(t.is_operator, |id| id == t.id);
                                view! { <option value=t.id selected=selected>{t.name}</option> }
                            })
                            .collect_view()
                    }}
                </Transition>
            </select>
        </label>
    }
}

fn state_label(locale: Locale, active: bool) -> &'static str {
    if active { td_string!(locale, state_active) } else { td_string!(locale, state_inactive) }
}

fn profile_labels(locale: Locale, profiles: &[ProfileKind]) -> String {
    profiles.iter().map(|p| p.label(locale)).collect::<Vec<_>>().join(", ")
}

fn users_csv(users: &[UserSummary], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_login).to_string(),
        td_string!(locale, field_first_name).to_string(),
        td_string!(locale, field_last_name).to_string(),
        td_string!(locale, field_profiles).to_string(),
        td_string!(locale, field_own_phone).to_string(),
        td_string!(locale, field_state).to_string(),
    ];
    let lines = users.iter().map(|u| {
        vec![
            u.login.clone(),
            u.first_name.clone(),
            u.last_name.clone(),
            profile_labels(locale, &u.profiles),
            u.own_phone.clone(),
            state_label(locale, u.active).to_string(),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn UserTable(list: Vec<UserSummary>, editing: RwSignal<Option<UserSummary>>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="grid" data-testid="users">
            <thead>
                <tr>
                    <th>{t!(i18n, field_login)}</th>
                    <th>{t!(i18n, field_first_name)}</th>
                    <th>{t!(i18n, field_last_name)}</th>
                    <th>{t!(i18n, field_profiles)}</th>
                    <th>{t!(i18n, field_own_phone)}</th>
                    <th>{t!(i18n, field_state)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|user| {
                        let profiles = user.profiles.clone();
                        let active = user.active;
                        let login = user.login.clone();
                        view! {
                            <tr class:inactive=!active>
                                <td>{login}</td>
                                <td>{user.first_name.clone()}</td>
                                <td>{user.last_name.clone()}</td>
                                <td>{move || profile_labels(i18n.get_locale(), &profiles)}</td>
                                <td>{user.own_phone.clone()}</td>
                                <td>{move || state_label(i18n.get_locale(), active)}</td>
                                <td class="actions">
                                    <button class="link" on:click=move |_| editing.set(Some(user.clone()))>
                                        {t!(i18n, edit)}
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

/// Checkboxes for the profiles that may be given in this tenant.
#[component]
fn ProfilePicker(selected: RwSignal<Vec<ProfileKind>>, #[prop(into)] operator_tenant: Signal<bool>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <fieldset class="profiles">
            <legend>{t!(i18n, field_profiles)}</legend>
            {move || {
                ProfileKind::ALL
                    .into_iter()
                    .filter(|kind| kind.assignable_in(operator_tenant.get()))
                    .map(|kind| {
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    value=kind.code()
                                    prop:checked=move || selected.read().contains(&kind)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        selected.update(|list| {
                                            list.retain(|k| *k != kind);
                                            if on {
                                                list.push(kind);
                                            }
                                        });
                                    }
                                />
                                {move || kind.label(i18n.get_locale())}
                            </label>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}

#[component]
fn NewUserForm(
    tenant: Signal<Option<i64>>,
    operator_tenant: Signal<bool>,
    create: ServerAction<CreateUser>,
) -> impl IntoView {
    let i18n = use_i18n();
    let login = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let own_phone = RwSignal::new(String::new());
    let profiles = RwSignal::new(Vec::<ProfileKind>::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            for field in [login, first_name, last_name, password, own_phone] {
                field.set(String::new());
            }
            profiles.set(vec![]);
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateUser {
            tenant_id: tenant.get(),
            user: NewUser {
                login: login.get(),
                first_name: first_name.get(),
                last_name: last_name.get(),
                password: password.get(),
                profiles: profiles.get(),
                own_phone: own_phone.get(),
            },
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid="new-user">
            <h2>{t!(i18n, users_new)}</h2>
            <div class="fields">
                <label>{t!(i18n, field_login)}<input name="login" maxlength="64" bind:value=login /></label>
                <label>{t!(i18n, field_first_name)}<input name="first_name" maxlength="100" bind:value=first_name /></label>
                <label>{t!(i18n, field_last_name)}<input name="last_name" maxlength="100" bind:value=last_name /></label>
                <label>{t!(i18n, field_password)}<input name="password" type="password" autocomplete="new-password" bind:value=password /></label>
                <label>{t!(i18n, field_own_phone)}<input name="own_phone" maxlength="80" placeholder="PJSIP/1001" bind:value=own_phone /></label>
            </div>
            <ProfilePicker selected=profiles operator_tenant />
            <ErrorLine error=action_error(create) />
            <Show when=move || matches!(create.value().get(), Some(Ok(_)))>
                <p class="success" role="status">{t!(i18n, users_created)}</p>
            </Show>
            <button type="submit" disabled=move || create.pending().get()>{t!(i18n, create)}</button>
        </form>
    }
}

#[component]
fn EditUser(
    user: UserSummary,
    tenant: Signal<Option<i64>>,
    operator_tenant: Signal<bool>,
    update: ServerAction<UpdateUser>,
    reset: ServerAction<ResetUserPassword>,
    editing: RwSignal<Option<UserSummary>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let user_id = user.id;
    let first_name = RwSignal::new(user.first_name.clone());
    let last_name = RwSignal::new(user.last_name.clone());
    let profiles = RwSignal::new(user.profiles.clone());
    let active = RwSignal::new(user.active);
    let own_phone = RwSignal::new(user.own_phone.clone());
    let new_password = RwSignal::new(String::new());
    let save = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        update.dispatch(UpdateUser {
            tenant_id: tenant.get(),
            user_id,
            update: UserUpdate {
                first_name: first_name.get(),
                last_name: last_name.get(),
                profiles: profiles.get(),
                active: active.get(),
                own_phone: own_phone.get(),
            },
        });
    };
    let reset_password = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        reset.dispatch(ResetUserPassword { tenant_id: tenant.get(), user_id, password: new_password.get() });
    };
    Effect::new(move |_| {
        if let Some(Ok(())) = reset.value().get() {
            new_password.set(String::new());
        }
    });
    view! {
        <section class="card" data-testid="edit-user">
            <h2>{move || fill(td_string!(i18n.get_locale(), users_edit), &[("login", &user.login)])}</h2>
            <form on:submit=save>
                <div class="fields">
                    <label>{t!(i18n, field_first_name)}<input name="first_name" maxlength="100" bind:value=first_name /></label>
                    <label>{t!(i18n, field_last_name)}<input name="last_name" maxlength="100" bind:value=last_name /></label>
                    <label>{t!(i18n, field_own_phone)}<input name="own_phone" maxlength="80" placeholder="PJSIP/1001" bind:value=own_phone /></label>
                    <label class="check">
                        <input type="checkbox" name="active" bind:checked=active />
                        {t!(i18n, state_active)}
                    </label>
                </div>
                <ProfilePicker selected=profiles operator_tenant />
                <ErrorLine error=action_error(update) />
                <button type="submit" disabled=move || update.pending().get()>{t!(i18n, save)}</button>
                <button type="button" class="secondary" on:click=move |_| editing.set(None)>{t!(i18n, cancel)}</button>
            </form>
            <form on:submit=reset_password class="inline">
                <label>
                    {t!(i18n, field_new_password)}
                    <input name="new_password" type="password" autocomplete="new-password" bind:value=new_password />
                </label>
                <button type="submit" disabled=move || reset.pending().get()>{t!(i18n, users_reset_password)}</button>
                <ErrorLine error=action_error(reset) />
                <Show when=move || matches!(reset.value().get(), Some(Ok(())))>
                    <p class="success" role="status">{t!(i18n, users_password_reset)}</p>
                </Show>
            </form>
        </section>
    }
}
