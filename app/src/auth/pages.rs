//! Login page and the user's own account page.

use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::api::{ChangePassword, Login};
use crate::error::fill;
use crate::i18n::*;
use crate::shell::widgets::{ErrorLine, LanguageSwitch, action_error};

#[component]
pub fn LoginPage() -> impl IntoView {
    let i18n = use_i18n();
    let query = use_query_map();
    let expired = move || query.read().get("expired").is_some();
    let action = ServerAction::<Login>::new();
    let login = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(_)) = action.value().get() {
            let _ = window().location().set_href("/");
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(Login { login: login.get(), password: password.get() });
    };
    view! {
        <main class="login-page">
            <form class="card login" on:submit=submit>
                <h1>"Relais"</h1>
                <Show when=expired>
                    <p class="notice" data-testid="expired">
                        {t!(i18n, login_session_expired)}
                    </p>
                </Show>
                <label>
                    {t!(i18n, field_login)}
                    <input name="login" autocomplete="username" maxlength="64" bind:value=login />
                </label>
                <label>
                    {t!(i18n, field_password)}
                    <input
                        name="password"
                        type="password"
                        autocomplete="current-password"
                        maxlength="128"
                        bind:value=password
                    />
                </label>
                <ErrorLine error=action_error(action) />
                <button type="submit" disabled=move || action.pending().get()>
                    {t!(i18n, login_submit)}
                </button>
                <LanguageSwitch />
            </form>
        </main>
    }
}

#[component]
pub fn AccountPage() -> impl IntoView {
    let i18n = use_i18n();
    let action = ServerAction::<ChangePassword>::new();
    let current = RwSignal::new(String::new());
    let new = RwSignal::new(String::new());
    let confirmation = RwSignal::new(String::new());
    Effect::new(move |_| {
        if let Some(Ok(())) = action.value().get() {
            current.set(String::new());
            new.set(String::new());
            confirmation.set(String::new());
        }
    });
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        action.dispatch(ChangePassword {
            current: current.get(),
            new: new.get(),
            confirmation: confirmation.get(),
        });
    };
    view! {
        <h1>{t!(i18n, account_title)}</h1>
        <form class="card narrow" on:submit=submit>
            <h2>{t!(i18n, account_change_password)}</h2>
            <label>
                {t!(i18n, field_current_password)}
                <input type="password" name="current" autocomplete="current-password" bind:value=current />
            </label>
            <label>
                {t!(i18n, field_new_password)}
                <input type="password" name="new" autocomplete="new-password" bind:value=new />
            </label>
            <label>
                {t!(i18n, field_confirmation)}
                <input type="password" name="confirmation" autocomplete="new-password" bind:value=confirmation />
            </label>
            <p class="hint">
                {move || fill(td_string!(i18n.get_locale(), password_hint), &[("min", &super::MIN_PASSWORD_CHARS.to_string())])}
            </p>
            <ErrorLine error=action_error(action) />
            <Show when=move || matches!(action.value().get(), Some(Ok(())))>
                <p class="success" role="status" data-testid="success">
                    {t!(i18n, account_password_changed)}
                </p>
            </Show>
            <button type="submit" disabled=move || action.pending().get()>
                {t!(i18n, save)}
            </button>
        </form>
    }
}
