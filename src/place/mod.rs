//! Place: which administrative division (GB/T 2260) a report belongs to.
//!
//! The division tables ship inside the binary (built from the Ministry of Civil
//! Affairs tables, see `seeds/README.md`), so a fresh clone resolves places offline.
//! A report's division comes, in order of trust, from the seed's `division_code`
//! (kept within its province even when the table lacks it: a newer division),
//! from the agency name matched against division names (with the parent as context:
//! 官渡区 is 530111 because 昆明市 is named too), or from the portal's host.

mod divisions;
mod report;

pub use divisions::{Division, Divisions, Level};
pub use report::{admin_level, division_of_body};
