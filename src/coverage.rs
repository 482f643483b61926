//! Coverage: for every body nianbao knows of and every report year, whether its
//! report was found, on time or late, and if not, why not, as far as the crawl can
//! tell.
//!
//! Whether a body published its report, and by the legal deadline, is itself what
//! transparency studies measure (the CASS index compiles it by hand for about 250
//! bodies). The rule is 《政府信息公开条例》 art. 50: the report on year Y is due by
//! 31 January of Y+1 (as revised in 2019, first applied to the report on 2019), by
//! 31 March before.
//!
//! The bodies are each seed's agency, every 集约化 department whose report column was
//! found on its portal, and every agency a report was found for. A year with no report
//! is `not_listed` only when every list page of the body's columns was fetched and no
//! report link in them failed: anything less says why the crawl cannot tell.

use std::collections::{BTreeSet, HashMap};
use std::ops::RangeInclusive;
use std::sync::Arc;

use chrono::NaiveDate;

use crate::discover::classify::year_in;
use crate::fetch::FailureKind;
use crate::state::{ColumnWalk, FailedArticle, HostRecord, HostStatus, Outcome, PortalWalk, Sighting};

/// Why a body's year has the report it has, or none.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Found,
    /// Every list page of the body's columns was walked: no report for the year.
    NotListed,
    /// The host was crawled, but no report column was found for the body.
    NoColumn,
    Unreachable,
    Blocked,
    RobotsDisallowed,
    /// A page budget (`max_pages_per_host`, `max_list_pages`) stopped the walk.
    BudgetExhausted,
    /// The last run did not visit the host (not in its seed list, or stopped first).
    NotCrawled,
}

impl Status {
    pub const ALL: [Status; 8] = [
        Status::Found,
        Status::NotListed,
        Status::NoColumn,
        Status::Unreachable,
        Status::Blocked,
        Status::RobotsDisallowed,
        Status::BudgetExhausted,
        Status::NotCrawled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Found => "found",
            Status::NotListed => "not_listed",
            Status::NoColumn => "no_column",
            Status::Unreachable => "unreachable",
            Status::Blocked => "blocked",
            Status::RobotsDisallowed => "robots_disallowed",
            Status::BudgetExhausted => "budget_exhausted",
            Status::NotCrawled => "not_crawled",
        }
    }
}

/// A report in the state, as coverage needs it.
#[derive(Debug, Clone)]
pub struct FoundReport {
    pub report_id: String,
    pub seed: String,
    /// The publishing body (title, else department column, else seed).
    pub agency: String,
    pub department: Option<String>,
    pub column: Option<String>,
    pub year: Option<i32>,
    pub published: Option<NaiveDate>,
    pub url: String,
    pub sighting: Option<Sighting>,
}

/// Everything coverage is computed from.
pub struct Inputs<'a> {
    pub years: RangeInclusive<i32>,
    pub seeds: &'a [PortalWalk],
    pub columns: &'a [ColumnWalk],
    pub failed_articles: &'a [FailedArticle],
    pub hosts: &'a [HostRecord],
    pub reports: &'a [FoundReport],
}

/// One body and year. The texts a body's rows share are shared, not copied: a
/// nationwide table has a row per body for each of some twenty years.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub agency: Arc<str>,
    pub seed: Arc<str>,
    pub host: Arc<str>,
    /// The report column the status is about (the body's, or the portal's own).
    pub column_url: Option<Arc<str>>,
    pub year: i32,
    pub status: Status,
    pub report_id: Option<String>,
    pub published_date: Option<NaiveDate>,
    pub deadline: NaiveDate,
    /// Days after the deadline the report was published (≤ 0: on time); None when
    /// no report or no publication date.
    pub days_late: Option<i64>,
    pub sighting: Option<Sighting>,
    /// One line: why this status.
    pub evidence: Arc<str>,
}

/// The legal deadline of the report on `year` (see the module docs).
pub fn deadline(year: i32) -> NaiveDate {
    let (month, day) = if year >= 2019 { (1, 31) } else { (3, 31) };
    NaiveDate::from_ymd_opt(year + 1, month, day).expect("a valid date")
}

/// A body of a seed: its name and the department column it has, if any.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Body {
    name: String,
    department: Option<String>,
}

