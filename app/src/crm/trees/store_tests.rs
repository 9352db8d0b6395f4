//! Argument trees against both database backends: saving in place until a campaign runs on a
//! version, then new versions; checks on saving; trees used by campaigns kept; tenants apart.

use super::{ArgumentTree, Branch, SavedTree, TreeProblem, store};
use crate::auth::guard::TenantScope;
use crate::crm::campaigns::{CampaignSettings, CampaignState, FormKind, store as campaigns};
use crate::db::Db;
use crate::db::testing::each_backend;
use crate::error::{AppError, Field, Problem};
use crate::tenants::testing::tenant;

const T0: i64 = 1_700_000_000_000;

async fn base(db: &Db, scope: TenantScope) -> i64 {
    sqlx::query_scalar(
        "INSERT INTO contact_bases (tenant_id, name, state, source_file, country, custom_fields, contacts, created_at)
         VALUES ($1, 'Clients', 'ready', 'base.csv', 'FR', '[]', 10, $2) RETURNING id",
    )
    .bind(scope.tenant_id())
    .bind(T0)
    .fetch_one(db.pool())
    .await
    .unwrap()
}

fn campaign(base_id: i64, tree_id: i64) -> CampaignSettings {
    CampaignSettings {
        name: "Winter offer".into(),
        product: "Fibre".into(),
        base_id,
        starts_on: "2026-12-01".into(),
        ends_on: "2027-02-28".into(),
        forms: vec![FormKind::ArgumentTree],
        tree_id: Some(tree_id),
        pbx: String::new(),
    }
}

/// The one-node tree grown by a second question on "yes".
fn grown(mut tree: ArgumentTree) -> ArgumentTree {
    let second = tree.add_node(" Would you like a faster line? ");
    let node = tree.node_mut(second).unwrap();
    (node.yes, node.no, node.undecided) = (Branch::End, Branch::End, Branch::End);
    tree.node_mut(1).unwrap().yes = Branch::Node(second);
    tree
}

async fn version_count(db: &Db, tree_id: i64) -> i64 {
    sqlx::query_scalar("SELECT COUNT(*) FROM argument_tree_versions WHERE tree_id = $1").bind(tree_id).fetch_one(db.pool()).await.unwrap()
}

#[tokio::test]
async fn a_tree_is_saved_in_place_until_a_campaign_runs_on_it() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let id = store::create(&db, scope, "Sales script", "Do you have internet at home?", T0).await.unwrap();
        let opened = store::detail(&db, scope, id).await.unwrap();
        assert_eq!((opened.version, opened.tree.nodes.len()), (1, 1));
        assert!(opened.tree.problems().is_empty());

        // Drafts change in place; texts are stored trimmed.
        let tree = grown(opened.tree);
        assert_eq!(store::save(&db, scope, id, "Sales script", &tree, T0).await, Ok(SavedTree { version: 1, new_version: false }));
        let opened = store::detail(&db, scope, id).await.unwrap();
        assert_eq!(opened.tree.node(2).unwrap().text, "Would you like a faster line?");
        assert_eq!(version_count(&db, id).await, 1);

        // A draft campaign does not freeze it; activating one does.
        let base_id = base(&db, scope).await;
        let campaign_id = campaigns::create(&db, scope, &campaign(base_id, id), T0).await.unwrap();
        assert_eq!(store::save(&db, scope, id, "Sales script", &opened.tree, T0).await.unwrap().version, 1);
        campaigns::set_state(&db, scope, campaign_id, CampaignState::Active).await.unwrap();
        let opened = store::detail(&db, scope, id).await.unwrap();
        assert_eq!(opened.active_campaigns, vec!["Winter offer".to_string()]);

        let mut changed = opened.tree.clone();
        changed.node_mut(2).unwrap().text = "Would you like the 2 Gb line?".into();
        assert_eq!(store::save(&db, scope, id, "Sales script", &changed, T0).await, Ok(SavedTree { version: 2, new_version: true }));
        // Version 1 is kept as it was, for the answers given on it.
        let first: String = sqlx::query_scalar("SELECT body FROM argument_tree_versions WHERE tree_id = $1 AND version = 1")
            .bind(id)
            .fetch_one(db.pool())
            .await
            .unwrap();
        assert!(first.contains("Would you like a faster line?") && !first.contains("2 Gb"));
        // Agents already have version 2 while the campaign runs: it is not changed in place either.
        assert_eq!(store::save(&db, scope, id, "Sales script", &changed, T0).await.unwrap(), SavedTree { version: 3, new_version: true });

        // Once closed, the newest version is no longer handed out; a save that follows a
        // version nobody ran on changes it in place.
        campaigns::set_state(&db, scope, campaign_id, CampaignState::Closed).await.unwrap();
        assert_eq!(store::save(&db, scope, id, "Sales script", &changed, T0).await.unwrap().version, 4);
        assert_eq!(store::save(&db, scope, id, "Sales script", &changed, T0).await.unwrap(), SavedTree { version: 4, new_version: false });
        let listed = store::list(&db, scope).await.unwrap();
        assert_eq!((listed[0].version, listed[0].nodes, listed[0].campaigns.clone()), (4, 2, vec!["Winter offer".to_string()]));
    }
}

