//! The supervisor's live dashboard. The page opens the `live_dashboard` WebSocket once hydrated
//! and redraws from each push; it reconnects with backoff when the socket drops. Times in state
//! and waits tick every second from the server's clock, so they need no push.

use leptos::prelude::*;

use super::api::ActOnQueue;
use super::{Dashboard, DashboardAction, DashboardQueue, MAX_PENALTY};
use crate::acd::{DeviceStatus, MemberLive, PbxState};
use crate::auth::Permission;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::live::{Link, LinkState};
use crate::shell::widgets::{ErrorLine, action_error};

#[component]
pub fn DashboardPage() -> impl IntoView {
    guarded(Permission::SuperviseQueues, |_| view! { <LiveDashboard /> })
}

#[component]
fn LiveDashboard() -> impl IntoView {
    let i18n = use_i18n();
    let board = RwSignal::new(None::<Dashboard>);
    let link = RwSignal::new(Link::Connecting);
    // Server time as last pushed, and the browser time it arrived at: now = pushed + elapsed.
    let clock = RwSignal::new((0_i64, 0_f64));
    let tick = RwSignal::new(0_f64);
    let act = ServerAction::<ActOnQueue>::new();

    #[cfg(feature = "hydrate")]
    {
        use crate::shell::live::{alive_while_mounted, follow};
        let on_push = move |dashboard: Dashboard| {
            clock.try_set((dashboard.now_ms, js_sys::Date::now()));
            board.try_set(Some(dashboard));
        };
        let opening = follow(super::api::live_dashboard, super::DashboardRequest::Hello, on_push, link, alive_while_mounted());
        leptos::task::spawn_local(opening);
        if let Ok(handle) = set_interval_with_handle(move || tick.set(js_sys::Date::now()), std::time::Duration::from_secs(1)) {
            on_cleanup(move || handle.clear());
        }
    }

    let queue_ids = Memo::new(move |_| {
        board.with(|b| b.as_ref().map(|d| d.queues.iter().map(|q| q.id).collect::<Vec<_>>()).unwrap_or_default())
    });
    let now = Signal::derive(move || {
        let (server_ms, received_at) = clock.get();
        let elapsed = (tick.get() - received_at).max(0.0) as i64;
        server_ms + elapsed
    });

    view! {
        <h1>{t!(i18n, menu_dashboard)}</h1>
        <LinkState link />
        <ErrorLine error=action_error(act) />
        {move || match board.with(|b| b.as_ref().map(|d| d.queues.is_empty())) {
            None => view! { <p class="muted">{t!(i18n, live_waiting_first)}</p> }.into_any(),
            Some(true) => view! { <p class="muted" data-testid="no-queue">{t!(i18n, live_no_queue)}</p> }.into_any(),
            Some(false) => ().into_any(),
        }}
        <WaitingSummary board now />
        // Panels are keyed by queue and member rows by interface, updated in place: a push
        // changes only the text that changed.
        <For each=move || queue_ids.get() key=|id| *id let:id>
            <QueuePanel queue=Memo::new(move |_| queue_of(board, id)) now act />
        </For>
    }
}

fn queue_of(board: RwSignal<Option<Dashboard>>, id: i64) -> Option<DashboardQueue> {
    board.with(|b| b.as_ref().and_then(|d| d.queues.iter().find(|q| q.id == id).cloned()))
}

#[component]
fn WaitingSummary(board: RwSignal<Option<Dashboard>>, now: Signal<i64>) -> impl IntoView {
    let i18n = use_i18n();
    let queues = Memo::new(move |_| board.with(|b| b.as_ref().map(|d| d.queues.clone()).unwrap_or_default()));
    view! {
        <Show when=move || !queues.with(Vec::is_empty)>
            <table class="grid" data-testid="waiting-summary">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_queue_name)}</th>
                        <th class="num">{t!(i18n, live_agents_connected)}</th>
                        <th class="num">{t!(i18n, live_calls_waiting)}</th>
                        <th class="num">{t!(i18n, live_longest_wait)}</th>
                    </tr>
                </thead>
                <tbody>
                    {move || {
                        queues
                            .get()
                            .into_iter()
                            .map(|queue| {
                                let waiting = queue.callers.len();
                                let connected = queue.agents_connected();
                                let name = queue.name.clone();
                                let key = queue.name.clone();
                                view! {
                                    <tr data-queue=key>
                                        <td>{name}</td>
                                        <td class="num">{connected}</td>
                                        <td class="num" data-testid="calls-waiting">{waiting}</td>
                                        <td class="num">{move || duration(queue.longest_wait_ms(now.get()) / 1000)}</td>
                                    </tr>
                                }
                            })
                            .collect_view()
                    }}
                </tbody>
            </table>
        </Show>
    }
}

