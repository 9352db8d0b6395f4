//! The app shell: document, router, layout (header, menu), home, not-allowed and not-found pages.

pub mod charts;
pub mod live;
pub mod widgets;

use leptos::prelude::*;
use leptos_meta::{MetaTags, Stylesheet, Title, provide_meta_context};
use leptos_router::components::{A, Outlet, ParentRoute, Redirect, Route, Router, Routes};
use leptos_router::path;

use crate::acd::live::page::DashboardPage;
use crate::acd::queues::pages::QueuesPage;
use crate::acd::stats::page::{AcdStatsPage, CallStatsPage};
use crate::auth::api::Logout;
use crate::auth::pages::{AccountPage, LoginPage};
use crate::auth::{Permission, SessionState, SessionUser};
use crate::crm::campaigns::pages::CampaignsPage;
use crate::crm::agents::pages::AgentsPage;
use crate::crm::forms::pages::FormsPage;
use crate::crm::sales::pages::SalesPage;
use crate::crm::desk::pages::{DeskChoicePage, DeskPage};
use crate::crm::stats::page::CampaignStatsPage;
use crate::crm::trees::pages::{TreeEditorPage, TreesPage};
use crate::crm::contacts::pages::{BasePage, BasesPage, ImportPage};
use crate::error::{AppError, fill};
use crate::i18n::*;
use crate::sms::campaigns::pages::{SmsCampaignPage, SmsCampaignsPage, SmsRepliesPage};
use crate::sms::credit_page::CreditPage;
use crate::sms::groups_page::ModemGroupsPage;
use crate::tenants::pages::TenantsPage;
use crate::users::pages::UsersPage;

pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html>
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <link rel="icon" href="/favicon.ico" />
                <AutoReload options=options.clone() />
                <HydrationScripts options />
                <MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The session as the page was loaded with; login and logout reload the page, so it never goes
/// stale.
#[derive(Clone)]
pub struct SessionAtLoad(pub Result<SessionState, AppError>);

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    // Resolved by the server before rendering and handed to the browser with the page: the
    // frame is built once, with no Suspense around the pages (see ARCHITECTURE.md).
    let session = SharedValue::new(|| {
        #[cfg(feature = "ssr")]
        let session = crate::auth::guard::page_session();
        #[cfg(not(feature = "ssr"))]
        let session = Ok(SessionState::Anonymous);
        session
    })
    .into_inner();
    provide_context(SessionAtLoad(session));
    // Lets tests and scripts know the page is interactive.
    Effect::new(|_| {
        if let Some(body) = document().body() {
            let _ = body.set_attribute("data-hydrated", "true");
        }
    });

    view! {
        <Stylesheet id="leptos" href="/pkg/relais.css" />
        <Title text="Relais" />
        <I18nContextProvider>
            <Router>
                <Routes fallback=NotFound>
                    <Route path=path!("/login") view=LoginPage />
                    <ParentRoute path=path!("") view=Layout>
                        <Route path=path!("") view=HomePage />
                        <Route path=path!("account") view=AccountPage />
                        <Route path=path!("admin/tenants") view=TenantsPage />
                        <Route path=path!("admin/users") view=UsersPage />
                        <Route path=path!("admin/queues") view=QueuesPage />
                        <Route path=path!("admin/modems") view=ModemGroupsPage />
                        <Route path=path!("admin/credit") view=CreditPage />
                        <Route path=path!("acd/live") view=DashboardPage />
                        <Route path=path!("acd/stats") view=AcdStatsPage />
                        <Route path=path!("acd/calls") view=CallStatsPage />
                        <Route path=path!("crm/bases") view=BasesPage />
                        <Route path=path!("crm/bases/import") view=ImportPage />
                        <Route path=path!("crm/bases/:id") view=BasePage />
                        <Route path=path!("crm/campaigns") view=CampaignsPage />
                        <Route path=path!("crm/campaigns/:id/forms") view=FormsPage />
                        <Route path=path!("crm/sales") view=SalesPage />
                        <Route path=path!("crm/trees") view=TreesPage />
                        <Route path=path!("crm/trees/:id") view=TreeEditorPage />
                        <Route path=path!("crm/agents") view=AgentsPage />
                        <Route path=path!("crm/stats") view=CampaignStatsPage />
                        <Route path=path!("crm/desk") view=DeskChoicePage />
                        <Route path=path!("crm/desk/:id") view=DeskPage />
                        <Route path=path!("sms/campaigns") view=SmsCampaignsPage />
                        <Route path=path!("sms/campaigns/:id") view=SmsCampaignPage />
                        <Route path=path!("sms/replies") view=SmsRepliesPage />
                    </ParentRoute>
                </Routes>
            </Router>
        </I18nContextProvider>
    }
}

