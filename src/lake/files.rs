//! The lake's data files, and what a run changes among them.
//!
//! The dataset's partition files are already what a Delta table holds: Parquet with
//! the rows sorted and without the partition columns (Delta keeps those in the log).
//! So they are uploaded as they are. Each is named for its rows: the SHA-256 of its
//! bytes before the footer (the footer alone names the run). A partition whose rows
//! did not change keeps its name, and a run adds nothing for it.
//!
//! A shard owns the files whose names start with its tag. A run adds the files whose
//! names its shard does not hold yet, and removes its shard's files whose names it
//! no longer writes: after any number of runs a partition holds one file per shard,
//! so no compaction is needed (removed files wait for a vacuum).

use std::collections::BTreeSet;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use sha2::{Digest, Sha256};

use crate::shard::Shard;

/// One partition file of the local dataset, as the lake will hold it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    pub local: PathBuf,
    pub province: String,
    pub year: i32,
    /// Its key under the table's root: `province=<escaped>/year=<Y>/<shard>-<digest>.parquet`.
    pub key: String,
    pub size: u64,
    pub rows: u64,
}

/// The local partition files of one table (`out/<table>/`), named for `shard`.
/// Reads each file's data pages once, to name it.
pub fn data_files(table: &Path, shard: Shard) -> Result<Vec<DataFile>> {
    let mut files = Vec::new();
    for (local, province, year) in crate::dataset::stats::part_files(table)? {
        let year: i32 = year.parse().with_context(|| format!("{}: a year directory that is not a year", local.display()))?;
        let (digest, size, rows) = name_of_rows(&local).with_context(|| format!("cannot read {}", local.display()))?;
        let key = format!("province={}/year={year}/{}-{digest}.parquet", escape(&province), shard.tag());
        files.push(DataFile { local, province, year, key, size, rows });
    }
    Ok(files)
}

/// A Parquet file's digest of its bytes before the footer (hex, 128 bits), its size,
/// and its row count (from the footer).
fn name_of_rows(path: &Path) -> Result<(String, u64, u64)> {
    let mut file = std::fs::File::open(path)?;
    let size = file.metadata()?.len();
    let mut tail = [0u8; 8];
    if size < 12 {
        bail!("too short for Parquet");
    }
    file.seek(SeekFrom::End(-8))?;
    file.read_exact(&mut tail)?;
    if &tail[4..] != b"PAR1" {
        bail!("not a Parquet file (no PAR1 at its end)");
    }
    let footer = u64::from(u32::from_le_bytes(tail[..4].try_into().expect("4 bytes")));
    let data = size.checked_sub(8 + footer).filter(|&d| d >= 4).context("a footer longer than the file")?;
    file.seek(SeekFrom::Start(0))?;
    let mut hasher = Sha256::new();
    std::io::copy(&mut (&mut file).take(data), &mut hasher)?;
    let digest = crate::digest::hex(&hasher.finalize()[..16]);
    // The footer, from the same open file.
    let rows = parquet::file::reader::FileReader::metadata(&parquet::file::serialized_reader::SerializedFileReader::new(file)?).file_metadata().num_rows();
    Ok((digest, size, u64::try_from(rows).unwrap_or(0)))
}

/// A partition value as delta-rs writes it in a directory name: every byte but
/// ASCII letters and digits as `%XX`.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len() * 3);
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a key is one of `shard`'s files. (The log holds keys URI-escaped once
/// more, `%` as `%25`: delta-rs escapes them as it writes and unescapes them as it
/// reads, so keys are compared as they are.)
pub fn is_shards(key: &str, shard: Shard) -> bool {
    let name = key.rsplit('/').next().unwrap_or(key);
    name.strip_prefix(shard.tag().as_str()).is_some_and(|rest| rest.starts_with('-'))
}

/// The N of a held file that another split of the crawl wrote (shard i of another
/// N), if any. Its hosts may be crawled again by this split's shards, and its rows
/// would be read twice: a lake takes one split.
pub fn other_split(held: &[String], shard: Shard) -> Option<u32> {
    let count = |key: &str| -> Option<u32> {
        let name = key.rsplit('/').next()?.strip_prefix("shard-")?;
        name.split_once("-of-")?.1.split_once('-')?.0.parse().ok()
    };
    held.iter().filter_map(|key| count(key)).find(|&n| n != shard.count)
}

/// What a run changes in one table: the files to add, and the keys of its shard's
/// files to remove.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Changes<'a> {
    pub adds: Vec<&'a DataFile>,
    pub removes: Vec<String>,
}

