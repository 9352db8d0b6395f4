//! The campaign statistics page: filters (campaign, agent, period), then results, the tree
//! funnel, agents and days, each a table with its chart; the page or every call as CSV.

use charming::Chart;
use charming::series::{Bar, Line};
use leptos::prelude::*;
use leptos_meta::Script;

use super::api::campaign_statistics;
use super::{CampaignReport, CampaignStatsFilter, QuestionCounts};
use crate::crm::forms::QuestionKind;
use crate::acd::stats::page::{PeriodFields, PeriodForm};
use crate::auth::Permission;
use crate::crm::trees::Answer;
use crate::i18n::*;
use crate::shell::charts::{ChartBox, base_chart};
use crate::shell::guarded;
use crate::shell::widgets::{CsvLink, ErrorLine};

#[component]
pub fn CampaignStatsPage() -> impl IntoView {
    guarded(Permission::CampaignStatistics, |_| view! { <CampaignStats /> })
}

fn share(part: i64, whole: i64) -> String {
    if whole == 0 { "—".into() } else { format!("{:.1} %", part as f64 * 100.0 / whole as f64) }
}

#[component]
fn CampaignStats() -> impl IntoView {
    let i18n = use_i18n();
    let form = PeriodForm::new("whole");
    let campaign_id = RwSignal::new(0_i64);
    let agent_id = RwSignal::new(0_i64);
    let filter = RwSignal::new(CampaignStatsFilter { campaign_id: 0, agent_id: None, period: None });
    let report = Resource::new(move || filter.get(), campaign_statistics);
    let apply = move |ev: leptos::ev::SubmitEvent| {
        ev.prevent_default();
        let agent = agent_id.get();
        filter.set(CampaignStatsFilter { campaign_id: campaign_id.get(), agent_id: (agent != 0).then_some(agent), period: form.chosen() });
    };
    // The choices come with each report; the first one also tells which campaign is shown.
    let choices = RwSignal::new(None::<CampaignReport>);
    Effect::new(move |_| {
        if let Some(Ok(r)) = report.get() {
            if campaign_id.get_untracked() == 0 {
                campaign_id.set(r.campaign_id);
            }
            choices.set(Some(r));
        }
    });
    view! {
        <Script src="/vendor/echarts.min.js" />
        <h1>{t!(i18n, menu_campaign_stats)}</h1>
        <form class="card filters" on:submit=apply data-testid="campaign-stats-filter">
            <div class="fields">
                <label>
                    {t!(i18n, field_campaign_name)}
                    <select
                        name="campaign"
                        on:change=move |ev| {
                            campaign_id.set(event_target_value(&ev).parse().unwrap_or(0));
                            agent_id.set(0);
                        }
                    >
                        {move || {
                            choices
                                .get()
                                .map(|r| {
                                    r.campaigns
                                        .into_iter()
                                        .map(|c| {
                                            let id = c.id;
                                            view! {
                                                <option value=id.to_string() prop:selected=move || campaign_id.get() == id>
                                                    {c.name}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                })
                        }}
                    </select>
                </label>
                <label>
                    {t!(i18n, agents_name)}
                    <select name="agent" on:change=move |ev| agent_id.set(event_target_value(&ev).parse().unwrap_or(0))>
                        <option value="0" prop:selected=move || agent_id.get() == 0>
                            {t!(i18n, crm_stats_all_agents)}
                        </option>
                        {move || {
                            choices
                                .get()
                                .filter(|r| r.campaign_id == campaign_id.get())
                                .map(|r| {
                                    r.agents
                                        .into_iter()
                                        .map(|a| {
                                            let id = a.id;
                                            view! {
                                                <option value=id.to_string() prop:selected=move || agent_id.get() == id>
                                                    {a.name}
                                                </option>
                                            }
                                        })
                                        .collect_view()
                                })
                        }}
                    </select>
                </label>
            </div>
            <PeriodFields form whole=Signal::derive(move || t_string!(i18n, crm_stats_whole).to_string()) />
            <button type="submit">{t!(i18n, stats_apply)}</button>
        </form>
        <Transition fallback=move || view! { <p class="muted">{t!(i18n, stats_loading)}</p> }>
            {move || Suspend::new(async move {
                match report.await {
                    Ok(report) => view! { <Report report /> }.into_any(),
                    Err(crate::error::AppError::NotFound) => view! { <p class="muted">{t!(i18n, campaigns_none)}</p> }.into_any(),
                    Err(error) => view! { <ErrorLine error=Some(error) /> }.into_any(),
                }
            })}
        </Transition>
    }
}

#[component]
fn Report(report: CampaignReport) -> impl IntoView {
    let i18n = use_i18n();
    let report = StoredValue::new(report);
    let r = report.get_value();
    let all_href = move || {
        let lang = if i18n.get_locale() == Locale::fr { "fr" } else { "en" };
        format!("/api/crm/stats/calls?campaign_id={}&lang={lang}", r.campaign_id)
    };
    view! {
        <section class="card report" data-testid="campaign-summary">
            <h2>{format!("{} — {} → {} ({})", r.campaign, r.first_day, r.last_day, r.time_zone)}</h2>
            <dl class="facts">
                <dt>{t!(i18n, agents_calls)}</dt>
                <dd data-kpi="calls">{r.calls}</dd>
                <dt>{t!(i18n, crm_stats_contacted)}</dt>
                <dd data-kpi="contacted">{format!("{} ({})", r.contacted, share(r.contacted, r.calls))}</dd>
                <dt>{t!(i18n, agents_appointments)}</dt>
                <dd data-kpi="appointments">{format!("{} ({})", r.appointments, share(r.appointments, r.calls))}</dd>
                <dt>{t!(i18n, crm_stats_callbacks)}</dt>
                <dd data-kpi="callbacks">{r.callbacks}</dd>
                <dt>{t!(i18n, crm_stats_contracts)}</dt>
                <dd data-kpi="contracts">{r.contracts}</dd>
            </dl>
            <p>
                <CsvLink filename=format!("campaign-{}-statistics.csv", r.campaign_id) rows=move |locale| report.with_value(|r| page_csv(r, locale)) />
                " · "
                <a href=all_href data-testid="download-all" download="">
                    {t!(i18n, crm_stats_download_all)}
                </a>
            </p>
        </section>
        <ResultsSection report />
        <FunnelSection report />
        <QuestionsSection report />
        <AgentsSection report />
        <DaysSection report />
    }
}

/// "Download this page": every table of the report, one after the other.
fn page_csv(r: &CampaignReport, locale: Locale) -> Vec<Vec<String>> {
    let mut rows = vec![vec![r.campaign.clone(), format!("{} → {}", r.first_day, r.last_day)], vec![]];
    rows.push(vec![td_string!(locale, field_call_result).to_string(), td_string!(locale, agents_calls).to_string()]);
    rows.extend(r.results.iter().map(|c| vec![c.result.label(locale), c.calls.to_string()]));
    rows.push(vec![]);
    rows.push(funnel_header(locale));
    rows.extend(r.funnel.iter().map(|s| {
        vec![format!("Q{}", s.node), s.text.clone(), s.reached.to_string(), s.yes.to_string(), s.no.to_string(), s.undecided.to_string(), s.hung_up.to_string()]
    }));
    rows.push(vec![]);
    rows.push(question_header(locale));
    for q in &r.questions {
        for (answer, count) in &q.counts {
            rows.push(vec![q.text.clone(), answer_label(q, answer, locale), count.to_string(), share(*count, q.answered)]);
        }
    }
    rows.push(vec![]);
    rows.push(vec![td_string!(locale, field_sales_person).to_string(), td_string!(locale, agents_appointments).to_string()]);
    rows.extend(r.booked.iter().map(|(name, n)| vec![name.clone(), n.to_string()]));
    rows.push(vec![]);
    rows.push(agent_header(locale));
    rows.extend(r.per_agent.iter().map(|a| vec![a.name.clone(), a.calls.to_string(), a.contacted.to_string(), a.appointments.to_string()]));
    rows.push(vec![]);
    rows.push(vec![td_string!(locale, crm_stats_day).to_string(), td_string!(locale, agents_calls).to_string()]);
    rows.extend(r.per_day.iter().map(|(day, calls)| vec![day.clone(), calls.to_string()]));
    rows
}

fn funnel_header(locale: Locale) -> Vec<String> {
    vec![
        td_string!(locale, crm_stats_question).to_string(),
        td_string!(locale, crm_stats_text).to_string(),
        td_string!(locale, crm_stats_reached).to_string(),
        Answer::Yes.label(locale),
        Answer::No.label(locale),
        Answer::Undecided.label(locale),
        td_string!(locale, desk_hung_up).to_string(),
    ]
}

fn question_header(locale: Locale) -> Vec<String> {
    vec![
        td_string!(locale, crm_stats_question).to_string(),
        td_string!(locale, field_answer).to_string(),
        td_string!(locale, agents_calls).to_string(),
        td_string!(locale, crm_stats_share_answered).to_string(),
    ]
}

/// A yes/no question's answers are codes, translated here; choices are shown as written.
fn answer_label(question: &QuestionCounts, answer: &str, locale: Locale) -> String {
    match (question.kind, answer) {
        (QuestionKind::YesNo, "yes") => td_string!(locale, yes).to_string(),
        (QuestionKind::YesNo, "no") => td_string!(locale, no).to_string(),
        _ => answer.to_string(),
    }
}

/// Multiple-choice and yes/no distributions, and the appointments per field sales person.
#[component]
fn QuestionsSection(report: StoredValue<CampaignReport>) -> impl IntoView {
    let i18n = use_i18n();
    let r = report.get_value();
    let shown = !(r.questions.is_empty() && r.booked.is_empty());
    let chart = Signal::derive(move || {
        let locale = i18n.get_locale();
        report.with_value(|r| {
            let bars: Vec<(String, i64)> = r
                .questions
                .iter()
                .flat_map(|q| q.counts.iter().map(move |(answer, n)| (format!("{} · {}", q.text, answer_label(q, answer, locale)), *n)))
                .collect();
            base_chart(bars.iter().map(|(label, _)| label.clone()).collect())
                .series(Bar::new().name(td_string!(locale, agents_calls)).data(bars.iter().map(|(_, n)| *n).collect::<Vec<_>>()))
        })
    });
    view! {
        <section class="card report" hidden=!shown>
            <h2>{t!(i18n, crm_stats_questions)}</h2>
            <Show when=move || report.with_value(|r| !r.questions.is_empty())>
                <ChartBox id="questions-chart" chart />
            </Show>
            {r.questions
                .iter()
                .map(|q| {
                    let question = q.clone();
                    view! {
                        <table class="grid" data-testid="question-stats" data-question=q.key>
                            <caption>{format!("{} ({})", q.text, q.answered)}</caption>
                            <thead>
                                <tr>
                                    <th>{t!(i18n, field_answer)}</th>
                                    <th class="num">{t!(i18n, agents_calls)}</th>
                                    <th class="num">{t!(i18n, crm_stats_share_answered)}</th>
                                </tr>
                            </thead>
                            <tbody>
                                {q.counts
                                    .iter()
                                    .map(|(answer, n)| {
                                        let (question, answer) = (question.clone(), answer.clone());
                                        let shown = answer.clone();
                                        view! {
                                            <tr data-answer=answer>
                                                <td>{move || answer_label(&question, &shown, i18n.get_locale())}</td>
                                                <td class="num" data-kpi="count">{*n}</td>
                                                <td class="num">{share(*n, q.answered)}</td>
                                            </tr>
                                        }
                                    })
                                    .collect_view()}
                            </tbody>
                        </table>
                    }
                })
                .collect_view()}
            <Show when=move || report.with_value(|r| !r.booked.is_empty())>
                <table class="grid" data-testid="booked">
                    <thead>
                        <tr>
                            <th>{t!(i18n, field_sales_person)}</th>
                            <th class="num">{t!(i18n, agents_appointments)}</th>
                        </tr>
                    </thead>
                    <tbody>
                        {report
                            .get_value()
                            .booked
                            .into_iter()
                            .map(|(name, n)| view! {
                                <tr data-sales-person=name.clone()>
                                    <td>{name.clone()}</td>
                                    <td class="num" data-kpi="booked">{n}</td>
                                </tr>
                            })
                            .collect_view()}
                    </tbody>
                </table>
            </Show>
        </section>
    }
}

fn agent_header(locale: Locale) -> Vec<String> {
    vec![
        td_string!(locale, agents_name).to_string(),
        td_string!(locale, agents_calls).to_string(),
        td_string!(locale, crm_stats_contacted).to_string(),
        td_string!(locale, agents_appointments).to_string(),
    ]
}

#[component]
fn ResultsSection(report: StoredValue<CampaignReport>) -> impl IntoView {
    let i18n = use_i18n();
    let r = report.get_value();
    let chart = Signal::derive(move || {
        let locale = i18n.get_locale();
        report.with_value(|r| {
            base_chart(r.results.iter().map(|c| c.result.label(locale)).collect())
                .series(Bar::new().name(td_string!(locale, agents_calls)).data(r.results.iter().map(|c| c.calls).collect::<Vec<_>>()))
        })
    });
    view! {
        <section class="card report">
            <h2>{t!(i18n, crm_stats_results)}</h2>
            <ChartBox id="results-chart" chart />
            <table class="grid" data-testid="results">
                <thead>
                    <tr>
                        <th>{t!(i18n, field_call_result)}</th>
                        <th class="num">{t!(i18n, agents_calls)}</th>
                        <th class="num">"%"</th>
                    </tr>
                </thead>
                <tbody>
                    {r.results
                        .iter()
                        .map(|c| {
                            let result = c.result.clone();
                            view! {
                                <tr data-result=c.result.code.clone()>
                                    <td>{move || result.label(i18n.get_locale())}</td>
                                    <td class="num" data-kpi="calls">{c.calls}</td>
                                    <td class="num">{share(c.calls, r.calls)}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn FunnelSection(report: StoredValue<CampaignReport>) -> impl IntoView {
    let i18n = use_i18n();
    let r = report.get_value();
    if r.funnel.is_empty() {
        return view! {
            <section class="card report">
                <h2>{t!(i18n, crm_stats_funnel)}</h2>
                <p class="muted">{t!(i18n, crm_stats_no_walk)}</p>
            </section>
        }
        .into_any();
    }
    let chart = Signal::derive(move || {
        let locale = i18n.get_locale();
        report.with_value(|r| {
            let steps = &r.funnel;
            let series = |name: String, pick: fn(&super::FunnelStep) -> i64| {
                Bar::new().name(name).stack("left").data(steps.iter().map(pick).collect::<Vec<_>>())
            };
            let chart: Chart = base_chart(steps.iter().map(|s| format!("Q{}", s.node)).collect())
                .series(series(Answer::Yes.label(locale), |s| s.yes))
                .series(series(Answer::No.label(locale), |s| s.no))
                .series(series(Answer::Undecided.label(locale), |s| s.undecided))
                .series(series(td_string!(locale, desk_hung_up).to_string(), |s| s.hung_up));
            chart
        })
    });
    view! {
        <section class="card report">
            <h2>{t!(i18n, crm_stats_funnel)}</h2>
            <p class="hint">{t!(i18n, crm_stats_funnel_hint)}</p>
            <ChartBox id="funnel-chart" chart />
            <table class="grid" data-testid="funnel">
                <thead>
                    <tr>
                        {move || funnel_header(i18n.get_locale()).into_iter().enumerate().map(|(i, h)| {
                            view! { <th class:num={i >= 2}>{h}</th> }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {r.funnel
                        .iter()
                        .map(|s| {
                            view! {
                                <tr data-node=s.node>
                                    <td>{format!("Q{}", s.node)}</td>
                                    <td>{s.text.clone()}</td>
                                    <td class="num" data-kpi="reached">{s.reached}</td>
                                    <td class="num" data-kpi="yes">{s.yes}</td>
                                    <td class="num" data-kpi="no">{s.no}</td>
                                    <td class="num" data-kpi="undecided">{s.undecided}</td>
                                    <td class="num" data-kpi="hung_up">{s.hung_up}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
    .into_any()
}

#[component]
fn AgentsSection(report: StoredValue<CampaignReport>) -> impl IntoView {
    let i18n = use_i18n();
    let r = report.get_value();
    let chart = Signal::derive(move || {
        let locale = i18n.get_locale();
        report.with_value(|r| {
            let a = &r.per_agent;
            base_chart(a.iter().map(|a| a.name.clone()).collect())
                .series(Bar::new().name(td_string!(locale, agents_calls)).data(a.iter().map(|a| a.calls).collect::<Vec<_>>()))
                .series(Bar::new().name(td_string!(locale, crm_stats_contacted)).data(a.iter().map(|a| a.contacted).collect::<Vec<_>>()))
                .series(Bar::new().name(td_string!(locale, agents_appointments)).data(a.iter().map(|a| a.appointments).collect::<Vec<_>>()))
        })
    });
    view! {
        <section class="card report">
            <h2>{t!(i18n, menu_agents)}</h2>
            <ChartBox id="campaign-agents-chart" chart />
            <table class="grid" data-testid="per-agent">
                <thead>
                    <tr>
                        {move || agent_header(i18n.get_locale()).into_iter().enumerate().map(|(i, h)| {
                            view! { <th class:num={i >= 1}>{h}</th> }
                        }).collect_view()}
                    </tr>
                </thead>
                <tbody>
                    {r.per_agent
                        .iter()
                        .map(|a| {
                            view! {
                                <tr data-agent=a.name.clone()>
                                    <td>{a.name.clone()}</td>
                                    <td class="num" data-kpi="calls">{a.calls}</td>
                                    <td class="num" data-kpi="contacted">{a.contacted}</td>
                                    <td class="num" data-kpi="appointments">{a.appointments}</td>
                                </tr>
                            }
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}

#[component]
fn DaysSection(report: StoredValue<CampaignReport>) -> impl IntoView {
    let i18n = use_i18n();
    let r = report.get_value();
    let chart = Signal::derive(move || {
        let locale = i18n.get_locale();
        report.with_value(|r| {
            base_chart(r.per_day.iter().map(|(day, _)| day.clone()).collect())
                .series(Line::new().name(td_string!(locale, agents_calls)).data(r.per_day.iter().map(|(_, n)| *n).collect::<Vec<_>>()))
        })
    });
    view! {
        <section class="card report">
            <h2>{t!(i18n, crm_stats_days)}</h2>
            <ChartBox id="campaign-days-chart" chart />
            <table class="grid" data-testid="per-day">
                <thead>
                    <tr>
                        <th>{t!(i18n, crm_stats_day)}</th>
                        <th class="num">{t!(i18n, agents_calls)}</th>
                    </tr>
                </thead>
                <tbody>
                    {r.per_day
                        .iter()
                        .map(|(day, calls)| view! {
                            <tr>
                                <td>{day.clone()}</td>
                                <td class="num">{*calls}</td>
                            </tr>
                        })
                        .collect_view()}
                </tbody>
            </table>
        </section>
    }
}
