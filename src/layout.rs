//! Where things live under the output directory (docs/dataset.md shows the tree).

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

    /// One JSON summary per crawl run, named by its run id.
    pub fn runs(&self) -> PathBuf {
        self.out.join("runs")
    }

    /// Crawl state (SQLite) and the run lock.
    pub fn state(&self) -> PathBuf {
        self.out.join("state")
    }

    /// Whether the output holds a crawl's state (a crawl has run here).
    pub fn has_state(&self) -> bool {
        crate::state::database(&self.state()).exists()
    }
}
