//! A shard's home in the lake (`[lake] keep_out`): its state and raw archive under
//! `_nianbao/shards/shard-I-of-N/`, so that the shard can move to another machine.
//! A run uploads them after its commit (the state closed, the run's archive whole);
//! a run whose `--out` has no state yet starts from them.

use std::path::Path;

use anyhow::{Context, Result};
use deltalake::logstore::object_store::{ObjectStore, ObjectStoreExt, PutPayload, path::Path as ObjectPath};
use futures::TryStreamExt;

use crate::layout::Layout;
use crate::shard::Shard;

fn home(shard: Shard) -> ObjectPath {
    ObjectPath::from(format!("shards/{}", shard.tag()))
}

/// The files kept: the state's database and every archive file, as paths under `out`.
fn kept(out: &Path) -> Result<Vec<String>> {
    let layout = Layout::new(out);
    let mut files = vec![format!("state/{}", crate::state::database(&layout.state()).file_name().expect("a file").to_string_lossy())];
    if let Ok(entries) = std::fs::read_dir(layout.raw()) {
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.ends_with(".warc.gz") {
                files.push(format!("raw/{name}"));
            }
        }
    }
    files.sort();
    Ok(files)
}

/// Fills an `out` that holds no crawl yet from the shard's home, if it has one; how
/// many files came.
pub async fn pull(store: &dyn ObjectStore, shard: Shard, out: &Path) -> Result<usize> {
    if Layout::new(out).has_state() {
        return Ok(0);
    }
    let objects: Vec<_> = store.list(Some(&home(shard))).try_collect().await.context("cannot list the shard's home in the lake")?;
    for object in &objects {
        let relative: Vec<_> = object.location.prefix_match(&home(shard)).context("an object outside the shard's home")?.collect();
        let path = relative.iter().fold(out.to_path_buf(), |path, part| path.join(part.as_ref()));
        let bytes = store.get(&object.location).await?.bytes().await.with_context(|| format!("cannot read {}", object.location))?;
        tokio::fs::create_dir_all(path.parent().expect("under out")).await?;
        // Written aside and renamed: a killed pull leaves no half state to start from.
        let partial = path.with_extension("partial");
        tokio::fs::write(&partial, &bytes).await.with_context(|| format!("cannot write {}", partial.display()))?;
        tokio::fs::rename(&partial, &path).await?;
    }
    Ok(objects.len())
}

/// Uploads the state and the archive files the home lacks (archive files of ended
/// runs never change); how many bytes went.
pub async fn push(store: &dyn ObjectStore, shard: Shard, out: &Path) -> Result<u64> {
    let held: std::collections::HashMap<String, u64> =
        store.list(Some(&home(shard))).map_ok(|o| (o.location.to_string(), o.size)).try_collect().await.context("cannot list the shard's home in the lake")?;
    let mut sent = 0;
    for relative in kept(out)? {
        let local = out.join(&relative);
        let Ok(meta) = tokio::fs::metadata(&local).await else { continue };
        let key = ObjectPath::from(format!("{}/{relative}", home(shard)));
        if relative.starts_with("raw/") && held.get(key.as_ref()) == Some(&meta.len()) {
            continue;
        }
        let bytes = tokio::fs::read(&local).await.with_context(|| format!("cannot read {}", local.display()))?;
        store.put(&key, PutPayload::from(bytes)).await.with_context(|| format!("cannot upload {key}"))?;
        sent += meta.len();
    }
    Ok(sent)
}
