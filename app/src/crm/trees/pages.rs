//! Argument-tree pages: the list of the tenant's trees, and the editor, where every change
//! redraws the whole tree and re-runs the checks the server applies on saving.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_params_map};

use super::api::{CreateTree, DeleteTree, SaveTree, list_trees, open_tree};
use super::drawing::TreeDrawing;
use super::{Answer, ArgumentTree, Branch, TreeDetail, TreeSummary};
use crate::auth::Permission;
use crate::error::fill;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, action_error, reload_on_success};

#[component]
pub fn TreesPage() -> impl IntoView {
    guarded(Permission::ManageCampaigns, |_| view! { <Trees /> })
}

#[component]
pub fn TreeEditorPage() -> impl IntoView {
    guarded(Permission::ManageCampaigns, |_| view! { <TreeEditor /> })
}

#[component]
fn Trees() -> impl IntoView {
    let i18n = use_i18n();
    let create = ServerAction::<CreateTree>::new();
    let delete = ServerAction::<DeleteTree>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, delete);
    let trees = Resource::new(move || saved.get(), |_| list_trees());
    let navigate = use_navigate();
    Effect::new(move |_| {
        if let Some(Ok(id)) = create.value().get() {
            navigate(&format!("/crm/trees/{id}"), Default::default());
        }
    });
    let name = RwSignal::new(String::new());
    let first_question = RwSignal::new(String::new());
    view! {
        <h1>{t!(i18n, menu_trees)}</h1>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match trees.await {
                    Ok(trees) => {
                        let listed = trees.clone();
                        view! {
                            <TreeTable trees delete />
                            <CsvLink filename="argument-trees.csv" rows=move |locale| trees_csv(&listed, locale) />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(delete) />
        <form
            class="card narrow"
            data-testid="new-tree"
            on:submit=move |ev| {
                ev.prevent_default();
                create.dispatch(CreateTree { name: name.get(), first_question: first_question.get() });
            }
        >
            <h2>{t!(i18n, trees_new)}</h2>
            <label>
                {t!(i18n, field_tree_name)}
                <input name="name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
            </label>
            <label>
                {t!(i18n, field_first_question)}
                <textarea
                    name="first_question"
                    rows="2"
                    prop:value=move || first_question.get()
                    on:input=move |ev| first_question.set(event_target_value(&ev))
                ></textarea>
            </label>
            <button type="submit">{t!(i18n, trees_create)}</button>
            <ErrorLine error=action_error(create) />
        </form>
    }
}

fn trees_csv(trees: &[TreeSummary], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_tree_name).to_string(),
        td_string!(locale, trees_version).to_string(),
        td_string!(locale, trees_nodes).to_string(),
        td_string!(locale, menu_campaigns).to_string(),
    ];
    std::iter::once(header)
        .chain(trees.iter().map(|t| vec![t.name.clone(), t.version.to_string(), t.nodes.to_string(), t.campaigns.join(", ")]))
        .collect()
}

