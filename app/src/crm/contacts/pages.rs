//! Contact base pages: the list, the import (upload, mapping, live progress, report) and one
//! base's contacts (search, pages, edit, delete).

use leptos::prelude::*;
use leptos_router::hooks::use_params_map;

use super::api::{
    DeleteContact, DeleteContactBase, UpdateContact, contact_import_progress, contacts_of_base, list_contact_bases,
    start_contact_import, upload_contacts,
};
use super::{BaseSummary, COUNTRIES, ColumnRole, Contact, ContactEdit, FileFormat, FilePreview, ImportProgress, ImportRequest, ImportState, PAGE_SIZE, ContactPage};
use crate::auth::Permission;
use crate::error::{AppError, fill};
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine, Pager, action_error, reload_on_success};

fn rejects_href(base_id: i64, locale: Locale) -> String {
    let lang = if locale == Locale::fr { "fr" } else { "en" };
    format!("/api/crm/bases/rejects?base_id={base_id}&lang={lang}")
}

#[component]
pub fn BasesPage() -> impl IntoView {
    guarded(Permission::ManageContacts, |_| view! { <Bases /> })
}

#[component]
pub fn ImportPage() -> impl IntoView {
    guarded(Permission::ManageContacts, |_| view! { <Import /> })
}

#[component]
pub fn BasePage() -> impl IntoView {
    guarded(Permission::ManageContacts, |_| view! { <Base /> })
}

