//! Server functions for SMS campaigns, replies and opt-outs: thin, each checks the permission
//! and takes the tenant scope from the session.

use leptos::prelude::*;
use server_fn::codec::{GetUrl, Json, StreamingText, TextStream};

use super::{Activation, CreditView, MessageFilter, MessagePage, OptOut, ReplyPage, Sample, SmsBase, SmsCampaignAdmin, SmsCampaignRecord, SmsCampaignSettings};
use crate::error::AppError;

/// The tenant scope of a user allowed to run SMS campaigns.
#[cfg(feature = "ssr")]
async fn scope() -> Result<crate::auth::guard::TenantScope, AppError> {
    crate::auth::guard::require(crate::auth::Permission::SmsCampaigns).await?.tenant_scope(None)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/list", input = Json)]
pub async fn list_sms_campaigns() -> Result<SmsCampaignAdmin, AppError> {
    use crate::auth::guard::respond;
    respond(
        async move {
            let scope = scope().await?;
            let db = crate::db::Db::from_context()?;
            Ok(SmsCampaignAdmin { campaigns: super::store::list(&db, scope).await?, credit: super::store::credit(&db, scope).await? })
        }
        .await,
    )
}

/// The bases a campaign may use, with the fields its template may name.
#[server(prefix = "/api", endpoint = "sms/campaigns/bases", input = Json)]
pub async fn sms_bases() -> Result<Vec<SmsBase>, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::bases(&crate::db::Db::from_context()?, scope().await?).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/get", input = Json)]
pub async fn sms_campaign(campaign_id: i64) -> Result<SmsCampaignRecord, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::get(&crate::db::Db::from_context()?, scope().await?, campaign_id).await }.await)
}

/// The tenant's credit, for the balance shown in the header.
#[server(prefix = "/api", endpoint = "sms/credit", input = Json)]
pub async fn sms_credit() -> Result<CreditView, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::credit(&crate::db::Db::from_context()?, scope().await?).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/create", input = Json)]
pub async fn create_sms_campaign(settings: SmsCampaignSettings) -> Result<i64, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::create(&crate::db::Db::from_context()?, scope().await?, &settings, crate::db::now_ms()).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/update", input = Json)]
pub async fn update_sms_campaign(campaign_id: i64, settings: SmsCampaignSettings) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::update(&crate::db::Db::from_context()?, scope().await?, campaign_id, &settings).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/delete", input = Json)]
pub async fn delete_sms_campaign(campaign_id: i64) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::delete(&crate::db::Db::from_context()?, scope().await?, campaign_id).await }.await)
}

/// The template filled in for the base's first contacts.
#[server(prefix = "/api", endpoint = "sms/campaigns/preview", input = Json)]
pub async fn preview_sms(base_id: i64, template: String) -> Result<Vec<Sample>, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::preview(&crate::db::Db::from_context()?, scope().await?, base_id, &template, 3).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/campaigns/activate", input = Json)]
pub async fn activate_sms_campaign(campaign_id: i64) -> Result<Activation, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::activate(&crate::db::Db::from_context()?, scope().await?, campaign_id, crate::db::now_ms()).await }.await)
}

/// What the client does to a running campaign.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Run {
    Pause,
    Resume,
    Deactivate,
}

#[server(prefix = "/api", endpoint = "sms/campaigns/run", input = Json)]
pub async fn run_sms_campaign(campaign_id: i64, run: Run) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    respond(
        async move {
            let (db, scope, now) = (crate::db::Db::from_context()?, scope().await?, crate::db::now_ms());
            match run {
                Run::Pause => super::store::pause(&db, scope, campaign_id).await,
                Run::Resume => super::store::resume(&db, scope, campaign_id, now).await,
                Run::Deactivate => super::store::deactivate(&db, scope, campaign_id, now).await,
            }
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/campaigns/messages", input = Json)]
pub async fn sms_messages(filter: MessageFilter) -> Result<MessagePage, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::messages(&crate::db::Db::from_context()?, scope().await?, &filter).await }.await)
}

/// Every message of a campaign with its state, as CSV in the reader's language (a plain link).
#[server(prefix = "/api", endpoint = "sms/campaigns/messages.csv", input = GetUrl, output = StreamingText)]
pub async fn sms_messages_csv(campaign_id: i64, lang: String) -> Result<TextStream<AppError>, AppError> {
    use futures::StreamExt;

    use super::reason_text;
    use crate::auth::guard::respond;
    use crate::i18n::td_string;
    use crate::shell::widgets::{CSV_BOM, csv_line};
    respond(
        async move {
            let locale = if lang == "fr" { crate::i18n::Locale::fr } else { crate::i18n::Locale::en };
            let lines = super::store::all_messages(&crate::db::Db::from_context()?, scope().await?, campaign_id).await?;
            if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
                use http::{HeaderValue, header};
                response.insert_header(header::CONTENT_TYPE, HeaderValue::from_static("text/csv; charset=utf-8"));
                if let Ok(value) = HeaderValue::from_str(&format!("attachment; filename=\"sms-campaign-{campaign_id}.csv\"")) {
                    response.insert_header(header::CONTENT_DISPOSITION, value);
                }
            }
            let header = format!(
                "{CSV_BOM}{}",
                csv_line(&[
                    td_string!(locale, field_phone),
                    td_string!(locale, sms_name),
                    td_string!(locale, field_template),
                    td_string!(locale, sms_parts),
                    td_string!(locale, field_state),
                    td_string!(locale, sms_reason),
                    td_string!(locale, modems_imei),
                    td_string!(locale, sms_updated_at),
                ])
            );
            let body = futures::stream::once(async move { Ok(header) })
                .chain(lines.map(move |line| {
                    let line = line?;
                    Ok(csv_line(&[
                        line.number,
                        line.name,
                        line.text,
                        line.parts.to_string(),
                        line.state.label(locale).to_string(),
                        reason_text(&line.reason, locale),
                        line.imei,
                        line.updated_at,
                    ]))
                }))
                // The response body (through compression) may poll once more after the end.
                .fuse();
            Ok(TextStream::new(body))
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "sms/replies", input = Json)]
pub async fn sms_replies(campaign_id: Option<i64>, page: u32) -> Result<ReplyPage, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::replies(&crate::db::Db::from_context()?, scope().await?, campaign_id, page).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/opt-outs", input = Json)]
pub async fn sms_opt_outs() -> Result<Vec<OptOut>, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::opt_outs(&crate::db::Db::from_context()?, scope().await?).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/opt-outs/add", input = Json)]
pub async fn add_sms_opt_out(number: String) -> Result<String, AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::add_opt_out(&crate::db::Db::from_context()?, scope().await?, &number, crate::db::now_ms()).await }.await)
}

#[server(prefix = "/api", endpoint = "sms/opt-outs/remove", input = Json)]
pub async fn remove_sms_opt_out(number: String) -> Result<(), AppError> {
    use crate::auth::guard::respond;
    respond(async move { super::store::remove_opt_out(&crate::db::Db::from_context()?, scope().await?, &number).await }.await)
}
