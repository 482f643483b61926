//! The lake: the dataset as Delta Lake tables on S3-compatible storage (or a file
//! system), fed by one crawl or by several shards of one (`--lake`, `--shard I/N`).
//!
//! Hive-partitioned files on a bucket cannot take several writers: the last one wins,
//! and readers see half-done updates. A Delta table's log can: each commit is a
//! conditional PUT of its next log entry, so concurrent writers need no lock service,
//! and readers (Spark, Trino, DuckDB, polars, pandas) see whole commits only.
//!
//! A run, crawl or `nianbao extract`, writes the local dataset as always, then makes
//! one commit per table (`reports`, `facts`, `report_tables`): it uploads the
//! partition files its shard does not hold yet and removes those they replace (see
//! [`files`]). The commit carries an application transaction (`nianbao/shard-I-of-N`,
//! the run's start in milliseconds), so a retried commit is not applied twice.
//!
//! A shard crawls only its own hosts ([`crate::shard`]). Links it finds to another
//! shard's hosts are handed to that shard through the lake ([`handoff`]): one inbox
//! object per sending run under `_nianbao/inbox/shard-J-of-N/`, read by that shard's
//! next run. A shard's runs hold a lease object (`_nianbao/lease/shard-I-of-N`),
//! written with a conditional PUT, so the same shard never runs twice at once. With
//! `[lake] keep_out`, a shard's state and raw archive live in the lake too
//! ([`home`]), so the shard can move to another machine.

pub mod files;
pub mod handoff;
mod target;

#[cfg(feature = "lake")]
mod delta;
#[cfg(feature = "lake")]
mod home;
#[cfg(feature = "lake")]
mod inbox;
#[cfg(feature = "lake")]
mod lease;
#[cfg(feature = "lake")]
mod session;
#[cfg(not(feature = "lake"))]
#[path = "absent.rs"]
mod session;

pub use session::Session;

/// What a lake asked of a nianbao built without the `lake` feature says.
pub const NOT_BUILT: &str = "this nianbao was built without Delta Lake support: build it with `cargo build --release --features lake`";
pub use target::{Pushed, TableCommit, Target};

/// The tables a lake holds: the dataset's partitioned tables made of reports, in the
/// order a run commits them. `reports` comes last: a run killed between its commits
/// leaves `facts` and `report_tables` ahead, never behind, so every report version a
/// reader sees in `reports` has its rows in the other two. (`coverage` stays local:
/// its rows are per seed list, not per host.)
pub const TABLES: [&str; 3] = ["facts", "report_tables", "reports"];
