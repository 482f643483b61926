//! Writing the partitions: atomically, and replacing what a partition held before.
//!
//! Each partition's file is written into a staging tree beside the tables
//! (`.staging/`, which readers of `reports/` and `facts/` never list), a chunk of
//! reports at a time so memory does not grow with a partition, then fsynced. The
//! staged partition directory then takes the place of the published one in one step
//! (Linux `renameat2` with `RENAME_EXCHANGE`); the old files, now in the staging
//! tree, are removed when the whole rebuild is done. A partition's file has the same
//! name in every rebuild ([`PART_FILE`]; the run is in its metadata), so a path a
//! reader listed before a swap names the new file after it. So a reader, even during a
//! rebuild or after a kill, finds every partition, and every file it listed, whole:
//! either as it was or as it is now, never half a file, never the old and the new
//! file side by side (duplicate rows). A reader that lists the tables while a rebuild
//! moves a report from one partition to another can see it in both or neither; the
//! Delta Lake output (`lake`) gives readers whole versions. Partitions that no longer
//! hold any report lose their files at the end. Rows are sorted, so the same reports
//! give the same files.

use std::collections::{BTreeMap, BTreeSet};
use std::fs::File;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use arrow_array::RecordBatch;
use parquet::arrow::ArrowWriter;
use parquet::basic::{Compression, ZstdLevel};
use parquet::file::metadata::KeyValue;
use parquet::file::properties::{EnabledStatistics, WriterProperties};
use parquet::schema::types::ColumnPath;

use super::{CoverageRecord, Partition, ReportWithFacts};
use super::keys::keys_batch;
use super::schema::{coverage_batch, facts_batch, report_tables_batch, reports_batch};

/// What a write produced.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Written {
    pub reports: usize,
    pub facts: usize,
    pub partitions: usize,
    pub coverage_rows: usize,
    /// Coverage rows by status, for the dataset card.
    #[serde(skip)]
    pub coverage_by_status: BTreeMap<&'static str, usize>,
}

/// How many reports are assembled and written at a time: memory stays bounded by
/// this, not by the size of a partition.
const CHUNK: usize = 64;

/// Writes the whole dataset under `out`, named for `run_id`. `partitions` holds, per
/// `(province, year)`, the entries (in row order) that `assemble` turns into rows;
/// an entry it cannot assemble (None) is left out. `coverage` makes the coverage
/// table's rows once the reports are written and their entries freed, so the two
/// never take memory at once.
pub fn write<E>(
    out: &Path,
    run_id: &str,
    partitions: BTreeMap<Partition, Vec<E>>,
    mut assemble: impl FnMut(&E) -> Option<ReportWithFacts>,
    coverage: impl FnOnce() -> Result<BTreeMap<Partition, Vec<CoverageRecord>>>,
) -> Result<Written> {
    let staging = out.join(STAGING);
    // What a killed rebuild staged is not published: start from nothing.
    if staging.exists() {
        std::fs::remove_dir_all(&staging).with_context(|| format!("cannot clear {}", staging.display()))?;
    }
    let mut build = Build {
        out: out.to_path_buf(),
        staging,
        file_name: PART_FILE.to_string(),
        provenance: provenance(run_id),
        kept: BTreeSet::new(),
        written: Written::default(),
    };
    for (partition, entries) in &partitions {
        build.reports(&partition.dir(), entries, &mut assemble)?;
    }
    drop(partitions);
    for (partition, records) in coverage()? {
        build.coverage(&partition.dir(), &records)?;
    }
    for table in TABLES.iter().map(|(table, ..)| *table).chain([COVERAGE]) {
        remove_stale(&out.join(table), &build.kept)?;
    }
    let mut keys = PartFile::new(out.to_path_buf(), "keys.parquet", 1024, &build.provenance);
    keys.write(&keys_batch()?)?;
    keys.finish()?;
    let _ = std::fs::remove_dir_all(&build.staging);
    Ok(build.written)
}

