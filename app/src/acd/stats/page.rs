//! ACD statistics pages: filters, then each table with its chart (charming, drawn by Apache
//! ECharts served from /vendor) and its CSV export. Global call statistics from the CDR.

use charming::Chart;
use charming::component::Axis;
use charming::element::AxisType;
use charming::series::{Bar, Line};
use leptos::prelude::*;
use leptos_meta::Script;

use super::api::{acd_statistics, call_statistics};
use super::{AcdReport, BUCKET_SECS, CdrReport, Period, Slot, StatsFilter, WaitBucket, cumulative_percent, hms, percent};
use crate::auth::Permission;
use crate::i18n::*;
use crate::shell::guarded;
use crate::shell::charts::{ChartBox, base_chart};
use crate::shell::widgets::{CsvLink, ErrorLine};

#[component]
pub fn AcdStatsPage() -> impl IntoView {
    guarded(Permission::AcdStatistics, |_| view! { <AcdStats /> })
}

#[component]
pub fn CallStatsPage() -> impl IntoView {
    guarded(Permission::AcdStatistics, |_| view! { <CallStats /> })
}

fn pct(value: f64) -> String {
    format!("{value:.1} %")
}

fn bucket_label(bucket: &WaitBucket) -> String {
    if bucket.open_ended {
        format!("≥ {} s", bucket.from_secs)
    } else {
        format!("{}–{} s", bucket.from_secs, bucket.from_secs + BUCKET_SECS)
    }
}

fn weekday_label(locale: Locale, day: u8) -> String {
    match day {
        1 => td_string!(locale, day_mon),
        2 => td_string!(locale, day_tue),
        3 => td_string!(locale, day_wed),
        4 => td_string!(locale, day_thu),
        5 => td_string!(locale, day_fri),
        6 => td_string!(locale, day_sat),
        _ => td_string!(locale, day_sun),
    }
    .to_string()
}

fn half_hour_label(slot: u8) -> String {
    format!("{:02}:{:02}", slot / 2, (slot % 2) * 30)
}

/// What the period form holds; turned into a `Period` on Apply. The CRM statistics use it too.
#[derive(Clone, Copy)]
pub struct PeriodForm {
    pub kind: RwSignal<String>,
    pub month: RwSignal<String>,
    pub from: RwSignal<String>,
    pub to: RwSignal<String>,
}

impl PeriodForm {
    pub fn new(kind: &str) -> PeriodForm {
        PeriodForm {
            kind: RwSignal::new(kind.to_string()),
            month: RwSignal::new(String::new()),
            from: RwSignal::new(String::new()),
            to: RwSignal::new(String::new()),
        }
    }

    /// The period chosen, or `None` for "whole" (see `PeriodFields`).
    pub fn chosen(self) -> Option<Period> {
        (self.kind.get() != "whole").then(|| self.period())
    }

    pub fn period(self) -> Period {
        match self.kind.get().as_str() {
            "yesterday" => Period::Yesterday,
            "last10" => Period::Last10Days,
            "month" => {
                let text = self.month.get();
                let (year, month) = text.split_once('-').unwrap_or(("0", "0"));
                Period::Month { year: year.parse().unwrap_or(0), month: month.parse().unwrap_or(0) }
            }
            "dates" => Period::Dates { from: self.from.get(), to: self.to.get() },
            _ => Period::Today,
        }
    }
}

