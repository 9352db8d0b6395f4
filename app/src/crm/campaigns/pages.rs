//! The campaigns page: list with state, create, edit, activate, close, delete drafts.

use leptos::prelude::*;

use super::api::{CampaignAdmin, CreateCampaign, DeleteCampaign, SetCampaignState, UpdateCampaign, list_campaigns};
use super::{BaseChoice, CampaignRecord, CampaignSettings, CampaignState, FormKind};
use crate::crm::trees::TreeChoice;
use crate::auth::Permission;
use crate::error::fill;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};

#[component]
pub fn CampaignsPage() -> impl IntoView {
    guarded(Permission::ManageCampaigns, |_| view! { <Campaigns /> })
}

#[component]
fn Campaigns() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateCampaign>::new();
    let update = ServerAction::<UpdateCampaign>::new();
    let state = ServerAction::<SetCampaignState>::new();
    let delete = ServerAction::<DeleteCampaign>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, create);
    reload_on_success(saved, update);
    reload_on_success(saved, state);
    reload_on_success(saved, delete);
    let data = Resource::new(move || saved.get(), |_| list_campaigns());
    let editing = RwSignal::new(None::<CampaignRecord>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    view! {
        <h1>{t!(i18n, menu_campaigns)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(admin) => {
                        let bases = admin.bases.clone();
                        let trees = admin.trees.clone();
                        let pbx_names = admin.pbx_names.clone();
                        let listed = admin.campaigns.clone();
                        view! {
                            <CampaignTable admin editing state delete />
                            <CsvLink filename="campaigns.csv" rows=move |locale| campaigns_csv(&listed, locale) />
                            {move || {
                                editing
                                    .get()
                                    .map(|campaign| {
                                        view! {
                                            <CampaignForm
                                                initial=campaign.settings.clone()
                                                bases=bases.clone()
                                                trees=trees.clone()
                                                pbx_names=pbx_names.clone()
                                                on_save=Callback::new(move |settings| {
                                                    update.dispatch(UpdateCampaign { campaign_id: campaign.id, settings });
                                                })
                                                title=Signal::derive(move || t_string!(i18n, campaigns_edit).to_string())
                                                testid="edit-campaign"
                                            />
                                        }
                                    })
                            }}
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(update) />
        <ErrorLine error=action_error(state) />
        <ErrorLine error=action_error(delete) />
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                data.await.ok().map(|admin| {
                    view! {
                        <CampaignForm
                            initial=CampaignSettings {
                                base_id: admin.bases.first().map_or(0, |b| b.id),
                                pbx: admin.pbx_names.first().cloned().unwrap_or_default(),
                                ..Default::default()
                            }
                            bases=admin.bases
                            trees=admin.trees
                            pbx_names=admin.pbx_names
                            on_save=Callback::new(move |settings| {
                                create.dispatch(CreateCampaign { settings });
                            })
                            title=Signal::derive(move || t_string!(i18n, campaigns_new).to_string())
                            testid="new-campaign"
                        />
                    }
                })
            })}
        </Transition>
        <ErrorLine error=action_error(create) />
    }
}

