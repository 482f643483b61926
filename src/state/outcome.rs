//! What became of a frontier page, as the state records it (`frontier.outcome`):
//! a name at the SQL edge, this enum everywhere else. Coverage reads it back to say
//! why a year has no report.

use std::fmt;
use std::str::FromStr;

use crate::extract::SourceType;
use crate::fetch::FailureKind;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// A portal, hub or list page, read for where it leads.
    Followed,
    /// A page that only sends the visitor on (a refresh, a script redirect, a
    /// frameset): where it leads is fetched in its place.
    Forwarded,
    Report,
    NotAReport,
    /// A link taken for a report file that answered with a web page.
    NotAFile,
    /// A report of a year before `discover.min_report_year`.
    ReportBeforeMinYear,
    /// A file attached to a report, of its type.
    Attachment(SourceType),
    /// Answered 304: what the state holds of it stands.
    NotModified,
    /// A reader's bug on this page: it is not fetched again until the next run.
    ReaderFailed,
    /// Not fetched: its host's page budget was spent.
    Budget,
    Failed(FailureKind),
}

impl Outcome {
    /// Whether the page was fetched and handled (`done`), or not (`failed`).
    pub fn is_done(self) -> bool {
        !matches!(self, Outcome::ReaderFailed | Outcome::Budget | Outcome::Failed(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Followed => f.write_str("ok"),
            Outcome::Forwarded => f.write_str("forwarded"),
            Outcome::NotAFile => f.write_str("not-a-file"),
            Outcome::Report => f.write_str("report"),
            Outcome::NotAReport => f.write_str("not-a-report"),
            Outcome::ReportBeforeMinYear => f.write_str("report-before-min-year"),
            Outcome::Attachment(kind) => write!(f, "attachment ({})", kind.as_str()),
            Outcome::NotModified => f.write_str("not-modified"),
            Outcome::ReaderFailed => f.write_str("reader-failed"),
            Outcome::Budget => f.write_str("budget"),
            Outcome::Failed(kind) => f.write_str(kind.as_str()),
        }
    }
}

impl FromStr for Outcome {
    type Err = String;

    fn from_str(name: &str) -> Result<Outcome, String> {
        let simple = [
            Outcome::Followed,
            Outcome::Forwarded,
            Outcome::Report,
            Outcome::NotAReport,
            Outcome::NotAFile,
            Outcome::ReportBeforeMinYear,
            Outcome::NotModified,
            Outcome::ReaderFailed,
            Outcome::Budget,
        ];
        let attachments = SourceType::ALL.map(Outcome::Attachment);
        let failures = FailureKind::ALL.map(Outcome::Failed);
        simple.into_iter().chain(attachments).chain(failures).find(|o| o.to_string() == name).ok_or_else(|| format!("unknown page outcome {name:?}"))
    }
}

/// An outcome read from the state; one this nianbao does not know (a newer one's)
/// counts as a plain failure.
pub(super) fn read(name: Option<String>) -> Option<Outcome> {
    name.map(|n| n.parse().unwrap_or(Outcome::Failed(FailureKind::Failed)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_outcome_reads_back_as_itself_and_an_unknown_one_as_a_failure() {
        let all = [Outcome::Followed, Outcome::Forwarded, Outcome::Report, Outcome::NotAFile, Outcome::NotModified, Outcome::Budget]
            .into_iter()
            .chain(SourceType::ALL.map(Outcome::Attachment))
            .chain(FailureKind::ALL.map(Outcome::Failed));
        for outcome in all {
            assert_eq!(outcome.to_string().parse::<Outcome>(), Ok(outcome));
        }
        assert_eq!("attachment (pdf)".parse(), Ok(Outcome::Attachment(SourceType::Pdf)));
        assert_eq!(read(Some("from-the-future".into())), Some(Outcome::Failed(FailureKind::Failed)));
        assert!(!Outcome::Budget.is_done() && Outcome::NotModified.is_done());
    }
}
