//! Numbered migrations from `migrations/`, applied once each, in order, under an advisory
//! lock so that several instances starting together do not race.

use deadpool_postgres::Object;

use super::{MINIMUM_POSTGIS_VERSION, Result, StoreError, parse_postgis_version};

/// Every migration, in order: (version, name, SQL).
const MIGRATIONS: &[(i32, &str, &str)] = &[
    (
        1,
        "0001_init",
        include_str!("../../../migrations/0001_init.sql"),
    ),
    (
        2,
        "0002_change_feed",
        include_str!("../../../migrations/0002_change_feed.sql"),
    ),
    (
        3,
        "0003_workflow",
        include_str!("../../../migrations/0003_workflow.sql"),
    ),
    (
        4,
        "0004_photos",
        include_str!("../../../migrations/0004_photos.sql"),
    ),
    (
        5,
        "0005_plans",
        include_str!("../../../migrations/0005_plans.sql"),
    ),
    (
        6,
        "0006_write_costs",
        include_str!("../../../migrations/0006_write_costs.sql"),
    ),
    (
        7,
        "0007_idempotency_index",
        include_str!("../../../migrations/0007_idempotency_index.sql"),
    ),
    (
        8,
        "0008_token_notify",
        include_str!("../../../migrations/0008_token_notify.sql"),
    ),
    (
        9,
        "0009_registers",
        include_str!("../../../migrations/0009_registers.sql"),
    ),
    (
        10,
        "0010_register_notify",
        include_str!("../../../migrations/0010_register_notify.sql"),
    ),
    (
        11,
        "0011_event_links",
        include_str!("../../../migrations/0011_event_links.sql"),
    ),
    (
        12,
        "0012_workers",
        include_str!("../../../migrations/0012_workers.sql"),
    ),
    (
        13,
        "0013_patrols",
        include_str!("../../../migrations/0013_patrols.sql"),
    ),
    (
        14,
        "0014_visits",
        include_str!("../../../migrations/0014_visits.sql"),
    ),
    (
        15,
        "0015_assessment",
        include_str!("../../../migrations/0015_assessment.sql"),
    ),
    (
        16,
        "0016_visit_photos",
        include_str!("../../../migrations/0016_visit_photos.sql"),
    ),
    (
        17,
        "0017_work_feed",
        include_str!("../../../migrations/0017_work_feed.sql"),
    ),
];

/// Arbitrary key of the advisory lock that serialises migrations.
const LOCK_KEY: i64 = 0x006d_696e_7169_6e67;

pub(super) async fn run(conn: &mut Object) -> Result<Vec<String>> {
    conn.execute(include_str!("sql/migrate_lock.sql"), &[&LOCK_KEY])
        .await?;
    let result = apply(conn).await;
    conn.execute(include_str!("sql/migrate_unlock.sql"), &[&LOCK_KEY])
        .await?;
    result
}

async fn apply(conn: &mut Object) -> Result<Vec<String>> {
    conn.batch_execute(include_str!("sql/schema_migrations.sql"))
        .await?;
    // PostGIS first: migrations use its types, and its version is checked before anything.
    let has_postgis = conn
        .query_opt(include_str!("sql/has_postgis.sql"), &[])
        .await?
        .is_some();
    if !has_postgis {
        conn.batch_execute(include_str!("sql/create_postgis.sql"))
            .await
            .map_err(|e| StoreError::PostgisVersion {
                found: format!(
                    "none (CREATE EXTENSION postgis failed: {})",
                    e.as_db_error()
                        .map_or_else(|| e.to_string(), |d| d.message().to_owned())
                ),
            })?;
    }
    let row = conn
        .query_one(include_str!("sql/postgis_version.sql"), &[])
        .await?;
    let found: String = super::rows::get(&row, "version")?;
    match parse_postgis_version(&found) {
        Some(v) if v >= MINIMUM_POSTGIS_VERSION => {}
        _ => return Err(StoreError::PostgisVersion { found }),
    }

    let mut applied = Vec::new();
    for (version, name, sql) in MIGRATIONS {
        let done = conn
            .query_opt(include_str!("sql/migration_applied.sql"), &[version])
            .await?
            .is_some();
        if done {
            continue;
        }
        let tx = conn.transaction().await?;
        tx.batch_execute(sql).await?;
        tx.execute(include_str!("sql/record_migration.sql"), &[version, name])
            .await?;
        tx.commit().await?;
        tracing::info!(migration = name, "applied migration");
        applied.push((*name).to_owned());
    }
    Ok(applied)
}
