//! What a run queues: its seeds and the pages other shards handed in, recorded in
//! the state, then the pending pages of its seeds that are due on the revisit
//! schedule (`state::revisits`), or all of them with `--revisit all`. A page not due
//! is done for this run unfetched: it keeps its last outcome, links and reports. The
//! robots.txt files an earlier run fetched within the day go to the fetcher.

use std::collections::HashSet;

use anyhow::Result;
use url::Url;

use super::{Crawler, host_of};
use crate::discover::{PageKind, Target, canonical::canonical};
use crate::lake::handoff::Handoff;
use crate::seeds::Seed;
use crate::state::Job;

impl Crawler {
    /// Records the seeds and queues what this run crawls: the pending pages of its
    /// seeds (of its hosts, with `--only-host` or `--shard`), and the pages other
    /// shards handed over, with the seeds they were found from. Pages of seeds from
    /// earlier lists stay pending in the state, untouched.
    pub(super) async fn queue_seeds(&self, seeds: Vec<Seed>, handed_in: Vec<Handoff>, revisit_all: bool) -> Result<()> {
        let run_id = self.run_id.clone();
        let (pending, earlier) = self
            .state
            .ask(move |state| {
                for seed in &seeds {
                    state.add_seed(seed, &run_id)?;
                    let url = Url::parse(&seed.url)?;
                    let target = Target { url: seed.url.clone(), kind: PageKind::Portal, ..Target::default() };
                    state.add_job(&Job { canonical: canonical(&url), host: host_of(&url), seed: seed.url.clone(), target })?;
                }
                for Handoff { seed, target } in &handed_in {
                    let Ok(url) = Url::parse(&target.url) else { continue };
                    state.add_seed(seed, &run_id)?;
                    state.add_job(&Job { canonical: canonical(&url), host: host_of(&url), seed: seed.url.clone(), target: target.clone() })?;
                }
                let listed: HashSet<&str> = seeds.iter().chain(handed_in.iter().map(|h| &h.seed)).map(|s| s.url.as_str()).collect();
                let earlier = state.seed_urls()?.into_iter().filter(|u| !listed.contains(u.as_str())).count();
                let mut pending = state.pending_jobs()?;
                pending.retain(|job| listed.contains(job.seed.as_str()));
                Ok((pending, earlier))
            })
            .await?;
        let pending = self.due(pending, revisit_all).await?;
        if earlier > 0 {
            tracing::warn!("{earlier} seeds of earlier runs in this output are not in this seed list: not crawled this run; their reports stay in the dataset");
        }
        for job in pending {
            self.push(job);
        }
        Ok(())
    }

    /// The pending pages due this run; the others are marked done and counted.
    pub(super) async fn due(&self, pending: Vec<Job>, revisit_all: bool) -> Result<Vec<Job>> {
        let (not_due, robots) = self.state.ask(move |state| Ok((if revisit_all { HashSet::new() } else { state.not_due()? }, state.recent_robots()?))).await?;
        self.fetcher.keep_robots(robots);
        let (deferred, due): (Vec<Job>, Vec<Job>) = pending.into_iter().partition(|job| not_due.contains(&job.canonical));
        for job in &deferred {
            self.tally.not_due(&job.host);
        }
        if !deferred.is_empty() {
            tracing::info!("{} pages not due for a visit (revisit schedule; --revisit all asks for them)", deferred.len());
            let canonicals: Vec<String> = deferred.into_iter().map(|job| job.canonical).collect();
            self.state.ask(move |state| state.defer(&canonicals)).await?;
        }
        Ok(due)
    }
}
