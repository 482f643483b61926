//! Fetch: the polite HTTP client, and the raw archive every response goes to.
//!
//! [`Fetcher::fetch`] is the one way a page is requested. In order it checks the
//! URL's scope, the host's health, the host's robots.txt (fetched once per run),
//! waits for the host's politeness gate, sends the request, reads the body under a
//! size cap, stores the response in the WARC archive, and classifies the outcome.
//! Timeouts, resets, 5xx, 408 and 429 are retried with exponential backoff and
//! jitter, and a Retry-After makes the whole host wait; other 4xx are final.
//! Redirects are followed here, not inside the HTTP client, so that every hop passes
//! the scope, robots.txt and the politeness gate of the host it goes to.
//!
//! The steps live beside this file: `scope`, `robots`, `politeness`, `health` (when a
//! host is paused), `client` (the request, its body under the cap, what an error
//! means), `resolver` (where a name may resolve), `archive`, `outcome`.

pub mod archive;
mod client;
mod cookies;
mod health;
mod outcome;
mod politeness;
mod resolver;
pub mod robots;
pub mod scope;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use reqwest::header::RETRY_AFTER;
use tokio::sync::OnceCell;
use url::Url;

use crate::config::Config;
pub use archive::{Archive, RecordRef};
pub use client::{proxy_in_use, without_credentials};
use health::HostHealth;
pub use outcome::{Failure, FailureKind};
use politeness::Permit;
pub use politeness::Politeness;
use robots::Rules;
use scope::Scope;

/// A response worth processing.
#[derive(Debug, Clone)]
pub struct Fetched {
    /// The URL after redirects.
    pub url: Url,
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub fetched_at: DateTime<Utc>,
    /// Milliseconds from sending the request to the whole body (0 for a stored copy).
    pub took_ms: u64,
    pub record: RecordRef,
    /// How the page was had when that matters to a reader (TLS checks off, http fallback).
    pub notes: Vec<String>,
}

impl Fetched {
    pub fn header(&self, name: &str) -> Option<&str> {
        header(&self.headers, name)
    }
}

/// A header's value as text: UTF-8, else GBK, as Chinese servers send file names in
/// `Content-Disposition`.
fn header_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => encoding_rs::GBK.decode_without_bom_handling(bytes).0.into_owned(),
    }
}

/// A header's value by its name, in any case (HTTP names are case-insensitive).
pub fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
}

/// A host's robots.txt rules, read once by the first request that needs them.
type RobotsCell = Arc<OnceCell<Result<Arc<Rules>, Failure>>>;

/// What a fetch gave.
pub enum Fetch {
    Page(Box<Fetched>),
    /// 304: the stored copy is current.
    NotModified,
}

/// Validators from an earlier fetch, for a conditional request.
#[derive(Debug, Clone, Default)]
pub struct Validators {
    pub etag: Option<String>,
    pub last_modified: Option<String>,
}

/// What an earlier run stored of a page: how to revalidate it, and the record a 304
/// points back to (its WARC `revisit` record names it; the crawl reads its body).
#[derive(Debug, Clone)]
pub struct Earlier {
    pub validators: Validators,
    pub url: String,
    pub fetched_at: String,
    pub record: RecordRef,
}

/// Which body size cap applies.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum BodyLimit {
    #[default]
    Html,
    Attachment,
    /// robots.txt: its first [`ROBOTS_BYTES`] are read, as Google's parser reads them,
    /// and the rest ignored: a huge robots.txt is no reason to skip a host.
    Robots,
}

/// How much of a robots.txt is read (Google's limit).
pub const ROBOTS_BYTES: u64 = 500 * 1024;

/// How to ask for a page: GET by default, POST with a form for Hanweb's AJAX list
/// pages; a size cap; an earlier fetch's validators for a conditional request.
#[derive(Debug, Clone, Copy, Default)]
pub struct Ask<'a> {
    pub limit: BodyLimit,
    pub earlier: Option<&'a Earlier>,
    pub form: Option<&'a [(String, String)]>,
    /// The page the link was found on, for the `Referer` (kept across redirects).
    pub referrer: Option<&'a Url>,
}

pub struct Fetcher {
    client: reqwest::Client,
    /// For hosts with `insecure_tls`: the same client, accepting invalid certificates.
    insecure_client: reqwest::Client,
    config: Arc<Config>,
    politeness: Politeness,
    scope: Scope,
    archive: Archive,
    robots: Mutex<HashMap<String, RobotsCell>>,
    /// robots.txt files an earlier run fetched within the day, by host (None: the host
    /// has none): used instead of asking again.
    robots_kept: Mutex<HashMap<String, Option<Vec<u8>>>>,
    /// robots.txt files this run fetched, to keep for the next runs.
    robots_fetched: Mutex<Vec<(String, Option<Vec<u8>>)>>,
    health: Mutex<HashMap<String, HostHealth>>,
    /// Hosts reached over http after https failed this run, with why https failed.
    fell_back: Mutex<HashMap<String, String>>,
    /// The proxy requests go through, named in connection failures: a dead proxy
    /// otherwise reads as every portal refusing us.
    proxy: Option<String>,
}

