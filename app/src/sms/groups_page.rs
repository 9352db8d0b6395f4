//! The operator's modem groups page (`/admin/modems`): every group with its live counters,
//! start / stop / details / edit / new token / delete, the modems of a group on demand, and the
//! form that adds a group (its gateway's token is shown once, with the command that uses it).
//! The board arrives over the `live_modems` WebSocket and each push redraws in place.

use leptos::prelude::*;

use super::GroupSettings;
use super::api::{CreateModemGroup, DeleteModemGroup, GroupToken, RenewModemGroupToken, StartModemGroup, UpdateModemGroup};
use super::monitor::{Counters, GroupLive, ModemBoard, ModemLive};
use crate::auth::Permission;
use crate::error::fill;
use crate::i18n::*;
use crate::shell::live::{Link, LinkState};
use crate::shell::widgets::{CsvLink, ErrorLine, action_error};
use crate::shell::{NotAllowed, guarded};

#[component]
pub fn ModemGroupsPage() -> impl IntoView {
    guarded(Permission::ManageModems, |me| {
        if me.is_operator { view! { <ModemGroups /> }.into_any() } else { view! { <NotAllowed /> }.into_any() }
    })
}

#[component]
fn ModemGroups() -> impl IntoView {
    let i18n = use_i18n();
    let board = RwSignal::new(None::<ModemBoard>);
    let link = RwSignal::new(Link::Connecting);
    #[cfg(feature = "hydrate")]
    {
        use crate::shell::live::{alive_while_mounted, follow};
        let on_push = move |pushed: ModemBoard| board.set(Some(pushed));
        leptos::task::spawn_local(follow(super::api::live_modems, super::monitor::BoardRequest::Hello, on_push, link, alive_while_mounted()));
    }
    let create = ServerAction::<CreateModemGroup>::new();
    let update = ServerAction::<UpdateModemGroup>::new();
    let start = ServerAction::<StartModemGroup>::new();
    let delete = ServerAction::<DeleteModemGroup>::new();
    let renew = ServerAction::<RenewModemGroupToken>::new();
    let editing = RwSignal::new(None::<i64>);
    let details = RwSignal::new(Vec::<i64>::new());
    let token = RwSignal::new(None::<GroupToken>);
    Effect::new(move |_| {
        if let Some(Ok(issued)) = create.value().get() {
            token.set(Some(issued));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(issued)) = renew.value().get() {
            token.set(Some(issued));
        }
    });
    Effect::new(move |_| {
        if let Some(Ok(())) = update.value().get() {
            editing.set(None);
        }
    });
    let group_ids = Memo::new(move |_| board.with(|b| b.as_ref().map(|b| b.groups.iter().map(|g| g.id).collect::<Vec<_>>()).unwrap_or_default()));
    let now = Memo::new(move |_| board.with(|b| b.as_ref().map_or(0, |b| b.at_ms)));

    view! {
        <h1>{t!(i18n, menu_modems)}</h1>
        <LinkState link />
        <ErrorLine error=action_error(start) />
        <ErrorLine error=action_error(delete) />
        <ErrorLine error=action_error(renew) />
        <TokenNotice token />
        {move || match board.with(|b| b.as_ref().map(|b| (b.groups.is_empty(), b.waiting))) {
            None => view! { <p class="muted">{t!(i18n, live_waiting_first)}</p> }.into_any(),
            Some((empty, waiting)) => view! {
                <p data-testid="waiting" data-count=waiting>
                    {move || fill(td_string!(i18n.get_locale(), modems_waiting), &[("count", &waiting.to_string())])}
                </p>
                <Show when=move || empty>
                    <p class="muted" data-testid="no-group">{t!(i18n, modems_no_group)}</p>
                </Show>
            }
            .into_any(),
        }}
        <Show when=move || !group_ids.with(Vec::is_empty)>
            <div class="scroll">
            <table class="grid" data-testid="modem-groups">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_mac_address)}</th>
                        <th>{t!(i18n, field_alias)}</th>
                        <th class="num">{t!(i18n, modems_modems)}</th>
                        <th>{t!(i18n, field_state)}</th>
                        <th class="num">{t!(i18n, field_speed)}</th>
                        <CounterHeads />
                        <th>{t!(i18n, actions)}</th>
                    </tr>
                </thead>
                <For each=move || group_ids.get() key=|id| *id let:id>
                    <GroupRows group=Memo::new(move |_| group_of(board, id)) now editing details start delete renew />
                </For>
            </table>
            </div>
            {move || board.get().map(|b| view! { <CsvLink filename="modem-groups.csv" rows=move |locale| groups_csv(&b, locale) /> })}
        </Show>
        {move || {
            editing.get().and_then(|id| group_of(board, id)).map(|group| {
                let settings = GroupSettings {
                    mac: group.mac.clone(),
                    alias: group.alias.clone(),
                    modem_count: group.modem_count,
                    parts_per_minute: group.parts_per_minute,
                };
                view! {
                    <GroupForm
                        initial=settings
                        title=fill(td_string!(i18n.get_locale(), modems_edit), &[("name", &group.alias)])
                        testid="edit-group"
                        pending=update.pending().into()
                        error=action_error(update)
                        on_save=Callback::new(move |settings| {
                            update.dispatch(UpdateModemGroup { group_id: group.id, settings });
                        })
                        on_cancel=Some(Callback::new(move |()| editing.set(None)))
                    />
                }
            })
        }}
        <GroupForm
            initial=GroupSettings { modem_count: 4, parts_per_minute: 60, ..Default::default() }
            title=t_string!(i18n, modems_new).to_string()
            testid="new-group"
            pending=create.pending().into()
            error=action_error(create)
            on_save=Callback::new(move |settings| {
                create.dispatch(CreateModemGroup { settings });
            })
            on_cancel=None
        />
    }
}