#[component]
fn QueuePanel(queue: Memo<Option<DashboardQueue>>, now: Signal<i64>, act: ServerAction<ActOnQueue>) -> impl IntoView {
    let i18n = use_i18n();
    let field = move |f: fn(&DashboardQueue) -> String| move || queue.with(|q| q.as_ref().map(f).unwrap_or_default());
    let queue_id = Memo::new(move |_| queue.with(|q| q.as_ref().map(|q| q.id).unwrap_or_default()));
    let state = Memo::new(move |_| queue.with(|q| q.as_ref().and_then(|q| q.state.clone())));
    let state_class = move || match state.get() {
        Some(PbxState::Connected) => "badge ok",
        Some(PbxState::Connecting | PbxState::Reconnecting { .. }) => "badge warn",
        _ => "badge bad",
    };
    let unknown_to_pbx = move || queue.with(|q| q.as_ref().is_some_and(|q| !q.on_pbx && q.state == Some(PbxState::Connected)));
    let interfaces = move || queue.with(|q| q.as_ref().map(|q| q.members.iter().map(|m| m.interface.clone()).collect::<Vec<_>>()).unwrap_or_default());
    let callers = move || queue.with(|q| q.as_ref().map(|q| q.callers.clone()).unwrap_or_default());
    let addable = Memo::new(move |_| queue.with(|q| q.as_ref().map(|q| q.addable.clone()).unwrap_or_default()));
    view! {
        <section class="card queue-panel" data-testid="queue-panel" data-queue=field(|q| q.name.clone())>
            <h2>
                {field(|q| q.name.clone())}
                <span class=state_class data-testid="pbx-state">
                    {move || pbx_state_label(i18n.get_locale(), state.get().as_ref())}
                </span>
            </h2>
            <p class="muted">{field(|q| q.description.clone())}</p>
            <Show when=unknown_to_pbx>
                <p class="warning">{t!(i18n, live_queue_not_on_pbx)}</p>
            </Show>
            <table class="grid members" data-testid="members">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_agent)}</th>
                        <th>{t!(i18n, field_penalty)}</th>
                        <th>{t!(i18n, live_state)}</th>
                        <th class="num">{t!(i18n, live_time_in_state)}</th>
                        <th class="num">{t!(i18n, live_calls_received)}</th>
                        <th class="num">{t!(i18n, live_calls_made)}</th>
                        <th>{t!(i18n, actions)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=interfaces key=|interface| interface.clone() let:interface>
                        {
                            let key = interface.clone();
                            let member = Memo::new(move |_| {
                                queue.with(|q| q.as_ref().and_then(|q| q.members.iter().find(|m| m.interface == key).cloned()))
                            });
                            view! { <MemberRow queue_id=queue_id.get_untracked() interface member now act /> }
                        }
                    </For>
                </tbody>
            </table>
            {move || view! { <AddAgent queue_id=queue_id.get() addable=addable.get() act /> }}
            <h3>{t!(i18n, live_waiting_calls)}</h3>
            <table class="grid callers" data-testid="callers">
                <thead>
                    <tr>
                        <th class="num">{t!(i18n, live_position)}</th>
                        <th>{t!(i18n, live_caller)}</th>
                        <th class="num">{t!(i18n, live_wait)}</th>
                    </tr>
                </thead>
                <tbody>
                    <For each=callers key=|caller| caller.clone() let:caller>
                        {
                            let joined = caller.joined_at_ms;
                            let who = if caller.caller_name.is_empty() || caller.caller_name == caller.caller_number {
                                caller.caller_number.clone()
                            } else {
                                format!("{} ({})", caller.caller_name, caller.caller_number)
                            };
                            view! {
                                <tr data-uniqueid=caller.uniqueid.clone()>
                                    <td class="num">{caller.position}</td>
                                    <td>{who}</td>
                                    <td class="num">{move || duration((now.get() - joined).max(0) / 1000)}</td>
                                </tr>
                            }
                        }
                    </For>
                </tbody>
            </table>
        </section>
    }
}