#[component]
fn AcdStats() -> impl IntoView {
    let i18n = use_i18n();
    let form = PeriodForm::new("today");
    let queues = RwSignal::new(Vec::<String>::new());
    let agents = RwSignal::new(Vec::<String>::new());
    let filter = RwSignal::new(StatsFilter { period: Period::Today, queues: vec![], agents: vec![] });
    let report = Resource::new(move || filter.get(), acd_statistics);
    let choices = RwSignal::new((Vec::<String>::new(), Vec::<String>::new()));
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            choices.set((r.queue_choices.clone(), r.agent_choices.clone()));
        }
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        filter.set(StatsFilter { period: form.period(), queues: queues.get(), agents: agents.get() });
    };
    view! {
        <Script src="/vendor/echarts.min.js" />
        <h1>{t!(i18n, menu_acd_stats)}</h1>
        <form class="card filters" on:submit=apply data-testid="stats-filter">
            <PeriodFields form />
            <div class="columns">
                <Checks legend=Signal::derive(move || t_string!(i18n, stats_queues).to_string()) options=Signal::derive(move || choices.get().0) selected=queues name="queues" />
                <Checks legend=Signal::derive(move || t_string!(i18n, stats_agents).to_string()) options=Signal::derive(move || choices.get().1) selected=agents name="agents" />
            </div>
            <button type="submit">{t!(i18n, stats_apply)}</button>
        </form>
        <KpiHelp />
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, stats_loading)}</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <AcdReportView report /> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
pub fn PeriodFields(
    form: PeriodForm,
    /// When set, a first choice "whole" (`PeriodForm::chosen` gives `None` for it).
    #[prop(optional, into)]
    whole: Option<Signal<String>>,
) -> impl IntoView {
    let i18n = use_i18n();
    let selected = move |kind: &'static str| move || form.kind.get() == kind;
    view! {
        <div class="fields">
            <label>
                {t!(i18n, field_period)}
                <select name="period" on:change=move |ev| form.kind.set(event_target_value(&ev))>
                    {whole.map(|label| view! { <option value="whole" prop:selected=selected("whole")>{label}</option> })}
                    <option value="today" prop:selected=selected("today")>{t!(i18n, period_today)}</option>
                    <option value="yesterday" prop:selected=selected("yesterday")>{t!(i18n, period_yesterday)}</option>
                    <option value="last10" prop:selected=selected("last10")>{t!(i18n, period_last10)}</option>
                    <option value="month" prop:selected=selected("month")>{t!(i18n, period_month)}</option>
                    <option value="dates" prop:selected=selected("dates")>{t!(i18n, period_dates)}</option>
                </select>
            </label>
            <Show when=move || form.kind.get() == "month">
                <label>{t!(i18n, period_month)}<input name="month" type="month" bind:value=form.month /></label>
            </Show>
            <Show when=move || form.kind.get() == "dates">
                <label>{t!(i18n, period_from)}<input name="from" type="date" bind:value=form.from /></label>
                <label>{t!(i18n, period_to)}<input name="to" type="date" bind:value=form.to /></label>
            </Show>
        </div>
    }
}

#[component]
fn Checks(legend: Signal<String>, options: Signal<Vec<String>>, selected: RwSignal<Vec<String>>, name: &'static str) -> impl IntoView {
    view! {
        <fieldset class="profiles" data-testid=name>
            <legend>{legend}</legend>
            {move || {
                options
                    .get()
                    .into_iter()
                    .map(|option| {
                        let value = option.clone();
                        let checked = option.clone();
                        view! {
                            <label class="check">
                                <input
                                    type="checkbox"
                                    value=option.clone()
                                    prop:checked=move || selected.read().contains(&checked)
                                    on:change=move |ev| {
                                        let on = event_target_checked(&ev);
                                        let value = value.clone();
                                        selected.update(|list| {
                                            list.retain(|v| *v != value);
                                            if on {
                                                list.push(value);
                                            }
                                        });
                                    }
                                />
                                {option}
                            </label>
                        }
                    })
                    .collect_view()
            }}
        </fieldset>
    }
}

#[component]
fn KpiHelp() -> impl IntoView {
    let i18n = use_i18n();
    view! {
        <details class="card help" data-testid="kpi-help">
            <summary>{t!(i18n, stats_help_title)}</summary>
            <ul>
                <li>{t!(i18n, kpi_outcomes)}</li>
                <li>{t!(i18n, kpi_service_level)}</li>
                <li>{t!(i18n, kpi_buckets)}</li>
                <li>{t!(i18n, kpi_calendar)}</li>
                <li>{t!(i18n, kpi_agents)}</li>
            </ul>
        </details>
    }
}

