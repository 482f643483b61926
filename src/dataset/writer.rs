//! Writing the partitions: atomically, and replacing what a partition held before.
//!
//! Each partition's file is written beside the file it replaces, under a hidden
//! temporary name (`.part-0.parquet.tmp`: a dot first and no `.parquet` last, so no
//! reader lists it), a chunk of reports at a time so memory does not grow with a
//! partition. Once every table is written, the new files are made durable together
//! (Linux `syncfs`, one flush of the disk; elsewhere each file is fsynced), and only
//! then is each renamed over its partition's file, which replaces it in one step. A
//! partition's file has the same name in every rebuild ([`PART_FILE`]; the run is in
//! its metadata), so a path a reader listed before a rebuild names the new file after
//! it, and a file it had opened stays readable to the end. So a reader, even during a
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

use super::keys::keys_batch;
use super::schema::{coverage_batch, facts_batch, report_tables_batch, reports_batch};
use super::{CoverageRecord, Partition, ReportWithFacts};

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
    // An earlier writer staged whole partitions in `.staging/`, and a rebuild of it
    // that was killed left them there: copies only, never read.
    let _ = std::fs::remove_dir_all(out.join(".staging"));
    let mut build = Build { out: out.to_path_buf(), provenance: provenance(run_id), staged: Vec::new(), written: Written::default() };
    for (partition, entries) in &partitions {
        build.reports(&partition.dir(), entries, &mut assemble)?;
    }
    drop(partitions);
    for (partition, records) in coverage()? {
        build.coverage(&partition.dir(), &records)?;
    }
    let mut keys = PartFile::new(out.to_path_buf(), "keys.parquet", 1024, Codec::Snappy, &build.provenance);
    keys.write(&keys_batch()?)?;
    build.staged.extend(keys.finish()?);
    build.publish()
}

/// One rebuild of the dataset: where it publishes, and what it wrote.
struct Build {
    out: PathBuf,
    provenance: Vec<KeyValue>,
    /// The files written under their temporary names, to be put in place together.
    staged: Vec<Staged>,
    written: Written,
}

impl Build {
    /// One partition's reports, facts and wide rows, a chunk of reports at a time.
    fn reports<E>(&mut self, sub: &Path, entries: &[E], assemble: &mut impl FnMut(&E) -> Option<ReportWithFacts>) -> Result<()> {
        let mut files = TABLES.map(|table| PartFile::new(self.out.join(table.name).join(sub), PART_FILE, table.row_group_rows, table.codec, &self.provenance));
        for chunk in entries.chunks(CHUNK) {
            let items: Vec<ReportWithFacts> = chunk.iter().filter_map(&mut *assemble).collect();
            if items.is_empty() {
                continue;
            }
            let refs: Vec<&ReportWithFacts> = items.iter().collect();
            for (file, table) in files.iter_mut().zip(TABLES) {
                file.write(&(table.batch)(&refs)?)?;
            }
            self.written.reports += items.len();
            self.written.facts += items.iter().map(|i| i.facts.len()).sum::<usize>();
        }
        let before = self.staged.len();
        for file in &mut files {
            self.staged.extend(file.finish()?);
        }
        if self.staged.len() > before {
            self.written.partitions += 1;
        }
        Ok(())
    }

    /// One partition of the coverage table.
    fn coverage(&mut self, sub: &Path, records: &[CoverageRecord]) -> Result<()> {
        let mut file = PartFile::new(self.out.join(COVERAGE).join(sub), PART_FILE, 64 * 1024, Codec::Snappy, &self.provenance);
        file.write(&coverage_batch(&records.iter().collect::<Vec<_>>())?)?;
        if let Some(staged) = file.finish()? {
            self.staged.push(staged);
            self.written.coverage_rows += records.len();
            for record in records {
                *self.written.coverage_by_status.entry(record.row.status.as_str()).or_default() += 1;
            }
        }
        Ok(())
    }

    /// Makes every staged file durable, puts each in place of its partition's file,
    /// removes the files of partitions no report is in any more, and makes that
    /// durable too; what was written.
    fn publish(self) -> Result<Written> {
        sync_files(&self.out, self.staged.iter().map(|s| s.tmp.as_path()))?;
        let mut kept = BTreeSet::new();
        for staged in &self.staged {
            std::fs::rename(&staged.tmp, &staged.path).with_context(|| format!("cannot publish {}", staged.path.display()))?;
            kept.insert(staged.path.clone());
        }
        for table in TABLES.iter().map(|table| table.name).chain([COVERAGE]) {
            remove_stale(&self.out.join(table), &kept)?;
        }
        sync_directories(&self.out, self.staged.iter().filter_map(|s| s.path.parent()))?;
        Ok(self.written)
    }
}

/// A partitioned table, as its files are written.
struct Table {
    name: &'static str,
    /// Rows per row group: report rows carry whole texts, and small row groups keep
    /// the writer's buffer small.
    row_group_rows: usize,
    /// zstd where a column chunk holds many bytes (texts, a row per figure); Snappy
    /// where a partition's columns are many and short, as setting up zstd (about four
    /// contexts per column chunk) costs more than it saves there.
    codec: Codec,
    batch: Batch,
}