/// Every body's row for every year, seed by seed, bodies by name.
pub fn coverage(inputs: &Inputs) -> Vec<Row> {
    let reports_of = by_seed(inputs.reports, |r| &r.seed);
    let columns_of = by_seed(inputs.columns, |c| &c.seed);
    let failed_of = by_seed(inputs.failed_articles, |a| &a.seed);
    let mut rows = Vec::new();
    for seed in inputs.seeds {
        let url = seed.seed.as_str();
        let (seed_url, host): (Arc<str>, Arc<str>) = (url.into(), seed.host.as_str().into());
        let reports = reports_of.get(url).map_or(&[][..], Vec::as_slice);
        let seed_columns = columns_of.get(url).map_or(&[][..], Vec::as_slice);
        for body in bodies(seed, seed_columns, reports) {
            let columns: Vec<&ColumnWalk> = seed_columns.iter().copied().filter(|c| c.department == body.department).collect();
            let failed: Vec<&FailedArticle> = failed_of.get(url).into_iter().flatten().copied().filter(|a| a.department == body.department).collect();
            let (agency, column_url): (Arc<str>, Option<Arc<str>>) = (body.name.as_str().into(), columns.first().map(|c| c.url.as_str().into()));
            for year in inputs.years.clone() {
                let found = reports.iter().filter(|r| r.agency == body.name && r.year == Some(year)).min_by_key(|r| (r.published, &r.report_id));
                let mut row = match found {
                    Some(report) => found_row(report, &columns, year),
                    None => {
                        let (status, evidence) = why_missing(seed, inputs.hosts, &columns, &failed, year);
                        Row { status, column_url: column_url.clone(), evidence: share(&rows, evidence), ..blank(year) }
                    }
                };
                (row.agency, row.seed, row.host) = (agency.clone(), seed_url.clone(), host.clone());
                rows.push(row);
            }
        }
    }
    rows
}

/// `items` by the seed they were found from.
fn by_seed<T>(items: &[T], seed: impl Fn(&T) -> &String) -> HashMap<&str, Vec<&T>> {
    let mut by: HashMap<&str, Vec<&T>> = HashMap::new();
    for item in items {
        by.entry(seed(item).as_str()).or_default().push(item);
    }
    by
}

/// `evidence`, sharing the previous row's copy when it says the same.
fn share(rows: &[Row], evidence: String) -> Arc<str> {
    match rows.last() {
        Some(last) if *last.evidence == *evidence => last.evidence.clone(),
        _ => evidence.into(),
    }
}

/// The seed's agency, its departments with a report column, and every agency it has
/// a report for.
fn bodies(seed: &PortalWalk, columns: &[&ColumnWalk], reports: &[&FoundReport]) -> BTreeSet<Body> {
    let mut bodies = BTreeSet::new();
    let own = seed.agency.clone().or_else(|| reports.iter().find(|r| r.department.is_none()).map(|r| r.agency.clone()));
    bodies.insert(Body { name: own.unwrap_or_else(|| seed.host.clone()), department: None });
    for department in columns.iter().filter_map(|c| c.department.clone()) {
        bodies.insert(Body { name: department.clone(), department: Some(department) });
    }
    for report in reports {
        if !bodies.iter().any(|b| b.name == report.agency) {
            bodies.insert(Body { name: report.agency.clone(), department: report.department.clone() });
        }
    }
    bodies
}

fn found_row(report: &FoundReport, columns: &[&ColumnWalk], year: i32) -> Row {
    let deadline = deadline(year);
    let column = columns.iter().find(|c| Some(&c.name) == report.column.as_ref()).or(columns.first());
    Row {
        column_url: column.map(|c| c.url.as_str().into()),
        status: Status::Found,
        report_id: Some(report.report_id.clone()),
        published_date: report.published,
        days_late: report.published.map(|p| (p - deadline).num_days()),
        sighting: report.sighting.clone(),
        evidence: format!("report {}", report.url).into(),
        ..blank(year)
    }
}

