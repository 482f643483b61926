//! The revisit schedule: when each page is due again, in the spirit of Nutch's
//! adaptive fetch schedule and HTTP's heuristic freshness (RFC 9111 §4.2.2).
//!
//! `revisits` holds, per page an earlier run fetched, its interval and when it is
//! next due (Unix seconds of the run's clock): the interval and up to half of it
//! again, by the page's URL, so that what one night found is not all due on one
//! night later. A page found unchanged (304, or the same bytes) waits twice as long
//! next time, up to the maximum; a changed one half as long, down to the first
//! interval. A column's entry page is due every run, and so is a page whose last
//! visit led to a new report. A failed page has no row: it is due the next run.
//! `robots` keeps each host's robots.txt for reuse within a day (RFC 9309 §2.4).

use std::collections::HashSet;

use anyhow::Result;
use rusqlite::{Connection, OptionalExtension, params};

use super::State;
use crate::config::Revisit;

const DAY: i64 = 86_400;

/// The run's clock and the intervals it schedules with, in seconds.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Now, as the run reckons it (`--now` and `NIANBAO_NOW` set it in tests).
    pub now: i64,
    navigation: (i64, i64),
    report: (i64, i64),
    robots: i64,
}

impl Schedule {
    pub fn new(now: i64, revisit: &Revisit) -> Schedule {
        let days = |d: u32| i64::from(d) * DAY;
        Schedule {
            now,
            navigation: (days(revisit.navigation_days), days(revisit.navigation_max_days)),
            report: (days(revisit.report_days), days(revisit.report_max_days)),
            robots: i64::from(revisit.robots_hours) * 3600,
        }
    }
}

/// What a visit found, against the page's last fetch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seen {
    /// The page was never fetched before.
    First,
    Unchanged,
    Changed,
    /// A navigation page, fetched before, that led to a report not known before.
    LedToNewReport,
}

/// Which intervals a page keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Class {
    EveryRun,
    Navigation,
    Report,
}

fn class(kind: &str, page: i64) -> Class {
    match kind {
        "list" if page == 0 => Class::EveryRun,
        "portal" | "hub" | "list" => Class::Navigation,
        _ => Class::Report,
    }
}

/// The interval after a visit that `seen` this, the last interval being `previous`.
fn interval(class: Class, seen: Seen, previous: Option<i64>, schedule: &Schedule) -> i64 {
    let (first, max) = match class {
        Class::EveryRun => return 0,
        Class::Navigation => schedule.navigation,
        Class::Report => schedule.report,
    };
    match (seen, previous) {
        (Seen::LedToNewReport, _) => 0,
        (Seen::Unchanged, Some(p)) => p.saturating_mul(2).clamp(first, max),
        (Seen::Changed, Some(p)) => (p / 2).clamp(first, max),
        _ => first,
    }
}

/// Schedules a page's next visit after one that `seen` this.
pub(super) fn reschedule(db: &Connection, canonical: &str, seen: Seen, schedule: Option<Schedule>) -> Result<()> {
    let Some(schedule) = schedule else { return Ok(()) };
    let row = db
        .prepare_cached(
            "SELECT f.kind, COALESCE(json_extract(f.target, '$.page'), 0), r.interval
             FROM frontier f LEFT JOIN revisits r ON r.canonical = f.canonical WHERE f.canonical = ?1",
        )?
        .query_row([canonical], |r| Ok((r.get::<_, String>(0)?, r.get::<_, i64>(1)?, r.get::<_, Option<i64>>(2)?)))
        .optional()?;
    let Some((kind, page, previous)) = row else { return Ok(()) };
    let next = interval(class(&kind, page), seen, previous, &schedule);
    let due = schedule.now.saturating_add(next).saturating_add(spread(canonical, next));
    db.prepare_cached("INSERT OR REPLACE INTO revisits(canonical, interval, due) VALUES (?1, ?2, ?3)")?.execute(params![canonical, next, due])?;
    Ok(())
}

/// Up to half an interval more, the same for a page every time (a hash of its URL):
/// the pages a first night found are not all due again on one night a week later.
fn spread(canonical: &str, interval: i64) -> i64 {
    // FNV-1a: stable across runs and builds, unlike the standard library's hasher.
    let hash = canonical.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3));
    interval / 512 * (hash % 256) as i64
}

/// A page that failed (or was not fetched) is due the next run.
pub(super) fn unschedule(db: &Connection, canonical: &str) -> Result<()> {
    db.prepare_cached("DELETE FROM revisits WHERE canonical = ?1")?.execute([canonical])?;
    Ok(())
}

