//! Campaigns against both database backends: life cycle, checks, tenants kept apart, and the
//! base a campaign uses kept.

use super::{CampaignSettings, CampaignState, FormKind, store};
use crate::auth::guard::TenantScope;
use crate::crm::contacts::store as bases;
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::tenants::testing::tenant;

const T0: i64 = 1_700_000_000_000;

/// A ready base, as an import leaves it.
async fn base(db: &Db, scope: TenantScope, name: &str) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, $2, 'ready', 'base.csv', 'FR', '[]', 10, $3) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(name)
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn settings(base_id: i64) -> CampaignSettings {
    CampaignSettings {
        name: "Winter offer".into(),
        product: "Fibre".into(),
        base_id,
        starts_on: "2026-12-01".into(),
        ends_on: "2027-02-28".into(),
        forms: vec![FormKind::YesNo, FormKind::Contract],
        tree_id: None,
        pbx: String::new(),
    }
}

#[tokio::test]
async fn a_campaign_goes_from_draft_to_active_to_closed() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let base_id = base(&db, scope, "Clients").await;
        let id = store::create(&db, scope, &settings(base_id), T0).await.unwrap();
        let listed = store::list(&db, scope).await.unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!((listed[0].state, listed[0].base_name.as_str()), (CampaignState::Draft, "Clients"));
        assert_eq!(listed[0].settings.forms, vec![FormKind::YesNo, FormKind::Contract]);

        // Closing a draft makes no sense; activating does.
        let refused = AppError::invalid(Field::CampaignState, Problem::NotAllowedNow);
        assert_eq!(store::set_state(&db, scope, id, CampaignState::Closed).await, Err(refused.clone()));
        store::set_state(&db, scope, id, CampaignState::Active).await.unwrap();
        // A campaign that ran is not deleted, and neither is its base.
        assert_eq!(store::delete(&db, scope, id).await, Err(refused.clone()));
        assert_eq!(
            bases::delete_base(&db, scope, base_id).await,
            Err(AppError::invalid(Field::ContactBase, Problem::InUse))
        );
        store::set_state(&db, scope, id, CampaignState::Closed).await.unwrap();
        store::set_state(&db, scope, id, CampaignState::Active).await.unwrap();

        let mut edited = settings(base_id);
        edited.product = "Fibre 2 Gb".into();
        edited.forms = vec![FormKind::Appointment];
        store::update(&db, scope, id, &edited).await.unwrap();
        let listed = store::list(&db, scope).await.unwrap();
        assert_eq!((listed[0].settings.product.as_str(), listed[0].settings.forms.clone()), ("Fibre 2 Gb", vec![FormKind::Appointment]));

        // A second draft can be deleted.
        let draft = store::create(&db, scope, &CampaignSettings { name: "Spring".into(), ..settings(base_id) }, T0).await.unwrap();
        store::delete(&db, scope, draft).await.unwrap();
        assert_eq!(store::list(&db, scope).await.unwrap().len(), 1);
    }
}

#[tokio::test]
async fn campaigns_are_checked_and_stay_inside_their_tenant() {
    for db in each_backend().await {
        let alpha = tenant(&db, "Alpha", "alpha.admin").await;
        let beta = tenant(&db, "Beta", "beta.admin").await;
        let alpha_base = base(&db, alpha, "Clients").await;
        let beta_base = base(&db, beta, "Prospects").await;
        let id = store::create(&db, alpha, &settings(alpha_base), T0).await.unwrap();
        assert_eq!(
            store::create(&db, alpha, &CampaignSettings { name: "winter OFFER".into(), ..settings(alpha_base) }, T0).await,
            Err(AppError::Duplicate { field: Field::CampaignName })
        );
        // Another tenant's base is not a choice.
        assert_eq!(
            store::create(&db, alpha, &CampaignSettings { name: "Other".into(), ..settings(beta_base) }, T0).await,
            Err(AppError::invalid(Field::ContactBase, Problem::Required))
        );
        assert_eq!(store::base_choices(&db, alpha).await.unwrap().iter().map(|b| b.id).collect::<Vec<_>>(), vec![alpha_base]);
        // The same name is fine in another tenant; its campaigns are not reachable from here.
        let theirs = store::create(&db, beta, &settings(beta_base), T0).await.unwrap();
        assert_eq!(store::set_state(&db, alpha, theirs, CampaignState::Active).await, Err(AppError::NotFound));
        assert_eq!(store::update(&db, alpha, theirs, &settings(alpha_base)).await, Err(AppError::NotFound));
        assert_eq!(store::delete(&db, alpha, theirs).await, Err(AppError::NotFound));
        assert_eq!(store::list(&db, alpha).await.unwrap().iter().map(|c| c.id).collect::<Vec<_>>(), vec![id]);
    }
}