fn group_of(board: RwSignal<Option<ModemBoard>>, id: i64) -> Option<GroupLive> {
    board.with(|b| b.as_ref().and_then(|b| b.groups.iter().find(|g| g.id == id).cloned()))
}

#[component]
fn CounterHeads() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <th class="num">{t!(i18n, modems_sent)}</th>
        <th class="num">{t!(i18n, modems_delivered)}</th>
        <th class="num">{t!(i18n, modems_delivered_percent)}</th>
        <th class="num">{t!(i18n, modems_queued)}</th>
    }
}

fn percent(counters: &Counters) -> String {
    counters.delivered_percent().map_or_else(|| "—".to_string(), |p| format!("{p} %"))
}

#[component]
fn CounterCells(counters: Signal<Counters>) -> impl IntoView {
    view! {
        <td class="num" data-testid="sent">{move || counters.get().sent}</td>
        <td class="num" data-testid="delivered">{move || counters.get().delivered}</td>
        <td class="num" data-testid="delivered-percent">{move || percent(&counters.get())}</td>
        <td class="num" data-testid="queued">{move || counters.get().queued}</td>
    }
}

/// A group's row, updated in place by each push, and its modems when the details are open.
#[component]
fn GroupRows(
    group: Memo<Option<GroupLive>>,
    now: Memo<i64>,
    editing: RwSignal<Option<i64>>,
    details: RwSignal<Vec<i64>>,
    start: ServerAction<StartModemGroup>,
    delete: ServerAction<DeleteModemGroup>,
    renew: ServerAction<RenewModemGroupToken>,
) -> impl IntoView {
    let i18n = use_i18n();
    let Some(first) = group.get_untracked() else { return ().into_any() };
    let id = first.id;
    let alias = first.alias.clone();
    let first = StoredValue::new(first);
    let get = move || group.get().unwrap_or_else(|| first.get_value());
    let started = Memo::new(move |_| group.with(|g| g.as_ref().is_some_and(|g| g.started)));
    let open = Memo::new(move |_| details.with(|d| d.contains(&id)));
    let counters = Signal::derive(move || group.with(|g| g.as_ref().map(|g| g.counters).unwrap_or_default()));
    view! {
        <tbody data-group=alias.clone()>
            <tr>
                <td class="mono">{move || get().mac}</td>
                <td>{move || get().alias}</td>
                <td class="num" data-testid="modem-count">{move || format!("{} / {}", get().modems.len(), get().modem_count)}</td>
                <td data-testid="group-state" data-started=move || started.get().to_string() data-connected=move || get().connected(now.get()).to_string()>
                    {move || {
                        let g = get();
                        let locale = i18n.get_locale();
                        let run = if g.started { td_string!(locale, modems_started) } else { td_string!(locale, modems_stopped) };
                        let heard = if g.connected(now.get()) { td_string!(locale, modems_connected) } else { td_string!(locale, modems_disconnected) };
                        format!("{run} · {heard}")
                    }}
                </td>
                <td class="num">{move || get().parts_per_minute}</td>
                <CounterCells counters />
                <td class="actions">
                    <button
                        class="link"
                        data-testid="start-stop"
                        on:click=move |_| {
                            start.dispatch(StartModemGroup { group_id: id, started: !started.get_untracked() });
                        }
                    >
                        {move || if started.get() { t_string!(i18n, modems_stop) } else { t_string!(i18n, modems_start) }}
                    </button>
                    <button
                        class="link"
                        data-testid="details"
                        on:click=move |_| details.update(|d| if d.contains(&id) { d.retain(|x| *x != id) } else { d.push(id) })
                    >
                        {t!(i18n, modems_details)}
                    </button>
                    <button class="link" data-testid="edit" on:click=move |_| editing.set(Some(id))>{t!(i18n, edit)}</button>
                    <button
                        class="link"
                        data-testid="renew-token"
                        on:click=move |_| {
                            let question = fill(td_string!(i18n.get_locale(), modems_confirm_token), &[("name", &get().alias)]);
                            if window().confirm_with_message(&question).unwrap_or(false) {
                                renew.dispatch(RenewModemGroupToken { group_id: id });
                            }
                        }
                    >
                        {t!(i18n, modems_new_token)}
                    </button>
                    <button
                        class="link danger"
                        data-testid="delete"
                        on:click=move |_| {
                            let question = fill(td_string!(i18n.get_locale(), modems_confirm_delete), &[("name", &get().alias)]);
                            if window().confirm_with_message(&question).unwrap_or(false) {
                                delete.dispatch(DeleteModemGroup { group_id: id });
                            }
                        }
                    >
                        {t!(i18n, delete)}
                    </button>
                </td>
            </tr>
            <Show when=move || open.get()>
                <tr class="details">
                    <td colspan="10">
                        <ModemTable modems=Signal::derive(move || group.with(|g| g.as_ref().map(|g| g.modems.clone()).unwrap_or_default())) now />
                    </td>
                </tr>
            </Show>
        </tbody>
    }
    .into_any()
}