#[tokio::test]
async fn saving_checks_the_tree_and_the_name() {
    for db in each_backend().await {
        let scope = tenant(&db, "Alpha", "alpha.admin").await;
        let id = store::create(&db, scope, "Sales script", "Hello?", T0).await.unwrap();
        store::create(&db, scope, "Retention", "Still happy?", T0).await.unwrap();
        assert_eq!(
            store::create(&db, scope, "sales SCRIPT", "Hello?", T0).await,
            Err(AppError::Duplicate { field: Field::TreeName })
        );
        assert_eq!(store::create(&db, scope, "Empty", "  ", T0).await, Err(AppError::invalid(Field::FirstQuestion, Problem::Required)));

        let mut dangling = store::detail(&db, scope, id).await.unwrap().tree;
        dangling.add_node("Orphan");
        assert_eq!(
            store::save(&db, scope, id, "Sales script", &dangling, T0).await,
            Err(AppError::Tree(TreeProblem::Dangling { node: "Q2 (Orphan)".into(), answer: super::Answer::Yes }))
        );
        let mut looping = grown(store::detail(&db, scope, id).await.unwrap().tree);
        looping.node_mut(2).unwrap().no = Branch::Node(1);
        assert_eq!(
            store::save(&db, scope, id, "Sales script", &looping, T0).await,
            Err(AppError::Tree(TreeProblem::Cycle { node: "Q1 (Hello?)".into() }))
        );
        let fine = grown(store::detail(&db, scope, id).await.unwrap().tree);
        assert_eq!(
            store::save(&db, scope, id, "retention", &fine, T0).await,
            Err(AppError::Duplicate { field: Field::TreeName })
        );
        // Nothing refused was stored.
        assert_eq!(store::detail(&db, scope, id).await.unwrap().tree.nodes.len(), 1);
        store::save(&db, scope, id, "Sales script v2", &fine, T0).await.unwrap();
        assert_eq!(store::detail(&db, scope, id).await.unwrap().name, "Sales script v2");
    }
}

#[tokio::test]
async fn trees_used_by_campaigns_are_kept_and_tenants_stay_apart() {
    for db in each_backend().await {
        let alpha = tenant(&db, "Alpha", "alpha.admin").await;
        let beta = tenant(&db, "Beta", "beta.admin").await;
        let ours = store::create(&db, alpha, "Sales script", "Hello?", T0).await.unwrap();
        let theirs = store::create(&db, beta, "Sales script", "Bonjour ?", T0).await.unwrap();
        let alpha_base = base(&db, alpha).await;

        // Another tenant's tree is not a choice for a campaign, nor visible, editable or deletable.
        assert_eq!(
            campaigns::create(&db, alpha, &campaign(alpha_base, theirs), T0).await,
            Err(AppError::invalid(Field::ArgumentTree, Problem::Required))
        );
        assert_eq!(store::choices(&db, alpha).await.unwrap().iter().map(|t| t.id).collect::<Vec<_>>(), vec![ours]);
        assert_eq!(store::detail(&db, alpha, theirs).await, Err(AppError::NotFound));
        let tree = ArgumentTree::single("Hijacked?");
        assert_eq!(store::save(&db, alpha, theirs, "Mine now", &tree, T0).await, Err(AppError::NotFound));
        assert_eq!(store::delete(&db, alpha, theirs).await, Err(AppError::NotFound));
        assert_eq!(store::detail(&db, beta, theirs).await.unwrap().tree.nodes[0].text, "Bonjour ?");

        // A campaign's tree stays until the campaign lets it go.
        let campaign_id = campaigns::create(&db, alpha, &campaign(alpha_base, ours), T0).await.unwrap();
        assert_eq!(campaigns::list(&db, alpha).await.unwrap()[0].tree_name.as_deref(), Some("Sales script"));
        assert_eq!(store::delete(&db, alpha, ours).await, Err(AppError::invalid(Field::ArgumentTree, Problem::InUse)));
        let mut without = campaign(alpha_base, ours);
        without.forms = vec![FormKind::YesNo];
        campaigns::update(&db, alpha, campaign_id, &without).await.unwrap();
        store::delete(&db, alpha, ours).await.unwrap();
        assert_eq!(version_count(&db, ours).await, 0);
        assert!(store::list(&db, alpha).await.unwrap().is_empty());
    }
}
