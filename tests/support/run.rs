//! Running the `nianbao` binary against a mock web.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use super::mock_web::MockWeb;

/// A crawl set up on a temporary directory: seeds, config and output.
pub struct CrawlSetup {
    pub dir: tempfile::TempDir,
    pub seeds: PathBuf,
    pub config: PathBuf,
    pub out: PathBuf,
}

impl CrawlSetup {
    /// `seeds` are the seed CSV lines after the header; `extra` is added to config.toml.
    pub fn new(web: &MockWeb, hosts: &[&str], seeds: &[String], extra: &str) -> CrawlSetup {
        let dir = tempfile::tempdir().unwrap();
        let seeds_path = dir.path().join("seeds.csv");
        std::fs::write(&seeds_path, format!("url,agency,division_code\n{}\n", seeds.join("\n"))).unwrap();
        let config = dir.path().join("config.toml");
        // Tests never go through a proxy of the machine's, unless they set their own.
        let proxy = if extra.contains("proxy =") { "" } else { "proxy = \"none\"\n" };
        std::fs::write(&config, web.config(hosts, &format!("[crawl]\n{proxy}{extra}"))).unwrap();
        let out = dir.path().join("data");
        CrawlSetup { dir, seeds: seeds_path, config, out }
    }

    pub fn command(&self) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_nianbao"));
        c.args(["crawl", "--seeds"]).arg(&self.seeds).arg("--config").arg(&self.config).arg("--out").arg(&self.out);
        c.env("NIANBAO_LOG", "nianbao=warn");
        c
    }

    /// Runs a crawl to its end: (exit status was 0, the log then the summary).
    pub fn crawl(&self) -> (bool, String) {
        self.crawl_with(&[])
    }

    /// A crawl with more flags, such as `--revisit all` for a test of what a revisit
    /// does rather than of which pages are due.
    pub fn crawl_with(&self, args: &[&str]) -> (bool, String) {
        let out = self.command().args(args).output().unwrap();
        let said = format!("{}{}", String::from_utf8_lossy(&out.stderr), String::from_utf8_lossy(&out.stdout));
        (out.status.success(), said)
    }

    /// Starts a crawl in the background (to kill it).
    pub fn spawn(&self) -> Child {
        self.command().stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap()
    }

    /// The crawl state database, read-only.
    pub fn state(&self) -> rusqlite::Connection {
        rusqlite::Connection::open_with_flags(self.out.join("state/nianbao.sqlite"), rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY).unwrap()
    }

    /// The frontier outcome recorded for a URL.
    pub fn outcome(&self, url: &str) -> Option<String> {
        self.state().query_row("SELECT COALESCE(outcome, status) FROM frontier WHERE canonical = ?1", [url], |r| r.get(0)).ok()
    }

    pub fn out(&self) -> &Path {
        &self.out
    }
}
