//! Sign-in, throttling, sessions and password changes against both database backends.

use super::credentials::{change_password, sign_in};
use super::guard::TenantScope;
use super::sessions::{self, SessionSettings};
use super::throttle::ThrottleSettings;
use super::ProfileKind;
use crate::db::testing::each_backend;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};
use crate::tenants::{self, NewTenant};
use crate::users::{self, NewUser, UserUpdate};

const PASSWORD: &str = "correct horse battery";
const T0: i64 = 1_700_000_000_000;

fn new_user(login: &str, profiles: Vec<ProfileKind>) -> NewUser {
    NewUser {
        login: login.into(),
        first_name: "Jeanne".into(),
        last_name: "Durand".into(),
        password: PASSWORD.into(),
        profiles,
        own_phone: String::new(),
    }
}

async fn client_tenant(db: &Db, name: &str, admin: &str) -> i64 {
    let tenant = NewTenant {
        name: name.into(),
        currency: "EUR".into(),
        time_zone: "Europe/Paris".into(),
        admin: new_user(admin, vec![]),
    };
    tenants::store::create(db, &tenant, T0).await.unwrap()
}

#[tokio::test]
async fn sign_in_opens_a_session_that_resolves_to_the_user() {
    for db in each_backend().await {
        let tenant = client_tenant(&db, "Acme", "boss").await;
        let throttle = ThrottleSettings::default();
        let (user, token) = sign_in(&db, &throttle, "  BOSS ", PASSWORD, "10.0.0.1", T0).await.unwrap();
        assert_eq!(user.login, "boss");
        assert_eq!(user.tenant_id, tenant);
        assert_eq!(user.profiles, vec![ProfileKind::ClientAdmin]);
        let settings = SessionSettings::default();
        let resolved = sessions::resolve(&db, &token, T0 + 1_000, &settings).await.unwrap();
        assert_eq!(resolved, Some(user));
        assert_eq!(sessions::resolve(&db, "forged-token", T0, &settings).await.unwrap(), None);
    }
}

#[tokio::test]
async fn every_failure_gives_the_same_neutral_error() {
    for db in each_backend().await {
        let tenant = client_tenant(&db, "Acme", "boss").await;
        let scope = TenantScope::trusted(tenant);
        let sleeper = users::store::create(&db, scope, &new_user("sleeper", vec![]), T0).await.unwrap();
        let update = UserUpdate { first_name: "S".into(), last_name: "L".into(), profiles: vec![], active: false, own_phone: String::new() };
        users::store::update(&db, scope, -1, sleeper, &update).await.unwrap();
        let throttle = ThrottleSettings::default();
        for (login, password) in [("boss", "wrong password!"), ("nobody", PASSWORD), ("sleeper", PASSWORD), ("", "")] {
            let outcome = sign_in(&db, &throttle, login, password, "10.0.0.1", T0).await;
            assert_eq!(outcome.unwrap_err(), AppError::InvalidCredentials, "{login}");
        }
    }
}

#[tokio::test]
async fn an_account_locks_after_repeated_failures_whether_or_not_it_exists() {
    for db in each_backend().await {
        client_tenant(&db, "Acme", "boss").await;
        let throttle = ThrottleSettings { max_failures_per_account: 3, ..Default::default() };
        for login in ["boss", "ghost"] {
            for attempt in 0..3 {
                let outcome = sign_in(&db, &throttle, login, "wrong password!", "10.0.0.2", T0 + attempt).await;
                assert_eq!(outcome.unwrap_err(), AppError::InvalidCredentials);
            }
            // Locked: even the right password is refused, with the same answer for both accounts.
            let outcome = sign_in(&db, &throttle, login, PASSWORD, "10.0.0.3", T0 + 10).await;
            assert_eq!(outcome.unwrap_err(), AppError::TooManyAttempts, "{login}");
        }
        // After the lockout the right password works again.
        let later = T0 + throttle.lockout_ms + 11;
        assert!(sign_in(&db, &throttle, "boss", PASSWORD, "10.0.0.3", later).await.is_ok());
    }
}

#[tokio::test]
async fn an_address_locks_after_failures_across_accounts() {
    for db in each_backend().await {
        client_tenant(&db, "Acme", "boss").await;
        let throttle = ThrottleSettings { max_failures_per_address: 4, ..Default::default() };
        for n in 0..4 {
            let login = format!("guess{n}");
            let _ = sign_in(&db, &throttle, &login, "wrong password!", "10.9.9.9", T0).await;
        }
        let outcome = sign_in(&db, &throttle, "boss", PASSWORD, "10.9.9.9", T0 + 1).await;
        assert_eq!(outcome.unwrap_err(), AppError::TooManyAttempts);
        // Another address is not affected.
        assert!(sign_in(&db, &throttle, "boss", PASSWORD, "10.9.9.10", T0 + 1).await.is_ok());
    }
}

