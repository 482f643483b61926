//! Report files whose reading killed the process. A reader's panic is caught and
//! becomes the file's warning, but an abort (an allocation that fails, a stack that
//! overflows) ends the process where it stands: the file stays pending, and every later
//! run would fetch it, read it and die the same way, writing no dataset. So a file is
//! named on disk while it is read (`state/reading/<sha256>.<n>`); a run that starts
//! and finds such names left over counts them against their files (`state/tripped`),
//! and a file counted twice by this nianbao is not read again: its report gets a
//! warning instead. Twice, so that a run killed by hand while reading a good file
//! costs that file nothing; by this nianbao, so that an upgrade reads it again.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use anyhow::{Context, Result};

use crate::digest::sha256_hex;
use crate::extract::{Extraction, SourceType, stored::Stored};

/// Runs that died reading a file before it is skipped.
const TRIPS: u32 = 2;

/// The files that killed earlier runs, and the names of those being read now.
#[derive(Debug)]
pub struct Tripwire {
    reading: PathBuf,
    /// A file's SHA-256 → how many runs of this nianbao died reading it.
    tripped: HashMap<String, u32>,
    next: AtomicU64,
}

impl Tripwire {
    /// Opens the tripwire under `state`, counting the files earlier runs died reading.
    /// Called once the run holds the state's lock, so no name left there is a live one.
    pub fn open(state: &Path) -> Result<Tripwire> {
        let reading = state.join("reading");
        std::fs::create_dir_all(&reading).with_context(|| format!("cannot create {}", reading.display()))?;
        let record = state.join("tripped");
        let mut tripped = read_record(&record);
        let mut left: Vec<String> = std::fs::read_dir(&reading)?.filter_map(|e| Some(e.ok()?.file_name().to_str()?.split('.').next()?.to_string())).collect();
        left.sort();
        left.dedup();
        for sha in &left {
            let count = tripped.entry(sha.clone()).or_default();
            *count += 1;
            tracing::warn!("an earlier run died reading the report file {sha} ({count} of {TRIPS} runs before it is skipped)");
        }
        if !left.is_empty() {
            write_record(&record, &tripped)?;
            for entry in std::fs::read_dir(&reading)? {
                std::fs::remove_file(entry?.path())?;
            }
        }
        Ok(Tripwire { reading, tripped, next: AtomicU64::new(0) })
    }

    /// Reads `body` with `read`, unless it killed [`TRIPS`] runs already: then Err
    /// says so, for the report's warning.
    pub fn read<T>(&self, body: &[u8], read: impl FnOnce() -> T) -> Result<T, String> {
        let sha = sha256_hex(body);
        if let Some(&count) = self.tripped.get(&sha).filter(|&&c| c >= TRIPS) {
            return Err(format!("not read: {count} earlier runs died reading this file (state/tripped names it; an upgraded nianbao reads it again)"));
        }
        let name = self.reading.join(format!("{sha}.{}", self.next.fetch_add(1, Ordering::Relaxed)));
        // A name that cannot be written only loses the protection, never the file.
        let named = std::fs::File::create(&name).is_ok();
        let read = read();
        if named {
            let _ = std::fs::remove_file(&name);
        }
        Ok(read)
    }

    /// [`Stored::of_file`] behind the tripwire: a file that killed earlier runs is
    /// not read, and its report says why.
    pub fn read_file(&self, body: &[u8], content_type: Option<&str>, host: Option<&str>, year: Option<i32>, fetched_at: i64) -> Stored {
        self.read(body, || Stored::of_file(body, content_type, host, year, fetched_at)).unwrap_or_else(|why| {
            let source_type = SourceType::sniff(body);
            Stored { extraction: Extraction::nothing(source_type, &why), source_type, encoding: "binary".to_string(), fetched_at }
        })
    }
}

/// `state/tripped`: a line per file, its SHA-256, how many runs died reading it, and
/// the nianbao they were. Counts of another nianbao are dropped.
fn read_record(path: &Path) -> HashMap<String, u32> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .filter_map(|line| {
            let mut fields = line.split(' ');
            let (sha, count, version) = (fields.next()?, fields.next()?.parse().ok()?, fields.next()?);
            (version == env!("CARGO_PKG_VERSION")).then(|| (sha.to_string(), count))
        })
        .collect()
}

fn write_record(path: &Path, tripped: &HashMap<String, u32>) -> Result<()> {
    let text: String = tripped.iter().map(|(sha, count)| format!("{sha} {count} {}\n", env!("CARGO_PKG_VERSION"))).collect();
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, path)).with_context(|| format!("cannot write {}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A run that dies while reading `body`: the name written before reading stays.
    fn die_reading(state: &Path, body: &[u8]) {
        Tripwire::open(state).unwrap();
        std::fs::write(state.join("reading").join(format!("{}.0", sha256_hex(body))), "").unwrap();
    }

    #[test]
    fn a_file_that_killed_two_runs_is_not_read_by_the_third() {
        let dir = tempfile::tempdir().unwrap();
        let (bomb, good) = (b"%PDF-1.5 a file that aborts".as_slice(), b"%PDF-1.5 a good file".as_slice());
        die_reading(dir.path(), bomb);
        // One death is forgiven: a run killed by hand must not cost a good file.
        assert_eq!(Tripwire::open(dir.path()).unwrap().read(bomb, || "read"), Ok("read"));
        die_reading(dir.path(), bomb);
        let wire = Tripwire::open(dir.path()).unwrap();
        assert!(wire.read(bomb, || "read").unwrap_err().contains("2 earlier runs died reading this file"));
        let names = || std::fs::read_dir(dir.path().join("reading")).unwrap().count();
        assert_eq!(wire.read(good, names), Ok(1), "the file is named while it is read");
        // A read that ends leaves no name behind.
        assert_eq!(std::fs::read_dir(dir.path().join("reading")).unwrap().count(), 0);
        // And the count outlives the run that made it.
        assert!(Tripwire::open(dir.path()).unwrap().read(bomb, || "read").is_err());
    }

    #[test]
    fn counts_of_another_nianbao_are_dropped() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tripped"), format!("{} 5 0.0.1\n", sha256_hex(b"x"))).unwrap();
        assert_eq!(Tripwire::open(dir.path()).unwrap().read(b"x", || 1), Ok(1));
    }
}
