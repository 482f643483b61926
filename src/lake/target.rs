//! Where a run's lake is, and what it committed there.

use anyhow::{Context, Result, bail};
use serde::Serialize;
use url::Url;

use crate::shard::Shard;

/// The lake a run writes to, and the shard it writes as.
#[derive(Debug, Clone)]
pub struct Target {
    /// `s3://bucket/prefix/` or `file:///path/`: the tables are `<table>/` under it.
    pub root: Url,
    pub shard: Shard,
    /// How long a lease lasts unrenewed before another machine may take the shard.
    pub lease_secs: u64,
    /// Whether the shard's state and raw archive are kept in the lake too.
    pub keep_out: bool,
}

impl Target {
    /// The lake at `uri`: `s3://…` (or `s3a://…`), `file:///…`, or a local directory.
    pub fn new(uri: &str, shard: Shard, lease_secs: u64, keep_out: bool) -> Result<Target> {
        let mut root = match Url::parse(uri) {
            Ok(url) if url.scheme().len() > 1 => url,
            // A bare path (or a Windows drive letter) is a directory on this machine.
            _ => {
                let dir = std::path::absolute(uri).with_context(|| format!("--lake {uri}: not a URL or a usable path"))?;
                Url::from_directory_path(&dir).map_err(|()| anyhow::anyhow!("--lake {uri}: not a usable path"))?
            }
        };
        match root.scheme() {
            "s3" | "s3a" | "file" => {}
            other => bail!("--lake {uri}: {other}:// lakes are not supported (s3://bucket/prefix or file:///path)"),
        }
        if root.scheme() != "file" && root.host_str().is_none_or(str::is_empty) {
            bail!("--lake {uri}: no bucket (s3://bucket/prefix)");
        }
        if !root.path().ends_with('/') {
            root.set_path(&format!("{}/", root.path()));
        }
        Ok(Target { root, shard, lease_secs, keep_out })
    }

    /// A table's root under the lake.
    pub fn table(&self, name: &str) -> Url {
        self.root.join(&format!("{name}/")).expect("a table name is a path segment")
    }

    /// nianbao's own objects (inboxes, leases), beside the tables.
    pub fn own_objects(&self) -> Url {
        self.root.join("_nianbao/").expect("a path segment")
    }

    /// The application id of this shard's commits.
    pub fn app_id(&self) -> String {
        format!("nianbao/{}", self.shard.tag())
    }
}

/// What a run committed to its lake.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Pushed {
    pub root: String,
    pub shard: String,
    pub tables: Vec<TableCommit>,
    /// Links handed to other shards' inboxes, and taken from this shard's.
    pub handed_over: usize,
    pub taken_in: usize,
    /// From the first upload to the last commit.
    pub elapsed_ms: u64,
    /// The shard's state and archive files uploaded after the commit (`keep_out`).
    pub kept_bytes: u64,
}

/// One table's commit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableCommit {
    pub table: String,
    /// The table's version after the commit; None when an earlier attempt of this
    /// run had already committed.
    pub version: Option<u64>,
    pub files_added: usize,
    pub files_removed: usize,
    pub bytes_uploaded: u64,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lakes_are_s3_or_file_urls_or_paths_and_always_a_directory() {
        let t = Target::new("s3://bucket/nianbao", Shard::WHOLE, 600, false).unwrap();
        assert_eq!(t.table("facts").as_str(), "s3://bucket/nianbao/facts/");
        assert_eq!(t.own_objects().as_str(), "s3://bucket/nianbao/_nianbao/");
        let local = Target::new("/tmp/lake", Shard { index: 2, count: 3 }, 600, false).unwrap();
        assert_eq!(local.root.as_str(), "file:///tmp/lake/");
        assert_eq!(local.app_id(), "nianbao/shard-2-of-3");
        for bad in ["s3:///prefix", "http://example.gov.cn/lake"] {
            assert!(Target::new(bad, Shard::WHOLE, 600, false).is_err(), "{bad}");
        }
    }
}
