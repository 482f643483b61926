//! Dataset: the Parquet tables `reports/` and `facts/`, Hive-partitioned by
//! `province=<省级名称>/year=<YYYY>` as dataset-contract.md specifies.
//!
//! `province` and `year` live only in the directory names (a column stored twice
//! makes pandas fail to merge schemas). Files appear atomically, and every build
//! replaces the partitions it writes, so rebuilding never duplicates a row.

mod schema;
pub mod stats;
mod writer;

use chrono::{DateTime, NaiveDate, Utc};

use crate::extract::Fact;

pub use writer::{Written, write};

/// One row of `reports`, with the partition it belongs to.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportRow {
    pub report_id: String,
    /// 1, 2, … each time the report's content changed; facts carry it too.
    pub version: i64,
    /// Whether this is the report's latest version (filter on it to count reports once).
    pub is_current: bool,
    pub url: String,
    pub title: String,
    pub agency: String,
    pub division_code: Option<String>,
    pub province_code: Option<String>,
    pub admin_level: String,
    pub format: String,
    pub published_date: Option<NaiveDate>,
    pub source_type: String,
    pub encoding: String,
    pub fetched_at: DateTime<Utc>,
    pub content_sha256: String,
    pub checks_failed: Vec<String>,
    pub warnings: Vec<String>,
    pub text: String,
    /// Partition: the provincial-level name, or 未知.
    pub province: String,
    /// Partition: the report year, 0 when unknown.
    pub year: i32,
}

/// A report with its facts.
#[derive(Debug, Clone)]
pub struct ReportWithFacts {
    pub report: ReportRow,
    pub facts: Vec<Fact>,
}
