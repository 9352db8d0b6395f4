//! Tenant creation is all-or-nothing and validated, on both database backends.

use super::{NewTenant, store};
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::users::NewUser;

const T0: i64 = 1_700_000_000_000;

fn new_tenant(name: &str, admin: &str) -> NewTenant {
    NewTenant {
        name: name.into(),
        currency: "eur".into(),
        time_zone: "America/Martinique".into(),
        admin: NewUser {
            login: admin.into(),
            first_name: "Paul".into(),
            last_name: "Loren".into(),
            password: "correct horse battery".into(),
            profiles: vec![],
            own_phone: String::new(),
        },
    }
}

#[tokio::test]
async fn creates_the_tenant_with_its_first_administrator() {
    for db in each_backend().await {
        let id = store::create(&db, &new_tenant("Sysnux", "paul"), T0).await.unwrap();
        let listed = store::list(&db).await.unwrap();
        assert_eq!(listed.len(), 2, "operator + new tenant");
        assert!(listed[0].is_operator);
        let tenant = listed.iter().find(|t| t.id == id).unwrap();
        assert_eq!((tenant.currency.as_str(), tenant.time_zone.as_str()), ("EUR", "America/Martinique"));
        assert_eq!(tenant.user_count, 1);
        assert_eq!(store::find_by_name(&db, "SYSNUX").await.unwrap(), Some(id));
    }
}

#[tokio::test]
async fn refusals_leave_no_half_tenant() {
    for db in each_backend().await {
        store::create(&db, &new_tenant("Sysnux", "paul"), T0).await.unwrap();
        let cases = [
            (new_tenant("sysnux", "other"), AppError::Duplicate { field: Field::TenantName }),
            (new_tenant("Fresh", "paul"), AppError::Duplicate { field: Field::Login }),
            (NewTenant { time_zone: "Mars/Olympus".into(), ..new_tenant("Fresh", "x") }, AppError::invalid(Field::TimeZone, Problem::Unknown)),
            (NewTenant { currency: "EURO".into(), ..new_tenant("Fresh", "x") }, AppError::invalid(Field::Currency, Problem::Unknown)),
            (NewTenant { name: "".into(), ..new_tenant("", "x") }, AppError::invalid(Field::TenantName, Problem::Required)),
        ];
        for (tenant, expected) in cases {
            assert_eq!(store::create(&db, &tenant, T0).await, Err(expected));
        }
        let mut weak = new_tenant("Fresh", "fresh.admin");
        weak.admin.password = "123".into();
        assert_eq!(
            store::create(&db, &weak, T0).await,
            Err(AppError::invalid(Field::Password, Problem::TooShort { min: 10 }))
        );
        assert_eq!(store::list(&db).await.unwrap().len(), 2, "nothing was added");
    }
}
