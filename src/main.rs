//! The `nianbao` command line: crawl, extract, stats. All the work is in the library.

use std::collections::HashSet;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use clap::{Args, Parser, Subcommand};

use nianbao::crawl::{self, RunOptions, Summary, plan::Plan};
use nianbao::dataset::{self, stats::Stats};
use nianbao::exit::Exit;
use nianbao::shard::Shard;
use nianbao::{config::Config, lake, layout::Layout, seeds, state::State};

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
    /// changed; a killed run resumes where it stopped. The seed list defines the run:
    /// seeds of earlier runs in the same --out are not crawled (their reports stay).
    /// Exit status: 0 done, 1 some reports not assembled, 69 nothing collected or
    /// too many hosts failed, 64 usage, 65 no usable seed, 66 missing input,
    /// 74 output I/O error, 75 another run holds --out, 78 bad configuration,
    /// 130/143 stopped by SIGINT/SIGTERM after writing what was collected.
    ///
    /// Example: nianbao crawl --seeds seeds/example.csv --out data/
    Crawl(CrawlArgs),
    /// Rebuild the dataset from the stored raw pages, without the network.
    Extract {
        /// Output directory of an earlier crawl.
        #[arg(long, default_value = "data", value_name = "DIR")]
        out: PathBuf,
        #[command(flatten)]
        lake: LakeArgs,
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

/// `nianbao crawl`'s flags.
#[derive(Args)]
struct CrawlArgs {
    /// Seed list: a CSV with a `url` column (optional `agency`, `division_code`),
    /// or a plain file of URLs, one per line. Repeat for several files.
    #[arg(long, required = true, value_name = "FILE")]
    seeds: Vec<PathBuf>,
    /// Output directory: reports/, facts/, report_tables/ (Parquet), raw/ (WARC), state/, runs/.
    #[arg(long, default_value = "data", value_name = "DIR")]
    out: PathBuf,
    /// Requests per second per host (overrides config.toml).
    #[arg(long, value_name = "N")]
    per_host_rps: Option<f64>,
    /// Crawl only this host's seeds and pages (repeat for several hosts).
    #[arg(long = "only-host", value_name = "HOST")]
    only_hosts: Vec<String>,
    #[command(flatten)]
    lake: LakeArgs,
    /// Print the hosts and budgets the run would use, and fetch nothing.
    #[arg(long)]
    dry_run: bool,
    /// Print the run summary (or the dry run's plan) as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Which pages an earlier run fetched to ask for again: those due on the revisit
    /// schedule ([revisit] in config.toml), or all of them.
    #[arg(long, value_enum, default_value = "due")]
    revisit: Revisit,
    /// The time the revisit schedule reckons with, as RFC 3339 (for tests that
    /// simulate nights; default: the clock).
    #[arg(long, env = "NIANBAO_NOW", value_name = "TIME", value_parser = parse_time)]
    now: Option<DateTime<Utc>>,
}

/// `--revisit`: which pages fetched before a run asks for again.
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Revisit {
    Due,
    All,
}

fn parse_time(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| format!("{text:?} is not an RFC 3339 time such as 2026-12-08T02:00:00Z ({e})"))
}

/// Where the dataset is also committed, and as which shard.
#[derive(Args)]
struct LakeArgs {
    /// Also commit the dataset to this Delta Lake: s3://bucket/prefix (credentials
    /// and endpoint from the AWS_* variables) or file:///path. Overrides [lake] uri.
    /// Needs a nianbao built with `--features lake`.
    #[arg(long, value_name = "URI")]
    lake: Option<String>,
    /// Crawl only the hosts of shard I of N (a stable hash of the host name), as one
    /// of N machines adding to one lake; links to other shards' hosts are handed to
    /// them through the lake. Needs a lake; `extract` must name the crawl's shard.
    #[arg(long, value_name = "I/N")]
    shard: Option<Shard>,
    /// Settings file; built-in defaults when not given and ./config.toml is absent.
    #[arg(long, value_name = "FILE")]
    config: Option<PathBuf>,
}