/// One rebuild of the dataset: where it stages and publishes, and what it wrote.
struct Build {
    out: PathBuf,
    staging: PathBuf,
    file_name: String,
    provenance: Vec<KeyValue>,
    /// The part files published by this rebuild: every other one is stale.
    kept: BTreeSet<PathBuf>,
    written: Written,
}

impl Build {
    /// One partition's reports, facts and wide rows, a chunk of reports at a time.
    fn reports<E>(&mut self, sub: &Path, entries: &[E], assemble: &mut impl FnMut(&E) -> Option<ReportWithFacts>) -> Result<()> {
        let mut files = TABLES.map(|(table, rows, _)| PartFile::new(self.staging.join(table).join(sub), &self.file_name, rows, &self.provenance));
        for chunk in entries.chunks(CHUNK) {
            let items: Vec<ReportWithFacts> = chunk.iter().filter_map(&mut *assemble).collect();
            if items.is_empty() {
                continue;
            }
            let refs: Vec<&ReportWithFacts> = items.iter().collect();
            for (file, (_, _, batch)) in files.iter_mut().zip(TABLES) {
                file.write(&batch(&refs)?)?;
            }
            self.written.reports += items.len();
            self.written.facts += items.iter().map(|i| i.facts.len()).sum::<usize>();
        }
        let mut finished = false;
        for file in &mut files {
            finished |= file.finish()?;
        }
        if finished {
            for (table, ..) in TABLES {
                self.publish(table, sub)?;
            }
            self.written.partitions += 1;
        }
        Ok(())
    }

    /// One partition of the coverage table.
    fn coverage(&mut self, sub: &Path, records: &[CoverageRecord]) -> Result<()> {
        let mut file = PartFile::new(self.staging.join(COVERAGE).join(sub), &self.file_name, 64 * 1024, &self.provenance);
        file.write(&coverage_batch(&records.iter().collect::<Vec<_>>())?)?;
        if file.finish()? {
            self.publish(COVERAGE, sub)?;
            self.written.coverage_rows += records.len();
            for record in records {
                *self.written.coverage_by_status.entry(record.row.status.as_str()).or_default() += 1;
            }
        }
        Ok(())
    }

    /// Puts a staged partition of `table` in place (see [`publish`]).
    fn publish(&mut self, table: &str, sub: &Path) -> Result<()> {
        publish(&self.staging.join(table).join(sub), &self.out.join(table).join(sub))?;
        self.kept.insert(self.out.join(table).join(sub).join(&self.file_name));
        Ok(())
    }
}

/// A table's batch of rows for a chunk of reports.
type Batch = fn(&[&ReportWithFacts]) -> Result<RecordBatch>;

/// The partitioned tables, each with its rows per row group (report rows carry whole
/// texts: small row groups keep the writer's buffer small) and its batch.
const TABLES: [(&str, usize, Batch); 3] =
    [("reports", 256, reports_batch), ("facts", 32 * 1024, facts_batch), ("report_tables", 4096, report_tables_batch)];

/// The coverage table, partitioned like the others by its bodies' provinces and years.
const COVERAGE: &str = "coverage";

/// Every partition's file: one name, whatever the run, so that a reader who listed
/// it before a rebuild opens the rebuilt file at the same path.
pub const PART_FILE: &str = "part-0.parquet";

/// The staging tree under the output directory: hidden, beside the tables.
const STAGING: &str = ".staging";

/// Puts the staged partition directory `staged` in the place of `published` in one
/// step; what `published` held is left at `staged`, removed with the staging tree once
/// every partition is written, so that a reader who listed the old files can still
/// read them. A partition published for the first time is renamed into place.
fn publish(staged: &Path, published: &Path) -> Result<()> {
    let parent = published.parent().expect("a partition has a province directory");
    std::fs::create_dir_all(parent).with_context(|| format!("cannot create {}", parent.display()))?;
    if published.exists() {
        exchange(staged, published).with_context(|| format!("cannot swap in {}", published.display()))?;
    } else {
        std::fs::rename(staged, published).with_context(|| format!("cannot publish {}", published.display()))?;
    }
    File::open(parent)?.sync_all()?;
    Ok(())
}