/// A table's batch of rows for a chunk of reports.
type Batch = fn(&[&ReportWithFacts]) -> Result<RecordBatch>;

/// How a table's pages are compressed.
#[derive(Debug, Clone, Copy)]
enum Codec {
    /// zstd at level 3: small files, fast to read.
    Zstd,
    /// Snappy: larger files, nothing to set up, read by every Parquet reader.
    Snappy,
}

impl Codec {
    fn parquet(self) -> Compression {
        match self {
            Codec::Zstd => Compression::ZSTD(ZstdLevel::try_new(3).expect("3 is a zstd level")),
            Codec::Snappy => Compression::SNAPPY,
        }
    }
}

/// The tables with a row per report or per figure.
const TABLES: [Table; 3] = [
    Table { name: "reports", row_group_rows: 256, codec: Codec::Zstd, batch: reports_batch },
    Table { name: "facts", row_group_rows: 32 * 1024, codec: Codec::Zstd, batch: facts_batch },
    Table { name: "report_tables", row_group_rows: 4096, codec: Codec::Snappy, batch: report_tables_batch },
];

/// The coverage table, partitioned like the others by its bodies' provinces and years.
const COVERAGE: &str = "coverage";

/// Every partition's file: one name, whatever the run, so that a reader who listed
/// it before a rebuild opens the rebuilt file at the same path.
pub const PART_FILE: &str = "part-0.parquet";

/// A file written under its temporary name, and the name it is published under.
struct Staged {
    tmp: PathBuf,
    path: PathBuf,
}

/// Makes the contents of `files`, all under `out`, durable.
#[cfg(target_os = "linux")]
fn sync_files<'a>(out: &Path, _files: impl Iterator<Item = &'a Path>) -> Result<()> {
    syncfs(out)
}

/// Elsewhere, each file is synced on its own.
#[cfg(not(target_os = "linux"))]
fn sync_files<'a>(_out: &Path, files: impl Iterator<Item = &'a Path>) -> Result<()> {
    for file in files {
        File::open(file).and_then(|f| f.sync_all()).with_context(|| format!("cannot sync {}", file.display()))?;
    }
    Ok(())
}

/// Makes the renames and removals in `directories`, all under `out`, durable.
#[cfg(target_os = "linux")]
fn sync_directories<'a>(out: &Path, _directories: impl Iterator<Item = &'a Path>) -> Result<()> {
    syncfs(out)
}

/// Elsewhere, each directory is synced on its own.
#[cfg(not(target_os = "linux"))]
fn sync_directories<'a>(_out: &Path, directories: impl Iterator<Item = &'a Path>) -> Result<()> {
    for dir in directories.collect::<BTreeSet<_>>() {
        File::open(dir).and_then(|d| d.sync_all()).with_context(|| format!("cannot sync {}", dir.display()))?;
    }
    Ok(())
}

/// One flush of the file system that holds `path`: a rebuild's thousand small files
/// cost one disk flush instead of one each.
#[cfg(target_os = "linux")]
fn syncfs(path: &Path) -> Result<()> {
    use std::os::fd::AsRawFd;
    let dir = File::open(path).with_context(|| format!("cannot open {}", path.display()))?;
    // SAFETY: the descriptor is open for the duration of the call.
    if unsafe { libc::syncfs(dir.as_raw_fd()) } == 0 {
        Ok(())
    } else {
        let error = std::io::Error::last_os_error();
        Err(anyhow::Error::new(error).context(format!("cannot write {} to disk (disk full?)", path.display())).context(crate::exit::Exit::Io))
    }
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
    codec: Codec,
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
    fn new(dir: PathBuf, name: &str, row_group_rows: usize, codec: Codec, provenance: &[KeyValue]) -> PartFile {
        PartFile { dir, name: name.to_string(), row_group_rows, codec, provenance: provenance.to_vec(), writer: None }
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
                .set_compression(self.codec.parquet())
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

    /// Closes the file, still under its temporary name; None when nothing was written.
    fn finish(&mut self) -> Result<Option<Staged>> {
        let Some(writer) = self.writer.take() else { return Ok(None) };
        // Closing writes the footer and flushes: what fails here is the disk, though
        // the Parquet error no longer carries the I/O error underneath.
        writer.into_inner().with_context(|| format!("cannot finish {} (disk full?)", self.tmp().display())).context(crate::exit::Exit::Io)?;
        Ok(Some(Staged { tmp: self.tmp(), path: self.path() }))
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

    /// Every file under `dir`, at any depth.
    fn files_under(dir: &Path) -> Vec<PathBuf> {
        std::fs::read_dir(dir).unwrap().flatten().flat_map(|e| if e.path().is_dir() { files_under(&e.path()) } else { vec![e.path()] }).collect()
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
        let hidden: Vec<_> = files_under(out.path()).into_iter().filter(|p| p.file_name().unwrap().to_string_lossy().starts_with('.')).collect();
        assert!(hidden.is_empty(), "no temporary file is left: {hidden:?}");
    }
}
