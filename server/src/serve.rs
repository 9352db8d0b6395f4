//! The web server: axum with the Leptos routes and server functions, static assets, a health
//! check, security headers, a request size limit, and the session clean-up job.

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;
use app::acd::bridge::AcdBridge;
use app::auth::SessionState;
use app::auth::guard::{self, AuthSettings};
use app::crm::contacts::uploads::ContactImports;
use app::db::{Db, now_ms};
use app::{App, shell};
use axum::Router;
use axum::http::{HeaderValue, StatusCode, header};
use axum::routing::get;
use leptos::config::{Env, LeptosOptions};
use leptos::prelude::provide_context;
use leptos_axum::{LeptosRoutes, generate_route_list};
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;

use server::acd::bridge::Bridge;
use server::acd::import::import_queue_log;
use server::pbx::cdr::import_cdr;
use server::pbx::client::AmiConfig;

use crate::cli::ServeArgs;

pub async fn serve(
    db: Db,
    args: ServeArgs,
    data_dir: &Path,
    started: Instant,
    banner: Option<String>,
) -> anyhow::Result<()> {
    let auth = args.auth_settings();
    let bridge = start_bridge(&args);
    let imports = ContactImports::new(data_dir.join("uploads"), args.upload_limit_mb << 20)
        .with_context(|| format!("cannot prepare {}", data_dir.join("uploads").display()))?;
    let interrupted = app::crm::contacts::import::discard_interrupted(&db).await.map_err(|e| anyhow::anyhow!("{e}"))?;
    if interrupted > 0 {
        tracing::warn!(bases = interrupted, "removed contact bases whose import the last run did not finish");
    }
    let router = router(db.clone(), auth.clone(), bridge, imports, &args);
    start_imports(&db, &args)?;
    server::sms::dispatcher::spawn_lease_sweep(db.clone(), Duration::from_secs(5));
    start_local_gateway(&db, &args).await?;
    let listener = tokio::net::TcpListener::bind(args.addr)
        .await
        .with_context(|| format!("cannot listen on {}", args.addr))?;
    tokio::spawn(purge_sessions(db, auth));
    tracing::info!(
        address = %args.addr,
        startup_ms = started.elapsed().as_millis() as u64,
        "Relais is listening on {}",
        args.public_url()
    );
    if let Some(banner) = banner {
        println!("{banner}");
    }
    axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(shutdown_signal())
        .await
        .context("server error")
}

/// The telephony bridge when PBX connections are configured.
fn start_bridge(args: &ServeArgs) -> Option<Arc<dyn AcdBridge>> {
    if args.pbx.is_empty() {
        return None;
    }
    let configs = args
        .pbx
        .iter()
        .map(|pbx| (pbx.name.clone(), AmiConfig::new(pbx.address.clone(), pbx.username.clone(), pbx.secret.clone())))
        .collect();
    Some(Arc::new(Bridge::start(configs, args.dial_context.clone())))
}

/// The gateway inside the server, for modems attached to it.
async fn start_local_gateway(db: &Db, args: &ServeArgs) -> anyhow::Result<()> {
    use server::sms::dispatcher::GroupDispatcher;
    use server::sms::gateway::{self, GatewayConfig};
    if args.local_modems.is_empty() {
        return Ok(());
    }
    let mac = args.local_modem_group.as_deref().context("--local-modems needs --local-modem-group (the group's MAC address)")?;
    let normalised = app::sms::groups::normalise_mac(mac).with_context(|| format!("not a MAC address: {mac}"))?;
    let group_id: i64 = sqlx::query_scalar("SELECT id FROM modem_groups WHERE mac = $1")
        .bind(&normalised)
        .fetch_optional(db.pool())
        .await?
        .with_context(|| format!("no modem group with MAC address {normalised}: create it in the admin pages first"))?;
    let link = Arc::new(GroupDispatcher::new(db.clone(), group_id, args.dispatch_rules()));
    let config = GatewayConfig::new(args.local_modems.clone());
    tracing::info!(group = normalised, ports = ?config.ports, "driving the modems attached to this server");
    let (stop, stopped) = tokio::sync::watch::channel(false);
    // The server's lifetime is the gateway's: `stop` lives as long as the task.
    tokio::spawn(async move {
        let _keep = stop;
        gateway::run(link, config, stopped).await;
    });
    Ok(())
}

/// Tails each configured queue_log and Master.csv into the database, every interval.
fn start_imports(db: &Db, args: &ServeArgs) -> anyhow::Result<()> {
    if args.queue_logs.is_empty() && args.cdr_files.is_empty() {
        return Ok(());
    }
    let zone = jiff::tz::TimeZone::get(&args.pbx_time_zone)
        .with_context(|| format!("unknown PBX time zone {}", args.pbx_time_zone))?;
    let (db, queue_logs, cdr_files) = (db.clone(), args.queue_logs.clone(), args.cdr_files.clone());
    let interval = Duration::from_millis(args.import_interval_ms.max(100));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(interval);
        loop {
            tick.tick().await;
            for (pbx, path) in &queue_logs {
                if let Err(error) = import_queue_log(&db, &format!("{pbx}:queue_log"), path, now_ms()).await {
                    tracing::warn!(%pbx, path = %path.display(), %error, "queue_log import failed");
                }
            }
            for (pbx, path) in &cdr_files {
                if let Err(error) = import_cdr(&db, &format!("{pbx}:cdr"), path, zone.clone(), now_ms()).await {
                    tracing::warn!(%pbx, path = %path.display(), %error, "CDR import failed");
                }
            }
        }
    });
    Ok(())
}

