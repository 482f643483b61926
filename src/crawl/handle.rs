//! Handling a fetched page, on a handler thread: decode, discover, extract, and
//! record it in the state in one step. A page's own trouble (a broken page, a reader's
//! bug) is that page's outcome; an error returned here is our own side failing.

use std::sync::Arc;

use anyhow::{Context, Result};
use tokio::sync::oneshot;
use url::Url;

use super::fetching::Got;
use super::{Crawler, host_of};
use crate::backlog::{Place, isolated};
use crate::decode::{Decoded, decode};
use crate::digest::sha256_hex;
use crate::discover::{
    self, Forward, PageKind, Target,
    canonical::{canonical, report_id},
    disposition_filename, names_a_file,
};
use crate::extract::{
    self, SourceType,
    stored::{self, Stored},
};
use crate::fetch::{Fetched, Validators};
use crate::seeds::Seed;
use crate::state::{Extracted, Job, Outcome, PageRecord, ReportEntry};
use crate::tripwire::Tripwire;

impl Crawler {
    /// Hands a fetched page to the backlog's handler threads, off the async workers.
    /// A page placed in the archive leaves its body there unless a thread is free.
    /// The reply is the handler's failure, if any, as the run's reason to stop.
    pub(super) fn hand_over(self: &Arc<Self>, job: Job, got: Got, place: Place) -> oneshot::Receiver<Result<(), String>> {
        let got = match got {
            Got::Fresh(mut page) if matches!(place, Place::Archive(_)) && !self.backlog.has_idle_thread() => {
                page.body = Vec::new();
                Got::Archived(page)
            }
            got => got,
        };
        let (reply, handled) = oneshot::channel();
        let crawler = self.clone();
        self.backlog.hand_over(move || {
            drop(place);
            let revalidated = matches!(got, Got::Unchanged(_));
            let result = crawler.body(&job, got).and_then(|page| {
                let Some(page) = page else { return Ok(()) };
                // A reader's bug on one page fails that page, not the run: recorded as
                // failed, it is not fetched again until the next run.
                isolated(|| crawler.handle(&job, page, revalidated)).unwrap_or_else(|why| {
                    tracing::error!(url = %job.target.url, "{why}");
                    crawler.tally.failed(&job.host, "reader-failed", None);
                    let canonical = job.canonical.clone();
                    crawler.state.ask_blocking(move |state| state.finish_job(&canonical, Outcome::ReaderFailed))
                })
            });
            let _ = reply.send(result.map_err(|e| format!("{}: {e:#}", job.target.url)));
        });
        handled
    }

    /// A page with its body, on a handler thread: read back from the raw archive
    /// if it waited there, or the stored copy of a page answered 304. A stored copy
    /// the archive lost (a WARC cut short by a kill) is forgotten and the page fetched
    /// again whole (None).
    fn body(&self, job: &Job, got: Got) -> Result<Option<Fetched>> {
        match got {
            Got::Fresh(page) => Ok(Some(page)),
            Got::Archived(mut page) => {
                page.body = self.fetcher.archive().read(&page.record).context("cannot read a fetched page back from the raw archive")?.body;
                Ok(Some(page))
            }
            Got::Unchanged(earlier) => match self.fetcher.archive().read(&earlier.record) {
                Ok(stored) => Ok(Some(Fetched {
                    url: Url::parse(&stored.url).or_else(|_| Url::parse(&job.target.url))?,
                    status: stored.status,
                    headers: stored.headers,
                    body: stored.body,
                    fetched_at: stored.date,
                    took_ms: 0,
                    record: earlier.record,
                    notes: Vec::new(),
                })),
                Err(e) => {
                    tracing::warn!(url = %job.target.url, "answered 304, but its stored copy is lost ({e:#}): fetching it whole");
                    self.state.ask_blocking(move |state| state.forget_archived(&[earlier.record]))?;
                    self.push(job.clone());
                    Ok(None)
                }
            },
        }
    }