/// Why a year has no report: the most specific reason the crawl has.
fn why_missing(portal: &PortalWalk, hosts: &[HostRecord], columns: &[&ColumnWalk], failed: &[&FailedArticle], year: i32) -> (Status, String) {
    if !portal.in_last_run {
        return (Status::NotCrawled, "the seed was not in the last run's seed list".into());
    }
    match hosts.iter().find(|h| h.host == portal.host) {
        Some(h) if h.status == HostStatus::Blocked => return (Status::Blocked, format!("host blocked: {}", h.reason)),
        Some(h) if matches!(h.status, HostStatus::Unreachable | HostStatus::Paused) => {
            return (Status::Unreachable, format!("host {}: {}", h.status.as_str(), h.reason));
        }
        _ => {}
    }
    match portal.outcome {
        None => return (Status::NotCrawled, "the portal page was not fetched: the last run stopped first".into()),
        Some(Outcome::Failed(FailureKind::RobotsDisallowed)) => return (Status::RobotsDisallowed, "robots.txt disallows the portal page".into()),
        _ => {}
    }
    // A report link that failed, for this year or for an unknown one.
    if let Some(link) = failed.iter().find(|a| year_in(&a.title).is_none_or(|y| y == year)) {
        let (status, what) = match link.outcome {
            None => (Status::NotCrawled, "was not fetched: the last run stopped first".to_string()),
            Some(Outcome::Failed(FailureKind::RobotsDisallowed)) => (Status::RobotsDisallowed, "is disallowed by robots.txt".to_string()),
            Some(Outcome::Failed(FailureKind::Blocked)) => (Status::Blocked, "was blocked".to_string()),
            Some(Outcome::Budget) => (Status::BudgetExhausted, "was cut by the page budget".to_string()),
            Some(other) => (Status::Unreachable, format!("failed: {other}")),
        };
        return (status, format!("the report link «{}» {what}", link.title));
    }
    if columns.is_empty() {
        return match hosts.iter().find(|h| h.host == portal.host && h.status == HostStatus::Budget) {
            Some(h) => (Status::BudgetExhausted, format!("no report column found before {}", h.reason)),
            None => (Status::NoColumn, format!("no report column found on {}", portal.host)),
        };
    }
    why_not_listed(portal, columns)
}

/// Why a year has no report when the portal has report columns: how their walks
/// ended, or that they were walked to the end.
fn why_not_listed(portal: &PortalWalk, columns: &[&ColumnWalk]) -> (Status, String) {
    // A column whose list page failed on another host's account (a redirect to a portal
    // that is gone) or its own (a redirect loop) is that link's failure: while the
    // portal's other columns were walked, they decide, and the failed one is named.
    let elsewhere = |c: &&ColumnWalk| c.failed == Some(Outcome::Failed(FailureKind::Failed)) || (c.failed.is_some() && c.host != portal.host);
    let (failed_links, own): (Vec<&ColumnWalk>, Vec<&ColumnWalk>) = columns.iter().copied().partition(elsewhere);
    let deciding = if own.is_empty() { &failed_links } else { &own };
    for c in deciding {
        let name = &c.name;
        if c.pending > 0 {
            return (Status::NotCrawled, format!("column «{name}»: {} list pages not fetched, the last run stopped first", c.pending));
        }
        if c.over_budget > 0 {
            return (Status::BudgetExhausted, format!("column «{name}»: {} list pages cut by the page budget", c.over_budget));
        }
        if c.robots_disallowed > 0 {
            return (Status::RobotsDisallowed, format!("column «{name}»: list pages disallowed by robots.txt"));
        }
        if let Some(outcome) = c.failed {
            let status = if outcome == Outcome::Failed(FailureKind::Blocked) { Status::Blocked } else { Status::Unreachable };
            return (status, format!("column «{name}»: a list page failed ({outcome})"));
        }
    }
    let walked: Vec<String> = deciding.iter().map(|c| format!("«{}» ({} list pages)", c.name, c.pages)).collect();
    let mut evidence = format!("walked to the end: {}; no report for the year", walked.join(", "));
    for c in failed_links.iter().filter(|_| !own.is_empty()) {
        evidence.push_str(&format!("; column «{}» not walked: its list page failed ({})", c.name, c.failed.map_or(String::new(), |o| o.to_string())));
    }
    (Status::NotListed, evidence)
}

