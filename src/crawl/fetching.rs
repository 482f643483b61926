//! Fetching a frontier page, on a host's worker: its budget, a conditional request
//! when the state has validators, and what a 304 or a failure leaves in the state.
//! What was fetched goes on to `handle`.

use anyhow::Result;
use chrono::Utc;
use url::Url;

use super::Crawler;
use super::handle::crawl_log;
use super::tally::add;
use crate::discover::{PageKind, canonical::report_id, names_a_file};
use crate::fetch::{Ask, BodyLimit, Earlier, Failure, Fetch, Fetched};
use crate::state::{Change, HostStatus, Job, Outcome};

/// A page to handle, and where its body is.
pub(super) enum Got {
    /// Fetched, its body in hand.
    Fresh(Fetched),
    /// Fetched, its body left in the raw archive until a handler thread is free.
    Archived(Fetched),
    /// Answered 304: the body is the stored copy of an earlier fetch.
    Unchanged(Earlier),
}

impl Crawler {
    /// Fetches one frontier page: None when there is nothing more to do with it (over
    /// budget, not modified, failed: all recorded). An error here is our own side
    /// failing (state or archive unwritable), never the page's.
    pub(super) async fn fetch(&self, job: &Job) -> Result<Option<Got>> {
        let over_budget = self.scheduler.lock().unwrap().over_budget(job, &self.config.discover);
        if let Some(why) = over_budget {
            let (host, canonical, run_id) = (job.host.clone(), job.canonical.clone(), self.run_id.clone());
            self.state
                .ask(move |state| {
                    state.set_host(&host, HostStatus::Budget, &why, &run_id)?;
                    state.finish_job(&canonical, Outcome::Budget)
                })
                .await?;
            crawl_log(job, None, None, Outcome::Budget);
            return Ok(None);
        }
        let url = Url::parse(&job.target.url)?;
        let is_article = job.target.kind == PageKind::Article;
        let is_file = job.target.kind == PageKind::Attachment || (is_article && names_a_file(&url));
        let earlier = self.earlier(job).await?;
        let limit = if is_file { BodyLimit::Attachment } else { BodyLimit::Html };
        let referrer = job.target.referrer.as_deref().and_then(|r| Url::parse(r).ok());
        let ask = Ask { limit, earlier: earlier.as_ref(), form: job.target.form.as_deref(), referrer: referrer.as_ref() };
        match self.fetcher.fetch(&url, ask).await {
            Ok(Fetch::Page(page)) => {
                self.tally.fetched(&job.host, page.status, page.body.len() as u64);
                Ok(Some(Got::Fresh(*page)))
            }
            Ok(Fetch::NotModified) => {
                self.tally.not_modified(&job.host);
                // A portal, hub or list page unchanged still leads where it led: its
                // stored copy is read again, so new discovery rules see it too.
                if let Some(earlier) = earlier.filter(|_| !matches!(job.target.kind, PageKind::Article | PageKind::Attachment)) {
                    return Ok(Some(Got::Unchanged(earlier)));
                }
                let id = report_id(&job.canonical);
                let canonical = job.canonical.clone();
                let known = self
                    .state
                    .ask(move |state| {
                        let known = is_article && state.has_report(&id)?;
                        if known {
                            state.saw_report(&id, &Utc::now().to_rfc3339())?;
                        }
                        state.finish_job(&canonical, Outcome::NotModified)?;
                        Ok(known)
                    })
                    .await?;
                if known {
                    self.tally.report(&job.host, Change::Unchanged);
                }
                crawl_log(job, Some(304), None, Outcome::NotModified);
                Ok(None)
            }
            Err(failure) => self.failed(job, failure).await.map(|()| None),
        }
    }

    /// The earlier fetch a page is asked for again with (its validators), counted as
    /// a conditional request. A POST (Hanweb's list windows) is no GET to revalidate.
    async fn earlier(&self, job: &Job) -> Result<Option<Earlier>> {
        if job.target.form.is_some() {
            return Ok(None);
        }
        let canonical = job.canonical.clone();
        let earlier = self.state.ask(move |state| state.earlier(&canonical)).await?;
        if earlier.is_some() {
            add(&self.tally.conditional);
        }
        Ok(earlier)
    }

    async fn failed(&self, job: &Job, failure: Failure) -> Result<()> {
        if let Failure::Local(why) = &failure {
            anyhow::bail!("{why}");
        }
        let status = match failure {
            Failure::Http(status) => Some(status),
            _ => None,
        };
        self.tally.failed(&job.host, failure.kind().as_str(), status);
        crawl_log(job, status, None, &failure);
        let host_status = match failure {
            Failure::Blocked(_) => Some(HostStatus::Blocked),
            Failure::Unreachable(_) => Some(HostStatus::Unreachable),
            Failure::HostPaused(_) => Some(HostStatus::Paused),
            _ => None,
        };
        let gone = matches!(failure, Failure::Http(404 | 410)) && job.target.kind == PageKind::Article;
        let (job, run_id) = (job.clone(), self.run_id.clone());
        self.state
            .ask(move |state| {
                if let Some(host_status) = host_status {
                    state.set_host(&job.host, host_status, &failure.reason(), &run_id)?;
                }
                let id = report_id(&job.canonical);
                if gone && state.has_report(&id)? {
                    state.report_gone(&id, &Utc::now().to_rfc3339())?;
                }
                state.finish_job(&job.canonical, Outcome::Failed(failure.kind()))
            })
            .await
    }
}
