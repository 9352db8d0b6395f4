//! Server functions for call-centre agents: thin, each checks the permission and takes the tenant
//! scope from the session.

use leptos::prelude::*;
use server_fn::codec::Json;

use super::{AgentEdit, AgentsAdmin, DeskSession, NewAgent};
use crate::error::AppError;

/// Sessions shown per agent.
#[cfg(feature = "ssr")]
const HISTORY_LENGTH: i64 = 200;

#[server(prefix = "/api", endpoint = "crm/agents/list", input = Json)]
pub async fn list_agents() -> Result<AgentsAdmin, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            Ok(AgentsAdmin {
                agents: super::store::list(&db, scope).await?,
                campaigns: crate::crm::campaigns::store::choices(&db, scope, false).await?,
            })
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/agents/create", input = Json)]
pub async fn create_agent(agent: NewAgent) -> Result<i64, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::create(&crate::db::Db::from_context()?, scope, &agent, crate::db::now_ms()).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/agents/update", input = Json)]
pub async fn update_agent(agent_id: i64, edit: AgentEdit) -> Result<(), AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            super::store::update(&crate::db::Db::from_context()?, scope, agent_id, &edit).await
        }
        .await,
    )
}

#[server(prefix = "/api", endpoint = "crm/agents/sessions", input = Json)]
pub async fn agent_sessions(agent_id: i64) -> Result<Vec<DeskSession>, AppError> {
    use crate::auth::{Permission, guard::{require, respond}};
    respond(
        async move {
            let scope = require(Permission::ManageAgents).await?.tenant_scope(None)?;
            let db = crate::db::Db::from_context()?;
            super::store::sessions(&db, scope, agent_id, crate::db::now_ms(), HISTORY_LENGTH).await
        }
        .await,
    )
}