    /// Hands a fetched page to the handler of its kind. An error here is our own side
    /// failing, never the page's.
    fn handle(&self, job: &Job, page: Fetched, revalidated: bool) -> Result<()> {
        let sha = sha256_hex(&page.body);
        let validators = Validators { etag: page.header("etag").map(str::to_string), last_modified: page.header("last-modified").map(str::to_string) };
        let stored = PageRecord {
            url: page.url.to_string(),
            status: page.status,
            validators,
            sha256: sha,
            record: page.record.clone(),
            fetched_at: page.fetched_at.to_rfc3339(),
        };
        let decoded = (SourceType::sniff(&page.body) == SourceType::Html).then(|| decode(&page.body, page.header("content-type"), Some(&job.host)));
        // An article or a file link answered by a page that only sends the visitor on
        // (a refresh, a script redirect, a frameset) is followed there, as a redirect is.
        // Navigation pages read their forwards in `discover::follow`.
        let forward = match job.target.kind {
            PageKind::Article | PageKind::Attachment => decoded.as_ref().map(|d| discover::forward(&d.text, &page.url)).unwrap_or_default(),
            _ => Forward::default(),
        };
        let outcome = match (job.target.kind, &job.target.report_id) {
            _ if forward.only => self.forwarded(job, &page, stored, &forward)?,
            (PageKind::Article, _) => self.article(job, &page, stored, decoded.as_ref(), &forward.to)?,
            (PageKind::Attachment, Some(report_id)) => self.attachment(job, &page, stored, report_id)?,
            _ => self.navigation(job, &page, stored, decoded.as_ref().map_or("", |d| d.text.as_str()))?,
        };
        match revalidated {
            true => crawl_log(job, Some(304), None, format!("{outcome} (not modified)")),
            false => crawl_log(job, Some(page.status), Some(&page), outcome),
        }
        Ok(())
    }

    /// A page that only sends the visitor on: the same page expected where it leads.
    fn forwarded(&self, job: &Job, page: &Fetched, stored: PageRecord, forward: &Forward) -> Result<Outcome> {
        let next: Vec<Job> = forward.to.iter().filter_map(|to| self.job_for(&job.seed, job.target.forwarded(to, &page.url)?)).collect();
        let canonical = job.canonical.clone();
        let (new, _) = self.state.ask_blocking(move |state| state.complete_article(&canonical, &stored, None, next, Outcome::Forwarded))?;
        for next in new {
            self.push(next);
        }
        Ok(Outcome::Forwarded)
    }

    /// A page expected to be a report (or a report file linked from a list): its
    /// report, if it is one, and its attachments to fetch (with the pages it frames),
    /// recorded in one step.
    fn article(&self, job: &Job, page: &Fetched, stored: PageRecord, html: Option<&Decoded>, framed: &[Url]) -> Result<Outcome> {
        // One parse serves the metadata, the attachment links and the tables.
        let doc = html.map(|d| crate::html::Page::parse(&d.text));
        let meta = match &doc {
            Some(doc) => discover::read_article(&page.url, doc, job.target.listed),
            None => discover::read_linked_file(&page.url, job.target.title.as_deref().unwrap_or(""), job.target.listed),
        };
        let report = meta.map(|meta| ReportEntry {
            report_id: report_id(&job.canonical),
            version: 0,
            is_current: true,
            sha256: stored.sha256.clone(),
            url: page.url.to_string(),
            // The state records the seed by its URL.
            seed: Seed { url: job.seed.clone(), agency: None, division_code: None },
            title: meta.title,
            // The title's body; else the body whose column lists it (a department's
            // column names it); the page's publisher only when neither does.
            agency: meta
                .agency
                .or_else(|| job.target.column.as_deref().and_then(discover::classify::agency_in_title))
                .or_else(|| job.target.department.is_none().then_some(meta.publisher).flatten()),
            department: job.target.department.clone(),
            column: job.target.column.clone(),
            year: meta.year,
            published: meta.published.map(|d| d.to_string()),
            warnings: meta.warnings.into_iter().chain(page.notes.iter().cloned()).chain(html.and_then(damaged_text)).collect(),
            record: page.record.clone(),
            attachments: Vec::new(),
        });
        let too_old = |r: &ReportEntry| r.year.is_some_and(|y| y < self.config.discover.min_report_year);
        let (report, outcome) = match report {
            Some(r) if too_old(&r) => (None, Outcome::ReportBeforeMinYear),
            Some(r) => (Some(r), Outcome::Report),
            None => (None, Outcome::NotAReport),
        };
        let read = report.as_ref().map(|r| read_report(&self.tripwire, job, page, r, doc.as_ref().zip(html)));
        let attached = match (&report, &doc) {
            (Some(r), Some(doc)) => {
                // An article with no template table may show its tables as pictures.
                let unread = read.as_ref().is_some_and(|read| read.extraction.facts.is_empty());
                let shown = (unread && extract::READS_PICTURES).then(|| extract::article_pictures(doc));
                let pictures = shown.unwrap_or_default().into_iter().filter_map(|src| page.url.join(&src).ok());
                self.attachments(job, r, discover::attachments(doc, &page.url, framed).into_iter().chain(pictures), &page.url)
            }
            _ => Vec::new(),
        };
        let extracted = read.as_ref().map(kept).transpose()?;
        drop(doc);
        let canonical = job.canonical.clone();
        let (new, change) = self.state.ask_blocking(move |state| {
            let report = report.as_ref().map(|r| (r, extracted.as_ref()));
            state.complete_article(&canonical, &stored, report, attached, outcome)
        })?;
        if let Some(change) = change {
            self.tally.report(&job.host, change);
        }
        for next in new {
            self.push(next);
        }
        Ok(outcome)
    }