/// A row with only its year and deadline filled in.
fn blank(year: i32) -> Row {
    Row {
        agency: "".into(),
        seed: "".into(),
        host: "".into(),
        column_url: None,
        year,
        status: Status::NotListed,
        report_id: None,
        published_date: None,
        deadline: deadline(year),
        days_late: None,
        sighting: None,
        evidence: "".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(department: Option<&str>) -> ColumnWalk {
        ColumnWalk {
            host: "www.zt.gov.cn".into(),
            seed: "http://www.zt.gov.cn/".into(),
            department: department.map(str::to_string),
            name: "政府信息公开年报".into(),
            url: "http://www.zt.gov.cn/zwgk/xxgknb/".into(),
            pages: 2,
            pending: 0,
            over_budget: 0,
            robots_disallowed: 0,
            failed: None,
        }
    }

    fn seed() -> PortalWalk {
        PortalWalk {
            seed: "http://www.zt.gov.cn/".into(),
            agency: Some("昭通市人民政府".into()),
            division_code: Some("530600".into()),
            host: "www.zt.gov.cn".into(),
            outcome: Some(Outcome::Followed),
            in_last_run: true,
        }
    }

    fn report(agency: &str, year: i32, published: &str) -> FoundReport {
        FoundReport {
            report_id: format!("r{year}"),
            seed: "http://www.zt.gov.cn/".into(),
            agency: agency.into(),
            department: None,
            column: Some("政府信息公开年报".into()),
            year: Some(year),
            published: NaiveDate::parse_from_str(published, "%Y-%m-%d").ok(),
            url: format!("http://www.zt.gov.cn/zwgk/xxgknb/{year}.html"),
            sighting: None,
        }
    }

    fn statuses(rows: &[Row]) -> Vec<(String, i32, &'static str, Option<i64>)> {
        rows.iter().map(|r| (r.agency.to_string(), r.year, r.status.as_str(), r.days_late)).collect()
    }

    #[test]
    fn deadlines_follow_the_regulation_in_force() {
        assert_eq!(deadline(2018), NaiveDate::from_ymd_opt(2019, 3, 31).unwrap());
        assert_eq!(deadline(2019), NaiveDate::from_ymd_opt(2020, 1, 31).unwrap());
    }

    #[test]
    fn found_on_time_late_and_not_listed_only_after_a_whole_walk() {
        let columns = [column(None), column(Some("昭通市教育体育局"))];
        let reports = [report("昭通市人民政府", 2022, "2023-01-20"), report("昭通市人民政府", 2023, "2024-03-05")];
        let inputs = Inputs { years: 2022..=2024, seeds: &[seed()], columns: &columns, failed_articles: &[], hosts: &[], reports: &reports };
        let rows = coverage(&inputs);
        assert_eq!(
            statuses(&rows),
            vec![
                ("昭通市人民政府".into(), 2022, "found", Some(-11)),
                ("昭通市人民政府".into(), 2023, "found", Some(34)),
                ("昭通市人民政府".into(), 2024, "not_listed", None),
                ("昭通市教育体育局".into(), 2022, "not_listed", None),
                ("昭通市教育体育局".into(), 2023, "not_listed", None),
                ("昭通市教育体育局".into(), 2024, "not_listed", None),
            ]
        );
        assert!(rows[2].evidence.contains("walked to the end: «政府信息公开年报» (2 list pages)"), "{}", rows[2].evidence);
    }

    #[test]
    fn a_year_that_cannot_be_told_says_why_and_is_never_not_listed() {
        let mut cut = column(None);
        cut.over_budget = 3;
        let inputs = Inputs { years: 2023..=2023, seeds: &[seed()], columns: &[cut], failed_articles: &[], hosts: &[], reports: &[] };
        assert_eq!(coverage(&inputs)[0].status, Status::BudgetExhausted);

        let link = FailedArticle {
            host: "www.zt.gov.cn".into(),
            seed: "http://www.zt.gov.cn/".into(),
            department: None,
            title: "昭通市人民政府2023年政府信息公开工作年度报告".into(),
            outcome: Some(Outcome::Failed(FailureKind::RobotsDisallowed)),
        };
        let walked = [column(None)];
        let inputs = Inputs { years: 2022..=2023, seeds: &[seed()], columns: &walked, failed_articles: &[link], hosts: &[], reports: &[] };
        let rows = coverage(&inputs);
        assert_eq!((rows[0].status, rows[1].status), (Status::NotListed, Status::RobotsDisallowed));

        let blocked = HostRecord { host: "www.zt.gov.cn".into(), status: HostStatus::Blocked, reason: "HTTP 412 challenge".into() };
        let inputs = Inputs { years: 2023..=2023, seeds: &[seed()], columns: &walked, failed_articles: &[], hosts: &[blocked], reports: &[] };
        assert_eq!(coverage(&inputs)[0].status, Status::Blocked);

        let mut absent = seed();
        absent.in_last_run = false;
        let inputs = Inputs { years: 2023..=2023, seeds: &[absent], columns: &walked, failed_articles: &[], hosts: &[], reports: &[] };
        assert_eq!(coverage(&inputs)[0].status, Status::NotCrawled);

        let inputs = Inputs { years: 2023..=2023, seeds: &[seed()], columns: &[], failed_articles: &[], hosts: &[], reports: &[] };
        assert_eq!(coverage(&inputs)[0].status, Status::NoColumn);
    }
}
