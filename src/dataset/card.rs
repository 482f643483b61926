//! The dataset card: a `README.md` and a `CITATION.cff` beside the tables, as data
//! repositories (Hugging Face, Kaggle, Zenodo) show with a dataset: what the files
//! are, which schema and run made them, what the coverage table says, under which
//! licence the data is (apart from the code's), and how to cite it. Rewritten, whole
//! or not at all, by every build.

use std::path::Path;

use anyhow::{Context, Result};

use super::Written;

/// The version of the tables' layout and columns: raised when a column or a file's
/// place changes, so a reader can tell which data dictionary a dataset follows.
pub const SCHEMA_VERSION: &str = "2";

/// The data's licence (the code's is MIT OR Apache-2.0).
pub const DATA_LICENCE: &str = "CC-BY-4.0";

/// What a card says of one build.
pub struct Card<'a> {
    pub run_id: &'a str,
    pub written: &'a Written,
    /// Every seed URL the output's runs were given.
    pub seeds: &'a [String],
}

impl Card<'_> {
    /// Writes `README.md` and `CITATION.cff` under `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        let built = chrono::Utc::now();
        let version = format!("{SCHEMA_VERSION}+{}", self.run_id);
        for (name, text) in [("README.md", self.readme(&version, built)), ("CITATION.cff", citation(&version, built))] {
            let path = out.join(name);
            let temporary = out.join(format!(".{name}.tmp"));
            std::fs::write(&temporary, text).and_then(|()| std::fs::rename(&temporary, &path)).with_context(|| format!("cannot write {}", path.display()))?;
        }
        Ok(())
    }

    fn readme(&self, version: &str, built: chrono::DateTime<chrono::Utc>) -> String {
        let w = self.written;
        let coverage: Vec<String> = w.coverage_by_status.iter().map(|(status, n)| format!("{status} {n}")).collect();
        let seeds: String = self.seeds.iter().take(50).map(|s| format!("- {s}\n")).collect();
        let more = self.seeds.len().saturating_sub(50);
        format!(
            "# 政府信息公开工作年度报告 as tables: a nianbao dataset\n\n\
             The annual government-information-disclosure reports of Chinese government bodies, their\n\
             tables read into one row per cell under canonical keys, with a row per body and year saying\n\
             whether the report was found, on time or late, or why not.\n\n\
             - dataset version: `{version}` (schema {SCHEMA_VERSION}, then the run that built it)\n\
             - built by nianbao {} on {}, run `{}`\n\
             - licence of the data: {DATA_LICENCE} (the reports themselves are public government information;\n  \
               nianbao's code is MIT OR Apache-2.0)\n\
             - cite it as `CITATION.cff` says\n\n\
             | path | rows | what |\n|---|---|---|\n\
             | `reports/province=…/year=…/part-0.parquet` | {} | one row per report version |\n\
             | `facts/…` | {} | one row per table cell, under `section/row/column` keys |\n\
             | `report_tables/…` | {} | one row per report version, its main figures as columns |\n\
             | `coverage/…` | {} | one row per body and report year: {} |\n\
             | `keys.parquet` | | the key map: labels, glosses, template order |\n\
             | `runs/<run>.json` | | each crawl's summary and settings |\n\
             | `raw/`, `state/` | | the responses as fetched (WARC) and the crawl state: not data |\n\n\
             The data dictionary is `docs/dataset.md` in the nianbao repository. `province` and `year` are\n\
             in the directory names only; read them typed:\n\n\
             ```python\n\
             import pandas as pd, pyarrow as pa, pyarrow.dataset as ds\n\
             hive = ds.partitioning(pa.schema([(\"province\", pa.string()), (\"year\", pa.int32())]), flavor=\"hive\")\n\
             facts = pd.read_parquet(\"facts\", partitioning=hive)\n\
             ```\n\n\
             ## Seeds\n\n{} portals seeded the crawls of this dataset:\n\n{seeds}{}",
            env!("CARGO_PKG_VERSION"),
            built.format("%Y-%m-%d %H:%M UTC"),
            self.run_id,
            w.reports,
            w.facts,
            w.reports,
            w.coverage_rows,
            if coverage.is_empty() { "none".to_string() } else { coverage.join(", ") },
            self.seeds.len(),
            if more > 0 { format!("- … and {more} more (the `seeds` table of `state/nianbao.sqlite`)\n") } else { String::new() },
        )
    }
}

fn citation(version: &str, built: chrono::DateTime<chrono::Utc>) -> String {
    format!(
        "cff-version: 1.2.0\n\
         message: \"If you use this dataset, please cite it as below.\"\n\
         type: dataset\n\
         title: \"政府信息公开工作年度报告 as tables: China's government information disclosure annual reports (nianbao)\"\n\
         version: \"{version}\"\n\
         date-released: \"{}\"\n\
         license: {DATA_LICENCE}\n\
         authors:\n  - name: \"the nianbao contributors\"\n\
         repository-code: \"https://github.com/nianbao/nianbao\"\n\
         keywords: [\"government transparency\", \"open government information\", \"China\", \"政府信息公开\"]\n",
        built.format("%Y-%m-%d")
    )
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    #[test]
    fn the_card_says_what_the_files_are_their_version_licence_and_citation() {
        let dir = tempfile::tempdir().unwrap();
        let coverage_by_status = BTreeMap::from([("found", 3), ("not_listed", 37)]);
        let written = Written { reports: 3, facts: 600, partitions: 2, coverage_rows: 40, coverage_by_status };
        let seeds = ["http://www.zt.gov.cn/".to_string()];
        Card { run_id: "20261207T010203.000Z", written: &written, seeds: &seeds }.write(dir.path()).unwrap();
        let readme = std::fs::read_to_string(dir.path().join("README.md")).unwrap();
        assert!(readme.contains("dataset version: `2+20261207T010203.000Z`"), "{readme}");
        assert!(readme.contains("| `facts/…` | 600 |") && readme.contains("found 3, not_listed 37"), "{readme}");
        assert!(readme.contains("licence of the data: CC-BY-4.0") && readme.contains("- http://www.zt.gov.cn/"), "{readme}");
        let cff = std::fs::read_to_string(dir.path().join("CITATION.cff")).unwrap();
        assert!(cff.starts_with("cff-version: 1.2.0\n") && cff.contains("type: dataset\n") && cff.contains("license: CC-BY-4.0\n"), "{cff}");
    }
}
