//! Identity and access: who is signed in, what their profiles allow, and the one guard every
//! server function goes through.

pub mod api;
pub mod pages;

#[cfg(feature = "ssr")]
pub mod credentials;
#[cfg(feature = "ssr")]
pub mod guard;
#[cfg(feature = "ssr")]
pub mod password;
#[cfg(feature = "ssr")]
pub mod sessions;
#[cfg(feature = "ssr")]
pub mod throttle;

use serde::{Deserialize, Serialize};

use crate::i18n::{Locale, td_string};

/// The built-in profiles (DESIGN §2.1). Stored as rows of `profiles`; per-queue supervisor and
/// agent profiles arrive with queues and reuse the `Supervisor`/`Agent` kinds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum ProfileKind {
    OperatorAdmin,
    ClientAdmin,
    Supervisor,
    Agent,
    DepartmentHead,
    Accounting,
    Statistics,
    CallLog,
    IncidentManager,
    ExternalForward,
}

impl ProfileKind {
    pub const ALL: [ProfileKind; 10] = [
        ProfileKind::OperatorAdmin,
        ProfileKind::ClientAdmin,
        ProfileKind::Supervisor,
        ProfileKind::Agent,
        ProfileKind::DepartmentHead,
        ProfileKind::Accounting,
        ProfileKind::Statistics,
        ProfileKind::CallLog,
        ProfileKind::IncidentManager,
        ProfileKind::ExternalForward,
    ];

    /// The code stored in `profiles.kind` and accepted by the command line.
    pub fn code(self) -> &'static str {
        match self {
            ProfileKind::OperatorAdmin => "operator_admin",
            ProfileKind::ClientAdmin => "client_admin",
            ProfileKind::Supervisor => "supervisor",
            ProfileKind::Agent => "agent",
            ProfileKind::DepartmentHead => "department_head",
            ProfileKind::Accounting => "accounting",
            ProfileKind::Statistics => "statistics",
            ProfileKind::CallLog => "call_log",
            ProfileKind::IncidentManager => "incident_manager",
            ProfileKind::ExternalForward => "external_forward",
        }
    }

    pub fn from_code(code: &str) -> Option<ProfileKind> {
        ProfileKind::ALL.into_iter().find(|kind| kind.code() == code)
    }

    /// Operator administration belongs to the operator's own users only, and client
    /// administration to client tenants only.
    pub fn assignable_in(self, operator_tenant: bool) -> bool {
        match self {
            ProfileKind::OperatorAdmin => operator_tenant,
            ProfileKind::ClientAdmin => !operator_tenant,
            _ => true,
        }
    }

    pub fn label(self, locale: Locale) -> String {
        match self {
            ProfileKind::OperatorAdmin => td_string!(locale, profile_operator_admin),
            ProfileKind::ClientAdmin => td_string!(locale, profile_client_admin),
            ProfileKind::Supervisor => td_string!(locale, profile_supervisor),
            ProfileKind::Agent => td_string!(locale, profile_agent),
            ProfileKind::DepartmentHead => td_string!(locale, profile_department_head),
            ProfileKind::Accounting => td_string!(locale, profile_accounting),
            ProfileKind::Statistics => td_string!(locale, profile_statistics),
            ProfileKind::CallLog => td_string!(locale, profile_call_log),
            ProfileKind::IncidentManager => td_string!(locale, profile_incident_manager),
            ProfileKind::ExternalForward => td_string!(locale, profile_external_forward),
        }
        .to_string()
    }
}

