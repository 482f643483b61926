//! Dataset: the Parquet tables `reports/` and `facts/`, Hive-partitioned by
//! `province=<省级名称>/year=<YYYY>` (docs/dataset.md is the data dictionary). A
//! report whose year is unknown goes to `year=0`, not to Hive's null partition
//! (`__HIVE_DEFAULT_PARTITION__`): polars, DuckDB and pyarrow read that as null, but
//! pandas' default `read_parquet` of the table then fails ("Cannot yet unify
//! dictionaries with nulls", pyarrow 26), and pandas is most researchers' first call.
//!
//! `province` and `year` live only in the directory names (a column stored twice
//! makes pandas fail to merge schemas). Files appear atomically, and every build
//! replaces the partitions it writes, so rebuilding never duplicates a row.

mod card;
pub mod keys;
mod schema;
pub mod stats;
mod writer;

use chrono::{DateTime, NaiveDate, Utc};

use crate::extract::{CheckFailure, Fact, SourceType};

pub use card::{Card, DATA_LICENCE, SCHEMA_VERSION};
pub use writer::{Written, write};

/// The Arrow schema of one of the partitioned tables made of reports.
pub fn schema_of(table: &str) -> Option<arrow_schema::SchemaRef> {
    match table {
        "reports" => Some(schema::reports_schema()),
        "facts" => Some(schema::facts_schema()),
        "report_tables" => Some(schema::report_tables_schema()),
        _ => None,
    }
}

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
    pub source_type: SourceType,
    pub encoding: String,
    pub fetched_at: DateTime<Utc>,
    pub content_sha256: String,
    pub checks_failed: Vec<CheckFailure>,
    pub warnings: Vec<String>,
    pub text: String,
    pub partition: Partition,
}

/// Where a report's rows go: its provincial-level division (or 未知) and the year
/// its statistics cover (None when unknown).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Partition {
    pub province: String,
    pub year: Option<i32>,
}

impl Partition {
    /// The year directory of reports whose year is unknown (see the module docs).
    pub const UNKNOWN_YEAR: i32 = 0;

    /// `province=<name>/year=<YYYY, or 0 when unknown>`, under a table's directory.
    pub fn dir(&self) -> std::path::PathBuf {
        let year = self.year.unwrap_or(Partition::UNKNOWN_YEAR);
        std::path::Path::new(&format!("province={}", self.province)).join(format!("year={year}"))
    }
}

/// One row of `coverage`: a body's year, with the body's place.
#[derive(Debug, Clone)]
pub struct CoverageRecord {
    pub row: crate::coverage::Row,
    pub division_code: Option<&'static str>,
    pub admin_level: &'static str,
}

/// A report with its facts.
#[derive(Debug, Clone)]
pub struct ReportWithFacts {
    pub report: ReportRow,
    pub facts: Vec<Fact>,
}
