//! Scheduling by host: each host has its own queue of pages and its own workers (as
//! many as its in-flight limit), because politeness is per host. A host's queue only
//! ever feeds that host's workers, so a stalled host stalls nothing but itself.
//!
//! This is the bookkeeping alone, with no I/O: the crawl's workers (`crawl::work`)
//! ask it what to do next and tell it what they found, under one lock.

use std::collections::{HashMap, VecDeque};

use crate::config::Discover;
use crate::discover::PageKind;
use crate::state::Job;

/// Per-host queues, workers and page counts of one run.
#[derive(Default)]
pub(super) struct Scheduler {
    jobs: HashMap<String, VecDeque<Job>>,
    workers: HashMap<String, usize>,
    pages: HashMap<String, u32>,
    list_pages: HashMap<(String, Option<String>), u32>,
}

/// What queueing a page changed for its host.
#[derive(Debug, Default, PartialEq, Eq)]
pub(super) struct Queued {
    /// The host was not known to this run before.
    pub new_host: bool,
    /// The host had finished, and has work again.
    pub revived: bool,
    /// The host had no worker running: it starts now.
    pub started: bool,
    /// A worker is to be started for the host (it had room for one more).
    pub spawn: bool,
}

/// What a host's worker does next.
#[derive(Debug)]
pub(super) enum Next {
    Job(Box<Job>),
    /// Nothing queued, but pages of the host are still being handled.
    Wait,
    /// Nothing left: this worker ends. `last` when it was the host's last worker.
    Done {
        last: bool,
    },
}

impl Scheduler {
    /// Queues a page for its host; `concurrency` is the host's in-flight limit.
    pub fn push(&mut self, job: Job, concurrency: usize) -> Queued {
        let host = job.host.clone();
        let new_host = !self.jobs.contains_key(&host) && !self.workers.contains_key(&host);
        self.jobs.entry(host.clone()).or_default().push_back(job);
        let running = self.workers.entry(host).or_default();
        let started = *running == 0;
        let spawn = *running < concurrency;
        if spawn {
            *running += 1;
        }
        Queued { new_host, revived: started && !new_host, started, spawn }
    }

    /// The host's next page. With none queued, a worker whose pages are all handled
    /// is done (one worker fewer); one with pages still being handled waits for them,
    /// since they may find more.
    pub fn next(&mut self, host: &str, all_handled: bool) -> Next {
        if let Some(job) = self.jobs.get_mut(host).and_then(VecDeque::pop_front) {
            return Next::Job(Box::new(job));
        }
        if !all_handled {
            return Next::Wait;
        }
        let running = self.workers.entry(host.to_string()).or_default();
        *running = running.saturating_sub(1);
        let last = *running == 0;
        if last {
            self.jobs.remove(host);
        }
        Next::Done { last }
    }

    /// Counts the page against its host's budget (and its list's), and says why not
    /// when the budget is used up.
    pub fn over_budget(&mut self, job: &Job, budgets: &Discover) -> Option<String> {
        let pages = self.pages.entry(job.host.clone()).or_default();
        *pages += 1;
        if *pages > budgets.max_pages_per_host {
            return Some(format!("page budget of {} pages per host used up", budgets.max_pages_per_host));
        }
        if job.target.kind == PageKind::List {
            let lists = self.list_pages.entry((job.host.clone(), job.target.column.clone())).or_default();
            *lists += 1;
            if *lists > budgets.max_list_pages {
                return Some(format!("list budget of {} pages per column used up", budgets.max_list_pages));
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::discover::Target;

    fn job(host: &str, path: &str, kind: PageKind) -> Job {
        let url = format!("http://{host}{path}");
        Job {
            canonical: url.clone(),
            host: host.into(),
            seed: format!("http://{host}/"),
            target: Target { url, kind, column: Some("年报".into()), ..Target::default() },
        }
    }

    fn next_path(s: &mut Scheduler, host: &str) -> Option<String> {
        match s.next(host, true) {
            Next::Job(job) => Some(job.canonical.rsplit('/').next().unwrap().to_string()),
            _ => None,
        }
    }

    #[test]
    fn each_host_takes_its_own_pages_in_order_and_a_stalled_host_holds_no_other() {
        let mut s = Scheduler::default();
        assert_eq!(s.push(job("a.gov.cn", "/1", PageKind::List), 1), Queued { new_host: true, revived: false, started: true, spawn: true });
        assert_eq!(s.push(job("a.gov.cn", "/2", PageKind::List), 1), Queued::default(), "one worker per host at concurrency 1");
        assert!(s.push(job("b.gov.cn", "/1", PageKind::List), 1).spawn, "another host gets its own worker");
        // Host a's worker is stalled with pages in flight: b's pages still come.
        assert_eq!(next_path(&mut s, "a.gov.cn").as_deref(), Some("1"));
        assert!(matches!(s.next("a.gov.cn", false), Next::Job(_)));
        assert!(matches!(s.next("a.gov.cn", false), Next::Wait), "a waits for its pages in hand");
        assert_eq!(next_path(&mut s, "b.gov.cn").as_deref(), Some("1"));
        assert!(matches!(s.next("b.gov.cn", true), Next::Done { last: true }));
    }

    #[test]
    fn a_host_with_room_gets_more_workers_and_a_finished_host_is_revived() {
        let mut s = Scheduler::default();
        for k in 0..3 {
            s.push(job("a.gov.cn", &format!("/{k}"), PageKind::Article), 2);
        }
        assert_eq!(s.workers["a.gov.cn"], 2, "two workers at concurrency 2, not three");
        for _ in 0..3 {
            assert!(next_path(&mut s, "a.gov.cn").is_some());
        }
        assert!(matches!(s.next("a.gov.cn", true), Next::Done { last: false }));
        assert!(matches!(s.next("a.gov.cn", true), Next::Done { last: true }));
        let again = s.push(job("a.gov.cn", "/4", PageKind::Article), 2);
        assert_eq!(again, Queued { new_host: false, revived: true, started: true, spawn: true });
    }

    #[test]
    fn budgets_cut_a_host_and_a_list_at_their_limits() {
        let budgets = Discover { max_pages_per_host: 3, max_list_pages: 2, ..Discover::default() };
        let mut s = Scheduler::default();
        let list = job("a.gov.cn", "/nb/", PageKind::List);
        assert_eq!(s.over_budget(&list, &budgets), None);
        assert_eq!(s.over_budget(&list, &budgets), None);
        assert_eq!(s.over_budget(&list, &budgets).as_deref(), Some("list budget of 2 pages per column used up"));
        let article = job("a.gov.cn", "/a.html", PageKind::Article);
        assert_eq!(s.over_budget(&article, &budgets).as_deref(), Some("page budget of 3 pages per host used up"));
        assert_eq!(s.over_budget(&job("b.gov.cn", "/a.html", PageKind::Article), &budgets), None, "budgets are per host");
    }
}