/// The forms' names; the argument tree's is followed by the tree's.
fn forms_text(forms: &[FormKind], tree_name: Option<&str>, locale: Locale) -> String {
    forms
        .iter()
        .map(|form| match (form, tree_name) {
            (FormKind::ArgumentTree, Some(tree)) => format!("{} ({tree})", form.label(locale)),
            _ => form.label(locale),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

fn campaigns_csv(campaigns: &[CampaignRecord], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_campaign_name).to_string(),
        td_string!(locale, field_product).to_string(),
        td_string!(locale, field_contact_base).to_string(),
        td_string!(locale, field_starts_on).to_string(),
        td_string!(locale, field_ends_on).to_string(),
        td_string!(locale, campaigns_forms).to_string(),
        td_string!(locale, field_campaign_state).to_string(),
    ];
    let lines = campaigns.iter().map(|c| {
        let s = &c.settings;
        vec![
            s.name.clone(),
            s.product.clone(),
            c.base_name.clone(),
            s.starts_on.clone(),
            s.ends_on.clone(),
            forms_text(&s.forms, c.tree_name.as_deref(), locale),
            c.state.label(locale),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn CampaignTable(
    admin: CampaignAdmin,
    editing: RwSignal<Option<CampaignRecord>>,
    state: ServerAction<SetCampaignState>,
    delete: ServerAction<DeleteCampaign>,
) -> impl IntoView {
    let i18n = use_i18n();
    if admin.campaigns.is_empty() {
        return view! { <p class="muted">{t!(i18n, campaigns_none)}</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid="campaigns">
            <thead>
                <tr>
                    <th>{t!(i18n, field_campaign_name)}</th>
                    <th>{t!(i18n, field_product)}</th>
                    <th>{t!(i18n, field_contact_base)}</th>
                    <th>{t!(i18n, campaigns_period)}</th>
                    <th>{t!(i18n, campaigns_forms)}</th>
                    <th>{t!(i18n, field_campaign_state)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {admin
                    .campaigns
                    .into_iter()
                    .map(|campaign| {
                        let s = campaign.settings.clone();
                        let (id, current, name) = (campaign.id, campaign.state, s.name.clone());
                        let forms = s.forms.clone();
                        let tree_name = campaign.tree_name.clone();
                        view! {
                            <tr data-campaign=s.name.clone()>
                                <td>{s.name.clone()}</td>
                                <td>{s.product.clone()}</td>
                                <td>{campaign.base_name.clone()}</td>
                                <td>{format!("{} → {}", s.starts_on, s.ends_on)}</td>
                                <td>{move || forms_text(&forms, tree_name.as_deref(), i18n.get_locale())}</td>
                                <td data-testid="state" data-state=current.code()>{move || current.label(i18n.get_locale())}</td>
                                <td class="actions">
                                    <button class="link" on:click=move |_| editing.set(Some(campaign.clone()))>{t!(i18n, edit)}</button>
                                    <a class="link" data-testid="edit-forms" href=format!("/crm/campaigns/{id}/forms")>{t!(i18n, forms_edit)}</a>
                                    <Show when=move || current != CampaignState::Active>
                                        <button
                                            class="link"
                                            on:click=move |_| {
                                                state.dispatch(SetCampaignState { campaign_id: id, state: CampaignState::Active });
                                            }
                                        >
                                            {t!(i18n, campaigns_activate)}
                                        </button>
                                    </Show>
                                    <Show when=move || current == CampaignState::Active>
                                        <button
                                            class="link"
                                            on:click=move |_| {
                                                state.dispatch(SetCampaignState { campaign_id: id, state: CampaignState::Closed });
                                            }
                                        >
                                            {t!(i18n, campaigns_close)}
                                        </button>
                                    </Show>
                                    <Show when=move || current == CampaignState::Draft>
                                        {
                                            let name = name.clone();
                                            view! {
                                                <button
                                                    class="link danger"
                                                    on:click=move |_| {
                                                        let question = fill(
                                                            td_string!(i18n.get_locale(), campaigns_confirm_delete),
                                                            &[("name", &name)],
                                                        );
                                                        if window().confirm_with_message(&question).unwrap_or(false) {
                                                            delete.dispatch(DeleteCampaign { campaign_id: id });
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

/// The fields of a campaign, for creating or editing one.
#[component]
fn CampaignForm(
    initial: CampaignSettings,
    bases: Vec<BaseChoice>,
    trees: Vec<TreeChoice>,
    pbx_names: Vec<String>,
    on_save: Callback<CampaignSettings>,
    title: Signal<String>,
    testid: &'static str,
) -> impl IntoView {
    let i18n = use_i18n();
    let name = RwSignal::new(initial.name.clone());
    let product = RwSignal::new(initial.product.clone());
    let base_id = RwSignal::new(initial.base_id);
    let starts_on = RwSignal::new(initial.starts_on.clone());
    let ends_on = RwSignal::new(initial.ends_on.clone());
    let forms = RwSignal::new(initial.forms.clone());
    let tree_id = RwSignal::new(initial.tree_id.or(trees.first().map(|t| t.id)));
    let pbx = RwSignal::new(initial.pbx.clone());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        on_save.run(CampaignSettings {
            name: name.get(),
            product: product.get(),
            base_id: base_id.get(),
            starts_on: starts_on.get(),
            ends_on: ends_on.get(),
            forms: forms.get(),
            tree_id: tree_id.get(),
            pbx: pbx.get(),
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid=testid>
            <h2>{move || title.get()}</h2>
            <label>
                {t!(i18n, field_campaign_name)}
                <input name="name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>
                {t!(i18n, field_product)}
                <input name="product" prop:value=move || product.get() on:input=move |ev| product.set(event_target_value(&ev)) />
            </label>
            <label>
                {t!(i18n, field_contact_base)}
                <select name="base" on:change=move |ev| base_id.set(event_target_value(&ev).parse().unwrap_or(0))>
                    {bases
                        .into_iter()
                        .map(|base| {
                            let selected = base.id == base_id.get_untracked();
                            view! {
                                <option value=base.id.to_string() selected=selected>
                                    {format!("{} ({})", base.name, base.contacts)}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <label>
                {t!(i18n, field_starts_on)}
                <input type="date" name="starts_on" prop:value=move || starts_on.get() on:input=move |ev| starts_on.set(event_target_value(&ev)) />
            </label>
            <label>
                {t!(i18n, field_ends_on)}
                <input type="date" name="ends_on" prop:value=move || ends_on.get() on:input=move |ev| ends_on.set(event_target_value(&ev)) />
            </label>
            <fieldset>
                <legend>{t!(i18n, campaigns_forms)}</legend>
                {FormKind::ALL
                    .into_iter()
                    .map(|kind| {
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    name=kind.code()
                                    prop:checked=move || forms.with(|f| f.contains(&kind))
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        forms.update(|f| {
                                            f.retain(|k| *k != kind);
                                            if on {
                                                f.push(kind);
                                            }
                                        });
                                    }
                                />
                                {move || kind.label(i18n.get_locale())}
                            </label>
                        }
                    })
                    .collect_view()}
            </fieldset>
            <Show when=move || forms.with(|f| f.contains(&FormKind::ArgumentTree))>
                <label>
                    {t!(i18n, field_argument_tree)}
                    <select name="tree" on:change=move |ev| tree_id.set(event_target_value(&ev).parse().ok())>
                        <option value="" selected=tree_id.get_untracked().is_none()>
                            {t!(i18n, trees_choose)}
                        </option>
                        {trees
                            .iter()
                            .map(|tree| {
                                let selected = Some(tree.id) == tree_id.get_untracked();
                                view! {
                                    <option value=tree.id.to_string() selected=selected>
                                        {tree.name.clone()}
                                    </option>
                                }
                            })
                            .collect_view()}
                    </select>
                </label>
            </Show>
            <label>
                {t!(i18n, field_pbx)}
                <select name="pbx" on:change=move |ev| pbx.set(event_target_value(&ev))>
                    <option value="" selected=pbx.get_untracked().is_empty()>
                        {t!(i18n, campaigns_no_pbx)}
                    </option>
                    {pbx_names
                        .into_iter()
                        .map(|name| {
                            let selected = name == pbx.get_untracked();
                            view! {
                                <option value=name.clone() selected=selected>
                                    {name.clone()}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <button type="submit">{t!(i18n, save)}</button>
        </form>
    }
}
