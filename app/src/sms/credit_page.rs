//! The operator's SMS credit page (`/admin/credit`): every tenant's prepaid balance, its price per
//! part and its use over 30 days; top-ups and price changes in the tenant's own currency.

use leptos::prelude::*;

use super::TenantCredit;
use super::api::{SetPartPrice, TopUpCredit, tenant_credits};
use crate::auth::Permission;
use crate::i18n::*;
use crate::money;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};
use crate::shell::{NotAllowed, guarded};

#[component]
pub fn CreditPage() -> impl IntoView {
    guarded(Permission::ManageTenants, |me| {
        if me.is_operator { view! { <Credits /> }.into_any() } else { view! { <NotAllowed /> }.into_any() }
    })
}

#[component]
fn Credits() -> impl IntoView {
    let i18n = use_i18n();
    let top_up = ServerAction::<TopUpCredit>::new();
    let price = ServerAction::<SetPartPrice>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, top_up);
    reload_on_success(saved, price);
    let data = Resource::new(move || saved.get(), |_| tenant_credits());
    view! {
        <h1>{t!(i18n, menu_credit)}</h1>
        <p class="muted">{t!(i18n, credit_help)}</p>
        <ErrorLine error=action_error(top_up) />
        <ErrorLine error=action_error(price) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(tenants) => {
                        let listed = tenants.clone();
                        view! {
                            <table class="grid" data-testid="credits">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, field_tenant_name)}</th>
                                        <th class="num">{t!(i18n, credit_balance)}</th>
                                        <th class="num">{t!(i18n, field_part_price)}</th>
                                        <th class="num">{t!(i18n, credit_parts_30_days)}</th>
                                        <th>{t!(i18n, credit_last_top_up)}</th>
                                        <th>{t!(i18n, credit_top_up)}</th>
                                        <th>{t!(i18n, credit_change_price)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {tenants.into_iter().map(|tenant| view! { <CreditRow tenant top_up price /> }).collect_view()}
                                </tbody>
                            </table>
                            <CsvLink filename="sms-credit.csv" rows=move |locale| credits_csv(&listed, locale) />
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
fn CreditRow(tenant: TenantCredit, top_up: ServerAction<TopUpCredit>, price: ServerAction<SetPartPrice>) -> impl IntoView {
    let i18n = use_i18n();
    let id = tenant.tenant_id;
    let amount = RwSignal::new(String::new());
    let new_price = RwSignal::new(String::new());
    let currency = StoredValue::new(tenant.currency.clone());
    let shown = move |minor: i64| move || money::format(minor, &currency.get_value(), i18n.get_locale());
    view! {
        <tr data-tenant=tenant.name.clone()>
            <td>{tenant.name.clone()}</td>
            <td class="num" data-testid="balance" data-minor=tenant.balance>{shown(tenant.balance)}</td>
            <td class="num" data-testid="price" data-minor=tenant.part_price>{shown(tenant.part_price)}</td>
            <td class="num">{tenant.parts_30_days}</td>
            <td>{tenant.last_top_up.clone()}</td>
            <td>
                <form
                    class="row"
                    data-testid="top-up"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        top_up.dispatch(TopUpCredit { tenant_id: id, amount: amount.get_untracked() });
                    }
                >
                    <input name="amount" size="8" inputmode="decimal" placeholder=currency.get_value() bind:value=amount />
                    <button type="submit" class="secondary" disabled=move || top_up.pending().get()>{t!(i18n, credit_add)}</button>
                </form>
            </td>
            <td>
                <form
                    class="row"
                    data-testid="set-price"
                    on:submit=move |ev| {
                        ev.prevent_default();
                        price.dispatch(SetPartPrice { tenant_id: id, price: new_price.get_untracked() });
                    }
                >
                    <input name="price" size="6" inputmode="decimal" placeholder=currency.get_value() bind:value=new_price />
                    <button type="submit" class="secondary" disabled=move || price.pending().get()>{t!(i18n, save)}</button>
                </form>
            </td>
        </tr>
    }
}

fn credits_csv(tenants: &[TenantCredit], locale: Locale) -> Vec<Vec<String>> {
    let header = [
        td_string!(locale, field_tenant_name),
        td_string!(locale, field_currency),
        td_string!(locale, credit_balance),
        td_string!(locale, field_part_price),
        td_string!(locale, credit_parts_30_days),
        td_string!(locale, credit_last_top_up),
    ]
    .map(str::to_string)
    .to_vec();
    let lines = tenants.iter().map(|t| {
        vec![
            t.name.clone(),
            t.currency.clone(),
            money::format(t.balance, &t.currency, locale),
            money::format(t.part_price, &t.currency, locale),
            t.parts_30_days.to_string(),
            t.last_top_up.clone(),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}
