//! Queues against both database backends: profiles follow the queue, tenants stay apart.

use super::{QueueSettings, store};
use crate::auth::sessions::{load_active_user, queue_memberships};
use crate::auth::{ProfileKind, QueueRole};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::tenants::testing::tenant;
use crate::users::{self, NewUser, UserUpdate};

const T0: i64 = 1_700_000_000_000;

fn person(login: &str) -> NewUser {
    NewUser {
        login: login.into(),
        first_name: "Anne".into(),
        last_name: login.into(),
        password: "correct horse battery".into(),
        profiles: vec![],
        own_phone: String::new(),
    }
}

async fn count(db: &Db, sql: &str) -> i64 {
    use sqlx::Row;
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(db.pool()).await.unwrap().get("n")
}

#[tokio::test]
async fn a_queue_brings_its_profiles_and_takes_them_away() {
    for db in each_backend().await {
        let a = tenant(&db, "Alpha", "alpha.admin").await;
        let sv = users::store::create(&db, a, &person("sv"), T0).await.unwrap();
        let ag = users::store::create(&db, a, &person("ag"), T0).await.unwrap();
        let settings = QueueSettings { name: "support".into(), supervisors: vec![sv], agents: vec![ag, sv], ..Default::default() };
        let id = store::create(&db, a, &settings, T0).await.unwrap();
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM profiles WHERE tenant_id IS NOT NULL").await, 2);

        let memberships = queue_memberships(&db, sv).await.unwrap();
        let roles: Vec<QueueRole> = memberships.iter().map(|m| m.role).collect();
        assert_eq!(roles, vec![QueueRole::Agent, QueueRole::Supervisor]);
        assert!(memberships.iter().all(|m| m.queue_id == id && m.queue == "support"));
        let supervisor = load_active_user(&db, sv).await.unwrap().unwrap();
        assert!(supervisor.supervises(id));
        assert!(supervisor.profiles.contains(&ProfileKind::Supervisor), "the SV profile is a supervisor profile");

        // Editing the user's built-in profiles keeps the queue profiles.
        let update = UserUpdate { first_name: "Anne".into(), last_name: "sv".into(), profiles: vec![ProfileKind::Statistics], active: true, own_phone: "PJSIP/1001".into() };
        users::store::update(&db, a, -1, sv, &update).await.unwrap();
        let supervisor = load_active_user(&db, sv).await.unwrap().unwrap();
        assert!(supervisor.supervises(id));
        assert_eq!(supervisor.own_phone, "PJSIP/1001");
        let listed = users::store::list(&db, a).await.unwrap().into_iter().find(|u| u.id == sv).unwrap();
        assert_eq!(listed.profiles, vec![ProfileKind::Statistics], "queue profiles are not shown as built-in ones");

        // The name and the PBX stay; the rest changes.
        let renamed = QueueSettings { name: "other".into(), pbx: "elsewhere".into(), strategy: "ringall".into(), supervisors: vec![], agents: vec![ag], ..settings.clone() };
        store::update(&db, a, id, &renamed).await.unwrap();
        let stored = store::get(&db, a, id).await.unwrap().settings;
        assert_eq!((stored.name.as_str(), stored.pbx.as_str(), stored.strategy.as_str()), ("support", "main", "ringall"));
        assert_eq!((stored.supervisors, stored.agents), (vec![], vec![ag]));
        assert!(!load_active_user(&db, sv).await.unwrap().unwrap().supervises(id));

        store::delete(&db, a, id).await.unwrap();
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM profiles WHERE tenant_id IS NOT NULL").await, 0);
        assert!(queue_memberships(&db, ag).await.unwrap().is_empty());
        assert_eq!(store::get(&db, a, id).await, Err(AppError::NotFound));
    }
}

#[tokio::test]
async fn tenants_do_not_reach_each_others_queues() {
    for db in each_backend().await {
        let a = tenant(&db, "Alpha", "alpha.admin").await;
        let b = tenant(&db, "Beta", "beta.admin").await;
        let outsider = users::store::create(&db, b, &person("beta.agent"), T0).await.unwrap();
        let id = store::create(&db, a, &QueueSettings { name: "support".into(), ..Default::default() }, T0).await.unwrap();
        assert!(store::list(&db, b).await.unwrap().is_empty());
        assert_eq!(store::get(&db, b, id).await, Err(AppError::NotFound));
        let settings = QueueSettings { name: "support".into(), ..Default::default() };
        assert_eq!(store::update(&db, b, id, &settings).await, Err(AppError::NotFound));
        assert_eq!(store::delete(&db, b, id).await, Err(AppError::NotFound));
        // A user of another tenant cannot be made an agent, and nothing is half-created.
        let poached = QueueSettings { name: "sales".into(), agents: vec![outsider], ..Default::default() };
        assert_eq!(store::create(&db, a, &poached, T0).await, Err(AppError::invalid(Field::Profiles, Problem::Unknown)));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM profiles WHERE tenant_id IS NOT NULL").await, 2);
        // Queue names are unique on a PBX, across tenants (Asterisk has one namespace).
        assert_eq!(store::create(&db, b, &settings, T0).await, Err(AppError::Duplicate { field: Field::QueueName }));
        assert_eq!(count(&db, "SELECT COUNT(*) AS n FROM profiles WHERE tenant_id IS NOT NULL").await, 2, "rolled back");
    }
}