impl LakeArgs {
    /// The settings, and the lake the run commits to (None without one).
    fn resolve(&self) -> Result<(Config, Option<lake::Target>)> {
        let config = Config::load(self.config.as_deref())?;
        #[cfg(feature = "ocr")]
        nianbao::extract::configure_ocr(config.ocr.models.clone(), config.ocr.pictures_per_run);
        let uri = self.lake.clone().unwrap_or_else(|| config.lake.uri.clone());
        let target = match (uri.is_empty(), self.shard) {
            (true, None) => None,
            (true, Some(_)) => {
                return Err(anyhow::anyhow!("--shard needs a lake to meet the other shards in: give --lake (or [lake] uri)").context(Exit::Usage));
            }
            // Refused before anything runs, so that a dry run says it too.
            (false, _) if !cfg!(feature = "lake") => return Err(anyhow::anyhow!("--lake {uri}: {}", lake::NOT_BUILT).context(Exit::Usage)),
            (false, shard) => Some(lake::Target::new(&uri, shard.unwrap_or(Shard::WHOLE), config.lake.lease_secs, config.lake.keep_out).context(Exit::Usage)?),
        };
        Ok((config, target))
    }
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
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() { Exit::Usage.code() } else { Exit::Ok.code() });
        }
    };
    init_logging();
    match run(cli) {
        Ok(exit) => ExitCode::from(exit.code()),
        Err(e) => {
            eprintln!("nianbao: {e:#}");
            if let Some(hint) = nianbao::state::disk_trouble(&e) {
                eprintln!("nianbao: {hint}");
            }
            ExitCode::from(Exit::of(&e).code())
        }
    }
}

/// Logs go to stderr: coloured on a terminal only, and as JSON lines with
/// `NIANBAO_LOG_FORMAT=json` (for journald or a log shipper).
fn init_logging() {
    use std::io::IsTerminal;
    let filter = tracing_subscriber::EnvFilter::try_from_env("NIANBAO_LOG").unwrap_or_else(|_| "nianbao=info".into());
    let logs = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if std::env::var("NIANBAO_LOG_FORMAT").is_ok_and(|f| f.eq_ignore_ascii_case("json")) {
        logs.json().init();
    } else {
        logs.with_ansi(std::io::stderr().is_terminal()).init();
    }
}

/// Runs a command to its exit status; an error carries its own (see `nianbao::exit`).
fn run(cli: Cli) -> Result<Exit> {
    match cli.command {
        Command::Crawl(args) => crawl_command(args),
        Command::Extract { out, lake } => extract_command(&out, &lake),
        Command::Stats { out, json } => stats_command(&out, json),
    }
}

/// `nianbao extract`: the dataset rebuilt from the archive, and committed to the lake.
fn extract_command(out: &std::path::Path, lake: &LakeArgs) -> Result<Exit> {
    // The coverage table's first year: the settings' (./config.toml's), as a crawl reads it.
    let (config, target) = lake.resolve()?;
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let started = chrono::Utc::now();
    let session = match &target {
        Some(target) => Some(runtime.block_on(async {
            let session = lake::Session::begin(target, &format!("extract-{}", nianbao::state::run_id(started))).await?;
            session.pull_home(out).await?;
            anyhow::Ok(session)
        })?),
        None => None,
    };
    let (written, problems) = match nianbao::rebuild::extract_offline(out, config.discover.min_report_year) {
        Ok(rebuilt) => rebuilt,
        Err(e) => {
            if let Some(session) = session {
                runtime.block_on(session.abandon());
            }
            return Err(e);
        }
    };
    for p in &problems {
        eprintln!("report not assembled: {p}");
    }
    println!("{} reports, {} facts in {} partitions", written.reports, written.facts, written.partitions);
    if let Some(session) = session {
        let pushed = runtime.block_on(session.finish(out, Default::default(), started.timestamp_millis())).context(Exit::Lake)?;
        println!("{}", nianbao::crawl::lake_line(&pushed));
    }
    Ok(if problems.is_empty() { Exit::Ok } else { Exit::Partial })
}

