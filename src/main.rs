//! The `nianbao` command line: crawl, extract, stats. All the work is in the library.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};

use nianbao::{config::Config, crawl, dataset, layout::Layout, seeds, state::State};

/// Builds the open dataset of Chinese government transparency reports
/// (政府信息公开工作年度报告): crawls government portals politely, finds the annual
/// reports, extracts their tables into canonical keys, checks their arithmetic, and
/// writes Parquet partitioned by province and year.
#[derive(Parser)]
#[command(name = "nianbao", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Crawl the portals of a seed list and write the dataset.
    ///
    /// Fetches each portal's home page, follows links to its 政府信息公开 area and
    /// annual-report columns, walks their lists, and keeps every report found.
    /// Incremental: a second run sends conditional requests and adds only what
    /// changed; a killed run resumes where it stopped. Exit status 0 when the run
    /// finished, even if some pages failed (they are counted in the summary).
    ///
    /// Example: nianbao crawl --seeds seeds/example.csv --out data/
    Crawl {
        /// Seed list: a CSV with a `url` column (optional `agency`, `division_code`),
        /// or a plain file of URLs, one per line. Repeat for several files.
        #[arg(long, required = true, value_name = "FILE")]
        seeds: Vec<PathBuf>,
        /// Settings file; built-in defaults when not given and ./config.toml is absent.
        #[arg(long, value_name = "FILE")]
        config: Option<PathBuf>,
        /// Output directory: reports/ and facts/ (Parquet), raw/ (WARC), state/.
        #[arg(long, default_value = "data", value_name = "DIR")]
        out: PathBuf,
        /// Requests per second per host (overrides config.toml).
        #[arg(long, value_name = "N")]
        per_host_rps: Option<f64>,
    },
    /// Rebuild the dataset from the stored raw pages, without the network.
    Extract {
        /// Output directory of an earlier crawl.
        #[arg(long, default_value = "data", value_name = "DIR")]
        out: PathBuf,
    },
    /// Show what the dataset holds: reports per province and year, facts per
    /// section, identity failures, warnings, and hosts that could not be crawled.
    Stats {
        /// Output directory of an earlier crawl.
        #[arg(long, default_value = "data", value_name = "DIR")]
        out: PathBuf,
        /// Print JSON instead of a table.
        #[arg(long)]
        json: bool,
    },
}

/// jemalloc rather than glibc's malloc: on the crawl benchmark glibc spent a fifth of
/// the crawler's CPU in malloc, free and arena locks, and, unless pinned, held 1.3 GB
/// at 20,000 hosts for 150 MB in use (its per-thread arenas never shrink).
#[cfg(not(target_env = "msvc"))]
#[global_allocator]
static ALLOCATOR: tikv_jemallocator::Jemalloc = tikv_jemallocator::Jemalloc;

/// Two arenas for two busy threads (the default, four per core, peaks ~20% higher),
/// and freed pages returned after a second rather than ten (-7 MB at 1,000 hosts,
/// -14 MB at 20,000, no CPU cost the benchmark can see). jemalloc reads this before
/// `main`; `_RJEM_MALLOC_CONF` still overrides it.
#[cfg(not(target_env = "msvc"))]
#[unsafe(export_name = "_rjem_malloc_conf")]
static MALLOC_CONF: &[u8; 47] = b"narenas:2,dirty_decay_ms:1000,muzzy_decay_ms:0\0";

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("NIANBAO_LOG").unwrap_or_else(|_| "nianbao=info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    match run(Cli::parse()) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            if let Some(hint) = nianbao::state::disk_trouble(&e) {
                eprintln!("nianbao: {hint}");
            }
            ExitCode::from(2)
        }
    }
}


/// Runs a command: 0 when it finished, 1 when it finished but some reports could not
/// be assembled (the next crawl fetches them again), Err (exit 2) when it could not proceed.
fn run(cli: Cli) -> Result<ExitCode> {
    match cli.command {
        Command::Crawl { seeds, config, out, per_host_rps } => {
            let mut config = Config::load(config.as_deref())?;
            if let Some(rps) = per_host_rps {
                nianbao::config::rate("--per-host-rps", rps)?;
                config.crawl.per_host_rps = rps;
            }
            let list = seeds::load(&seeds)?;
            for problem in &list.problems {
                tracing::warn!("seed list: {problem}");
            }
            let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
            let summary = runtime.block_on(crawl::run(config, list.seeds, &out))?;
            eprint!("{}", summary.to_text());
            Ok(if summary.unassembled.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Extract { out } => {
            let (written, problems) = crawl::extract_offline(&out)?;
            for p in &problems {
                eprintln!("report not assembled: {p}");
            }
            eprintln!("{} reports, {} facts in {} partitions", written.reports, written.facts, written.partitions);
            Ok(if problems.is_empty() { ExitCode::SUCCESS } else { ExitCode::from(1) })
        }
        Command::Stats { out, json } => {
            let mut stats = dataset::stats::collect(&out)?;
            let layout = Layout::new(&out);
            if layout.state().join("nianbao.sqlite").exists() {
                // The lock is taken only to read; a running crawl makes stats say so.
                match State::open(&layout.state()) {
                    Ok(state) => {
                        for (host, status, reason) in state.hosts()? {
                            stats.hosts.insert(host, format!("{status}: {reason}"));
                        }
                    }
                    Err(e) => eprintln!("note: host statuses unavailable: {e:#}"),
                }
            }
            if json {
                println!("{}", serde_json::to_string_pretty(&stats)?);
            } else {
                print!("{}", stats.to_text());
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}