/// What a signed-in user may do beyond their own account. The menu and the guard both ask
/// `SessionUser::can`, so they cannot disagree.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum Permission {
    /// Create, list and (de)activate tenants.
    ManageTenants,
    /// Manage the users of one's own tenant (the operator: of any tenant).
    ManageUsers,
    /// Create, edit and delete ACD queues and choose their supervisors and agents.
    ManageQueues,
    /// Open the live ACD dashboard (for the queues one supervises; administrators: all).
    SuperviseQueues,
    /// Read the ACD statistics (of the queues one supervises; administrators and statistics: all).
    AcdStatistics,
    /// Import, view, edit and delete the tenant's CRM contact bases.
    ManageContacts,
    /// Create, edit, activate and close the tenant's CRM campaigns.
    ManageCampaigns,
    /// Create the call-centre agents, assign them to campaigns, read their history.
    ManageAgents,
    /// Work the campaigns one is assigned to at the agent desk.
    UseDesk,
    /// Read the campaigns' statistics and download their calls.
    CampaignStatistics,
    /// Add, edit, start, stop and watch the modem groups (the operator's hardware).
    ManageModems,
    /// Run the tenant's SMS campaigns, read their replies and opt-outs.
    SmsCampaigns,
}

impl Permission {
    pub fn granted_by(self, kind: ProfileKind) -> bool {
        match self {
            Permission::ManageTenants | Permission::ManageModems => kind == ProfileKind::OperatorAdmin,
            Permission::SmsCampaigns => matches!(kind, ProfileKind::OperatorAdmin | ProfileKind::ClientAdmin),
            Permission::ManageUsers | Permission::ManageQueues | Permission::ManageAgents => {
                matches!(kind, ProfileKind::OperatorAdmin | ProfileKind::ClientAdmin)
            }
            Permission::SuperviseQueues | Permission::ManageContacts | Permission::ManageCampaigns => {
                matches!(kind, ProfileKind::OperatorAdmin | ProfileKind::ClientAdmin | ProfileKind::Supervisor)
            }
            Permission::UseDesk => kind == ProfileKind::Agent,
            Permission::AcdStatistics | Permission::CampaignStatistics => matches!(
                kind,
                ProfileKind::OperatorAdmin | ProfileKind::ClientAdmin | ProfileKind::Supervisor | ProfileKind::Statistics
            ),
        }
    }
}

/// The signed-in user as the browser sees it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionUser {
    pub user_id: i64,
    pub login: String,
    pub first_name: String,
    pub last_name: String,
    pub tenant_id: i64,
    pub tenant_name: String,
    pub is_operator: bool,
    pub profiles: Vec<ProfileKind>,
    /// The user's phone as an Asterisk interface; empty when none.
    pub own_phone: String,
    /// The queues whose supervisor or agent profile the user holds.
    pub queues: Vec<QueueMembership>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum QueueRole {
    Supervisor,
    Agent,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueMembership {
    pub queue_id: i64,
    pub queue: String,
    pub role: QueueRole,
}

impl SessionUser {
    /// Administrators see every queue of their tenant; others only those they hold a role in.
    pub fn sees_all_queues(&self) -> bool {
        self.profiles.iter().any(|&kind| matches!(kind, ProfileKind::OperatorAdmin | ProfileKind::ClientAdmin))
    }

    /// Statistics readers see the figures of every queue of their tenant.
    pub fn reads_all_queue_statistics(&self) -> bool {
        self.sees_all_queues() || self.profiles.contains(&ProfileKind::Statistics)
    }

    pub fn supervises(&self, queue_id: i64) -> bool {
        self.queues.iter().any(|m| m.queue_id == queue_id && m.role == QueueRole::Supervisor)
    }

    pub fn display_name(&self) -> String {
        format!("{} {}", self.first_name, self.last_name)
    }

    pub fn can(&self, permission: Permission) -> bool {
        self.profiles.iter().any(|&kind| permission.granted_by(kind))
    }
}

/// What the browser learns about its session when a page loads.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum SessionState {
    Anonymous,
    /// A session cookie was presented but is no longer valid (idle, revoked or tampered).
    Expired,
    SignedIn(SessionUser),
}

pub const MIN_PASSWORD_CHARS: u32 = 10;
pub const MAX_PASSWORD_CHARS: u32 = 128;
pub const MAX_LOGIN_CHARS: u32 = 64;