/// `nianbao crawl`: the settings and seeds, the plan, then the run (or only the plan).
fn crawl_command(args: CrawlArgs) -> Result<Exit> {
    let CrawlArgs { seeds, out, per_host_rps, only_hosts, lake, dry_run, json, revisit, now } = args;
    let config_file = lake.config.clone().or_else(|| Some(PathBuf::from("config.toml")).filter(|p| p.exists()));
    let (mut config, lake) = lake.resolve()?;
    let shard = lake.as_ref().map_or(Shard::WHOLE, |l| l.shard);
    if let Some(rps) = per_host_rps {
        nianbao::config::rate("--per-host-rps", rps).context(Exit::Usage)?;
        config.crawl.per_host_rps = rps;
    }
    let list = seeds::load(&seeds)?;
    for problem in &list.problems {
        tracing::warn!("seed list: {problem}");
    }
    let shown = config_file.as_ref().map(|p| p.display().to_string());
    let plan = crawl::plan::plan(&config, shown.clone(), &list.seeds, &only_hosts, shard);
    if plan.hosts.is_empty() && !only_hosts.is_empty() {
        return Err(anyhow::anyhow!("--only-host {} matches no seed's host", only_hosts.join(", ")).context(Exit::Usage));
    }
    for warning in &plan.warnings {
        tracing::warn!("{warning}");
    }
    if dry_run {
        print_either(json, &plan, Plan::to_text)?;
        return Ok(Exit::Ok);
    }
    let c = &config.crawl;
    tracing::info!(
        "settings: {} (per_host_rps {}, global_concurrency {}, max_pages_per_host {}, proxy {}); {} hosts to crawl into {}",
        shown.as_deref().unwrap_or("built-in defaults"),
        c.per_host_rps,
        c.global_concurrency,
        config.discover.max_pages_per_host,
        plan.proxy.as_deref().unwrap_or("none"),
        plan.hosts.len(),
        out.display()
    );
    // The seeds the plan kept, in the seed files' order.
    let kept: HashSet<&str> = plan.hosts.iter().flat_map(|h| h.seeds.iter().map(|s| s.url.as_str())).collect();
    let seeds = list.seeds.iter().filter(|s| kept.contains(s.url.as_str())).cloned().collect();
    let runtime = tokio::runtime::Runtime::new().context("cannot start the async runtime")?;
    let options = RunOptions { config_file, only_hosts, lake, seed_lines_skipped: list.problems.clone(), now, revisit_all: revisit == Revisit::All };
    let summary = runtime.block_on(crawl::run(config, seeds, &out, options))?;
    print_either(json, &summary, Summary::to_text)?;
    Ok(summary.exit)
}

/// `nianbao stats`: the dataset's figures, with the host statuses and the last run
/// from the state when it can be read.
fn stats_command(out: &std::path::Path, json: bool) -> Result<Exit> {
    let mut stats = dataset::stats::collect(out)?;
    let layout = Layout::new(out);
    if layout.has_state() {
        // The lock is taken only to read; a running crawl makes stats say so.
        match State::open(&layout.state()) {
            Ok(state) => {
                stats.hosts = state.hosts()?;
                stats.last_run = state.last_run()?;
            }
            Err(e) => eprintln!("note: host statuses unavailable: {e:#}"),
        }
    }
    print_either(json, &stats, Stats::to_text)?;
    Ok(Exit::Ok)
}

/// Prints `value` as JSON or as its text for a person, on stdout.
/// A reader that stops reading (`| head`) is a normal end, not an error.
fn print_either<T: serde::Serialize>(json: bool, value: &T, text: impl Fn(&T) -> String) -> Result<()> {
    use std::io::Write;
    let shown = if json { serde_json::to_string_pretty(value)? + "\n" } else { text(value) };
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(shown.as_bytes()).and_then(|()| stdout.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        written => written.context("cannot write to standard output").context(Exit::Io),
    }
}