impl State {
    /// Sets the clock and intervals this run's visits are scheduled with.
    pub fn set_schedule(&self, schedule: Schedule) {
        self.schedule.set(Some(schedule));
    }

    /// Pages not due at the schedule's `now`.
    pub fn not_due(&self) -> Result<HashSet<String>> {
        let Some(schedule) = self.schedule.get() else { return Ok(HashSet::new()) };
        let mut stmt = self.db.prepare("SELECT canonical FROM revisits WHERE due > ?1")?;
        let rows = stmt.query_map([schedule.now], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Marks pages done for this run without fetching them: not due, they keep their
    /// last outcome, their links and their reports.
    pub fn defer(&self, canonicals: &[String]) -> Result<()> {
        self.write(|db| {
            for canonical in canonicals {
                db.prepare_cached("UPDATE frontier SET status='done' WHERE canonical=?1")?.execute([canonical])?;
            }
            Ok(())
        })
    }

    /// The robots.txt of each host fetched within `robots_hours` of the schedule's
    /// `now`: its body, or None for a host without one (allow all).
    pub fn recent_robots(&self) -> Result<Vec<(String, Option<Vec<u8>>)>> {
        let Some(schedule) = self.schedule.get() else { return Ok(Vec::new()) };
        let mut stmt = self.db.prepare("SELECT host, body FROM robots WHERE fetched_at > ?1 AND fetched_at <= ?2")?;
        let rows = stmt.query_map([schedule.now - schedule.robots, schedule.now], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    /// Keeps robots.txt files fetched in this run, for the next runs within a day.
    pub fn remember_robots(&self, fetched: Vec<(String, Option<Vec<u8>>)>) -> Result<()> {
        let Some(schedule) = self.schedule.get() else { return Ok(()) };
        self.write(|db| {
            for (host, body) in &fetched {
                db.prepare_cached("INSERT OR REPLACE INTO robots(host, fetched_at, body) VALUES (?1, ?2, ?3)")?.execute(params![host, schedule.now, body])?;
            }
            Ok(())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn schedule() -> Schedule {
        Schedule::new(1_000_000, &Revisit::default())
    }

    #[test]
    fn unchanged_pages_wait_twice_as_long_up_to_the_maximum_and_changed_ones_half() {
        let s = schedule();
        let days = |n: i64| n * DAY;
        assert_eq!(interval(Class::Report, Seen::First, None, &s), days(7));
        assert_eq!(interval(Class::Report, Seen::Unchanged, Some(days(7)), &s), days(14));
        assert_eq!(interval(Class::Report, Seen::Unchanged, Some(days(56)), &s), days(90));
        assert_eq!(interval(Class::Report, Seen::Changed, Some(days(56)), &s), days(28));
        assert_eq!(interval(Class::Report, Seen::Changed, Some(days(7)), &s), days(7));
        assert_eq!(interval(Class::Navigation, Seen::Unchanged, Some(days(24)), &s), days(30));
        // After a visit that led to a new report, a page is due the next run, then
        // waits its first interval again.
        assert_eq!(interval(Class::Navigation, Seen::LedToNewReport, Some(days(24)), &s), 0);
        assert_eq!(interval(Class::Navigation, Seen::Unchanged, Some(0), &s), days(3));
        assert_eq!(interval(Class::EveryRun, Seen::Unchanged, Some(days(3)), &s), 0);
        assert_eq!(
            (class("list", 0), class("list", 2), class("portal", 0), class("attachment", 0)),
            (Class::EveryRun, Class::Navigation, Class::Navigation, Class::Report)
        );
    }

    #[test]
    fn pages_found_together_are_due_over_half_an_interval() {
        let week = 7 * DAY;
        let spreads: Vec<i64> = (0..200).map(|n| spread(&format!("http://www.zt.gov.cn/zwgk/xxgknb/t2024_{n}.html"), week)).collect();
        assert!(spreads.iter().all(|&s| (0..week / 2).contains(&s)));
        let days: std::collections::BTreeSet<i64> = spreads.iter().map(|s| s / DAY).collect();
        assert_eq!(days.len(), 4, "spread over the 3.5 days after the week: {days:?}");
        assert_eq!(spread("http://www.zt.gov.cn/", 0), 0, "a page due every run stays so");
        assert_eq!(spread("http://www.zt.gov.cn/a.html", week), spread("http://www.zt.gov.cn/a.html", week));
    }
}