impl Changes<'_> {
    pub fn is_empty(&self) -> bool {
        self.adds.is_empty() && self.removes.is_empty()
    }
}

/// The changes that make `shard`'s part of a table hold exactly `local`, given the
/// keys the table holds now (every shard's).
pub fn changes<'a>(local: &'a [DataFile], held: &[String], shard: Shard) -> Changes<'a> {
    let held: BTreeSet<&str> = held.iter().map(String::as_str).filter(|key| is_shards(key, shard)).collect();
    let wanted: BTreeSet<&str> = local.iter().map(|f| f.key.as_str()).collect();
    Changes { adds: local.iter().filter(|f| !held.contains(f.key.as_str())).collect(), removes: held.difference(&wanted).map(|key| key.to_string()).collect() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(key: &str) -> DataFile {
        DataFile { local: PathBuf::from("x"), province: "云南省".into(), year: 2024, key: key.into(), size: 1, rows: 1 }
    }

    #[test]
    fn partition_values_are_escaped_as_delta_rs_does() {
        assert_eq!(escape("云南省"), "%E4%BA%91%E5%8D%97%E7%9C%81");
        assert_eq!(escape("未知 x"), "%E6%9C%AA%E7%9F%A5%20x");
    }

    #[test]
    fn a_shard_adds_what_it_lacks_and_removes_only_its_own_old_files() {
        let two = Shard { index: 2, count: 3 };
        let local = vec![file("p=a/year=2024/shard-2-of-3-new.parquet"), file("p=b/year=2024/shard-2-of-3-same.parquet")];
        let held = vec![
            "p=a/year=2024/shard-2-of-3-old.parquet".to_string(),
            "p=b/year=2024/shard-2-of-3-same.parquet".to_string(),
            "p=c/year=2023/shard-2-of-3-gone.parquet".to_string(),
            "p=a/year=2024/shard-1-of-3-theirs.parquet".to_string(),
            "p=a/year=2024/shard-2-of-30-not-ours.parquet".to_string(),
        ];
        let c = changes(&local, &held, two);
        assert_eq!(c.adds, vec![&local[0]]);
        assert_eq!(c.removes, vec!["p=a/year=2024/shard-2-of-3-old.parquet", "p=c/year=2023/shard-2-of-3-gone.parquet"]);
        assert!(changes(&local[1..], &held[1..2], two).is_empty(), "nothing changed: nothing to commit");
        assert_eq!(other_split(&held, two), Some(30));
        assert_eq!(other_split(&held[..4], two), None);
    }

    #[test]
    fn a_files_name_follows_its_rows_not_its_footer() {
        use arrow_array::{Int64Array, RecordBatch};
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, run: &str, values: Vec<i64>| {
            let dir = dir.path().join("t/province=云南省/year=2024");
            std::fs::create_dir_all(&dir).unwrap();
            let batch = RecordBatch::try_from_iter([("n", std::sync::Arc::new(Int64Array::from(values)) as _)]).unwrap();
            let kv = vec![parquet::file::metadata::KeyValue::new("nianbao.run_id".into(), run.to_string())];
            let props = parquet::file::properties::WriterProperties::builder().set_key_value_metadata(Some(kv)).build();
            let mut w = parquet::arrow::ArrowWriter::try_new(std::fs::File::create(dir.join(name)).unwrap(), batch.schema(), Some(props)).unwrap();
            w.write(&batch).unwrap();
            w.close().unwrap();
        };
        let shard = Shard { index: 1, count: 3 };
        write("part-run1-0.parquet", "run1", vec![1, 2, 3]);
        let first = data_files(&dir.path().join("t"), shard).unwrap();
        write("part-run1-0.parquet", "run2-with-a-longer-id", vec![1, 2, 3]);
        let again = data_files(&dir.path().join("t"), shard).unwrap();
        write("part-run1-0.parquet", "run3", vec![1, 2, 4]);
        let changed = data_files(&dir.path().join("t"), shard).unwrap();
        assert_eq!(first[0].key, again[0].key);
        assert_ne!(first[0].key, changed[0].key);
        assert!(first[0].key.starts_with("province=%E4%BA%91%E5%8D%97%E7%9C%81/year=2024/shard-1-of-3-"), "{}", first[0].key);
        assert_eq!((first[0].rows, first[0].province.as_str(), first[0].year), (3, "云南省", 2024));
        assert_ne!(first[0].size, again[0].size, "the footers differ");
    }
}
