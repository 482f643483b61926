//! The accounting identities of the templates, checked per column.
//!
//! Real reports break them often (typos, stale rows, hand-edited totals). A failure is
//! data: it is recorded by name with the numbers, and the facts stay as printed. An
//! identity with a blank or missing cell cannot be checked and is skipped.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Fact;
use super::keys::{REQUEST_COLUMNS, REVIEW_COLUMNS, REVIEW_ROWS};

/// An identity that does not hold in one column (or row), with both sides.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckFailure {
    /// `requests.balance`, `requests.result_total`, `requests.row_total`, `review.row_total`.
    pub check: String,
    /// The column the identity failed in (`requests.balance`, `requests.result_total`)
    /// or the row (`*.row_total`).
    pub scope: String,
    pub left: String,
    pub left_value: f64,
    pub right: String,
    pub right_value: f64,
}

/// `requests.balance/total: new_received+carried_over=9 ≠ result.total+carried_forward=10`
impl fmt::Display for CheckFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}: {}={} ≠ {}={}", self.check, self.scope, self.left, self.left_value, self.right, self.right_value)
    }
}

/// The applicant columns a row's total adds up, and the review outcomes likewise.
const APPLICANTS: &[&str] = REQUEST_COLUMNS.split_last().expect("columns").1;
const REVIEW_PARTS: &[&str] = REVIEW_COLUMNS.split_last().expect("columns").1;

/// Every identity that does not hold, with its numbers.
pub fn failed(facts: &[Fact]) -> Vec<CheckFailure> {
    let mut checks = Checks { value: facts.iter().map(|f| ((f.section, f.row, f.column), f.value)).collect(), failures: Vec::new() };
    // Rows printed wholly blank are not among the result leaves, as rows not printed.
    let mut request_rows: Vec<&str> = facts.iter().filter(|f| f.section == "requests" && !f.raw.is_empty()).map(|f| f.row).collect();
    request_rows.dedup();
    checks.request_columns(&request_rows);
    for row in &request_rows {
        if APPLICANTS.iter().any(|c| checks.value.contains_key(&("requests", row, c))) {
            let total = checks.get("requests", row, "total");
            let parts = sum(APPLICANTS.iter().map(|c| checks.get("requests", row, c)));
            checks.expect("requests.row_total", row, ("total", total), ("sum of applicants", parts));
        }
    }
    for row in REVIEW_ROWS {
        let total = checks.get("review", row, "total");
        let parts = sum(REVIEW_PARTS.iter().map(|c| checks.get("review", row, c)));
        checks.expect("review.row_total", row, ("total", total), ("sum of results", parts));
    }
    checks.failures
}

/// A report's values by key, and the identities found not to hold.
struct Checks<'a> {
    value: FxHashMap<(&'a str, &'a str, &'a str), Option<f64>>,
    failures: Vec<CheckFailure>,
}

impl Checks<'_> {
    fn get(&self, section: &str, row: &str, column: &str) -> Option<f64> {
        self.value.get(&(section, row, column)).copied().flatten()
    }

    /// Records a failure when both sides are known and differ. Names are made only
    /// for failures: most identities hold.
    fn expect(&mut self, check: &str, scope: &str, left: (&str, Option<f64>), right: (&str, Option<f64>)) {
        if let (Some(l), Some(r)) = (left.1, right.1)
            && (l - r).abs() > 1e-6
        {
            self.failures.push(CheckFailure {
                check: check.to_string(),
                scope: scope.to_string(),
                left: left.0.to_string(),
                left_value: l,
                right: right.0.to_string(),
                right_value: r,
            });
        }
    }

    /// The balance and the results' total of section 三, in each column.
    fn request_columns(&mut self, request_rows: &[&str]) {
        let leaves: Vec<&str> = request_rows.iter().copied().filter(|r| r.starts_with("result.") && *r != "result.total").collect();
        for column in REQUEST_COLUMNS {
            let both = |a: &str, b: &str| sum([self.get("requests", a, column), self.get("requests", b, column)]);
            let (received, handled) = (both("new_received", "carried_over"), both("result.total", "carried_forward"));
            self.expect("requests.balance", column, ("new_received+carried_over", received), ("result.total+carried_forward", handled));
            if !leaves.is_empty() {
                let total = self.get("requests", "result.total", column);
                let results = sum(leaves.iter().map(|r| self.get("requests", r, column)));
                self.expect("requests.result_total", column, ("result.total", total), ("sum of results", results));
            }
        }
    }
}

/// The sum of all values, or None when any is blank: a blank cannot be checked.
fn sum(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    values.into_iter().try_fold(0.0, |acc, v| v.map(|v| acc + v))
}
