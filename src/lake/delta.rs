//! A table's commit: open (or create) the Delta table, upload the files its shard
//! lacks, and commit the adds and removes with the run's application transaction.

use std::collections::{HashMap, HashSet};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use arrow_schema::SchemaRef;
use deltalake::kernel::engine::arrow_conversion::TryIntoKernel as _;
use deltalake::kernel::transaction::{CommitBuilder, CommitProperties, TransactionError};
use deltalake::kernel::{Action, Add, DataType, Remove, StructField, StructType, Transaction};
use deltalake::logstore::object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use deltalake::protocol::{DeltaOperation, SaveMode};
use deltalake::{DeltaTable, DeltaTableBuilder, DeltaTableError};
use url::Url;

use super::files::{Changes, DataFile, changes, other_split};
use super::target::TableCommit;
use crate::shard::Shard;

/// Commit attempts before a run gives up on a table: other shards' commits landing
/// first are the only expected conflict, and each retry starts from them.
const ATTEMPTS: u32 = 20;

/// Opens the table at `uri`, creating it (empty) with `schema` and the partition
/// columns when it does not exist yet. Shards starting together race to create it:
/// the losers open the winner's.
pub async fn open_or_create(uri: &Url, schema: &SchemaRef) -> Result<DeltaTable> {
    if let Ok(dir) = uri.to_file_path() {
        // delta-rs opens a local table only where its directory exists.
        tokio::fs::create_dir_all(&dir).await.with_context(|| format!("cannot create {}", dir.display()))?;
    }
    let mut table = DeltaTableBuilder::from_url(uri.clone())?.with_storage_options(HashMap::new()).build()?;
    match table.load().await {
        Ok(()) => return Ok(table),
        Err(DeltaTableError::NotATable(_)) => {}
        Err(e) => return Err(e).with_context(|| format!("cannot read the Delta table {uri}")),
    }
    let kernel: StructType = schema.as_ref().try_into_kernel().context("the dataset schema has no Delta type")?;
    let mut columns: Vec<StructField> = kernel.fields().cloned().collect();
    columns.push(StructField::new("province", DataType::STRING, false));
    columns.push(StructField::new("year", DataType::INTEGER, false));
    let created = table.create().with_columns(columns).with_partition_columns(["province", "year"]).with_save_mode(SaveMode::Ignore).await;
    match created {
        Ok(table) => Ok(table),
        Err(first) => {
            table.load().await.map_err(|_| first).with_context(|| format!("cannot create the Delta table {uri}"))?;
            Ok(table)
        }
    }
}

/// Makes `shard`'s part of `table` hold exactly `local`, in one commit tagged
/// (`app_id`, `version`). A commit of this run that already landed (a retried run)
/// is not made again.
pub async fn commit(table: &mut DeltaTable, name: &str, local: &[DataFile], shard: Shard, app_id: &str, version: i64) -> Result<TableCommit> {
    let mut uploaded: HashSet<String> = HashSet::new();
    let mut result = TableCommit { table: name.to_string(), version: None, files_added: 0, files_removed: 0, bytes_uploaded: 0 };
    for attempt in 1..=ATTEMPTS {
        table.update_incremental(None).await.with_context(|| format!("cannot read the {name} table's log"))?;
        let snapshot = table.snapshot()?;
        if snapshot.transaction_version(table.log_store().as_ref(), app_id).await?.is_some_and(|done| done >= version) {
            tracing::info!("lake: {name} already holds this run's commit");
            return Ok(result);
        }
        let held: Vec<String> = snapshot.log_data().iter().map(|f| f.path().into_owned()).collect();
        if let Some(other) = other_split(&held, shard) {
            bail!(
                "the {name} table holds files of a crawl split into {other} shards, and this run is shard {shard}: every run into one lake must split the crawl the same way"
            );
        }
        let changes = changes(local, &held, shard);
        for file in &changes.adds {
            if uploaded.insert(file.key.clone()) {
                result.bytes_uploaded += upload(table.object_store().as_ref(), file).await?;
            }
        }
        stall_for_tests().await;
        let properties = CommitProperties::default().with_application_transaction(Transaction::new(app_id, version));
        let operation = DeltaOperation::Write { mode: SaveMode::Append, partition_by: Some(vec!["province".into(), "year".into()]), predicate: None };
        let committed = CommitBuilder::from(properties).with_actions(actions(&changes)).build(Some(snapshot), table.log_store(), operation).await;
        match committed {
            Ok(done) => {
                result.version = Some(done.version());
                (result.files_added, result.files_removed) = (changes.adds.len(), changes.removes.len());
                return Ok(result);
            }
            Err(DeltaTableError::Transaction { source: TransactionError::CommitConflict(why) }) if attempt < ATTEMPTS => {
                tracing::info!("lake: {name}: another commit came first ({why}); retrying");
                tokio::time::sleep(Duration::from_millis(50 * u64::from(attempt))).await;
            }
            Err(e) => return Err(e).with_context(|| format!("cannot commit to the {name} table")),
        }
    }
    unreachable!("the last attempt returns")
}

/// Uploads one data file under its key; its size.
async fn upload(store: &dyn ObjectStore, file: &DataFile) -> Result<u64> {
    let bytes = tokio::fs::read(&file.local).await.with_context(|| format!("cannot read {}", file.local.display()))?;
    let key = ObjectPath::parse(&file.key).with_context(|| format!("{}: not an object key", file.key))?;
    store.put(&key, PutPayload::from(bytes)).await.with_context(|| format!("cannot upload {}", file.key))?;
    Ok(file.size)
}

/// The log actions of a table's changes.
fn actions(changes: &Changes) -> Vec<Action> {
    let now = chrono::Utc::now().timestamp_millis();
    let adds = changes.adds.iter().map(|file| {
        Action::Add(Add {
            path: file.key.clone(),
            partition_values: HashMap::from([("province".to_string(), Some(file.province.clone())), ("year".to_string(), Some(file.year.to_string()))]),
            size: file.size as i64,
            modification_time: now,
            data_change: true,
            stats: Some(serde_json::json!({ "numRecords": file.rows }).to_string()),
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
            clustering_provider: None,
        })
    });
    let removes = changes.removes.iter().map(|key| {
        Action::Remove(Remove {
            // The same key as the file's add: readers match the two by it.
            path: key.clone(),
            data_change: true,
            deletion_timestamp: Some(now),
            extended_file_metadata: None,
            partition_values: None,
            size: None,
            tags: None,
            deletion_vector: None,
            base_row_id: None,
            default_row_commit_version: None,
        })
    });
    adds.chain(removes).collect()
}

/// `NIANBAO_LAKE_STALL_COMMIT=<secs>`: waits between the uploads and the commit, so
/// that a test can kill a run there (tests/lake/kill_mid_commit.sh).
async fn stall_for_tests() {
    if let Some(secs) = std::env::var("NIANBAO_LAKE_STALL_COMMIT").ok().and_then(|s| s.parse::<u64>().ok()) {
        tracing::warn!("lake: files uploaded, committing in {secs} s (NIANBAO_LAKE_STALL_COMMIT)");
        tokio::time::sleep(Duration::from_secs(secs)).await;
    }
}