/// One attempt's result, before retry decisions.
enum Attempt {
    Done(Result<Fetch, Failure>),
    Redirect(Url),
    Retry { failure: Failure, retry_after: Option<Duration> },
}

/// One hop's result: a final answer or where the server sent us.
enum Hop {
    Done(Fetch),
    Redirect(Url),
}

impl Fetcher {
    pub fn new(config: Arc<Config>, scope: Scope, archive: Archive) -> Result<Fetcher> {
        // One jar for both clients: a host's cookies whichever client reaches it.
        let cookies = Arc::new(cookies::HostJar::default());
        let client = client::build_client(&config, &scope, false, cookies.clone())?;
        let insecure_client = client::build_client(&config, &scope, true, cookies)?;
        let proxy = client::proxy_in_use(&config.crawl.proxy);
        Ok(Fetcher {
            client,
            insecure_client,
            politeness: Politeness::new(config.clone()),
            config,
            scope,
            archive,
            robots: Mutex::new(HashMap::new()),
            robots_kept: Mutex::new(HashMap::new()),
            robots_fetched: Mutex::new(Vec::new()),
            health: Mutex::new(HashMap::new()),
            fell_back: Mutex::new(HashMap::new()),
            proxy,
        })
    }

    pub fn archive(&self) -> &Archive {
        &self.archive
    }

    /// Waits until `host` is due for its next request (the wait `fetch` would start
    /// with), so a caller can take other resources only when they will be used.
    pub async fn until_due(&self, host: &str) {
        self.politeness.gate(host).until_due().await
    }

    /// Fetches `url` politely, following redirects hop by hop. See the module docs.
    pub async fn fetch(&self, url: &Url, ask: Ask<'_>) -> Result<Fetch, Failure> {
        let mut current = url.clone();
        let mut visited: Vec<Url> = Vec::new();
        loop {
            // Validators and a form belong to the URL asked for; a redirect target is a plain GET.
            let ask = if visited.is_empty() { ask } else { Ask { limit: ask.limit, referrer: ask.referrer, ..Ask::default() } };
            let hop = self.hop(&current, ask).await;
            let next = match hop {
                Ok(Hop::Done(fetch)) => return Ok(fetch),
                Ok(Hop::Redirect(next)) => next,
                Err(failure) if visited.is_empty() => return Err(failure),
                Err(Failure::OutOfScope(why)) => return Err(Failure::Failed(format!("redirect out of scope: {why}"))),
                // Another host that cannot be reached is that host's failure: the link
                // that led there fails, never the host it was found on.
                Err(failure @ (Failure::Unreachable(_) | Failure::Blocked(_) | Failure::HostPaused(_))) if current.host_str() != url.host_str() => {
                    let host = current.host_str().unwrap_or_default();
                    return Err(Failure::Failed(format!("redirected to {host}, which failed: {} {}", failure.kind().as_str(), failure.reason())));
                }
                Err(failure) => return Err(failure),
            };
            visited.push(current);
            if visited.contains(&next) {
                return Err(Failure::Failed(format!("redirect loop at {next}")));
            }
            if visited.len() > self.config.crawl.max_redirects {
                return Err(Failure::Failed(format!("more than {} redirects", self.config.crawl.max_redirects)));
            }
            current = next;
        }
    }

    /// One request: scope, host health, robots.txt, then the polite request itself.
    async fn hop(&self, url: &Url, ask: Ask<'_>) -> Result<Hop, Failure> {
        if let Some(why) = self.scope.refuse(url) {
            return Err(Failure::OutOfScope(why));
        }
        let host = url.host_str().unwrap_or_default().to_ascii_lowercase();
        if let Some(why) = self.paused(&host) {
            return Err(Failure::HostPaused(why));
        }
        let rules = self.rules(url, &host).await?;
        if !rules.allowed(url.as_str()) {
            return Err(Failure::RobotsDisallowed);
        }
        let result = self.with_fallback(url, &host, ask).await;
        self.record_health(&host, &result);
        result
    }

    /// [`Self::with_retries`], plus the host's configured TLS exceptions: an https
    /// request that cannot connect is tried over http where `http_fallback` allows it,
    /// and either exception is noted on the page for the report's warnings.
    async fn with_fallback(&self, url: &Url, host: &str, ask: Ask<'_>) -> Result<Hop, Failure> {
        let mut result = self.with_retries(url, host, ask).await;
        let Some(exceptions) = self.config.host(host) else { return result };
        if let Err(Failure::Unreachable(why)) = &result
            && exceptions.http_fallback
            && url.scheme() == "https"
        {
            let mut plain = url.clone();
            let _ = plain.set_scheme("http");
            tracing::warn!(%url, why, "https failed: trying http, as configured for this host");
            self.fell_back.lock().unwrap().insert(host.to_string(), why.clone());
            result = self.with_retries(&plain, host, ask).await;
        }
        if let Ok(Hop::Done(Fetch::Page(page))) = &mut result {
            // Every plain-http page of a host that fell back says so, not just the first.
            if let Some(why) = self.fell_back.lock().unwrap().get(host).filter(|_| page.url.scheme() == "http") {
                page.notes.push(format!("fetched over http because https failed on {host} ({why}), as configured"));
            }
            if exceptions.insecure_tls && page.url.scheme() == "https" {
                page.notes.push(format!("TLS certificate checks off for {host}, as configured"));
            }
        }
        result
    }

