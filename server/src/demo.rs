//! Demo data: a call centre with one user per profile, and a second company to show that tenants
//! do not see each other. Seeding is idempotent: an existing demo is left as it is.

use app::auth::ProfileKind;
use app::auth::guard::TenantScope;
use app::db::{Db, now_ms};
use app::error::AppError;
use app::tenants::{self, NewTenant};
use app::users::{self, NewUser};

pub const DEMO_TENANT: &str = "Demo Call Centre";
pub const OTHER_TENANT: &str = "Other Company";

/// (tenant, login, first name, last name, profile)
const USERS: &[(Option<&str>, &str, &str, &str, ProfileKind)] = &[
    (None, "admin", "Olivia", "Martin", ProfileKind::OperatorAdmin),
    (Some(DEMO_TENANT), "supervisor", "Sophie", "Bernard", ProfileKind::Supervisor),
    (Some(DEMO_TENANT), "agent", "Antoine", "Petit", ProfileKind::Agent),
    (Some(DEMO_TENANT), "dept.head", "Denis", "Moreau", ProfileKind::DepartmentHead),
    (Some(DEMO_TENANT), "accounting", "Alice", "Laurent", ProfileKind::Accounting),
    (Some(DEMO_TENANT), "statistics", "Stéphane", "Roux", ProfileKind::Statistics),
    (Some(DEMO_TENANT), "calllog", "Camille", "Fournier", ProfileKind::CallLog),
    (Some(DEMO_TENANT), "incidents", "Isabelle", "Girard", ProfileKind::IncidentManager),
    (Some(DEMO_TENANT), "forward", "François", "Lambert", ProfileKind::ExternalForward),
    (Some(OTHER_TENANT), "other.agent", "Oscar", "Klein", ProfileKind::Agent),
];

/// The tenants' first administrators: (tenant, login, first name, last name).
const TENANTS: &[(&str, &str, &str, &str)] = &[
    (DEMO_TENANT, "client.admin", "Claire", "Dubois"),
    (OTHER_TENANT, "other.admin", "Olga", "Weber"),
];

/// Seeds what is missing and returns the logins with their profile, for the banner.
pub async fn seed(db: &Db, password: &str) -> Result<Vec<(String, String)>, AppError> {
    let now = now_ms();
    let mut logins = Vec::new();
    for (name, login, first_name, last_name) in TENANTS {
        if tenants::store::find_by_name(db, name).await?.is_none() {
            let tenant = NewTenant {
                name: name.to_string(),
                currency: "EUR".into(),
                time_zone: "Europe/Paris".into(),
                admin: new_user(login, first_name, last_name, password, vec![]),
            };
            tenants::store::create(db, &tenant, now).await?;
        }
        logins.push((login.to_string(), format!("{} ({name})", ProfileKind::ClientAdmin.code())));
    }
    for (tenant, login, first_name, last_name, profile) in USERS {
        let tenant_id = match tenant {
            None => 1,
            Some(name) => tenants::store::find_by_name(db, name).await?.ok_or(AppError::NotFound)?,
        };
        let user = new_user(login, first_name, last_name, password, vec![*profile]);
        match users::store::create(db, TenantScope::trusted(tenant_id), &user, now).await {
            Ok(_) | Err(AppError::Duplicate { .. }) => {}
            Err(error) => return Err(error),
        }
        logins.push((login.to_string(), format!("{} ({})", profile.code(), tenant.unwrap_or("Operator"))));
    }
    Ok(logins)
}

fn new_user(login: &str, first_name: &str, last_name: &str, password: &str, profiles: Vec<ProfileKind>) -> NewUser {
    NewUser {
        login: login.into(),
        first_name: first_name.into(),
        last_name: last_name.into(),
        password: password.into(),
        profiles,
    }
}

pub fn banner(url: &str, password: &str, logins: &[(String, String)]) -> String {
    let mut text = format!("\nRelais demo is running at {url}\nDemo logins (password: {password}):\n");
    for (login, what) in logins {
        text.push_str(&format!("  {login:<14} {what}\n"));
    }
    text
}
