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
    pub own_phone: String,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct NewUser {
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub password: String,
    pub profiles: Vec<ProfileKind>,
    /// The user's phone as an Asterisk interface (e.g. `PJSIP/1001`); empty when none.
    #[serde(default)]
    pub own_phone: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct UserUpdate {
    pub first_name: String,
    pub last_name: String,
    pub profiles: Vec<ProfileKind>,
    pub active: bool,
    #[serde(default)]
    pub own_phone: String,
}

pub const MAX_NAME_CHARS: u32 = 100;
pub const MAX_PHONE_CHARS: u32 = 80;

/// Checks a phone given as an Asterisk interface: a channel technology and a resource, as
/// Asterisk accepts them in `QueueAdd`, `Originate` and `ChanSpy` (`PJSIP/1001`,
/// `Local/1001@agents/n`). Empty means "no phone".
pub fn validate_own_phone(phone: &str) -> Result<String, crate::error::AppError> {
    use crate::error::{AppError, Field, Problem};
    let phone = phone.trim();
    if phone.is_empty() {
        return Ok(String::new());
    }
    if phone.chars().count() > MAX_PHONE_CHARS as usize {
        return Err(AppError::invalid(Field::OwnPhone, Problem::TooLong { max: MAX_PHONE_CHARS }));
    }
    let Some((technology, resource)) = phone.split_once('/') else {
        return Err(AppError::invalid(Field::OwnPhone, Problem::BadFormat));
    };
    let known = ["PJSIP", "SIP", "IAX2", "DAHDI", "Local"];
    let resource_ok = !resource.is_empty()
        && !resource.starts_with('/')
        && resource.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '@' | '.' | '_' | '-' | '+' | '/'));
    if !known.contains(&technology) || !resource_ok {
        return Err(AppError::invalid(Field::OwnPhone, Problem::BadFormat));
    }
    Ok(phone.to_string())
}

#[cfg(all(test, feature = "ssr"))]
mod tests;
