//! The shard's lease: one object per shard, created with a conditional PUT, so two
//! machines never run the same shard at once (their removes would undo each other's
//! files, and the host's politeness would be doubled).
//!
//! The holder renews it every quarter of its lifetime. A lease not renewed for its
//! lifetime (its machine died) may be taken over, also conditionally; so may one
//! whose holder was this machine and whose process is gone (a killed run, restarted).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, Result, bail};
use deltalake::logstore::object_store::{self, ObjectStore, ObjectStoreExt, PutMode, PutOptions, PutPayload, UpdateVersion, path::Path as ObjectPath};
use serde::{Deserialize, Serialize};

use crate::exit::Exit;
use crate::shard::Shard;

/// What the lease object says.
#[derive(Debug, Serialize, Deserialize)]
struct Holder {
    machine: String,
    pid: u32,
    run_id: String,
    /// Seconds since the epoch of the last renewal, and how long it lasts.
    renewed_at: i64,
    lease_secs: u64,
}

impl Holder {
    fn expired(&self, now: i64) -> bool {
        self.renewed_at.saturating_add(self.lease_secs as i64) < now
    }

    /// This machine's process that is no longer running.
    fn is_dead_here(&self) -> bool {
        // SAFETY: kill with signal 0 only checks that the process exists.
        self.machine == machine()
            && unsafe { libc::kill(self.pid as libc::pid_t, 0) } != 0
            && std::io::Error::last_os_error().raw_os_error() == Some(libc::ESRCH)
    }
}

/// A held lease, renewed in the background until released.
pub struct Lease {
    store: Arc<dyn ObjectStore>,
    path: ObjectPath,
    renewing: tokio::task::JoinHandle<()>,
    lost: Arc<AtomicBool>,
}

/// This machine's name.
fn machine() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer outlives the call and its length is passed.
    let done = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    if done == 0 { String::from_utf8_lossy(&buf[..end]).into_owned() } else { "unknown".into() }
}

impl Lease {
    /// Takes `shard`'s lease, or says who holds it.
    pub async fn take(store: Arc<dyn ObjectStore>, shard: Shard, run_id: &str, lease_secs: u64) -> Result<Lease> {
        let path = ObjectPath::from(format!("lease/{}", shard.tag()));
        let holder = Holder { machine: machine(), pid: std::process::id(), run_id: run_id.to_string(), renewed_at: now(), lease_secs };
        let version = match put(&*store, &path, &holder, PutMode::Create).await {
            Ok(version) => version,
            Err(object_store::Error::AlreadyExists { .. }) => take_over(&*store, &path, &holder, shard).await?,
            Err(e) => return Err(e).context("cannot write the shard's lease").context(Exit::Lake),
        };
        let lost = Arc::new(AtomicBool::new(false));
        let renewing = tokio::spawn(renew(store.clone(), path.clone(), holder, version, lost.clone()));
        Ok(Lease { store, path, renewing, lost })
    }

    /// Fails when another machine has taken the lease over (this one stalled past its
    /// lifetime): what this run would commit could undo the other's.
    pub fn check(&self) -> Result<()> {
        if self.lost.load(Ordering::Relaxed) {
            bail!("the shard's lease was taken over by another machine while this run stalled: not committing");
        }
        Ok(())
    }

    /// Gives the lease up.
    pub async fn release(self) {
        self.renewing.abort();
        if !self.lost.load(Ordering::Relaxed)
            && let Err(e) = self.store.delete(&self.path).await
        {
            tracing::warn!("cannot remove the shard's lease {}: {e} (it expires on its own)", self.path);
        }
    }
}

/// Takes over an existing lease if its holder is gone.
async fn take_over(store: &dyn ObjectStore, path: &ObjectPath, ours: &Holder, shard: Shard) -> Result<UpdateVersion> {
    let found = store.get(path).await.context("cannot read the shard's lease").context(Exit::Lake)?;
    let version = UpdateVersion { e_tag: found.meta.e_tag.clone(), version: found.meta.version.clone() };
    let bytes = found.bytes().await.context("cannot read the shard's lease").context(Exit::Lake)?;
    let theirs: Option<Holder> = serde_json::from_slice(&bytes).ok();
    if let Some(theirs) = &theirs
        && !theirs.expired(now())
        && !theirs.is_dead_here()
    {
        let since = chrono::DateTime::from_timestamp(theirs.renewed_at, 0).map(|t| t.to_rfc3339()).unwrap_or_default();
        let held = anyhow::anyhow!(
            "shard {shard} is being crawled by {} (pid {}, run {}; lease renewed {since}, lasts {} s): one run per shard at a time",
            theirs.machine,
            theirs.pid,
            theirs.run_id,
            theirs.lease_secs
        );
        return Err(held.context(Exit::Locked));
    }
    tracing::warn!("taking over shard {shard}'s lease from a run that is gone ({})", String::from_utf8_lossy(&bytes));
    match put(store, path, ours, PutMode::Update(version)).await {
        Ok(version) => Ok(version),
        // A store without conditional updates (a file system): remove, then create.
        Err(object_store::Error::NotImplemented { .. }) => {
            store.delete(path).await.context("cannot remove the stale lease").context(Exit::Lake)?;
            put(store, path, ours, PutMode::Create).await.context("another run took the shard's lease first").context(Exit::Locked)
        }
        Err(e) => Err(anyhow::Error::new(e).context("another run took the shard's lease first").context(Exit::Locked)),
    }
}

async fn put(store: &dyn ObjectStore, path: &ObjectPath, holder: &Holder, mode: PutMode) -> object_store::Result<UpdateVersion> {
    let body = PutPayload::from(serde_json::to_vec(holder).expect("a lease serializes"));
    let done = store.put_opts(path, body, PutOptions { mode, ..Default::default() }).await?;
    Ok(UpdateVersion { e_tag: done.e_tag, version: done.version })
}

/// Renews the lease every quarter of its lifetime until aborted; marks it lost if
/// another machine took it.
async fn renew(store: Arc<dyn ObjectStore>, path: ObjectPath, mut holder: Holder, mut version: UpdateVersion, lost: Arc<AtomicBool>) {
    loop {
        tokio::time::sleep(Duration::from_secs((holder.lease_secs / 4).max(1))).await;
        holder.renewed_at = now();
        let renewed = match put(&*store, &path, &holder, PutMode::Update(version.clone())).await {
            Err(object_store::Error::NotImplemented { .. }) => put(&*store, &path, &holder, PutMode::Overwrite).await,
            other => other,
        };
        match renewed {
            Ok(next) => version = next,
            Err(object_store::Error::Precondition { .. }) => {
                tracing::error!("the shard's lease was taken over by another machine");
                lost.store(true, Ordering::Relaxed);
                return;
            }
            Err(e) => tracing::warn!("cannot renew the shard's lease ({e}); trying again"),
        }
    }
}

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}