    /// A file attached to a report's article, read for the report's year and recorded
    /// with what it holds in one step.
    fn attachment(&self, job: &Job, page: &Fetched, stored: PageRecord, report_id: &str) -> Result<Outcome> {
        let id = report_id.to_string();
        let year = self.state.ask_blocking(move |state| state.report_year(&id))?;
        let read = self.tripwire.read_file(&page.body, page.header("content-type"), Some(&job.host), year, page.fetched_at.timestamp());
        // A link taken for a file by its text or its path is what its answer says: a
        // web page with no report tables and no file name was no file.
        let named = names_a_file(&page.url) || page.header("content-disposition").and_then(disposition_filename).is_some();
        if read.source_type == SourceType::Html && read.extraction.facts.is_empty() && !named {
            let canonical = job.canonical.clone();
            self.state.ask_blocking(move |state| state.complete_article(&canonical, &stored, None, Vec::new(), Outcome::NotAFile))?;
            return Ok(Outcome::NotAFile);
        }
        let outcome = Outcome::Attachment(read.source_type);
        let extracted = kept(&read)?;
        let (canonical, report_id) = (job.canonical.clone(), report_id.to_string());
        self.state.ask_blocking(move |state| state.complete_attachment(&canonical, &stored, &report_id, (year, &extracted), outcome))?;
        Ok(outcome)
    }

    /// A report article's attached files (and pictures), to fetch too: they often hold
    /// the tables. Each once.
    fn attachments(&self, job: &Job, report: &ReportEntry, files: impl Iterator<Item = Url>, page_url: &Url) -> Vec<Job> {
        let mut seen = std::collections::HashSet::new();
        files
            .filter(|u| seen.insert(u.clone()))
            .filter_map(|u| {
                let target = Target {
                    url: u.to_string(),
                    kind: PageKind::Attachment,
                    title: Some(report.title.clone()),
                    report_id: Some(report.report_id.clone()),
                    referrer: Some(page_url.to_string()),
                    hops: 0,
                    ..job.target.clone()
                };
                self.job_for(&job.seed, target)
            })
            .collect()
    }