/// Signed-in pages: the frame around them, or a redirect to the login page.
#[component]
fn Layout() -> impl IntoView {
    match expect_context::<SessionAtLoad>().0 {
        Ok(SessionState::SignedIn(user)) => {
            provide_context(user.clone());
            view! { <Frame user /> }.into_any()
        }
        Ok(SessionState::Expired) => view! { <Redirect path="/login?expired=1" /> }.into_any(),
        Ok(SessionState::Anonymous) => view! { <Redirect path="/login" /> }.into_any(),
        Err(error) => view! { <widgets::ErrorPage error /> }.into_any(),
    }
}

#[component]
fn Frame(user: SessionUser) -> impl IntoView {
    let i18n = use_i18n();
    let logout = ServerAction::<Logout>::new();
    Effect::new(move |_| {
        if logout.value().get().is_some() {
            let _ = window().location().set_href("/login");
        }
    });
    let name = user.display_name();
    let tenant = user.tenant_name.clone();
    let sends_sms = user.can(Permission::SmsCampaigns);
    view! {
        <header class="topbar">
            <a class="brand" href="/">
                "Relais"
            </a>
            <span class="tenant">{tenant}</span>
            <span class="spacer"></span>
            <Show when=move || sends_sms>
                <CreditBadge />
            </Show>
            <widgets::LanguageSwitch />
            <span class="user" data-testid="user-name">
                {name}
            </span>
            <button
                class="link"
                data-testid="logout"
                on:click=move |_| {
                    logout.dispatch(Logout {});
                }
            >
                {t!(i18n, menu_logout)}
            </button>
        </header>
        <div class="frame">
            <Menu user />
            <main class="content">
                <Outlet />
            </main>
        </div>
    }
}

/// The tenant's SMS credit, shown on every page to those who send campaigns. The browser reads
/// it after hydration and every minute (the server renders it empty, so both agree).
#[component]
fn CreditBadge() -> impl IntoView {
    let i18n = use_i18n();
    let credit = RwSignal::new(None::<crate::sms::campaigns::CreditView>);
    #[cfg(feature = "hydrate")]
    {
        let read = move || {
            leptos::task::spawn_local(async move {
                if let Ok(read) = crate::sms::campaigns::api::sms_credit().await {
                    credit.try_set(Some(read));
                }
            })
        };
        Effect::new(move |_| read());
        if let Ok(handle) = set_interval_with_handle(read, std::time::Duration::from_secs(60)) {
            on_cleanup(move || handle.clear());
        }
    }
    view! {
        <span class="credit-badge" data-testid="credit-badge">
            {move || {
                credit.get().map(|c| {
                    let locale = i18n.get_locale();
                    fill(td_string!(locale, credit_badge), &[("balance", &crate::money::format(c.balance, &c.currency, locale))])
                })
            }}
        </span>
    }
}

