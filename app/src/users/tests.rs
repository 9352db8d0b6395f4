//! User management rules and tenant isolation against both database backends.

use super::{NewUser, UserUpdate, store};
use crate::auth::guard::TenantScope;
use crate::auth::ProfileKind;
use crate::db::testing::each_backend;
use crate::db::Db;
use crate::error::{AppError, Field, Problem};
use crate::tenants::{self, NewTenant};

const T0: i64 = 1_700_000_000_000;

fn new_user(login: &str, profiles: Vec<ProfileKind>) -> NewUser {
    NewUser {
        login: login.into(),
        first_name: "Jeanne".into(),
        last_name: "Durand".into(),
        password: "correct horse battery".into(),
        profiles,
        own_phone: String::new(),
    }
}

async fn tenant(db: &Db, name: &str, admin: &str) -> TenantScope {
    let new = NewTenant {
        name: name.into(),
        currency: "EUR".into(),
        time_zone: "Europe/Paris".into(),
        admin: new_user(admin, vec![]),
    };
    TenantScope::trusted(tenants::store::create(db, &new, T0).await.unwrap())
}

async fn user_count(db: &Db) -> i64 {
    use sqlx::Row;
    sqlx::query("SELECT COUNT(*) AS n FROM users").fetch_one(db.pool()).await.unwrap().get("n")
}

#[tokio::test]
async fn a_tenant_sees_and_changes_only_its_own_users() {
    for db in each_backend().await {
        let a = tenant(&db, "Alpha", "alpha.admin").await;
        let b = tenant(&db, "Beta", "beta.admin").await;
        let agent_b = store::create(&db, b, &new_user("beta.agent", vec![ProfileKind::Agent]), T0).await.unwrap();
        let logins_a: Vec<String> = store::list(&db, a).await.unwrap().into_iter().map(|u| u.login).collect();
        assert_eq!(logins_a, vec!["alpha.admin"]);
        let logins_b: Vec<String> = store::list(&db, b).await.unwrap().into_iter().map(|u| u.login).collect();
        assert_eq!(logins_b.len(), 2);

        let update = UserUpdate { first_name: "X".into(), last_name: "Y".into(), profiles: vec![], active: false, own_phone: String::new() };
        assert_eq!(store::update(&db, a, -1, agent_b, &update).await, Err(AppError::NotFound));
        assert_eq!(
            store::reset_password(&db, a, agent_b, "another long password", T0).await,
            Err(AppError::NotFound)
        );
        let still = store::list(&db, b).await.unwrap().into_iter().find(|u| u.id == agent_b).unwrap();
        assert!(still.active);
        assert_eq!(still.first_name, "Jeanne");
    }
}

#[tokio::test]
async fn bad_input_is_refused_and_leaves_nothing() {
    for db in each_backend().await {
        let a = tenant(&db, "Alpha", "alpha.admin").await;
        let before = user_count(&db).await;
        let cases = [
            (new_user("alpha.admin", vec![]), AppError::Duplicate { field: Field::Login }),
            (new_user("ALPHA.ADMIN", vec![]), AppError::Duplicate { field: Field::Login }),
            (NewUser { password: "short".into(), ..new_user("x1", vec![]) }, AppError::invalid(Field::Password, Problem::TooShort { min: 10 })),
            (NewUser { first_name: "  ".into(), ..new_user("x2", vec![]) }, AppError::invalid(Field::FirstName, Problem::Required)),
            (NewUser { last_name: "é".repeat(101), ..new_user("x3", vec![]) }, AppError::invalid(Field::LastName, Problem::TooLong { max: 100 })),
            (new_user("x4", vec![ProfileKind::OperatorAdmin]), AppError::invalid(Field::Profiles, Problem::NotAssignable)),
            (new_user("bad login!", vec![]), AppError::invalid(Field::Login, Problem::BadCharacters)),
        ];
        for (user, expected) in cases {
            assert_eq!(store::create(&db, a, &user, T0).await, Err(expected), "{}", user.login);
        }
        assert_eq!(user_count(&db).await, before);
    }
}

#[tokio::test]
async fn operator_profiles_stay_in_the_operator_tenant() {
    for db in each_backend().await {
        let operator = TenantScope::trusted(1);
        store::create(&db, operator, &new_user("root.admin", vec![ProfileKind::OperatorAdmin]), T0).await.unwrap();
        assert_eq!(
            store::create(&db, operator, &new_user("client.x", vec![ProfileKind::ClientAdmin]), T0).await,
            Err(AppError::invalid(Field::Profiles, Problem::NotAssignable))
        );
    }
}

#[tokio::test]
async fn nobody_locks_themself_out() {
    for db in each_backend().await {
        let a = tenant(&db, "Alpha", "alpha.admin").await;
        let me = store::list(&db, a).await.unwrap()[0].id;
        let deactivate = UserUpdate { first_name: "A".into(), last_name: "B".into(), profiles: vec![ProfileKind::ClientAdmin], active: false, own_phone: String::new() };
        assert_eq!(store::update(&db, a, me, me, &deactivate).await, Err(AppError::invalid(Field::Profiles, Problem::OwnAccount)));
        let demote = UserUpdate { active: true, profiles: vec![ProfileKind::Agent], ..deactivate.clone() };
        assert_eq!(store::update(&db, a, me, me, &demote).await, Err(AppError::invalid(Field::Profiles, Problem::OwnAccount)));
        let rename = UserUpdate { active: true, profiles: vec![ProfileKind::ClientAdmin, ProfileKind::Supervisor], ..deactivate };
        store::update(&db, a, me, me, &rename).await.unwrap();
        let after = &store::list(&db, a).await.unwrap()[0];
        assert_eq!(after.profiles, vec![ProfileKind::ClientAdmin, ProfileKind::Supervisor]);
        assert_eq!((after.first_name.as_str(), after.last_name.as_str()), ("A", "B"));
    }
}
