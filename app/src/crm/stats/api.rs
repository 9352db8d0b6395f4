//! Server functions for campaign statistics: thin, each checks the permission and takes the
//! tenant scope from the session.

use leptos::prelude::*;
use server_fn::codec::{GetUrl, Json, StreamingText, TextStream};

use super::{CampaignReport, CampaignStatsFilter};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "crm/stats/report", input = Json)]
pub async fn campaign_statistics(filter: CampaignStatsFilter) -> Result<CampaignReport, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::CampaignStatistics).await?.tenant_scope(None)?;
            super::store::report(&crate::db::Db::from_context()?, scope, &filter, crate::db::now_ms()).await
        }
        .await,
    )
}

/// "Download all": every call of the campaign with its result and its walk through the tree, as
/// CSV in the reader's language (a plain link: GET).
#[server(prefix = "/api", endpoint = "crm/stats/calls", input = GetUrl, output = StreamingText)]
pub async fn campaign_calls(campaign_id: i64, lang: String) -> Result<TextStream<AppError>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    use crate::i18n::td_string;
    use crate::shell::widgets::{CSV_BOM, csv_line};
    use futures::StreamExt;
    respond(
        async move {
            let scope = require(Permission::CampaignStatistics).await?.tenant_scope(None)?;
            let locale = if lang == "fr" { crate::i18n::Locale::fr } else { crate::i18n::Locale::en };
            let lines = super::store::calls(&crate::db::Db::from_context()?, scope, campaign_id).await?;
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                use http::{HeaderValue, header};
                response.insert_header(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
                if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"campaign-{campaign_id}-calls.csv\"")) {
                    response.insert_header(header::CONTENT_DISPOSITION, value);
                }
            }
            let header = format!(
                "{CSV_BOM}{}",
                csv_line(&[
                    td_string!(locale, crm_stats_at),
                    td_string!(locale, agents_name),
                    td_string!(locale, field_first_name),
                    td_string!(locale, field_last_name),
                    td_string!(locale, field_phone),
                    td_string!(locale, field_call_result),
                    td_string!(locale, field_callback_at),
                    td_string!(locale, field_note),
                    td_string!(locale, field_argument_tree),
                    td_string!(locale, crm_stats_answers),
                ])
            );
            let body = futures::stream::once(async move { Ok(header) })
                .chain(lines.map(move |line| {
                    let line = line?;
                    Ok(csv_line(&[
                        line.at,
                        line.agent,
                        line.first_name,
                        line.last_name,
                        line.phone,
                        line.result.label(locale),
                        line.callback_at,
                        line.note,
                        line.walk.join(" → "),
                        line.answers
                            .iter()
                            .map(|(label, value, yes_no)| {
                                let value = match (*yes_no, value.as_str()) {
                                    (true, "yes") => td_string!(locale, yes),
                                    (true, "no") => td_string!(locale, no),
                                    _ => value.as_str(),
                                };
                                format!("{label}: {value}")
                            })
                            .collect::<Vec<_>>()
                            .join("; "),
                    ]))
                }))
                // The response body (through compression) may poll once more after the end.
                .fuse();
            Ok(TextStream::new(body))
        }
        .await,
    )
}