fn signal_text(modem: &ModemLive) -> String {
    modem.signal.map_or_else(|| "—".to_string(), |s| format!("{} dBm ({}/5)", s.dbm, s.quality))
}

#[component]
fn ModemTable(modems: Signal<Vec<ModemLive>>, now: Memo<i64>) -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <Show when=move || !modems.with(Vec::is_empty) fallback=move || view! { <p class="muted">{t!(i18n, modems_none_reported)}</p> }>
            <table class="grid inner" data-testid="modems">
                <thead>
                    <tr>
                        <th>{t!(i18n, modems_imei)}</th>
                        <th>{t!(i18n, modems_port)}</th>
                        <th>{t!(i18n, modems_operator)}</th>
                        <th>{t!(i18n, modems_sim)}</th>
                        <th>{t!(i18n, modems_registration)}</th>
                        <th>{t!(i18n, modems_signal)}</th>
                        <CounterHeads />
                        <th>{t!(i18n, modems_problem)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=move || modems.get() key=|m| m.id let:modem>
                        <ModemRow id=modem.id modems now />
                    </For>
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn ModemRow(id: i64, modems: Signal<Vec<ModemLive>>, now: Memo<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let modem = Memo::new(move |_| modems.with(|all| all.iter().find(|m| m.id == id).cloned()));
    let field = move |read: fn(&ModemLive) -> String| move || modem.with(|m| m.as_ref().map(read).unwrap_or_default());
    let counters = Signal::derive(move || modem.with(|m| m.as_ref().map(|m| m.counters).unwrap_or_default()));
    view! {
        <tr data-imei=move || modem.with(|m| m.as_ref().map(|m| m.imei.clone()).unwrap_or_default())>
            <td class="mono">{field(|m| m.imei.clone())}</td>
            <td class="mono">{field(|m| m.port.clone())}</td>
            <td>{field(|m| m.operator.clone())}</td>
            <td data-testid="sim">{move || modem.with(|m| m.as_ref().map(|m| m.sim.label(i18n.get_locale())).unwrap_or_default())}</td>
            <td>{move || modem.with(|m| m.as_ref().map(|m| m.registration.label(i18n.get_locale())).unwrap_or_default())}</td>
            <td data-testid="signal">{field(signal_text)}</td>
            <CounterCells counters />
            <td class="problem" data-testid="problem">
                {move || {
                    let locale = i18n.get_locale();
                    modem.with(|m| {
                        let Some(m) = m else { return String::new() };
                        if m.set_aside_until_ms > now.get() {
                            let minutes = (m.set_aside_until_ms - now.get() + 59_999) / 60_000;
                            let aside = fill(td_string!(locale, modems_set_aside), &[("minutes", &minutes.to_string())]);
                            format!("{aside} {}", m.error)
                        } else {
                            m.error.clone()
                        }
                    })
                }}
            </td>
        </tr>
    }
}

/// The token of a group just created or given a new one: shown once, with the command its
/// computer runs.
#[component]
fn TokenNotice(token: RwSignal<Option<GroupToken>>) -> impl IntoView {
    let i18n = use_i18n();
    let origin = move || {
        #[cfg(feature = "hydrate")]
        {
            window().location().origin().unwrap_or_default()
        }
        #[cfg(not(feature = "hydrate"))]
        {
            String::new()
        }
    };
    view! {
        {move || {
            token.get().map(|issued| {
                let command = format!("relais gateway --server {} --token {}", origin(), issued.token);
                view! {
                    <div class="notice" data-testid="group-token">
                        <p>{t!(i18n, modems_token_once)}</p>
                        <p><code data-testid="token">{issued.token.clone()}</code></p>
                        <p>{t!(i18n, modems_token_command)}</p>
                        <p><code data-testid="gateway-command">{command}</code></p>
                        <button class="secondary" on:click=move |_| token.set(None)>{t!(i18n, modems_token_noted)}</button>
                    </div>
                }
            })
        }}
    }
}

#[component]
fn GroupForm(
    initial: GroupSettings,
    title: String,
    testid: &'static str,
    pending: Signal<bool>,
    error: Signal<Option<crate::error::AppError>>,
    on_save: Callback<GroupSettings>,
    on_cancel: Option<Callback<()>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let mac = RwSignal::new(initial.mac.clone());
    let alias = RwSignal::new(initial.alias.clone());
    let modem_count = RwSignal::new(initial.modem_count.to_string());
    let speed = RwSignal::new(initial.parts_per_minute.to_string());
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        // A number that does not parse is sent as 0, which the server refuses naming the field.
        on_save.run(GroupSettings {
            mac: mac.get_untracked(),
            alias: alias.get_untracked(),
            modem_count: modem_count.get_untracked().trim().parse().unwrap_or(0),
            parts_per_minute: speed.get_untracked().trim().parse().unwrap_or(0),
        });
    };
    view! {
        <form class="card" on:submit=submit data-testid=testid>
            <h2>{title}</h2>
            <div class="fields">
                <label>{t!(i18n, field_mac_address)}<input name="mac" placeholder="00:1a:2b:3c:4d:5e" bind:value=mac /></label>
                <label>{t!(i18n, field_alias)}<input name="alias" maxlength="80" bind:value=alias /></label>
                <label>{t!(i18n, field_modem_count)}<input name="modem_count" type="number" min="1" max="256" bind:value=modem_count /></label>
                <label>{t!(i18n, field_speed)}<input name="speed" type="number" min="1" max="100000" bind:value=speed /></label>
            </div>
            <ErrorLine error />
            <button type="submit" disabled=move || pending.get()>{t!(i18n, save)}</button>
            {on_cancel.map(|cancel| view! { <button type="button" class="secondary" on:click=move |_| cancel.run(())>{t!(i18n, cancel)}</button> })}
        </form>
    }
}

