//! Users of a tenant: listing, creation, profile assignment, (de)activation, password reset.

pub mod api;
pub mod pages;
#[cfg(feature = "ssr")]
pub mod store;

use serde::{Deserialize, Serialize};

use crate::auth::ProfileKind;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserSummary {
    pub id: i64,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub active: bool,
    pub profiles: Vec<ProfileKind>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub profiles: Vec<ProfileKind>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdate {
    pub first_name: String,
    pub last_name: String,
    pub profiles: Vec<ProfileKind>,
    pub active: bool,
}

pub const MAX_NAME_CHARS: u32 = 100;

#[cfg(all(test, feature = "ssr"))]
mod tests;