#[tokio::test]
async fn sessions_end_when_idle_and_activity_keeps_them_alive() {
    for db in each_backend().await {
        client_tenant(&db, "Acme", "boss").await;
        let settings = SessionSettings { idle_timeout_ms: 60_000, max_age_ms: 3_600_000, secure_cookie: false };
        let (_, token) = sign_in(&db, &ThrottleSettings::default(), "boss", PASSWORD, "ip", T0).await.unwrap();
        // Activity at 50 s and 100 s keeps it alive past one idle period from the start.
        assert!(sessions::resolve(&db, &token, T0 + 50_000, &settings).await.unwrap().is_some());
        assert!(sessions::resolve(&db, &token, T0 + 100_000, &settings).await.unwrap().is_some());
        // 61 s of silence ends it, for good.
        assert!(sessions::resolve(&db, &token, T0 + 161_001, &settings).await.unwrap().is_none());
        assert!(sessions::resolve(&db, &token, T0 + 161_002, &settings).await.unwrap().is_none());

        let (_, token) = sign_in(&db, &ThrottleSettings::default(), "boss", PASSWORD, "ip", T0).await.unwrap();
        let mut now = T0;
        while now < T0 + 3_600_000 {
            now += 50_000;
            sessions::resolve(&db, &token, now, &settings).await.unwrap();
        }
        assert!(sessions::resolve(&db, &token, now + 1, &settings).await.unwrap().is_none(), "max age");
    }
}

#[tokio::test]
async fn purge_removes_only_over_sessions() {
    for db in each_backend().await {
        client_tenant(&db, "Acme", "boss").await;
        let settings = SessionSettings { idle_timeout_ms: 60_000, ..Default::default() };
        let throttle = ThrottleSettings::default();
        let (_, old) = sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.unwrap();
        let (_, fresh) = sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0 + 100_000).await.unwrap();
        assert_eq!(sessions::purge_expired(&db, T0 + 110_000, &settings).await.unwrap(), 1);
        assert!(sessions::resolve(&db, &old, T0 + 110_000, &settings).await.unwrap().is_none());
        assert!(sessions::resolve(&db, &fresh, T0 + 110_000, &settings).await.unwrap().is_some());
    }
}

#[tokio::test]
async fn changing_the_password_checks_the_old_one_and_closes_other_sessions() {
    for db in each_backend().await {
        client_tenant(&db, "Acme", "boss").await;
        let throttle = ThrottleSettings::default();
        let settings = SessionSettings::default();
        let (user, here) = sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.unwrap();
        let (_, elsewhere) = sign_in(&db, &throttle, "boss", PASSWORD, "ip2", T0).await.unwrap();
        let new = "a brand new sentence";
        let wrong = change_password(&db, &user, &here, "not it at all", new, new, T0).await;
        assert_eq!(wrong, Err(AppError::invalid(Field::CurrentPassword, Problem::Wrong)));
        let mismatch = change_password(&db, &user, &here, PASSWORD, new, "something else", T0).await;
        assert_eq!(mismatch, Err(AppError::invalid(Field::Confirmation, Problem::Mismatch)));
        let weak = change_password(&db, &user, &here, PASSWORD, "short", "short", T0).await;
        assert_eq!(weak, Err(AppError::invalid(Field::NewPassword, Problem::TooShort { min: 10 })));

        change_password(&db, &user, &here, PASSWORD, new, new, T0).await.unwrap();
        assert!(sessions::resolve(&db, &here, T0 + 1, &settings).await.unwrap().is_some());
        assert!(sessions::resolve(&db, &elsewhere, T0 + 1, &settings).await.unwrap().is_none());
        assert_eq!(sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.unwrap_err(), AppError::InvalidCredentials);
        assert!(sign_in(&db, &throttle, "boss", new, "ip", T0).await.is_ok());
    }
}

#[tokio::test]
async fn suspending_a_tenant_ends_its_sessions_and_logins() {
    for db in each_backend().await {
        let tenant = client_tenant(&db, "Acme", "boss").await;
        let throttle = ThrottleSettings::default();
        let settings = SessionSettings::default();
        let (_, token) = sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.unwrap();
        tenants::store::set_active(&db, tenant, false).await.unwrap();
        assert!(sessions::resolve(&db, &token, T0 + 1, &settings).await.unwrap().is_none());
        assert_eq!(sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.unwrap_err(), AppError::InvalidCredentials);
        tenants::store::set_active(&db, tenant, true).await.unwrap();
        assert!(sign_in(&db, &throttle, "boss", PASSWORD, "ip", T0).await.is_ok());
        // The operator's own tenant cannot be suspended.
        assert_eq!(tenants::store::set_active(&db, 1, false).await, Err(AppError::NotFound));
    }
}
