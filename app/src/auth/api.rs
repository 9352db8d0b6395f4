//! Server functions of the auth capability: thin — guard, call, map errors.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{SessionState, SessionUser};
use crate::error::AppError;

#[server(prefix = "/api", endpoint = "auth/session", input = Json)]
pub async fn get_session() -> Result<SessionState, AppError> {
    use super::guard::{clear_session_cookie, respond, session_state, session_token, settings};
    respond(
        async {
            let state = session_state(&crate::db::Db::from_context()?, session_token().as_deref(), &settings()).await?;
            if state == SessionState::Expired {
                clear_session_cookie();
            }
            Ok(state)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "auth/login", input = Json)]
pub async fn login(login: String, password: String) -> Result<SessionUser, AppError> {
    use super::guard::{client_address, respond, session_token, set_session_cookie, settings};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let db = Db::from_context()?;
            let (user, token) = super::credentials::sign_in(
                &db,
                &settings().throttle,
                &login,
                &password,
                &client_address(),
                now_ms(),
            )
            .await?;
            // A new session id at every login: a token planted before login is worth nothing.
            if let Some(previous) = session_token() {
                super::sessions::revoke(&db, &previous).await?;
            }
            set_session_cookie(token);
            Ok(user)
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "auth/logout", input = Json)]
pub async fn logout() -> Result<(), AppError> {
    use super::guard::{clear_session_cookie, respond, session_token};
    use crate::db::Db;
    respond(
        async move {
            if let Some(token) = session_token() {
                super::sessions::revoke(&Db::from_context()?, &token).await?;
            }
            clear_session_cookie();
            Ok(())
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "auth/change_password", input = Json)]
pub async fn change_password(
    current: String,
    new: String,
    confirmation: String,
) -> Result<(), AppError> {
    use super::guard::{require_user, respond};
    use crate::db::{Db, now_ms};
    respond(
        async move {
            let session = require_user().await?;
            super::credentials::change_password(
                &Db::from_context()?,
                &session.user,
                &session.token,
                &current,
                &new,
                &confirmation,
                now_ms(),
            )
            .await
        }
        .await,
    )
}