/// One member's row. It lives as long as the member is in the queue and updates its cells in
/// place, so a push changes text, not rows, and a pause reason being typed stays.
#[component]
fn MemberRow(
    queue_id: i64,
    interface: String,
    member: Memo<Option<MemberLive>>,
    now: Signal<i64>,
    act: ServerAction<ActOnQueue>,
) -> impl IntoView {
    let i18n = use_i18n();
    let get = move |f: fn(&MemberLive) -> String| move || member.with(|m| m.as_ref().map(f).unwrap_or_default());
    let paused = Memo::new(move |_| member.with(|m| m.as_ref().is_some_and(|m| m.paused)));
    let recording = Memo::new(move |_| member.with(|m| m.as_ref().is_some_and(|m| m.recording)));
    let in_call = Memo::new(move |_| member.with(|m| m.as_ref().is_some_and(|m| m.channel.is_some())));
    let pausing = RwSignal::new(false);
    let pause_reason = RwSignal::new(String::new());
    let send = move |action: DashboardAction| {
        act.dispatch(ActOnQueue { queue_id, action });
    };
    let (i1, i2, i3, i4, i5, i6) =
        (interface.clone(), interface.clone(), interface.clone(), interface.clone(), interface.clone(), interface.clone());
    view! {
        <tr
            data-interface=interface.clone()
            data-status=get(|m| format!("{:?}", m.status))
            data-paused=move || paused.get().to_string()
        >
            <td>
                <span class="agent-name">{get(|m| if m.name.is_empty() { m.interface.clone() } else { m.name.clone() })}</span>
                <br />
                <small class="muted">{interface.clone()}</small>
            </td>
            <td>
                <input
                    class="penalty"
                    type="number"
                    min="0"
                    max=MAX_PENALTY
                    prop:value=get(|m| m.penalty.to_string())
                    on:change=move |ev| {
                        if let Ok(value) = event_target_value(&ev).trim().parse::<u32>() {
                            send(DashboardAction::SetPenalty { interface: i1.clone(), penalty: value });
                        }
                    }
                />
            </td>
            <td data-testid="member-state">
                {move || {
                    member
                        .with(|m| m.as_ref().map(|m| (m.status, m.paused, m.paused_reason.clone())))
                        .map(|(status, paused, reason)| {
                            let mut text = status_label(i18n.get_locale(), status).to_string();
                            if paused {
                                text.push_str(" · ");
                                text.push_str(t_string!(i18n, live_paused));
                                if !reason.is_empty() {
                                    text.push_str(&format!(" ({reason})"));
                                }
                            }
                            text
                        })
                }}
                <Show when=move || recording.get()>
                    <span class="badge bad">" ● " {move || t_string!(i18n, live_recording)}</span>
                </Show>
            </td>
            <td class="num">
                {move || duration((now.get() - member.with(|m| m.as_ref().map(|m| m.state_since_ms).unwrap_or(0))).max(0) / 1000)}
            </td>
            <td class="num">{get(|m| format!("{} · {}", m.received_count, duration(m.received_talk_secs as i64)))}</td>
            <td class="num">{get(|m| format!("{} · {}", m.made_count, duration(m.made_secs as i64)))}</td>
            <td class="actions">
                <button class="link" data-action="listen" on:click=move |_| send(DashboardAction::Listen { interface: i2.clone() })>
                    {t!(i18n, live_listen)}
                </button>
                {
                    let (start, stop) = (i3.clone(), i3.clone());
                    view! {
                        <Show
                            when=move || recording.get()
                            fallback=move || {
                                let start = start.clone();
                                view! {
                                    <button class="link" data-action="record" disabled=move || !in_call.get() on:click=move |_| send(DashboardAction::RecordStart { interface: start.clone() })>
                                        {t!(i18n, live_record)}
                                    </button>
                                }
                            }
                        >
                            {
                                let stop = stop.clone();
                                view! {
                                    <button class="link" data-action="record-stop" on:click=move |_| send(DashboardAction::RecordStop { interface: stop.clone() })>
                                        {t!(i18n, live_record_stop)}
                                    </button>
                                }
                            }
                        </Show>
                    }
                }
                {
                    let resume = i4.clone();
                    view! {
                        <Show
                            when=move || paused.get()
                            fallback=move || view! {
                                <button class="link" data-action="pause" on:click=move |_| pausing.set(true)>
                                    {t!(i18n, live_pause)}
                                </button>
                            }
                        >
                            {
                                let resume = resume.clone();
                                view! {
                                    <button class="link" data-action="unpause" on:click=move |_| send(DashboardAction::Unpause { interface: resume.clone() })>
                                        {t!(i18n, live_unpause)}
                                    </button>
                                }
                            }
                        </Show>
                    }
                }
                <button class="link danger" data-action="remove" on:click=move |_| send(DashboardAction::Remove { interface: i5.clone() })>
                    {t!(i18n, live_remove)}
                </button>
                <Show when=move || pausing.get()>
                    {
                        let i6 = i6.clone();
                        view! {
                            <form
                                class="inline"
                                on:submit=move |ev| {
                                    ev.prevent_default();
                                    send(DashboardAction::Pause { interface: i6.clone(), reason: pause_reason.get() });
                                    pausing.set(false);
                                }
                            >
                                <input name="reason" maxlength="80" placeholder=move || t_string!(i18n, live_pause_reason) bind:value=pause_reason />
                                <button type="submit">{t!(i18n, live_pause)}</button>
                                <button type="button" class="secondary" on:click=move |_| pausing.set(false)>{t!(i18n, cancel)}</button>
                            </form>
                        }
                    }
                </Show>
            </td>
        </tr>
    }
}