/// Logins are case-insensitive: stored and compared in lower case.
pub fn normalise_login(login: &str) -> String {
    login.trim().to_lowercase()
}

pub fn validate_login(login: &str) -> Result<String, crate::error::AppError> {
    use crate::error::{AppError, Field, Problem};
    let login = normalise_login(login);
    if login.is_empty() {
        return Err(AppError::invalid(Field::Login, Problem::Required));
    }
    if login.chars().count() < 2 {
        return Err(AppError::invalid(Field::Login, Problem::TooShort { min: 2 }));
    }
    if login.chars().count() > MAX_LOGIN_CHARS as usize {
        return Err(AppError::invalid(Field::Login, Problem::TooLong { max: MAX_LOGIN_CHARS }));
    }
    if !login.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-' | '@')) {
        return Err(AppError::invalid(Field::Login, Problem::BadCharacters));
    }
    Ok(login)
}

/// The password policy: a minimum length (what actually resists guessing), a maximum that bounds
/// hashing work, and not the login itself.
pub fn validate_new_password(
    password: &str,
    login: &str,
    field: crate::error::Field,
) -> Result<(), crate::error::AppError> {
    use crate::error::{AppError, Problem};
    let chars = password.chars().count();
    if chars == 0 {
        return Err(AppError::invalid(field, Problem::Required));
    }
    if chars < MIN_PASSWORD_CHARS as usize {
        return Err(AppError::invalid(field, Problem::TooShort { min: MIN_PASSWORD_CHARS }));
    }
    if chars > MAX_PASSWORD_CHARS as usize {
        return Err(AppError::invalid(field, Problem::TooLong { max: MAX_PASSWORD_CHARS }));
    }
    if normalise_login(password) == normalise_login(login) {
        return Err(AppError::invalid(field, Problem::SameAsLogin));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::{AppError, Field, Problem};

    #[test]
    fn profile_codes_round_trip() {
        for kind in ProfileKind::ALL {
            assert_eq!(ProfileKind::from_code(kind.code()), Some(kind));
        }
        assert_eq!(ProfileKind::from_code("root"), None);
    }

    #[test]
    fn permissions_follow_profiles() {
        assert!(Permission::ManageTenants.granted_by(ProfileKind::OperatorAdmin));
        assert!(!Permission::ManageTenants.granted_by(ProfileKind::ClientAdmin));
        assert!(Permission::ManageUsers.granted_by(ProfileKind::ClientAdmin));
        assert!(!Permission::ManageUsers.granted_by(ProfileKind::Agent));
        assert!(!Permission::ManageUsers.granted_by(ProfileKind::Supervisor));
    }

    #[test]
    fn login_rules() {
        assert_eq!(validate_login("  Jean.Dupont ").unwrap(), "jean.dupont");
        assert_eq!(validate_login(" "), Err(AppError::invalid(Field::Login, Problem::Required)));
        assert_eq!(
            validate_login("jean dupont"),
            Err(AppError::invalid(Field::Login, Problem::BadCharacters))
        );
        assert_eq!(
            validate_login(&"a".repeat(65)),
            Err(AppError::invalid(Field::Login, Problem::TooLong { max: 64 }))
        );
    }

    #[test]
    fn password_rules() {
        let f = Field::NewPassword;
        assert_eq!(
            validate_new_password("short", "bob", f),
            Err(AppError::invalid(f, Problem::TooShort { min: MIN_PASSWORD_CHARS }))
        );
        assert_eq!(
            validate_new_password(&"x".repeat(129), "bob", f),
            Err(AppError::invalid(f, Problem::TooLong { max: MAX_PASSWORD_CHARS }))
        );
        assert_eq!(
            validate_new_password("Jean.Dupont", "jean.dupont", f),
            Err(AppError::invalid(f, Problem::SameAsLogin))
        );
        assert!(validate_new_password("correct horse battery", "bob", f).is_ok());
    }
}

#[cfg(all(test, feature = "ssr"))]
mod store_tests;