    /// A portal, hub or list page: the pages it leads to, recorded in one step.
    fn navigation(&self, job: &Job, page: &Fetched, stored: PageRecord, text: &str) -> Result<Outcome> {
        // A short reply is no block (an empty list window, a one-line notice): blocks
        // are recognised by their own marks when fetched (`fetch::challenge`).
        let found = discover::follow(&job.target, &page.url, text, self.config.discover.max_depth);
        for miss in &found.near_misses {
            tracing::debug!(url = %job.target.url, "near miss: {miss}");
        }
        for warning in &found.warnings {
            tracing::warn!(url = %job.target.url, "{warning}");
        }
        let outcome = if found.forwarded { Outcome::Forwarded } else { Outcome::Followed };
        let linked: Vec<Job> = found.targets.into_iter().filter_map(|target| self.job_for(&job.seed, target)).collect();
        let canonical = job.canonical.clone();
        let new = self.state.ask_blocking(move |state| state.complete_navigation(&canonical, &stored, linked, outcome))?;
        for next in new {
            self.push(next);
        }
        Ok(outcome)
    }

    /// A frontier job for a target found from `seed`'s pages, if its URL is in scope:
    /// a link to another portal is not followed (unless configured); a report's file
    /// and where a page sends its visitor are, wherever they are in scope.
    fn job_for(&self, seed: &str, target: Target) -> Option<Job> {
        let url = Url::parse(&target.url).ok()?;
        let found_on = target.referrer.as_deref().and_then(|r| Url::parse(r).ok());
        let linked = target.kind != PageKind::Attachment && target.hops == 0;
        if let Some(page) = found_on.filter(|page| linked && !self.scope.follows(&url, page)) {
            tracing::debug!(url = %url, page = %page, "not followed: another portal (scope.follow_other_portals)");
            return None;
        }
        self.scope.refuse(&url).is_none().then(|| Job { canonical: canonical(&url), host: host_of(&url), seed: seed.to_string(), target })
    }
}

/// What a report holds: its page's tables, or a report file's (linked straight from
/// a list, with no HTML page).
fn read_report(tripwire: &Tripwire, job: &Job, page: &Fetched, report: &ReportEntry, html: Option<(&crate::html::Page, &Decoded)>) -> Stored {
    let fetched_at = page.fetched_at.timestamp();
    match html {
        Some((doc, decoded)) => Stored {
            extraction: extract::extract_page(doc, report.year),
            source_type: SourceType::Html,
            encoding: decoded.encoding_name().to_string(),
            fetched_at,
        },
        None => tripwire.read_file(&page.body, page.header("content-type"), Some(&job.host), report.year, fetched_at),
    }
}

/// An extraction as the state keeps it.
fn kept(read: &Stored) -> Result<Extracted> {
    Ok(Extracted { extractor: stored::EXTRACTOR.to_string(), data: read.encode()? })
}

/// The warning a page decoded with malformed sequences carries: which encoding, how it
/// was chosen, and how many sequences were replaced.
fn damaged_text(decoded: &Decoded) -> Option<String> {
    (decoded.malformed > 0).then(|| {
        format!("text damaged: decoded as {} ({}), {} malformed byte sequences replaced", decoded.encoding_name(), decoded.decision.as_str(), decoded.malformed)
    })
}

/// The crawl log, in Heritrix's sense: one line per URL with what became of it, at
/// debug level (`NIANBAO_LOG=nianbao::crawl_log=debug` for these lines alone): its
/// kind, method, HTTP status, size, milliseconds, content type, the page that linked
/// it, and the outcome. robots.txt fetches have lines of their own (`fetch`).
pub(super) fn crawl_log(job: &Job, status: Option<u16>, page: Option<&Fetched>, outcome: impl std::fmt::Display) {
    if !tracing::enabled!(target: "nianbao::crawl_log", tracing::Level::DEBUG) {
        return;
    }
    // String fields: the text log quotes them, the JSON log gives strings.
    let outcome = outcome.to_string();
    let method = if job.target.form.is_some() { "POST" } else { "GET" };
    let (bytes, ms, content_type) = page.map_or((0, 0, ""), |p| (p.body.len(), p.took_ms, p.header("content-type").unwrap_or("")));
    let referrer = job.target.referrer.as_deref().unwrap_or("");
    tracing::debug!(target: "nianbao::crawl_log", url = %job.target.url, kind = job.target.kind.as_str(), method, status, bytes, ms, content_type, referrer, outcome = outcome.as_str());
}