/// Swaps two directories atomically.
#[cfg(target_os = "linux")]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    use std::ffi::CString;
    use std::os::unix::ffi::OsStrExt;
    let c = |p: &Path| CString::new(p.as_os_str().as_bytes()).map_err(std::io::Error::other);
    let (a, b) = (c(a)?, c(b)?);
    // SAFETY: both paths are NUL-terminated C strings that outlive the call.
    let done = unsafe { libc::renameat2(libc::AT_FDCWD, a.as_ptr(), libc::AT_FDCWD, b.as_ptr(), libc::RENAME_EXCHANGE) };
    if done == 0 { Ok(()) } else { Err(std::io::Error::last_os_error()) }
}

/// Elsewhere, the old files go first: a reader may briefly see the partition empty,
/// never twice over.
#[cfg(not(target_os = "linux"))]
fn exchange(a: &Path, b: &Path) -> std::io::Result<()> {
    let old = b.with_extension("old");
    std::fs::rename(b, &old)?;
    std::fs::rename(a, b)?;
    std::fs::rename(&old, a)
}

/// What every file says of where it came from, as Parquet key-value metadata: what
/// a citation of the dataset names (docs/dataset.md, "Citing").
fn provenance(run_id: &str) -> Vec<KeyValue> {
    [
        ("nianbao.version", env!("CARGO_PKG_VERSION").to_string()),
        ("nianbao.run_id", run_id.to_string()),
        ("nianbao.built_at", chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Secs, true)),
        ("nianbao.extractor", crate::extract::stored::EXTRACTOR.to_string()),
        ("nianbao.schema_version", super::SCHEMA_VERSION.to_string()),
    ]
    .into_iter()
    .map(|(key, value)| KeyValue::new(key.to_string(), value))
    .collect()
}

/// One part file being written under a hidden temporary name.
struct PartFile {
    dir: PathBuf,
    name: String,
    row_group_rows: usize,
    provenance: Vec<KeyValue>,
    writer: Option<ArrowWriter<File>>,
}

/// Columns that gain nothing from a dictionary, which would hold a second copy of the
/// row group's values while it is written: those unique per report, and the wide
/// table's figures (numbers that seldom repeat, one hash table per column otherwise).
fn without_dictionary(column: &str) -> bool {
    ["text", "url", "title", "content_sha256"].contains(&column) || column.starts_with("requests_") || column.starts_with("review_")
}

impl PartFile {
    fn new(dir: PathBuf, name: &str, row_group_rows: usize, provenance: &[KeyValue]) -> PartFile {
        PartFile { dir, name: name.to_string(), row_group_rows, provenance: provenance.to_vec(), writer: None }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(&self.name)
    }

    fn tmp(&self) -> PathBuf {
        self.dir.join(format!(".{}.tmp", self.name))
    }

    fn write(&mut self, batch: &RecordBatch) -> Result<()> {
        if self.writer.is_none() {
            std::fs::create_dir_all(&self.dir).with_context(|| format!("cannot create {}", self.dir.display()))?;
            let file = File::create(self.tmp()).with_context(|| format!("cannot create {}", self.tmp().display()))?;
            let mut props = WriterProperties::builder()
                .set_compression(Compression::ZSTD(ZstdLevel::try_new(3)?))
                .set_dictionary_enabled(true)
                .set_statistics_enabled(EnabledStatistics::Page)
                .set_max_row_group_row_count(Some(self.row_group_rows))
                .set_key_value_metadata(Some(self.provenance.clone()));
            for field in batch.schema().fields().iter().filter(|f| without_dictionary(f.name())) {
                props = props.set_column_dictionary_enabled(ColumnPath::from(field.name().as_str()), false);
            }
            let props = props.build();
            self.writer = Some(ArrowWriter::try_new(file, batch.schema(), Some(props))?);
        }
        let writer = self.writer.as_mut().expect("just created");
        writer.write(batch).with_context(|| format!("cannot write {} (disk full?)", self.tmp().display()))
    }

