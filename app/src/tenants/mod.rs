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

/// Data-layer tests of every capability start from a tenant with its administrator.
#[cfg(all(any(test, feature = "test-support"), feature = "ssr"))]
pub mod testing {
    use crate::auth::guard::TenantScope;
    use crate::db::Db;
    use crate::users::NewUser;

    /// A new tenant named `name`, administered by `admin`, in Europe/Paris with euros.
    pub async fn tenant(db: &Db, name: &str, admin: &str) -> TenantScope {
        let person = NewUser {
            login: admin.into(),
            first_name: "Anne".into(),
            last_name: admin.into(),
            password: "correct horse battery".into(),
            profiles: vec![],
            own_phone: String::new(),
        };
        let new = super::NewTenant { name: name.into(), currency: "EUR".into(), time_zone: "Europe/Paris".into(), admin: person };
        TenantScope::trusted(super::store::create(db, &new, 1_700_000_000_000).await.expect("tenant created"))
    }
}
