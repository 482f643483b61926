//! The accounting identities of the templates, checked per column.
//!
//! Real reports break them often (typos, stale rows, hand-edited totals). A failure is
//! data: it is recorded by name with the numbers, and the facts stay as printed. An
//! identity with a blank or missing cell cannot be checked and is skipped.

use std::fmt;

use rustc_hash::FxHashMap;
use serde::{Deserialize, Serialize};

use super::Fact;

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

const APPLICANTS: [&str; 6] = ["natural_person", "commercial", "research", "nonprofit", "legal_service", "other_org"];
const REVIEW_PARTS: [&str; 4] = ["upheld", "corrected", "other", "pending"];
const REVIEW_ROWS: [&str; 3] = ["review", "litigation_direct", "litigation_after_review"];

/// Every identity that does not hold, with its numbers.
pub fn failed(facts: &[Fact]) -> Vec<CheckFailure> {
    let value: FxHashMap<(&str, &str, &str), Option<f64>> =
        facts.iter().map(|f| ((f.section, f.row, f.column), f.value)).collect();
    let get = |s: &str, r: &str, c: &str| value.get(&(s, r, c)).copied().flatten();
    let mut failures = Vec::new();
    // Names are made only for failures: most identities hold.
    let mut expect = |check: &str, scope: &str, left: (&str, Option<f64>), right: (&str, Option<f64>)| {
        if let (Some(l), Some(r)) = (left.1, right.1)
            && (l - r).abs() > 1e-6
        {
            failures.push(CheckFailure {
                check: check.to_string(),
                scope: scope.to_string(),
                left: left.0.to_string(),
                left_value: l,
                right: right.0.to_string(),
                right_value: r,
            });
        }
    };

    // Rows printed wholly blank are not among the result leaves, as rows not printed.
    let mut request_rows: Vec<&str> = facts.iter().filter(|f| f.section == "requests" && !f.raw.is_empty()).map(|f| f.row).collect();
    request_rows.dedup();
    let leaves: Vec<&str> = request_rows.iter().copied().filter(|r| r.starts_with("result.") && *r != "result.total").collect();
    for column in APPLICANTS.iter().chain(["total"].iter()) {
        let both = |a: &str, b: &str| sum([get("requests", a, column), get("requests", b, column)]);
        expect(
            "requests.balance",
            column,
            ("new_received+carried_over", both("new_received", "carried_over")),
            ("result.total+carried_forward", both("result.total", "carried_forward")),
        );
        if !leaves.is_empty() {
            expect(
                "requests.result_total",
                column,
                ("result.total", get("requests", "result.total", column)),
                ("sum of results", sum(leaves.iter().map(|r| get("requests", r, column)))),
            );
        }
    }
    for row in &request_rows {
        if APPLICANTS.iter().all(|c| !value.contains_key(&("requests", row, c))) {
            continue;
        }
        expect(
            "requests.row_total",
            row,
            ("total", get("requests", row, "total")),
            ("sum of applicants", sum(APPLICANTS.iter().map(|c| get("requests", row, c)))),
        );
    }
    for row in REVIEW_ROWS {
        expect(
            "review.row_total",
            row,
            ("total", get("review", row, "total")),
            ("sum of results", sum(REVIEW_PARTS.iter().map(|c| get("review", row, c)))),
        );
    }
    failures
}

/// The sum of all values, or None when any is blank: a blank cannot be checked.
fn sum(values: impl IntoIterator<Item = Option<f64>>) -> Option<f64> {
    values.into_iter().try_fold(0.0, |acc, v| v.map(|v| acc + v))
}
