//! Shards' inboxes in the lake: `inbox/shard-J-of-N/<run>-from-shard-I-of-N.jsonl`,
//! one object per sending run, read by shard J's next run and removed once its pages
//! are in J's state.

use anyhow::{Context, Result};
use deltalake::logstore::object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use futures::TryStreamExt;

use super::handoff::{HandedOver, Handoff, from_lines, to_lines};
use crate::shard::Shard;

fn inbox(shard: Shard) -> ObjectPath {
    ObjectPath::from(format!("inbox/{}", shard.tag()))
}

/// Posts each shard's pages to its inbox, as one object from this run.
pub async fn post(store: &dyn ObjectStore, from: Shard, run_id: &str, pages: &HandedOver) -> Result<usize> {
    let mut posted = 0;
    for (to, pages) in pages {
        let path = inbox(*to).join(format!("{run_id}-from-{}.jsonl", from.tag()));
        store.put(&path, PutPayload::from(to_lines(pages))).await.with_context(|| format!("cannot post to {path}"))?;
        posted += pages.len();
    }
    Ok(posted)
}

/// The pages waiting in `shard`'s inbox, and the objects that held them.
pub async fn read(store: &dyn ObjectStore, shard: Shard) -> Result<(Vec<Handoff>, Vec<ObjectPath>)> {
    let objects: Vec<_> = store.list(Some(&inbox(shard))).try_collect().await.with_context(|| format!("cannot list {}", inbox(shard)))?;
    let mut pages = Vec::new();
    let mut read = Vec::new();
    for object in objects {
        let bytes = store.get(&object.location).await?.bytes().await.with_context(|| format!("cannot read {}", object.location))?;
        let (got, bad) = from_lines(&String::from_utf8_lossy(&bytes));
        if bad > 0 {
            tracing::warn!("{}: {bad} lines are not handed-over pages; skipped", object.location);
        }
        pages.extend(got);
        read.push(object.location);
    }
    Ok((pages, read))
}

/// Removes inbox objects whose pages are now in the state.
pub async fn clear(store: &dyn ObjectStore, read: &[ObjectPath]) -> Result<()> {
    for path in read {
        store.delete(path).await.with_context(|| format!("cannot remove {path}"))?;
    }
    Ok(())
}