    async fn with_retries(&self, url: &Url, host: &str, ask: Ask<'_>) -> Result<Hop, Failure> {
        let crawl = &self.config.crawl;
        let mut attempt = 0;
        loop {
            let permit = self.politeness.acquire(host).await;
            let started = Instant::now();
            let outcome = self.attempt(url, ask, permit).await;
            match outcome {
                Attempt::Done(result) => {
                    // A reply that trickles in (slowloris) never times out and never fails:
                    // past a quarter of the timeout, its time is charged like a failure's.
                    // This page is kept; a host paused by it is paused from its next one.
                    let slow = started.elapsed().saturating_sub(Duration::from_secs(crawl.request_timeout_secs) / 4);
                    if !slow.is_zero() {
                        let _ = self.charge_wait(host, slow);
                    }
                    return result.map(Hop::Done);
                }
                Attempt::Redirect(next) => return Ok(Hop::Redirect(next)),
                Attempt::Retry { failure, .. } if attempt >= crawl.retries => {
                    self.charge_wait(host, started.elapsed())?;
                    return Err(failure);
                }
                Attempt::Retry { failure, retry_after } => {
                    let backoff = Duration::from_millis(crawl.backoff_base_ms.saturating_mul(1 << attempt.min(16)));
                    let wait = retry_after.unwrap_or(backoff + client::jitter(crawl.backoff_base_ms));
                    self.charge_wait(host, started.elapsed() + wait)?;
                    tracing::debug!(%url, %failure, ?wait, "retrying");
                    self.politeness.gate(host).hold_until(Instant::now() + wait);
                    attempt += 1;
                }
            }
        }
    }

    /// One request under `permit`, which is dropped once the body is in: archiving
    /// and classifying it is our time, not the host's.
    async fn attempt(&self, url: &Url, ask: Ask<'_>, permit: Permit) -> Attempt {
        let host = url.host_str().unwrap_or_default();
        let client = if self.config.host(host).is_some_and(|o| o.insecure_tls) { &self.insecure_client } else { &self.client };
        let sent = Instant::now();
        let mut response = match client::request(client, url, ask).send().await {
            Ok(r) => r,
            Err(e) => return client::classify_error(&e, self.proxy.as_deref()),
        };
        let status = response.status().as_u16();
        let retry_after = response.headers().get(RETRY_AFTER).and_then(|v| v.to_str().ok()).and_then(client::parse_retry_after);
        let final_url = response.url().clone();
        let header_list: Vec<(String, String)> = response.headers().iter().map(|(n, v)| (n.as_str().to_string(), header_text(v.as_bytes()))).collect();
        let cap = match ask.limit {
            BodyLimit::Html => self.config.crawl.max_html_bytes,
            BodyLimit::Attachment => self.config.crawl.max_attachment_bytes,
            BodyLimit::Robots => ROBOTS_BYTES,
        };
        let body = match client::read_body(&mut response, cap, ask.limit).await {
            Ok(body) => body,
            Err(attempt) => return attempt,
        };
        drop(permit);
        let fetched_at = Utc::now();
        let reason = reqwest::StatusCode::from_u16(status).ok().and_then(|s| s.canonical_reason()).unwrap_or("");
        let stored = match (status, ask.earlier) {
            (304, Some(earlier)) => self.archive.store_revisit(final_url.as_str(), fetched_at, reason, &header_list, earlier),
            _ => self.archive.store_response(final_url.as_str(), fetched_at, status, reason, &header_list, &body),
        };
        let record = match stored {
            Ok(r) => r,
            // A full disk must stop the crawl loudly, not lose pages quietly.
            Err(e) => return Attempt::Done(Err(Failure::Local(format!("cannot write the raw archive: {e:#}")))),
        };
        if let Some(why) = outcome::challenge(status, &header_list, &body) {
            return Attempt::Done(Err(Failure::Blocked(why)));
        }
        let location = header(&header_list, "location");
        if let (301 | 302 | 303 | 307 | 308, Some(next)) = (status, location.and_then(|l| final_url.join(l).ok())) {
            return Attempt::Redirect(next);
        }
        match status {
            304 => Attempt::Done(Ok(Fetch::NotModified)),
            408 | 429 | 500..=599 => Attempt::Retry { failure: Failure::Http(status), retry_after },
            200..=299 => {
                let took_ms = sent.elapsed().as_millis() as u64;
                Attempt::Done(Ok(Fetch::Page(Box::new(Fetched {
                    url: final_url,
                    status,
                    headers: header_list,
                    body,
                    fetched_at,
                    took_ms,
                    record,
                    notes: Vec::new(),
                }))))
            }
            _ => Attempt::Done(Err(Failure::Http(status))),
        }
    }
}
