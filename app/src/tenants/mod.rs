//! Tenants (client companies) as the operator administers them.

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::users::NewUser;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TenantSummary {
    pub id: i64,
    pub name: String,
    pub is_operator: bool,
    pub active: bool,
    pub currency: String,
    pub time_zone: String,
    pub user_count: i64,
}

/// A new tenant with its first client administrator, created together or not at all.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewTenant {
    pub name: String,
    pub currency: String,
    pub time_zone: String,
    pub admin: NewUser,
}

pub const MAX_TENANT_NAME_CHARS: u32 = 120;

#[cfg(all(test, feature = "ssr"))]
mod tests;