#[component]
fn AcdReportView(report: AcdReport) -> impl IntoView {
    let i18n = use_i18n();
    let period = format!("{} → {} ({})", report.first_day, report.last_day, report.time_zone);
    view! {
        <p class="muted" data-testid="stats-period">{period}</p>
        <OutcomesSection report=report.clone() />
        <ServiceLevelSection report=report.clone() />
        <AbandonSection report=report.clone() />
        <CalendarSection
            title=Signal::derive(move || t_string!(i18n, stats_weekdays).to_string())
            id="weekdays"
            slots=report.weekdays.clone()
            weekday=true
        />
        <CalendarSection
            title=Signal::derive(move || t_string!(i18n, stats_half_hours).to_string())
            id="half-hours"
            slots=report.half_hours.clone()
            weekday=false
        />
        <AgentsSection report />
    }
}

#[component]
fn OutcomesSection(report: AcdReport) -> impl IntoView {
    let i18n = use_i18n();
    let outcomes = report.outcomes.clone();
    let rows = {
        let outcomes = outcomes.clone();
        move |locale: Locale| {
            let mut rows = vec![
                [
                    td_string!(locale, field_queue_name), td_string!(locale, stats_offered), td_string!(locale, stats_answered),
                    td_string!(locale, stats_abandoned), td_string!(locale, stats_dissuaded), td_string!(locale, stats_closed),
                    td_string!(locale, stats_timed_out),
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(outcomes.iter().map(|o| {
                vec![
                    o.queue.clone(), o.offered.to_string(), o.answered.to_string(), o.abandoned.to_string(),
                    o.dissuaded.to_string(), o.closed.to_string(), o.timed_out.to_string(),
                ]
            }));
            rows
        }
    };
    let chart = {
        let outcomes = outcomes.clone();
        Signal::derive(move || {
            let locale = i18n.get_locale();
            let labels: Vec<String> = outcomes.iter().map(|o| o.queue.clone()).collect();
            let series = |name: &str, values: Vec<u64>| Bar::new().name(name).stack("calls").data(values.into_iter().map(|v| v as i64).collect::<Vec<_>>());
            base_chart(labels)
                .series(series(td_string!(locale, stats_answered), outcomes.iter().map(|o| o.answered).collect()))
                .series(series(td_string!(locale, stats_abandoned), outcomes.iter().map(|o| o.abandoned).collect()))
                .series(series(td_string!(locale, stats_timed_out), outcomes.iter().map(|o| o.timed_out).collect()))
                .series(series(td_string!(locale, stats_dissuaded), outcomes.iter().map(|o| o.dissuaded).collect()))
                .series(series(td_string!(locale, stats_closed), outcomes.iter().map(|o| o.closed).collect()))
        })
    };
    view! {
        <section class="card report" data-testid="outcomes">
            <h2>{t!(i18n, stats_outcomes)}</h2>
            <ChartBox id="outcomes-chart" chart />
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_queue_name)}</th>
                        <th class="num">{t!(i18n, stats_offered)}</th>
                        <th class="num">{t!(i18n, stats_answered)}</th>
                        <th class="num">{t!(i18n, stats_abandoned)}</th>
                        <th class="num">{t!(i18n, stats_dissuaded)}</th>
                        <th class="num">{t!(i18n, stats_closed)}</th>
                        <th class="num">{t!(i18n, stats_timed_out)}</th>
                    </tr>
                </thead>
                <tbody>
                    {outcomes
                        .into_iter()
                        .map(|o| {
                            let of = |n: u64| format!("{n} ({})", pct(percent(n, o.offered)));
                            view! {
                                <tr data-queue=o.queue.clone()>
                                    <td>{o.queue.clone()}</td>
                                    <td class="num" data-kpi="offered">{o.offered}</td>
                                    <td class="num" data-kpi="answered">{of(o.answered)}</td>
                                    <td class="num" data-kpi="abandoned">{of(o.abandoned)}</td>
                                    <td class="num" data-kpi="dissuaded">{of(o.dissuaded)}</td>
                                    <td class="num" data-kpi="closed">{of(o.closed)}</td>
                                    <td class="num" data-kpi="timed_out">{of(o.timed_out)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink filename="acd-outcomes.csv" rows />
        </section>
    }
}

/// A bucket table with counts and cumulative %, and its bar + line chart.
fn bucket_chart(labels: Vec<String>, name: String, counts: Vec<u64>, cumulative_name: String, cumulative: Vec<f64>) -> Chart {
    base_chart(labels)
        .y_axis(Axis::new().type_(AxisType::Value).max(100))
        .series(Bar::new().name(name).data(counts.into_iter().map(|v| v as i64).collect::<Vec<_>>()))
        .series(Line::new().name(cumulative_name).y_axis_index(1).data(cumulative.into_iter().map(|v| (v * 10.0).round() / 10.0).collect::<Vec<_>>()))
}

#[component]
fn ServiceLevelSection(report: AcdReport) -> impl IntoView {
    let i18n = use_i18n();
    let sl = report.service_level.clone();
    let waits = report.waits.clone();
    let answered: Vec<u64> = waits.iter().map(|b| b.answered).collect();
    let of_offered = cumulative_percent(&answered, sl.offered);
    let of_answered = cumulative_percent(&answered, sl.answered);
    let labels: Vec<String> = waits.iter().map(bucket_label).collect();
    let rows = {
        let (labels, answered, of_offered, of_answered) = (labels.clone(), answered.clone(), of_offered.clone(), of_answered.clone());
        move |locale: Locale| {
            let mut rows = vec![vec![
                td_string!(locale, stats_wait).to_string(),
                td_string!(locale, stats_answered).to_string(),
                td_string!(locale, stats_cumulative_offered).to_string(),
                td_string!(locale, stats_cumulative_answered).to_string(),
            ]];
            for i in 0..labels.len() {
                rows.push(vec![labels[i].clone(), answered[i].to_string(), format!("{:.1}", of_offered[i]), format!("{:.1}", of_answered[i])]);
            }
            rows
        }
    };
    let chart = {
        let (labels, answered, of_offered) = (labels.clone(), answered.clone(), of_offered.clone());
        Signal::derive(move || {
            let locale = i18n.get_locale();
            bucket_chart(labels.clone(), td_string!(locale, stats_answered).into(), answered.clone(), td_string!(locale, stats_cumulative_offered).into(), of_offered.clone())
        })
    };
    let threshold = if sl.threshold_secs == 0 { String::from("—") } else { format!("{} s", sl.threshold_secs) };
    view! {
        <section class="card report" data-testid="service-level">
            <h2>{t!(i18n, stats_service_level)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, stats_threshold)}</dt>
                <dd>{threshold}</dd>
                <dt>{t!(i18n, stats_service_level)}</dt>
                <dd data-kpi="level">{pct(sl.level())}</dd>
                <dt>"ServicelevelPerf"</dt>
                <dd data-kpi="perf">{pct(sl.asterisk_perf())}</dd>
                <dt>"ServicelevelPerf2"</dt>
                <dd data-kpi="perf2">{pct(sl.asterisk_perf2())}</dd>
            </dl>
            <ChartBox id="service-level-chart" chart />
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, stats_wait)}</th>
                        <th class="num">{t!(i18n, stats_answered)}</th>
                        <th class="num">{t!(i18n, stats_cumulative_offered)}</th>
                        <th class="num">{t!(i18n, stats_cumulative_answered)}</th>
                    </tr>
                </thead>
                <tbody>
                    {(0..labels.len())
                        .map(|i| {
                            view! {
                                <tr data-bucket=waits[i].from_secs>
                                    <td>{labels[i].clone()}</td>
                                    <td class="num">{answered[i]}</td>
                                    <td class="num">{pct(of_offered[i])}</td>
                                    <td class="num">{pct(of_answered[i])}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink filename="acd-service-level.csv" rows />
        </section>
    }
}

#[component]
fn AbandonSection(report: AcdReport) -> impl IntoView {
    let i18n = use_i18n();
    let waits = report.waits.clone();
    let abandoned: Vec<u64> = waits.iter().map(|b| b.abandoned).collect();
    let total: u64 = abandoned.iter().sum();
    let cumulative = cumulative_percent(&abandoned, total);
    let labels: Vec<String> = waits.iter().map(bucket_label).collect();
    let rows = {
        let (labels, abandoned, cumulative) = (labels.clone(), abandoned.clone(), cumulative.clone());
        move |locale: Locale| {
            let mut rows = vec![vec![
                td_string!(locale, stats_wait).to_string(),
                td_string!(locale, stats_abandoned).to_string(),
                td_string!(locale, stats_cumulative).to_string(),
            ]];
            for i in 0..labels.len() {
                rows.push(vec![labels[i].clone(), abandoned[i].to_string(), format!("{:.1}", cumulative[i])]);
            }
            rows
        }
    };
    let chart = {
        let (labels, abandoned, cumulative) = (labels.clone(), abandoned.clone(), cumulative.clone());
        Signal::derive(move || {
            let locale = i18n.get_locale();
            bucket_chart(labels.clone(), td_string!(locale, stats_abandoned).into(), abandoned.clone(), td_string!(locale, stats_cumulative).into(), cumulative.clone())
        })
    };
    view! {
        <section class="card report" data-testid="abandon-waits">
            <h2>{t!(i18n, stats_abandon_waits)}</h2>
            <ChartBox id="abandon-chart" chart />
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, stats_wait)}</th>
                        <th class="num">{t!(i18n, stats_abandoned)}</th>
                        <th class="num">{t!(i18n, stats_cumulative)}</th>
                    </tr>
                </thead>
                <tbody>
                    {(0..labels.len())
                        .map(|i| {
                            view! {
                                <tr data-bucket=waits[i].from_secs>
                                    <td>{labels[i].clone()}</td>
                                    <td class="num">{abandoned[i]}</td>
                                    <td class="num">{pct(cumulative[i])}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink filename="acd-abandon-waits.csv" rows />
        </section>
    }
}

#[component]
fn CalendarSection(title: Signal<String>, id: &'static str, slots: Vec<Slot>, weekday: bool) -> impl IntoView {
    let i18n = use_i18n();
    let label = move |locale: Locale, slot: u8| if weekday { weekday_label(locale, slot) } else { half_hour_label(slot) };
    let rows = {
        let slots = slots.clone();
        move |locale: Locale| {
            let mut rows = vec![vec![
                title.get(),
                td_string!(locale, stats_offered).to_string(),
                td_string!(locale, stats_answered).to_string(),
                td_string!(locale, stats_abandoned).to_string(),
            ]];
            rows.extend(slots.iter().map(|s| vec![label(locale, s.slot), s.offered.to_string(), s.answered.to_string(), s.abandoned.to_string()]));
            rows
        }
    };
    let chart = {
        let slots = slots.clone();
        Signal::derive(move || {
            let locale = i18n.get_locale();
            let labels = slots.iter().map(|s| label(locale, s.slot)).collect();
            let values = |f: fn(&Slot) -> u64| slots.iter().map(|s| f(s) as i64).collect::<Vec<_>>();
            base_chart(labels)
                .series(Bar::new().name(td_string!(locale, stats_offered)).data(values(|s| s.offered)))
                .series(Bar::new().name(td_string!(locale, stats_answered)).data(values(|s| s.answered)))
                .series(Bar::new().name(td_string!(locale, stats_abandoned)).data(values(|s| s.abandoned)))
        })
    };
    let chart_id: &'static str = if weekday { "weekdays-chart" } else { "half-hours-chart" };
    view! {
        <section class="card report" data-testid=id>
            <h2>{title}</h2>
            <ChartBox id=chart_id chart />
            <table class="grid">
                <thead>
                    <tr>
                        <th>{title}</th>
                        <th class="num">{t!(i18n, stats_offered)}</th>
                        <th class="num">{t!(i18n, stats_answered)}</th>
                        <th class="num">{t!(i18n, stats_abandoned)}</th>
                    </tr>
                </thead>
                <tbody>
                    {slots
                        .into_iter()
                        .map(|s| {
                            view! {
                                <tr data-slot=s.slot>
                                    <td>{move || label(i18n.get_locale(), s.slot)}</td>
                                    <td class="num">{s.offered}</td>
                                    <td class="num">{s.answered}</td>
                                    <td class="num">{s.abandoned}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink filename=format!("acd-{id}.csv") rows />
        </section>
    }
}

#[component]
fn AgentsSection(report: AcdReport) -> impl IntoView {
    let i18n = use_i18n();
    let agents = report.agents.clone();
    let rows = {
        let agents = agents.clone();
        move |locale: Locale| {
            let mut rows = vec![
                [
                    td_string!(locale, field_agent), td_string!(locale, stats_sessions), td_string!(locale, stats_session_time),
                    td_string!(locale, stats_pauses), td_string!(locale, stats_pause_time), td_string!(locale, stats_calls_in),
                    td_string!(locale, stats_talk_time), td_string!(locale, stats_average), td_string!(locale, stats_calls_out),
                    td_string!(locale, stats_out_time), td_string!(locale, stats_average),
                ]
                .map(String::from)
                .to_vec(),
            ];
            rows.extend(agents.iter().map(|a| {
                vec![
                    a.agent.clone(), a.sessions.to_string(), hms(a.session_secs), a.pauses.to_string(), hms(a.pause_secs),
                    a.calls_in.to_string(), hms(a.talk_secs), hms(a.average_talk_secs()), a.calls_out.to_string(),
                    hms(a.out_secs), hms(a.average_out_secs()),
                ]
            }));
            rows
        }
    };
    let chart = {
        let agents = agents.clone();
        Signal::derive(move || {
            let locale = i18n.get_locale();
            let labels = agents.iter().map(|a| a.agent.clone()).collect();
            base_chart(labels)
                .series(Bar::new().name(td_string!(locale, stats_calls_in)).data(agents.iter().map(|a| a.calls_in as i64).collect::<Vec<_>>()))
                .series(Bar::new().name(td_string!(locale, stats_calls_out)).data(agents.iter().map(|a| a.calls_out as i64).collect::<Vec<_>>()))
        })
    };
    view! {
        <section class="card report" data-testid="agents">
            <h2>{t!(i18n, stats_agents)}</h2>
            <ChartBox id="agents-chart" chart />
            <table class="grid">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_agent)}</th>
                        <th class="num">{t!(i18n, stats_sessions)}</th>
                        <th class="num">{t!(i18n, stats_session_time)}</th>
                        <th class="num">{t!(i18n, stats_pauses)}</th>
                        <th class="num">{t!(i18n, stats_pause_time)}</th>
                        <th class="num">{t!(i18n, stats_calls_in)}</th>
                        <th class="num">{t!(i18n, stats_talk_time)}</th>
                        <th class="num">{t!(i18n, stats_average)}</th>
                        <th class="num">{t!(i18n, stats_calls_out)}</th>
                        <th class="num">{t!(i18n, stats_out_time)}</th>
                        <th class="num">{t!(i18n, stats_average)}</th>
                    </tr>
                </thead>
                <tbody>
                    {agents
                        .into_iter()
                        .map(|a| {
                            view! {
                                <tr data-agent=a.agent.clone()>
                                    <td>{a.agent.clone()}</td>
                                    <td class="num" data-kpi="sessions">{a.sessions}</td>
                                    <td class="num">{hms(a.session_secs)}</td>
                                    <td class="num" data-kpi="pauses">{a.pauses}</td>
                                    <td class="num">{hms(a.pause_secs)}</td>
                                    <td class="num" data-kpi="calls_in">{a.calls_in}</td>
                                    <td class="num" data-kpi="talk">{hms(a.talk_secs)}</td>
                                    <td class="num">{hms(a.average_talk_secs())}</td>
                                    <td class="num" data-kpi="calls_out">{a.calls_out}</td>
                                    <td class="num">{hms(a.out_secs)}</td>
                                    <td class="num">{hms(a.average_out_secs())}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
            <CsvLink filename="acd-agents.csv" rows />
        </section>
    }
}

#[component]
fn CallStats() -> impl IntoView {
    let i18n = use_i18n();
    let month_text = RwSignal::new(String::new());
    let chosen = RwSignal::new(None::<(i16, i8)>);
    // Nothing chosen yet: year and month 0 ask the server for the current month.
    let report = Resource::new(move || chosen.get(), |chosen| {
        let (year, month) = chosen.unwrap_or((0, 0));
        call_statistics(year, month)
    });
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let text = month_text.get();
        if let Some((year, month)) = text.split_once('-') {
            chosen.set(Some((year.parse().unwrap_or(0), month.parse().unwrap_or(0))));
        }
    };
    view! {
        <Script src="/vendor/echarts.min.js" />
        <h1>{t!(i18n, menu_call_stats)}</h1>
        <form class="card filters inline" on:submit=apply>
            <label>{t!(i18n, period_month)}<input name="month" type="month" bind:value=month_text /></label>
            <button type="submit">{t!(i18n, stats_apply)}</button>
        </form>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, stats_loading)}</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <CdrReportView report /> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

/// One table of call counts: its id, its rows, and how its keys are labelled.
type CountSection = (&'static str, Vec<super::CallCount>, fn(u8) -> String);

#[component]
fn CdrReportView(report: CdrReport) -> impl IntoView {
    let i18n = use_i18n();
    let caption = format!("{:04}-{:02} ({})", report.year, report.month, report.time_zone);
    let sections: [CountSection; 3] = [
        ("per-month", report.per_month.clone(), |m| format!("{m:02}")),
        ("per-day", report.per_day.clone(), |d| d.to_string()),
        ("per-hour", report.per_hour.clone(), |h| format!("{h:02}h")),
    ];
    view! {
        <p class="muted" data-testid="calls-period">{caption}</p>
        {sections
            .into_iter()
            .map(|(id, counts, label)| {
                let title = move || match id {
                    "per-month" => t_string!(i18n, calls_per_month),
                    "per-day" => t_string!(i18n, calls_per_day),
                    _ => t_string!(i18n, calls_per_hour),
                };
                let rows = {
                    let counts = counts.clone();
                    move |locale: Locale| {
                        let mut rows = vec![vec![title().to_string(), td_string!(locale, calls_count).to_string(), td_string!(locale, calls_billed).to_string()]];
                        rows.extend(counts.iter().map(|c| vec![label(c.slot), c.calls.to_string(), hms(c.billed_secs)]));
                        rows
                    }
                };
                let chart = {
                    let counts = counts.clone();
                    Signal::derive(move || {
                        let locale = i18n.get_locale();
                        base_chart(counts.iter().map(|c| label(c.slot)).collect())
                            .series(Bar::new().name(td_string!(locale, calls_count)).data(counts.iter().map(|c| c.calls as i64).collect::<Vec<_>>()))
                    })
                };
                let chart_id: &'static str = match id {
                    "per-month" => "calls-month-chart",
                    "per-day" => "calls-day-chart",
                    _ => "calls-hour-chart",
                };
                view! {
                    <section class="card report" data-testid=id>
                        <h2>{title}</h2>
                        <ChartBox id=chart_id chart />
                        <table class="grid">
                            <thead>
                                <tr>
                                    <th>{title}</th>
                                    <th class="num">{t!(i18n, calls_count)}</th>
                                    <th class="num">{t!(i18n, calls_billed)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {counts
                                    .into_iter()
                                    .map(|c| view! {
                                        <tr data-slot=c.slot>
                                            <td>{label(c.slot)}</td>
                                            <td class="num">{c.calls}</td>
                                            <td class="num">{hms(c.billed_secs)}</td>
                                        </tr>
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                        <CsvLink filename=format!("calls-{id}.csv") rows />
                    </section>
                }
            })
            .collect_view()}
    }
}