/// The menu shows only what the user's profiles allow (the same test the guard applies).
#[component]
fn Menu(user: SessionUser) -> impl IntoView {
    let i18n = use_i18n();
    let can_tenants = user.can(Permission::ManageTenants);
    let can_users = user.can(Permission::ManageUsers);
    let can_queues = user.can(Permission::ManageQueues);
    let can_supervise = user.can(Permission::SuperviseQueues);
    let can_stats = user.can(Permission::AcdStatistics);
    let can_contacts = user.can(Permission::ManageContacts);
    let can_campaigns = user.can(Permission::ManageCampaigns);
    let can_desk = user.can(Permission::UseDesk);
    let can_agents = user.can(Permission::ManageAgents);
    let can_campaign_stats = user.can(Permission::CampaignStatistics);
    let can_modems = user.is_operator && user.can(Permission::ManageModems);
    let can_credit = user.is_operator && user.can(Permission::ManageTenants);
    let can_sms = user.can(Permission::SmsCampaigns);
    view! {
        <nav class="menu" data-testid="menu">
            <A href="/" exact=true>
                {t!(i18n, menu_home)}
            </A>
            <Show when=move || can_desk>
                <A href="/crm/desk">{t!(i18n, menu_desk)}</A>
            </Show>
            <Show when=move || can_tenants>
                <A href="/admin/tenants">{t!(i18n, menu_tenants)}</A>
            </Show>
            <Show when=move || can_supervise>
                <A href="/acd/live">{t!(i18n, menu_dashboard)}</A>
            </Show>
            <Show when=move || can_stats>
                <A href="/acd/stats">{t!(i18n, menu_acd_stats)}</A>
                <A href="/acd/calls">{t!(i18n, menu_call_stats)}</A>
            </Show>
            <Show when=move || can_contacts>
                <A href="/crm/bases">{t!(i18n, menu_contact_bases)}</A>
            </Show>
            <Show when=move || can_campaigns>
                <A href="/crm/campaigns">{t!(i18n, menu_campaigns)}</A>
                <A href="/crm/trees">{t!(i18n, menu_trees)}</A>
            </Show>
            <Show when=move || can_agents>
                <A href="/crm/agents">{t!(i18n, menu_agents)}</A>
                <A href="/crm/sales">{t!(i18n, menu_sales)}</A>
            </Show>
            <Show when=move || can_campaign_stats>
                <A href="/crm/stats">{t!(i18n, menu_campaign_stats)}</A>
            </Show>
            <Show when=move || can_sms>
                <A href="/sms/campaigns">{t!(i18n, menu_sms_campaigns)}</A>
                <A href="/sms/replies">{t!(i18n, menu_sms_replies)}</A>
            </Show>
            <Show when=move || can_users>
                <A href="/admin/users">{t!(i18n, menu_users)}</A>
            </Show>
            <Show when=move || can_queues>
                <A href="/admin/queues">{t!(i18n, menu_queues)}</A>
            </Show>
            <Show when=move || can_modems>
                <A href="/admin/modems">{t!(i18n, menu_modems)}</A>
            </Show>
            <Show when=move || can_credit>
                <A href="/admin/credit">{t!(i18n, menu_credit)}</A>
            </Show>
            <A href="/account">{t!(i18n, menu_account)}</A>
        </nav>
    }
}

#[component]
fn HomePage() -> impl IntoView {
    let i18n = use_i18n();
    let user = expect_context::<SessionUser>();
    let name = user.display_name();
    let tenant = user.tenant_name.clone();
    let profiles = user.profiles.clone();
    view! {
        <h1>{move || fill(td_string!(i18n.get_locale(), home_welcome), &[("name", &name)])}</h1>
        <dl class="facts">
            <dt>{t!(i18n, home_tenant)}</dt>
            <dd>{tenant}</dd>
            <dt>{t!(i18n, field_login)}</dt>
            <dd>{user.login.clone()}</dd>
            <dt>{t!(i18n, field_profiles)}</dt>
            <dd data-testid="my-profiles">
                {move || {
                    let locale = i18n.get_locale();
                    if profiles.is_empty() {
                        td_string!(locale, home_no_profile).to_string()
                    } else {
                        profiles.iter().map(|p| p.label(locale)).collect::<Vec<_>>().join(", ")
                    }
                }}
            </dd>
        </dl>
    }
}

/// Shown instead of a page the user's profiles do not allow (the server function behind it
/// would answer 403 anyway).
#[component]
pub fn NotAllowed() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::FORBIDDEN);
    }
    view! {
        <section class="not-allowed" data-testid="not-allowed">
            <h1>{t!(i18n, not_allowed_title)}</h1>
            <p>{t!(i18n, not_allowed_text)}</p>
            <a href="/">{t!(i18n, back_home)}</a>
        </section>
    }
}

#[component]
fn NotFound() -> impl IntoView {
    let i18n = use_i18n();
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <main class="not-found">
            <h1>{t!(i18n, not_found_title)}</h1>
            <a href="/">{t!(i18n, back_home)}</a>
        </main>
    }
}

/// Renders `page` when the signed-in user holds `permission`, the not-allowed page otherwise.
pub fn guarded<V: IntoView + 'static>(permission: Permission, page: impl FnOnce(SessionUser) -> V) -> AnyView {
    let user = expect_context::<SessionUser>();
    if user.can(permission) { page(user).into_any() } else { view! { <NotAllowed /> }.into_any() }
}
