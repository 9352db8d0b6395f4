//! Operator page: the list of tenants, creation with a first administrator, suspension.

use leptos::prelude::*;

use super::api::{CreateTenant, SetTenantActive, list_tenants};
use super::{NewTenant, TenantSummary};
use crate::auth::Permission;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error};
use crate::users::NewUser;

#[component]
pub fn TenantsPage() -> impl IntoView {
    guarded(Permission::ManageTenants, |_| view! { <Tenants /> })
}

#[component]
fn Tenants() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateTenant>::new();
    let toggle = ServerAction::<SetTenantActive>::new();
    let tenants = Resource::new(
        move || (create.version().get(), toggle.version().get()),
        |_| list_tenants(),
    );
    view! {
        <h1>{t!(i18n, menu_tenants)}</h1>
        <ErrorLine error=action_error(toggle) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match tenants.await {
                    Ok(list) => {
                        let listed = list.clone();
                        view! {
                            <TenantTable list toggle />
                            <CsvLink filename="tenants.csv" rows=move |locale| tenants_csv(&listed, locale) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <NewTenantForm create />
    }
}

fn state_label(locale: Locale, active: bool) -> &'static str {
    if active { td_string!(locale, state_active) } else { td_string!(locale, state_suspended) }
}

fn tenants_csv(tenants: &[TenantSummary], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_tenant_name).to_string(),
        td_string!(locale, field_currency).to_string(),
        td_string!(locale, field_time_zone).to_string(),
        td_string!(locale, tenants_users).to_string(),
        td_string!(locale, field_state).to_string(),
    ];
    let lines = tenants.iter().map(|t| {
        vec![t.name.clone(), t.currency.clone(), t.time_zone.clone(), t.user_count.to_string(), state_label(locale, t.active).to_string()]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn TenantTable(list: Vec<TenantSummary>, toggle: ServerAction<SetTenantActive>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <table class="grid" data-testid="tenants">
            <thead>
                <tr>
                    <th>{t!(i18n, field_tenant_name)}</th>
                    <th>{t!(i18n, field_currency)}</th>
                    <th>{t!(i18n, field_time_zone)}</th>
                    <th class="num">{t!(i18n, tenants_users)}</th>
                    <th>{t!(i18n, field_state)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {list
                    .into_iter()
                    .map(|tenant| {
                        let id = tenant.id;
                        let active = tenant.active;
                        let users_href = format!("/admin/users?tenant={id}");
                        view! {
                            <tr>
                                <td>
                                    {tenant.name.clone()}
                                    {tenant.is_operator.then(|| view! { <span class="badge">{t!(i18n, tenants_operator)}</span> })}
                                </td>
                                <td>{tenant.currency.clone()}</td>
                                <td>{tenant.time_zone.clone()}</td>
                                <td class="num">{tenant.user_count}</td>
                                <td>{move || state_label(i18n.get_locale(), active)}</td>
                                <td class="actions">
                                    <a href=users_href>{t!(i18n, menu_users)}</a>
                                    {(!tenant.is_operator).then(|| view! {
                                        <button
                                            class="link"
                                            on:click=move |_| {
                                                toggle.dispatch(SetTenantActive { tenant_id: id, active: !active });
                                            }
                                        >
                                            {move || if active { t_string!(i18n, suspend) } else { t_string!(i18n, resume) }}
                                        </button>
                                    })}
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
fn NewTenantForm(create: ServerAction<CreateTenant>) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(String::new());
    let currency = RwSignal::new("EUR".to_string());
    let time_zone = RwSignal::new("Europe/Paris".to_string());
    let login = RwSignal::new(String::new());
    let first_name = RwSignal::new(String::new());
    let last_name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = create.value().get() {
            for field in [name, login, first_name, last_name, password] {
                field.set(String::new());
            }
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        create.dispatch(CreateTenant {
            tenant: NewTenant {
                name: name.get(),
                currency: currency.get(),
                time_zone: time_zone.get(),
                admin: NewUser {
                    login: login.get(),
                    first_name: first_name.get(),
                    last_name: last_name.get(),
                    password: password.get(),
                    profiles: vec![],
                    own_phone: String::new(),
                },
            },
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid="new-tenant">
            <h2>{t!(i18n, tenants_new)}</h2>
            <div class="fields">
                <label>{t!(i18n, field_tenant_name)}<input name="name" maxlength="120" bind:value=name /></label>
                <label>{t!(i18n, field_currency)}<input name="currency" maxlength="3" bind:value=currency /></label>
                <label>{t!(i18n, field_time_zone)}<input name="time_zone" bind:value=time_zone /></label>
            </div>
            <h3>{t!(i18n, tenants_first_admin)}</h3>
            <div class="fields">
                <label>{t!(i18n, field_login)}<input name="login" maxlength="64" bind:value=login /></label>
                <label>{t!(i18n, field_first_name)}<input name="first_name" bind:value=first_name /></label>
                <label>{t!(i18n, field_last_name)}<input name="last_name" bind:value=last_name /></label>
                <label>{t!(i18n, field_password)}<input name="password" type="password" autocomplete="new-password" bind:value=password /></label>
            </div>
            <ErrorLine error=action_error(create) />
            <button type="submit" disabled=move || create.pending().get()>{t!(i18n, create)}</button>
        </form>
    }
}