    /// Closes, syncs and renames the file into place; false when nothing was written.
    fn finish(&mut self) -> Result<bool> {
        let Some(writer) = self.writer.take() else { return Ok(false) };
        // Closing writes the footer and flushes: what fails here is the disk, though
        // the Parquet error no longer carries the I/O error underneath.
        let file = writer.into_inner().with_context(|| format!("cannot finish {} (disk full?)", self.tmp().display())).context(crate::exit::Exit::Io)?;
        file.sync_all()?;
        std::fs::rename(self.tmp(), self.path())?;
        File::open(&self.dir)?.sync_all()?;
        Ok(true)
    }
}

/// Removes part files not in `kept` under a table, then empty partition directories.
fn remove_stale(table: &Path, kept: &BTreeSet<PathBuf>) -> Result<()> {
    let Ok(provinces) = std::fs::read_dir(table) else { return Ok(()) };
    for province in provinces.flatten() {
        let Ok(years) = std::fs::read_dir(province.path()) else { continue };
        for year in years.flatten() {
            let Ok(files) = std::fs::read_dir(year.path()) else { continue };
            for file in files.flatten() {
                let path = file.path();
                let name = file.file_name().to_string_lossy().into_owned();
                let ours = name.starts_with("part-") || (name.starts_with(".part-") && name.ends_with(".tmp"));
                if ours && !kept.contains(&path) {
                    std::fs::remove_file(&path).with_context(|| format!("cannot remove stale {}", path.display()))?;
                }
            }
            let _ = std::fs::remove_dir(year.path()); // only succeeds when empty
        }
        let _ = std::fs::remove_dir(province.path());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dataset::{ReportRow, stats::part_files};

    fn item(id: &str, province: &str, year: i32) -> ReportWithFacts {
        let report = ReportRow {
            report_id: id.into(),
            version: 1,
            is_current: true,
            url: format!("http://www.zt.gov.cn/{id}.html"),
            title: "t".into(),
            agency: "昭通市人民政府".into(),
            division_code: Some("530600".into()),
            province_code: Some("53".into()),
            admin_level: "prefecture".into(),
            format: "2021".into(),
            published_date: None,
            source_type: crate::extract::SourceType::Html,
            encoding: "UTF-8".into(),
            fetched_at: chrono::Utc::now(),
            content_sha256: "0".into(),
            checks_failed: vec![],
            warnings: vec!["tables missing: no template table found".into()],
            text: String::new(),
            partition: Partition { province: province.into(), year: Some(year) },
        };
        ReportWithFacts { report, facts: vec![] }
    }

    fn write_items(out: &Path, run_id: &str, items: Vec<ReportWithFacts>) -> Written {
        let mut partitions: BTreeMap<Partition, Vec<ReportWithFacts>> = BTreeMap::new();
        for item in items {
            partitions.entry(item.report.partition.clone()).or_default().push(item);
        }
        write(out, run_id, partitions, |i| Some(i.clone()), || Ok(BTreeMap::new())).unwrap()
    }

    #[test]
    fn files_carry_their_provenance_and_an_unknown_year_goes_to_year_0() {
        let out = tempfile::tempdir().unwrap();
        let mut unknown = item("u", "云南省", 2023);
        unknown.report.partition.year = None;
        write_items(out.path(), "run7", vec![item("a", "云南省", 2023), unknown]);
        let file = out.path().join("reports/province=云南省/year=0").join(PART_FILE);
        let reader = parquet::file::serialized_reader::SerializedFileReader::new(File::open(&file).unwrap()).unwrap();
        use parquet::file::reader::FileReader;
        let kv: BTreeMap<String, String> = reader
            .metadata()
            .file_metadata()
            .key_value_metadata()
            .unwrap()
            .iter()
            .filter(|kv| kv.key.starts_with("nianbao."))
            .map(|kv| (kv.key.clone(), kv.value.clone().unwrap()))
            .collect();
        assert_eq!(kv["nianbao.run_id"], "run7");
        assert_eq!(kv["nianbao.version"], env!("CARGO_PKG_VERSION"));
        assert!(kv["nianbao.extractor"].starts_with("nianbao "));
        assert!(kv["nianbao.built_at"].ends_with('Z'));
        assert!(out.path().join("facts/province=云南省/year=2023").join(PART_FILE).exists());
    }

    #[test]
    fn a_killed_writers_leftovers_are_never_read_and_are_cleaned_by_the_next_write() {
        let out = tempfile::tempdir().unwrap();
        write_items(out.path(), "run1", vec![item("a", "云南省", 2023), item("b", "云南省", 2022)]);
        // What a writer killed mid-file leaves: a hidden temporary file.
        let partition = out.path().join("reports/province=云南省/year=2023");
        std::fs::write(partition.join(".part-0.parquet.tmp"), b"PAR1 half a file").unwrap();
        let listed: Vec<_> = part_files(&out.path().join("reports")).unwrap().into_iter().map(|(p, ..)| p).collect();
        assert_eq!(listed.len(), 2, "readers see only complete part files: {listed:?}");

        // The next run writes the dataset again: one file per partition, nothing stale.
        let written = write_items(out.path(), "run3", vec![item("a", "云南省", 2023)]);
        assert_eq!(written, Written { reports: 1, facts: 0, partitions: 1, coverage_rows: 0, ..Written::default() });
        let names: Vec<String> = std::fs::read_dir(&partition).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
        assert_eq!(names, vec![PART_FILE.to_string()]);
        assert!(!out.path().join("reports/province=云南省/year=2022").exists(), "an emptied partition is removed");
    }

    #[test]
    fn a_reader_during_a_rebuild_sees_every_partition_once_and_reads_every_file_it_listed() {
        let out = tempfile::tempdir().unwrap();
        let items = || (0..40).map(|i| item(&format!("r{i}"), "云南省", 2000 + i)).collect::<Vec<_>>();
        write_items(out.path(), "run1", items());
        let stop = std::sync::atomic::AtomicBool::new(false);
        let (seen, runs) = std::thread::scope(|s| {
            let poller = s.spawn(|| {
                let mut seen = 0usize;
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let files = part_files(&out.path().join("reports")).unwrap();
                    let mut years: Vec<i32> = files.iter().map(|(_, _, year)| year.parse().unwrap()).collect();
                    years.sort();
                    assert_eq!(years, (2000..2040).collect::<Vec<_>>(), "each partition exactly once, at every moment");
                    // As pyarrow reads a dataset: list first, then open each file listed.
                    let rows: i64 = files
                        .iter()
                        .map(|(path, ..)| {
                            use parquet::file::reader::FileReader;
                            let file = File::open(path).unwrap_or_else(|e| panic!("{} listed, then {e}", path.display()));
                            parquet::file::serialized_reader::SerializedFileReader::new(file).unwrap().metadata().file_metadata().num_rows()
                        })
                        .sum();
                    assert_eq!(rows, 40, "every row, at every moment");
                    seen += 1;
                }
                seen
            });
            let runs = 20;
            for run in 0..runs {
                write_items(out.path(), &format!("run{}", run + 2), items());
            }
            stop.store(true, std::sync::atomic::Ordering::Relaxed);
            (poller.join().unwrap(), runs)
        });
        assert!(seen > runs, "the reader looked {seen} times during {runs} rebuilds");
        assert!(!out.path().join(STAGING).exists());
    }
}
