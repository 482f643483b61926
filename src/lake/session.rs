//! A run's time with its lake: the lease taken first, the shard's home and inbox
//! read, and at the end the handed-over pages posted, one commit per table, and the
//! shard's home written.

use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use anyhow::{Context, Result};
use deltalake::DeltaTableBuilder;
use deltalake::logstore::object_store::{ObjectStore, path::Path as ObjectPath};

use super::handoff::{HandedOver, Handoff};
use super::lease::Lease;
use super::target::{Pushed, Target};
use super::{TABLES, delta, files, home, inbox};
use crate::exit::Exit;

/// A run's hold on its shard of the lake.
pub struct Session {
    target: Target,
    run_id: String,
    /// nianbao's own objects: inboxes, leases and shards' homes.
    store: Arc<dyn ObjectStore>,
    lease: Lease,
    /// Inbox objects read by this run, removed once the run has committed.
    inbox_read: Vec<ObjectPath>,
    taken_in: usize,
}

impl Session {
    /// Takes the shard's lease: refused (exit 75) while another run holds it.
    pub async fn begin(target: &Target, run_id: &str) -> Result<Session> {
        let store = DeltaTableBuilder::from_url(target.own_objects())?
            .build_storage()
            .with_context(|| format!("cannot reach the lake {}", target.root))
            .context(Exit::Lake)?
            .object_store(None);
        let lease = Lease::take(store.clone(), target.shard, run_id, target.lease_secs).await?;
        tracing::info!("lake {}: shard {} taken", target.root, target.shard);
        Ok(Session { target: target.clone(), run_id: run_id.to_string(), store, lease, inbox_read: Vec::new(), taken_in: 0 })
    }

    /// With `keep_out`, fills an `out` that holds no crawl yet from the shard's home
    /// in the lake (its state and raw archive, kept by its last run elsewhere).
    pub async fn pull_home(&self, out: &Path) -> Result<()> {
        if self.target.keep_out {
            let files = home::pull(&*self.store, self.target.shard, out).await.context(Exit::Lake)?;
            if files > 0 {
                tracing::info!("lake: shard {} moved here: its state and {} archive files taken from the lake", self.target.shard, files - 1);
            }
        }
        Ok(())
    }

    /// The pages other shards handed to this one. They stay in the inbox until this
    /// run has committed, so a killed run reads them again.
    pub async fn take_inbox(&mut self) -> Result<Vec<Handoff>> {
        let (pages, read) = inbox::read(&*self.store, self.target.shard).await.context(Exit::Lake)?;
        if !pages.is_empty() {
            tracing::info!("lake: {} pages handed over by other shards", pages.len());
        }
        self.inbox_read = read;
        self.taken_in = pages.len();
        Ok(pages)
    }

    /// Posts the pages for other shards, commits the dataset under `out` (one commit
    /// per table, tagged with `version`, the run's start in ms), clears the inbox read,
    /// and gives the lease up.
    pub async fn finish(self, out: &Path, handed_over: HandedOver, version: i64) -> Result<Pushed> {
        let pushed = self.push(out, &handed_over, version).await;
        self.lease.release().await;
        pushed
    }

    /// Gives the lease up without committing (a run that failed).
    pub async fn abandon(self) {
        self.lease.release().await;
    }

    async fn push(&self, out: &Path, handed_over: &HandedOver, version: i64) -> Result<Pushed> {
        let started = Instant::now();
        self.lease.check()?;
        let shard = self.target.shard;
        let posted = inbox::post(&*self.store, shard, &self.run_id, handed_over).await?;
        let mut pushed =
            Pushed { root: self.target.root.to_string(), shard: shard.to_string(), handed_over: posted, taken_in: self.taken_in, ..Pushed::default() };
        for name in TABLES {
            let dir = out.join(name);
            let local = tokio::task::spawn_blocking(move || files::data_files(&dir, shard)).await.context("naming the data files panicked")??;
            let schema = crate::dataset::schema_of(name).expect("a lake table is a dataset table");
            let mut table = delta::open_or_create(&self.target.table(name), &schema).await?;
            self.lease.check()?;
            let commit = delta::commit(&mut table, name, &local, shard, &self.target.app_id(), version).await?;
            tracing::info!(
                "lake: {name} version {} (+{} −{} files, {} bytes uploaded)",
                commit.version.map_or("unchanged".into(), |v| v.to_string()),
                commit.files_added,
                commit.files_removed,
                commit.bytes_uploaded
            );
            pushed.tables.push(commit);
        }
        inbox::clear(&*self.store, &self.inbox_read).await?;
        if self.target.keep_out {
            pushed.kept_bytes = home::push(&*self.store, shard, out).await?;
        }
        pushed.elapsed_ms = started.elapsed().as_millis() as u64;
        Ok(pushed)
    }
}