fn groups_csv(board: &ModemBoard, locale: Locale) -> Vec<Vec<String>> {
    let header = [
        td_string!(locale, field_alias),
        td_string!(locale, field_mac_address),
        td_string!(locale, modems_imei),
        td_string!(locale, modems_port),
        td_string!(locale, modems_operator),
        td_string!(locale, modems_sim),
        td_string!(locale, modems_registration),
        td_string!(locale, modems_signal),
        td_string!(locale, modems_sent),
        td_string!(locale, modems_delivered),
        td_string!(locale, modems_delivered_percent),
        td_string!(locale, modems_queued),
    ]
    .map(str::to_string)
    .to_vec();
    let mut rows = vec![header];
    for group in &board.groups {
        let c = &group.counters;
        rows.push(vec![
            group.alias.clone(),
            group.mac.clone(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            c.sent.to_string(),
            c.delivered.to_string(),
            percent(c),
            c.queued.to_string(),
        ]);
        for modem in &group.modems {
            let c = &modem.counters;
            rows.push(vec![
                group.alias.clone(),
                group.mac.clone(),
                modem.imei.clone(),
                modem.port.clone(),
                modem.operator.clone(),
                modem.sim.label(locale).to_string(),
                modem.registration.label(locale).to_string(),
                signal_text(modem),
                c.sent.to_string(),
                c.delivered.to_string(),
                percent(c),
                c.queued.to_string(),
            ]);
        }
    }
    rows
}