#[component]
fn TreeTable(trees: Vec<TreeSummary>, delete: ServerAction<DeleteTree>) -> impl IntoView {
    let i18n = use_i18n();
    if trees.is_empty() {
        return view! { <p class="muted">{t!(i18n, trees_none)}</p> }.into_any();
    }
    view! {
        <table class="grid" data-testid="trees">
            <thead>
                <tr>
                    <th>{t!(i18n, field_tree_name)}</th>
                    <th class="num">{t!(i18n, trees_version)}</th>
                    <th class="num">{t!(i18n, trees_nodes)}</th>
                    <th>{t!(i18n, menu_campaigns)}</th>
                    <th>{t!(i18n, actions)}</th>
                </tr>
            </thead>
            <tbody>
                {trees
                    .into_iter()
                    .map(|tree| {
                        let (id, name) = (tree.id, tree.name.clone());
                        let unused = tree.campaigns.is_empty();
                        view! {
                            <tr data-tree=tree.name.clone()>
                                <td>
                                    <a href=format!("/crm/trees/{id}")>{tree.name.clone()}</a>
                                </td>
                                <td class="num">{tree.version}</td>
                                <td class="num">{tree.nodes}</td>
                                <td>{tree.campaigns.join(", ")}</td>
                                <td class="actions">
                                    <a href=format!("/crm/trees/{id}")>{t!(i18n, edit)}</a>
                                    <Show when=move || unused>
                                        {
                                            let name = name.clone();
                                            view! {
                                                <button
                                                    class="link danger"
                                                    on:click=move |_| {
                                                        let question = fill(td_string!(i18n.get_locale(), trees_confirm_delete), &[("name", &name)]);
                                                        if window().confirm_with_message(&question).unwrap_or(false) {
                                                            delete.dispatch(DeleteTree { tree_id: id });
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
fn TreeEditor() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let tree_id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let save = ServerAction::<SaveTree>::new();
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, save);
    let detail = Resource::new(move || (tree_id.get(), saved.get()), |(id, _)| open_tree(id));
    view! {
        <p>
            <a href="/crm/trees">{t!(i18n, trees_back)}</a>
        </p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match detail.await {
                    Ok(detail) => view! { <Editor detail save /> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Editor(detail: TreeDetail, save: ServerAction<SaveTree>) -> impl IntoView {
    let i18n = use_i18n();
    let tree_id = detail.id;
    let name = RwSignal::new(detail.name.clone());
    let tree = RwSignal::new(detail.tree.clone());
    let problems = Memo::new(move |_| tree.with(ArgumentTree::problems));
    let keys = Memo::new(move |_| tree.with(|t| t.nodes.iter().map(|n| n.key).collect::<Vec<_>>()));
    let unsaved = {
        let (stored_name, stored_tree) = (detail.name.clone(), detail.tree.clone());
        Memo::new(move |_| name.with(|n| *n != stored_name) || tree.with(|t| *t != stored_tree))
    };
    let version = detail.version;
    let active = detail.active_campaigns.join(", ");
    let running = !detail.active_campaigns.is_empty();
    let outcome = move || {
        let locale = i18n.get_locale();
        match save.value().get() {
            Some(Ok(saved)) if saved.new_version => Some(fill(
                td_string!(locale, trees_saved_new_version),
                &[("version", &saved.version.to_string()), ("previous", &(saved.version - 1).to_string())],
            )),
            Some(Ok(saved)) => Some(fill(td_string!(locale, trees_saved), &[("version", &saved.version.to_string())])),
            _ => None,
        }
    };
    view! {
        <h1>
            {t!(i18n, trees_editor)} " — " {move || name.get()}
            <span class="badge" data-testid="tree-version">{move || fill(td_string!(i18n.get_locale(), trees_version_n), &[("version", &version.to_string())])}</span>
        </h1>
        <Show when=move || running>
            {
                let active = active.clone();
                view! {
                    <p class="notice" data-testid="tree-running">
                        {move || {
                            fill(
                                td_string!(i18n.get_locale(), trees_running),
                                &[("campaigns", &active), ("version", &version.to_string())],
                            )
                        }}
                    </p>
                }
            }
        </Show>
        <div class="tree-editor">
            <section class="tree-nodes">
                <label>
                    {t!(i18n, field_tree_name)}
                    <input name="tree_name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) />
                </label>
                <For each=move || keys.get() key=|key| *key let:key>
                    <NodeCard key tree />
                </For>
                <button
                    type="button"
                    class="secondary"
                    data-testid="add-node"
                    on:click=move |_| {
                        tree.update(|t| {
                            t.add_node("");
                        });
                    }
                >
                    {t!(i18n, trees_add_node)}
                </button>
            </section>
            <section class="tree-side">
                <div class="tree-canvas">
                    <TreeDrawing tree=tree />
                </div>
                <ul class="problems" data-testid="tree-problems">
                    {move || {
                        let locale = i18n.get_locale();
                        problems.get().into_iter().map(|problem| view! { <li>{problem.message(locale)}</li> }).collect_view()
                    }}
                </ul>
                <Show when=move || problems.with(Vec::is_empty)>
                    <p class="success" data-testid="tree-valid">{t!(i18n, trees_valid)}</p>
                </Show>
                <p class="hint">
                    <Show when=move || unsaved.get()>{t!(i18n, trees_unsaved)}</Show>
                </p>
                <button
                    type="button"
                    data-testid="save-tree"
                    disabled=move || save.pending().get()
                    on:click=move |_| {
                        save.dispatch(SaveTree { tree_id, name: name.get(), tree: tree.get() });
                    }
                >
                    {t!(i18n, save)}
                </button>
                <p class="success" data-testid="tree-saved">{outcome}</p>
                <ErrorLine error=action_error(save) />
            </section>
        </div>
    }
}

/// The value of a branch in its menu: "" unset, "end", "new" (add a node there), or "n<key>".
fn branch_value(branch: Branch) -> String {
    match branch {
        Branch::Unset => String::new(),
        Branch::End => "end".into(),
        Branch::Node(key) => format!("n{key}"),
    }
}

/// One node: its text, where each answer leads, and its place in the list.
#[component]
fn NodeCard(key: u32, tree: RwSignal<ArgumentTree>) -> impl IntoView {
    let i18n = use_i18n();
    let text = move || tree.with(|t| t.node(key).map(|n| n.text.clone()).unwrap_or_default());
    let is_start = move || tree.with(|t| t.start == key);
    let edit = move |change: &dyn Fn(&mut ArgumentTree)| tree.update(|t| change(t));
    view! {
        <div class="card tree-node" data-node=key data-start=move || is_start().to_string()>
            <h3>
                {format!("Q{key}")}
                <Show when=is_start>
                    <span class="badge ok">{t!(i18n, trees_start)}</span>
                </Show>
            </h3>
            <textarea
                name="text"
                rows="2"
                prop:value=text
                on:input=move |ev| {
                    let value = event_target_value(&ev);
                    edit(&|t| {
                        if let Some(node) = t.node_mut(key) {
                            node.text = value.clone();
                        }
                    });
                }
            ></textarea>
            <div class="branches">
                {Answer::ALL.into_iter().map(|answer| view! { <BranchPicker key answer tree /> }).collect_view()}
            </div>
            <div class="actions">
                <button type="button" class="link" title=move || t_string!(i18n, trees_move_up).to_string() on:click=move |_| edit(&|t| t.shift_node(key, true))>
                    "↑"
                </button>
                <button type="button" class="link" title=move || t_string!(i18n, trees_move_down).to_string() on:click=move |_| edit(&|t| t.shift_node(key, false))>
                    "↓"
                </button>
                <Show when=move || !is_start()>
                    <button type="button" class="link" on:click=move |_| edit(&|t| t.start = key)>
                        {t!(i18n, trees_make_start)}
                    </button>
                </Show>
                <button type="button" class="link danger" on:click=move |_| edit(&|t| t.remove_node(key))>
                    {t!(i18n, delete)}
                </button>
            </div>
        </div>
    }
}

/// Where one answer of a node leads: the end, another node, or a new node created there.
#[component]
fn BranchPicker(key: u32, answer: Answer, tree: RwSignal<ArgumentTree>) -> impl IntoView {
    let i18n = use_i18n();
    let current = move || tree.with(|t| t.node(key).map(|n| branch_value(n.branch(answer))).unwrap_or_default());
    let others = move || {
        tree.with(|t| t.nodes.iter().filter(|n| n.key != key).map(|n| (format!("n{}", n.key), n.name())).collect::<Vec<_>>())
    };
    let choose = move |value: String| {
        tree.update(|t| {
            let branch = match value.as_str() {
                "end" => Branch::End,
                "new" => Branch::Node(t.add_node("")),
                other => other.strip_prefix('n').and_then(|k| k.parse().ok()).map_or(Branch::Unset, Branch::Node),
            };
            if let Some(node) = t.node_mut(key) {
                *node.branch_mut(answer) = branch;
            }
        });
    };
    view! {
        <label class="inline branch" data-answer=answer.code()>
            <span>{move || answer.label(i18n.get_locale())}" →"</span>
            // `selected` attributes give the server-rendered page its choice; the select's value
            // property keeps it right after options change in the browser.
            <select name=answer.code() prop:value=current on:change=move |ev| choose(event_target_value(&ev))>
                <option value="" selected=move || current().is_empty()>
                    {t!(i18n, trees_choose)}
                </option>
                <option value="end" selected=move || current() == "end">
                    {t!(i18n, trees_end)}
                </option>
                <option value="new">{t!(i18n, trees_new_node)}</option>
                {move || {
                    let chosen = current();
                    others()
                        .into_iter()
                        .map(|(value, label)| {
                            let selected = value == chosen;
                            view! {
                                <option value=value selected=selected>
                                    {label}
                                </option>
                            }
                        })
                        .collect_view()
                }}
            </select>
        </label>
    }
}
