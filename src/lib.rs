//! nianbao builds the open dataset of China's government transparency reports.
//!
//! One pipeline, data flowing one way:
//!
//! ```text
//! seeds ─▶ fetch ─▶ decode ─▶ discover ─▶ extract ─▶ dataset
//! ```
//!
//! - [`seeds`] reads the portal list; [`config`] the settings.
//! - [`fetch`] is the polite HTTP client: per-host limits, robots.txt, retries,
//!   scope rules, and the raw WARC archive every response is kept in.
//! - [`decode`] turns bytes into text, whatever the headers claim.
//! - [`place`] says which division a report belongs to.
//! - [`discover`] walks a portal to its annual-report columns and lists, and picks
//!   the report articles by title.
//! - [`html`] parses report pages into a light tree, once per crawl: discovery reads
//!   their metadata and attachment links from it, extraction their tables.
//! - [`extract`] turns a report page into canonical facts and checks them.
//! - [`coverage`] says, for every body and year, whether its report was found, on
//!   time or late, and if not why not.
//! - [`dataset`] writes the Parquet tables `reports/`, `facts/`, `report_tables/`
//!   and `coverage/`; [`lake`] commits them to a Delta Lake, and [`shard`] splits a
//!   crawl between machines.
//!
//! [`crawl`] runs the stages over a seed list, keeping its state in [`state`], so
//! that a killed run resumes and a nightly run only fetches what changed; it ends
//! with [`rebuild`], which writes the dataset from the state (and is all that
//! `nianbao extract` runs). Pages
//! fetched wait for the CPU in its [`backlog`], so requests go out on time.
//! [`exit`] names how a command ended, as its exit status. [`tripwire`] keeps a
//! report file whose reading killed the process from killing every later run.
//! [`digest`] holds the SHA-256 and hex helpers the archive and the dataset share.

pub mod backlog;
pub mod config;
pub mod coverage;
pub mod crawl;
pub mod dataset;
pub mod decode;
pub mod digest;
pub mod discover;
pub mod exit;
pub mod extract;
pub mod fetch;
pub mod html;
pub mod lake;
pub mod layout;
pub mod place;
pub mod rebuild;
pub mod seeds;
pub mod shard;
pub mod state;
pub mod tripwire;