#[component]
fn Bases() -> impl IntoView {
    let i18n = use_i18n();
    let delete = ServerAction::<DeleteContactBase>::new();
    let bases = Resource::new(move || delete.version().get(), |_| list_contact_bases());
    view! {
        <h1>{t!(i18n, menu_contact_bases)}</h1>
        <p>
            <a class="button" href="/crm/bases/import" data-testid="new-import">{t!(i18n, bases_import)}</a>
        </p>
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match bases.await {
                    Ok(list) if list.is_empty() => view! { <p class="muted">{t!(i18n, bases_none)}</p> }.into_any(),
                    Ok(list) => {
                        let listed = list.clone();
                        view! {
                            <CsvLink filename="contact-bases.csv" rows=move |locale| bases_csv(&listed, locale) />
                            <table class="grid" data-testid="bases">
                                <thead>
                                    <tr>
                                        <th>{t!(i18n, field_base_name)}</th>
                                        <th>{t!(i18n, bases_file)}</th>
                                        <th class="num">{t!(i18n, bases_contacts)}</th>
                                        <th class="num">{t!(i18n, bases_rejected)}</th>
                                        <th>{t!(i18n, bases_created)}</th>
                                        <th>{t!(i18n, bases_created_by)}</th>
                                        <th>{t!(i18n, actions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {list
                                        .into_iter()
                                        .map(|base| {
                                            let (id, name) = (base.id, base.name.clone());
                                            view! {
                                                <tr data-base=base.name.clone()>
                                                    <td><a href=format!("/crm/bases/{id}")>{base.name.clone()}</a></td>
                                                    <td>{base.source_file.clone()}</td>
                                                    <td class="num" data-kpi="contacts">{base.contacts}</td>
                                                    <td class="num" data-kpi="rejected">
                                                        {if base.rejected > 0 {
                                                            view! {
                                                                <a href=move || rejects_href(id, i18n.get_locale()) download="">
                                                                    {base.rejected}
                                                                </a>
                                                            }
                                                                .into_any()
                                                        } else {
                                                            view! { <span>"0"</span> }.into_any()
                                                        }}
                                                    </td>
                                                    <td>{base.created_at.clone()}</td>
                                                    <td>{base.created_by.clone()}</td>
                                                    <td class="actions">
                                                        <button
                                                            class="link danger"
                                                            on:click=move |_| {
                                                                let question = fill(
                                                                    td_string!(i18n.get_locale(), bases_confirm_delete),
                                                                    &[("name", &name)],
                                                                );
                                                                if window().confirm_with_message(&question).unwrap_or(false) {
                                                                    delete.dispatch(DeleteContactBase { base_id: id });
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
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <ErrorLine error=action_error(delete) />
    }
}

fn bases_csv(bases: &[BaseSummary], locale: Locale) -> Vec<Vec<String>> {
    let header = vec![
        td_string!(locale, field_base_name).to_string(),
        td_string!(locale, bases_file).to_string(),
        td_string!(locale, bases_contacts).to_string(),
        td_string!(locale, bases_rejected).to_string(),
        td_string!(locale, bases_created).to_string(),
        td_string!(locale, bases_created_by).to_string(),
    ];
    let lines = bases.iter().map(|b| {
        vec![
            b.name.clone(),
            b.source_file.clone(),
            b.contacts.to_string(),
            b.rejected.to_string(),
            b.created_at.clone(),
            b.created_by.clone(),
        ]
    });
    std::iter::once(header).chain(lines).collect()
}

/// Upload, then mapping, then progress and report: one page whose steps follow the import.
#[component]
fn Import() -> impl IntoView {
    let i18n = use_i18n();
    let preview = RwSignal::new(None::<FilePreview>);
    let progress = RwSignal::new(None::<ImportProgress>);
    let error = RwSignal::new(None::<AppError>);
    let busy = RwSignal::new(false);
    let upload = move |ev: leptos::ev::SubmitEvent| {
        use leptos::wasm_bindgen::JsCast;
        ev.prevent_default();
        let Some(form) = ev.target().and_then(|t| t.dyn_into::<leptos::web_sys::HtmlFormElement>().ok()) else { return };
        let Ok(data) = leptos::web_sys::FormData::new_with_form(&form) else { return };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match upload_contacts(data.into()).await {
                Ok(received) => preview.set(Some(received)),
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    view! {
        <h1>{t!(i18n, bases_import)}</h1>
        <Show when=move || preview.with(Option::is_none)>
            <form class="card" on:submit=upload data-testid="upload-form">
                <p class="muted">{t!(i18n, bases_upload_help)}</p>
                <label>
                    {t!(i18n, bases_file)}
                    <input type="file" name="file" accept=".csv,.txt,.xlsx,.xls" required />
                </label>
                <button type="submit" disabled=move || busy.get()>
                    {move || if busy.get() { t_string!(i18n, bases_uploading) } else { t_string!(i18n, bases_upload) }}
                </button>
            </form>
        </Show>
        {move || {
            match (preview.get(), progress.get()) {
                (Some(file), None) => view! { <Mapping file progress error /> }.into_any(),
                (_, Some(state)) => view! { <Progress state progress preview /> }.into_any(),
                _ => ().into_any(),
            }
        }}
        <ErrorLine error=error />
    }
}

#[component]
fn Mapping(file: FilePreview, progress: RwSignal<Option<ImportProgress>>, error: RwSignal<Option<AppError>>) -> impl IntoView {
    let i18n = use_i18n();
    let stem = file.file_name.rsplit_once('.').map_or(file.file_name.as_str(), |(stem, _)| stem).to_string();
    let name = RwSignal::new(stem);
    let country = RwSignal::new(file.default_country.clone());
    let has_header = RwSignal::new(file.has_header);
    let dedupe = RwSignal::new(true);
    let codes = RwSignal::new(file.suggested.iter().map(|r| r.code().to_string()).collect::<Vec<_>>());
    let headers = file.headers.clone();
    let upload = file.upload.clone();
    let busy = RwSignal::new(false);
    let confirm = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let columns: Vec<ColumnRole> =
            codes.get().iter().zip(&headers).map(|(code, header)| ColumnRole::from_code(code, header)).collect();
        let request = ImportRequest {
            upload: upload.clone(),
            name: name.get(),
            country: country.get(),
            has_header: has_header.get(),
            columns,
            dedupe_across_bases: dedupe.get(),
        };
        busy.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            match start_contact_import(request).await {
                Ok(base_id) => progress.set(Some(ImportProgress {
                    base_id,
                    state: ImportState::Running,
                    done: 0,
                    total: 0,
                    rows_read: 0,
                    imported: 0,
                    rejected: 0,
                })),
                Err(failure) => error.set(Some(failure)),
            }
            busy.set(false);
        });
    };
    let format = match &file.format {
        FileFormat::Csv { encoding, delimiter } => {
            let delimiter = if *delimiter == '\t' { "tab".to_string() } else { delimiter.to_string() };
            format!("CSV, {encoding}, « {delimiter} »")
        }
        FileFormat::Xlsx => "Excel (.xlsx)".to_string(),
        FileFormat::Xls => "Excel 97-2003 (.xls)".to_string(),
    };
    let mut countries: Vec<String> = vec![file.default_country.clone()];
    countries.extend(COUNTRIES.iter().map(|c| c.to_string()).filter(|c| *c != file.default_country));
    let size_kib = file.size_bytes.div_ceil(1024);
    view! {
        <form class="card" on:submit=confirm data-testid="mapping-form">
            <p data-testid="file-facts">
                <strong>{file.file_name.clone()}</strong>
                {format!(" — {size_kib} KiB — {format}")}
            </p>
            <label>
                {t!(i18n, field_base_name)}
                <input name="name" prop:value=move || name.get() on:input=move |ev| name.set(event_target_value(&ev)) required />
            </label>
            <label>
                {t!(i18n, field_country)}
                <select name="country" on:change=move |ev| country.set(event_target_value(&ev))>
                    {countries
                        .into_iter()
                        .map(|c| {
                            let selected = c == country.get_untracked();
                            view! { <option value=c.clone() selected=selected>{c.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
            <label class="check">
                <input type="checkbox" name="has_header" prop:checked=move || has_header.get()
                    on:change=move |ev| has_header.set(event_target_checked(&ev)) />
                {t!(i18n, bases_has_header)}
            </label>
            <label class="check">
                <input type="checkbox" name="dedupe" prop:checked=move || dedupe.get()
                    on:change=move |ev| dedupe.set(event_target_checked(&ev)) />
                {t!(i18n, bases_dedupe_across)}
            </label>
            <p class="muted">{t!(i18n, bases_mapping_help)}</p>
            <div class="scroll">
                <table class="grid" data-testid="preview">
                    <thead>
                        <tr>
                            {file
                                .headers
                                .iter()
                                .enumerate()
                                .map(|(index, header)| {
                                    view! {
                                        <th>
                                            <div>{header.clone()}</div>
                                            <select
                                                data-column=index
                                                on:change=move |ev| codes.update(|c| c[index] = event_target_value(&ev))
                                            >
                                                {ColumnRole::CODES
                                                    .iter()
                                                    .map(|code| {
                                                        let selected = codes.with_untracked(|c| c[index] == *code);
                                                        view! {
                                                            <option value=*code selected=selected>
                                                                {move || ColumnRole::code_label(code, i18n.get_locale())}
                                                            </option>
                                                        }
                                                    })
                                                    .collect_view()}
                                            </select>
                                        </th>
                                    }
                                })
                                .collect_view()}
                        </tr>
                    </thead>
                    <tbody>
                        {file
                            .rows
                            .iter()
                            .map(|row| view! { <tr>{row.iter().map(|cell| view! { <td>{cell.clone()}</td> }).collect_view()}</tr> })
                            .collect_view()}
                    </tbody>
                </table>
            </div>
            <button type="submit" disabled=move || busy.get()>{t!(i18n, bases_confirm_import)}</button>
        </form>
    }
}

/// The live progress bar, polled until the import ends, then its summary.
#[component]
fn Progress(state: ImportProgress, progress: RwSignal<Option<ImportProgress>>, preview: RwSignal<Option<FilePreview>>) -> impl IntoView {
    let i18n = use_i18n();
    let base_id = state.base_id;
    if state.state == ImportState::Running {
        set_timeout(
            move || {
                leptos::task::spawn_local(async move {
                    match contact_import_progress(base_id).await {
                        Ok(next) => progress.set(Some(next)),
                        Err(error) => progress.set(Some(ImportProgress { state: ImportState::Failed(error), ..state_copy(base_id) })),
                    }
                });
            },
            std::time::Duration::from_millis(250),
        );
    }
    let percent = state.percent();
    let counts = move || {
        fill(
            td_string!(i18n.get_locale(), bases_progress_counts),
            &[
                ("read", &state.rows_read.to_string()),
                ("imported", &state.imported.to_string()),
                ("rejected", &state.rejected.to_string()),
            ],
        )
    };
    let outcome = match state.state.clone() {
        ImportState::Running => ().into_any(),
        ImportState::Done => view! {
            <p class="ok" data-testid="import-done">{t!(i18n, bases_import_done)}</p>
            <p>
                <a class="button" href=format!("/crm/bases/{base_id}") data-testid="open-base">{t!(i18n, bases_open)}</a>
                " "
                <a class="button secondary" href=move || rejects_href(base_id, i18n.get_locale()) download="" data-testid="rejects-report">
                    {t!(i18n, bases_rejects_report)}
                </a>
            </p>
        }
        .into_any(),
        ImportState::Failed(error) => view! {
            <ErrorLine error=Some(error) />
            <button on:click=move |_| {
                progress.set(None);
                preview.set(None);
            }>{t!(i18n, bases_start_again)}</button>
        }
        .into_any(),
    };
    view! {
        <div class="card" data-testid="import-progress">
            <progress max="100" value=percent></progress>
            <span data-testid="percent">{format!(" {percent} %")}</span>
            <p data-testid="counts">{counts}</p>
            {outcome}
        </div>
    }
}

fn state_copy(base_id: i64) -> ImportProgress {
    ImportProgress { base_id, state: ImportState::Running, done: 0, total: 0, rows_read: 0, imported: 0, rejected: 0 }
}

#[component]
fn Base() -> impl IntoView {
    let i18n = use_i18n();
    let params = use_params_map();
    let base_id = Memo::new(move |_| params.read().get("id").and_then(|id| id.parse::<i64>().ok()).unwrap_or(0));
    let search = RwSignal::new(String::new());
    let typed = RwSignal::new(String::new());
    let page = RwSignal::new(0_u32);
    let update = ServerAction::<UpdateContact>::new();
    let delete = ServerAction::<DeleteContact>::new();
    let editing = RwSignal::new(None::<i64>);
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    let saved = RwSignal::new(0_usize);
    reload_on_success(saved, update);
    reload_on_success(saved, delete);
    let data = Resource::new(
        move || (base_id.get(), search.get(), page.get(), saved.get()),
        |(base_id, search, page, _)| contacts_of_base(base_id, search, page),
    );
    view! {
        <Transition fallback=|| ()>
            {move || Suspend::new(async move {
                match data.await {
                    Ok(content) => {
                        let base = content.base.clone();
                        let pages = (content.matching as u32).div_ceil(PAGE_SIZE).max(1);
                        let summary = fill(
                            td_string!(i18n.get_locale(), bases_summary),
                            &[
                                ("contacts", &base.contacts.to_string()),
                                ("rejected", &base.rejected.to_string()),
                                ("file", &base.source_file),
                                ("country", &base.country),
                            ],
                        );
                        let custom_fields = base.custom_fields.clone();
                        let listed = content.clone();
                        view! {
                            <h1>{base.name.clone()}</h1>
                            <p class="muted" data-testid="base-summary">
                                {summary}
                                " "
                                <a href=move || rejects_href(base.id, i18n.get_locale()) download="">{t!(i18n, bases_rejects_report)}</a>
                            </p>
                            <p data-testid="matching">
                                {fill(
                                    td_string!(i18n.get_locale(), bases_matching),
                                    &[("count", &content.matching.to_string()), ("page", &(content.page + 1).to_string()), ("pages", &pages.to_string())],
                                )}
                            </p>
                            <CsvLink filename="contacts.csv" rows=move |locale| contacts_csv(&listed, locale) />
                            <table class="grid" data-testid="contacts">
                                <thead>
                                    <tr>
                                        <th class="num">{t!(i18n, bases_line)}</th>
                                        <th>{t!(i18n, field_first_name)}</th>
                                        <th>{t!(i18n, field_last_name)}</th>
                                        <th>{t!(i18n, field_phone)}</th>
                                        <th>{t!(i18n, column_var1)}</th>
                                        <th>{t!(i18n, column_var2)}</th>
                                        {custom_fields.iter().map(|f| view! { <th>{f.clone()}</th> }).collect_view()}
                                        <th>{t!(i18n, actions)}</th>
                                    </tr>
                                </thead>
                                <tbody>
                                    {content
                                        .contacts
                                        .into_iter()
                                        .map(|contact| view! { <ContactRow contact editing update delete /> })
                                        .collect_view()}
                                </tbody>
                            </table>
                            <Pager page pages />
                        }
                            .into_any()
                    }
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
        <form
            class="filters"
            data-testid="contact-search"
            on:submit=move |ev| {
                ev.prevent_default();
                page.set(0);
                search.set(typed.get());
            }
        >
            <input type="search" name="search" prop:value=move || typed.get() on:input=move |ev| typed.set(event_target_value(&ev)) />
            <button type="submit">{t!(i18n, search)}</button>
        </form>
        <ErrorLine error=action_error(update) />
        <ErrorLine error=action_error(delete) />
    }
}

/// The page of contacts shown, with the base's own columns.
fn contacts_csv(page: &ContactPage, locale: Locale) -> Vec<Vec<String>> {
    let mut header = vec![
        td_string!(locale, bases_line).to_string(),
        td_string!(locale, field_first_name).to_string(),
        td_string!(locale, field_last_name).to_string(),
        td_string!(locale, field_phone).to_string(),
        td_string!(locale, column_var1).to_string(),
        td_string!(locale, column_var2).to_string(),
    ];
    header.extend(page.base.custom_fields.iter().cloned());
    let lines = page.contacts.iter().map(|c| {
        let mut row = vec![c.line.to_string(), c.first_name.clone(), c.last_name.clone(), c.phone.clone(), c.var1.clone(), c.var2.clone()];
        row.extend(c.custom.iter().cloned());
        row
    });
    std::iter::once(header).chain(lines).collect()
}

#[component]
fn ContactRow(
    contact: Contact,
    editing: RwSignal<Option<i64>>,
    update: ServerAction<UpdateContact>,
    delete: ServerAction<DeleteContact>,
) -> impl IntoView {
    let i18n = use_i18n();
    let id = contact.id;
    let fields = [
        RwSignal::new(contact.first_name.clone()),
        RwSignal::new(contact.last_name.clone()),
        RwSignal::new(contact.phone.clone()),
        RwSignal::new(contact.var1.clone()),
        RwSignal::new(contact.var2.clone()),
    ];
    let shown = [
        contact.first_name.clone(),
        contact.last_name.clone(),
        contact.phone.clone(),
        contact.var1.clone(),
        contact.var2.clone(),
    ];
    let save = move |_| {
        let [first_name, last_name, phone, var1, var2] = fields.map(|f| f.get());
        update.dispatch(UpdateContact { contact_id: id, edit: ContactEdit { first_name, last_name, phone, var1, var2 } });
    };
    let phone = contact.phone.clone();
    view! {
        <tr data-phone=phone>
            <td class="num">{contact.line}</td>
            {fields
                .into_iter()
                .zip(shown)
                .map(|(field, text)| {
                    view! {
                        <td>
                            <Show when=move || editing.get() == Some(id) fallback=move || text.clone()>
                                <input prop:value=move || field.get() on:input=move |ev| field.set(event_target_value(&ev)) />
                            </Show>
                        </td>
                    }
                })
                .collect_view()}
            {contact.custom.iter().map(|value| view! { <td>{value.clone()}</td> }).collect_view()}
            <td class="actions">
                <Show
                    when=move || editing.get() == Some(id)
                    fallback=move || {
                        view! {
                            <button class="link" on:click=move |_| editing.set(Some(id))>{t!(i18n, edit)}</button>
                            <button
                                class="link danger"
                                on:click=move |_| {
                                    if window().confirm_with_message(td_string!(i18n.get_locale(), bases_confirm_delete_contact)).unwrap_or(false) {
                                        delete.dispatch(DeleteContact { contact_id: id });
                                    }
                                }
                            >
                                {t!(i18n, delete)}
                            </button>
                        }
                    }
                >
                    <button class="link" on:click=save>{t!(i18n, save)}</button>
                    <button class="link" on:click=move |_| editing.set(None)>{t!(i18n, cancel)}</button>
                </Show>
            </td>
        </tr>
    }
}