pub fn router(
    db: Db,
    auth: AuthSettings,
    bridge: Option<Arc<dyn AcdBridge>>,
    imports: ContactImports,
    args: &ServeArgs,
) -> Router {
    let options = LeptosOptions::builder()
        .output_name("relais")
        .site_root(args.site_root.as_str())
        .site_pkg_dir("pkg")
        .site_addr(args.addr)
        .env(Env::PROD)
        .build();
    let routes = generate_route_list(App);
    let sessions = PageSessions { db: db.clone(), auth: auth.clone() };
    let context = {
        let db = db.clone();
        move || {
            provide_context(db.clone());
            provide_context(auth.clone());
            provide_context(imports.clone());
            if let Some(bridge) = &bridge {
                provide_context(bridge.clone());
            }
        }
    };
    let health_db = db.clone();
    Router::new()
        .route(
            "/healthz",
            get(move || {
                let db = health_db.clone();
                async move {
                    match sqlx::query("SELECT 1").execute(db.pool()).await {
                        Ok(_) => (StatusCode::OK, "ok"),
                        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unavailable"),
                    }
                }
            }),
        )
        .nest("/api/gateway", server::sms::api::router(db.clone(), args.dispatch_rules()))
        .leptos_routes_with_context(&options, routes, context.clone(), {
            let options = options.clone();
            move || shell(options.clone())
        })
        .fallback(leptos_axum::file_and_error_handler_with_context(context, shell))
        .layer(axum::middleware::from_fn_with_state(sessions, page_session))
        .layer(axum::middleware::from_fn_with_state(
            BodyLimits { request: args.max_request_bytes, upload: (args.upload_limit_mb << 20) as usize + UPLOAD_OVERHEAD },
            limit_body,
        ))
        // The wasm bundle and ECharts shrink to about a third.
        .layer(CompressionLayer::new())
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("same-origin"),
        ))
        .with_state(options)
}

#[derive(Clone)]
struct PageSessions {
    db: Db,
    auth: AuthSettings,
}

/// Resolves the session of a page request before it renders (`app::auth::guard::PageSession`),
/// and removes the cookie of a session that ended. Server functions and files skip it.
async fn page_session(
    axum::extract::State(sessions): axum::extract::State<PageSessions>,
    mut request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let path = request.uri().path();
    let is_page = request.method() == axum::http::Method::GET
        && !["/api/", "/pkg/", "/vendor/", "/healthz", "/favicon"].iter().any(|prefix| path.starts_with(prefix));
    if !is_page {
        return next.run(request).await;
    }
    let token = guard::cookie_token(request.headers());
    let state = guard::session_state(&sessions.db, token.as_deref(), &sessions.auth).await;
    let ended = matches!(state, Ok(SessionState::Expired));
    request.extensions_mut().insert(guard::PageSession(state));
    let mut response = next.run(request).await;
    if ended && let Some(removal) = guard::removal_cookie(&sessions.auth) {
        response.headers_mut().append(header::SET_COOKIE, removal);
    }
    response
}

/// Request bodies are limited everywhere; contact file uploads get their own, larger limit
/// (the upload itself also counts the file's bytes, to answer with a clear message).
#[derive(Clone, Copy)]
struct BodyLimits {
    request: usize,
    upload: usize,
}

/// Room for the multipart envelope around an uploaded file.
const UPLOAD_OVERHEAD: usize = 64 * 1024;

async fn limit_body(
    axum::extract::State(limits): axum::extract::State<BodyLimits>,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let is_upload = request.uri().path() == <app::crm::contacts::api::UploadContacts as leptos::server_fn::ServerFn>::PATH;
    let limit = if is_upload { limits.upload } else { limits.request };
    let declared = request
        .headers()
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|length| length > limit) {
        // Refused before reading it; the upload form shows the error like any server function's.
        let error = if is_upload {
            app::error::AppError::File(app::error::FileProblem::TooLarge { max_mb: (limit - UPLOAD_OVERHEAD).div_ceil(1 << 20) as u64 })
        } else {
            app::error::AppError::Transport("request too large".into())
        };
        let body = serde_json::to_string(&error).unwrap_or_default();
        return axum::response::IntoResponse::into_response((
            StatusCode::PAYLOAD_TOO_LARGE,
            [(header::CONTENT_TYPE, "application/json")],
            body,
        ));
    }
    let (parts, body) = request.into_parts();
    let body = axum::body::Body::new(http_body_util::Limited::new(body, limit));
    next.run(axum::extract::Request::from_parts(parts, body)).await
}

/// Deletes over sessions every minute so the table only holds live ones.
async fn purge_sessions(db: Db, auth: AuthSettings) {
    let mut tick = tokio::time::interval(Duration::from_secs(60));
    loop {
        tick.tick().await;
        match app::auth::sessions::purge_expired(&db, now_ms(), &auth.sessions).await {
            Ok(0) => {}
            Ok(n) => tracing::debug!(sessions = n, "expired sessions purged"),
            Err(error) => tracing::warn!(?error, "session purge failed"),
        }
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    let terminate = async {
        if let Ok(mut signal) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            signal.recv().await;
        }
    };
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutting down");
}
