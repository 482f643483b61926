//! Where things live under the output directory (see dataset-contract.md).

use std::path::{Path, PathBuf};

#[derive(Debug, Clone)]
pub struct Layout {
    pub out: PathBuf,
}

impl Layout {
    pub fn new(out: &Path) -> Layout {
        Layout { out: out.to_path_buf() }
    }

    /// Raw responses as fetched (WARC).
    pub fn raw(&self) -> PathBuf {
        self.out.join("raw")
    }

    /// Crawl state (SQLite) and the run lock.
    pub fn state(&self) -> PathBuf {
        self.out.join("state")
    }
}
