//! The coverage table's rows, from the state: what the crawl knows of each seed's
//! portal, report columns and reports goes to [`coverage`], and each body's rows are
//! then placed (division, level, province) like its reports.

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use anyhow::Result;
use chrono::{Datelike, NaiveDate, Utc};
use url::Url;

use super::rows::agency_of;
use crate::coverage::{FoundReport, Inputs, Row, Status, coverage};
use crate::dataset::{CoverageRecord, Partition};
use crate::place::{Division, admin_level, division_of_body};
use crate::state::{Established, HostRecord, HostStatus, ReportEntry, State};

/// A body's division and level, by (seed, agency).
type Placed = (Option<&'static Division>, &'static str);

/// The current version of every report, as coverage needs it.
pub(super) fn found_reports(state: &State, reports: &[ReportEntry]) -> Result<Vec<FoundReport>> {
    let sightings = state.sightings()?;
    Ok(reports
        .iter()
        .filter(|r| r.is_current)
        .map(|r| FoundReport {
            report_id: r.report_id.clone(),
            seed: r.seed.url.clone(),
            agency: agency_of(r),
            department: r.department.clone(),
            column: r.column.clone(),
            year: r.year,
            published: r.published.as_deref().and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok()),
            url: r.url.clone(),
            sighting: sightings.get(&r.report_id).cloned(),
        })
        .collect())
}

/// Every body's row for every year from `first_year` to the last complete year, by
/// partition. A row this build, `run_id`, could tell only because its host failed
/// (unreachable, blocked, paused) keeps what an earlier run established, with the
/// failed attempt in its evidence; what this build established is kept for later ones.
pub(super) fn coverage_records(state: &State, found: &[FoundReport], first_year: i32, run_id: &str) -> Result<BTreeMap<Partition, Vec<CoverageRecord>>> {
    let mut walks = state.portal_walks()?;
    for portal in walks.iter_mut().filter(|p| p.host.is_empty()) {
        portal.host = Url::parse(&portal.seed).ok().and_then(|u| u.host_str().map(str::to_ascii_lowercase)).unwrap_or_default();
    }
    let (columns, failed_articles, hosts) = (state.column_walks()?, state.failed_articles()?, state.hosts()?);
    let inputs = Inputs {
        years: first_year..=Utc::now().year() - 1,
        seeds: &walks,
        columns: &columns,
        failed_articles: &failed_articles,
        hosts: &hosts,
        reports: found,
    };
    let codes: HashMap<&str, Option<&str>> = walks.iter().map(|p| (p.seed.as_str(), p.division_code.as_deref())).collect();
    let mut partitions: BTreeMap<Partition, Vec<CoverageRecord>> = BTreeMap::new();
    // A body is placed once, not once per year.
    let mut placed: HashMap<(Arc<str>, Arc<str>), Placed> = HashMap::new();
    let earlier = state.established()?;
    let mut established = Vec::new();
    for row in coverage(&inputs) {
        let row = kept_through_failure(row, &hosts, &earlier, run_id, &mut established);
        let (division, level) = *placed.entry((row.seed.clone(), row.agency.clone())).or_insert_with(|| {
            let division = division_of_body(&row.agency, codes.get(&*row.seed).copied().flatten(), Some(&row.host));
            (division, admin_level(&row.agency, division))
        });
        let partition = Partition { province: division.map_or_else(|| "未知".to_string(), |d| d.province_name.clone()), year: Some(row.year) };
        let record = CoverageRecord { division_code: division.map(|d| d.code.as_str()), admin_level: level, row };
        partitions.entry(partition).or_default().push(record);
    }
    state.establish(&established)?;
    Ok(partitions)
}

/// A row whose host failed in the last run, with what an earlier run established of
/// it, if one did; a row that establishes something is noted in `established`.
fn kept_through_failure(
    row: Row,
    hosts: &[HostRecord],
    earlier: &HashMap<(String, String, i32), Established>,
    run_id: &str,
    established: &mut Vec<Established>,
) -> Row {
    let failed = hosts.iter().find(|h| *h.host == *row.host && matches!(h.status, HostStatus::Unreachable | HostStatus::Blocked | HostStatus::Paused));
    let key = (row.seed.to_string(), row.agency.to_string(), row.year);
    match (failed, earlier.get(&key)) {
        (Some(host), Some(kept)) if matches!(row.status, Status::Unreachable | Status::Blocked) => {
            let Some(status) = Status::ALL.into_iter().find(|s| s.as_str() == kept.status) else { return row };
            let evidence = format!(
                "{} (established by run {}); the last attempt, run {run_id}, failed: host {}: {}",
                kept.evidence,
                kept.run_id,
                host.status.as_str(),
                host.reason
            );
            Row { status, evidence: evidence.into(), column_url: kept.column_url.as_deref().map(Into::into), ..row }
        }
        _ => {
            if matches!(row.status, Status::NotListed | Status::NoColumn | Status::RobotsDisallowed | Status::BudgetExhausted) {
                let (seed, agency, year) = key;
                let column_url = row.column_url.as_deref().map(str::to_string);
                established.push(Established {
                    seed,
                    agency,
                    year,
                    status: row.status.as_str().to_string(),
                    evidence: row.evidence.to_string(),
                    column_url,
                    run_id: run_id.to_string(),
                });
            }
            row
        }
    }
}