#[component]
fn AddAgent(queue_id: i64, addable: Vec<crate::acd::queues::UserChoice>, act: ServerAction<ActOnQueue>) -> impl IntoView {
    let i18n = use_i18n();
    let chosen = RwSignal::new(addable.first().map(|u| u.id.to_string()).unwrap_or_default());
    let penalty = RwSignal::new("0".to_string());
    let empty = addable.is_empty();
    let submit = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        if let (Ok(user_id), Ok(penalty)) = (chosen.get().parse::<i64>(), penalty.get().trim().parse::<u32>()) {
            act.dispatch(ActOnQueue { queue_id, action: DashboardAction::AddAgent { user_id, penalty } });
        }
    };
    view! {
        <form class="inline add-agent" on:submit=submit data-testid="add-agent">
            <label>
                {t!(i18n, live_add_agent)}
                <select name="agent" disabled=empty on:change=move |ev| chosen.set(event_target_value(&ev))>
                    {addable
                        .into_iter()
                        .map(|u| view! { <option value=u.id.to_string()>{format!("{} — {}", u.name, u.own_phone)}</option> })
                        .collect_view()}
                </select>
            </label>
            <label>
                {t!(i18n, field_penalty)}
                <input name="penalty" type="number" min="0" max=MAX_PENALTY bind:value=penalty />
            </label>
            <button type="submit" disabled=empty>{t!(i18n, add)}</button>
        </form>
    }
}

fn pbx_state_label(locale: Locale, state: Option<&PbxState>) -> String {
    match state {
        None => td_string!(locale, pbx_not_configured).to_string(),
        Some(PbxState::Connecting) => td_string!(locale, pbx_connecting).to_string(),
        Some(PbxState::Connected) => td_string!(locale, pbx_connected).to_string(),
        Some(PbxState::Reconnecting { .. }) => td_string!(locale, pbx_reconnecting).to_string(),
        Some(PbxState::Unreachable { .. }) => td_string!(locale, pbx_unreachable).to_string(),
    }
}

pub fn status_label(locale: Locale, status: DeviceStatus) -> &'static str {
    match status {
        DeviceStatus::Unknown => td_string!(locale, device_unknown),
        DeviceStatus::NotInUse => td_string!(locale, device_not_in_use),
        DeviceStatus::InUse => td_string!(locale, device_in_use),
        DeviceStatus::Busy => td_string!(locale, device_busy),
        DeviceStatus::Invalid => td_string!(locale, device_invalid),
        DeviceStatus::Unavailable => td_string!(locale, device_unavailable),
        DeviceStatus::Ringing => td_string!(locale, device_ringing),
        DeviceStatus::RingInUse => td_string!(locale, device_ring_in_use),
        DeviceStatus::OnHold => td_string!(locale, device_on_hold),
    }
}

/// Seconds as `m:ss`, or `h:mm:ss` from an hour.
pub fn duration(secs: i64) -> String {
    let secs = secs.max(0);
    let (h, m, s) = (secs / 3600, (secs % 3600) / 60, secs % 60);
    if h > 0 { format!("{h}:{m:02}:{s:02}") } else { format!("{m}:{s:02}") }
}
