//! Seeds: the portals a crawl starts from.
//!
//! A seed file is a CSV with a header naming at least `url` (and optionally
//! `agency`, `division_code`), or a plain list of URLs, one per line, `#` comments
//! allowed. Bad lines are reported with their line number and skipped; a file with
//! no usable seed at all is an error.

use std::path::Path;

use anyhow::{Context, Result};
use serde::{Deserialize, Serialize};
use url::Url;

use crate::exit::Exit;

/// One portal to crawl, with what the seed list knows of its body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Seed {
    pub url: String,
    pub agency: Option<String>,
    pub division_code: Option<String>,
}

/// Seeds read from files, and the problems met on the way.
#[derive(Debug, Default)]
pub struct SeedList {
    pub seeds: Vec<Seed>,
    pub problems: Vec<String>,
}

/// Reads every seed file, keeping the first seed of each URL.
pub fn load(paths: &[impl AsRef<Path>]) -> Result<SeedList> {
    let mut list = SeedList::default();
    for path in paths {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read seed file {}", path.display()))
            .context(Exit::NoInput)?;
        parse(&text, &path.display().to_string(), &mut list);
    }
    if list.seeds.is_empty() {
        return Err(anyhow::anyhow!("no usable seed URL in {} file(s): {}", paths.len(), list.problems.join("; ")).context(Exit::DataErr));
    }
    Ok(list)
}

/// Parses one seed file's text into `list`.
pub fn parse(text: &str, source: &str, list: &mut SeedList) {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap_or("");
    // A first line with commas is a CSV header; a CSV must name its url column.
    let is_csv = first.contains(',');
    if is_csv && !first.split(',').any(|h| h.trim().trim_matches('"').eq_ignore_ascii_case("url")) {
        list.problems.push(format!("{source}: a CSV whose header names no url column (header: {first:?}): file skipped"));
    } else if is_csv {
        parse_csv(text, source, list);
    } else {
        for (n, line) in text.lines().enumerate() {
            let mut words = line.split_whitespace();
            match (words.next(), words.next()) {
                (None, _) => {}
                (Some(w), _) if w.starts_with('#') => {}
                (Some(url), None) => push(list, source, n + 1, url, None, None),
                (Some(url), Some(rest)) if rest.starts_with('#') => push(list, source, n + 1, url, None, None),
                (Some(_), Some(_)) => list.problems.push(format!("{source}:{}: more than one URL on a line", n + 1)),
            }
        }
    }
}

fn parse_csv(text: &str, source: &str, list: &mut SeedList) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).comment(Some(b'#')).from_reader(text.as_bytes());
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            list.problems.push(format!("{source}: unreadable header: {e}"));
            return;
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.trim().eq_ignore_ascii_case(name));
    let (url_col, agency_col, code_col) = (column("url"), column("agency"), column("division_code"));
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                list.problems.push(format!("{source}: {e}"));
                continue;
            }
        };
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().any(|f| f.contains('\n')) {
            // An unbalanced quote runs a field over the following lines.
            let lines = record.iter().map(|f| f.trim_end_matches('\n').matches('\n').count()).sum::<usize>() + 1;
            list.problems.push(format!("{source}:{line}: a quote opened on this line is not closed on it: {lines} lines skipped"));
            continue;
        }
        let field = |col: Option<usize>| col.and_then(|c| record.get(c)).map(str::trim).filter(|v| !v.is_empty());
        let Some(url) = field(url_col) else {
            list.problems.push(format!("{source}:{line}: no url"));
            continue;
        };
        push(list, source, line, url, field(agency_col), field(code_col));
    }
}

fn push(list: &mut SeedList, source: &str, line: usize, url: &str, agency: Option<&str>, code: Option<&str>) {
    let parsed = match Url::parse(url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host_str().is_some() => u,
        _ => {
            list.problems.push(format!("{source}:{line}: not an http(s) URL: {url:?}"));
            return;
        }
    };
    let division_code = match code {
        Some(c) if c.len() == 6 && c.bytes().all(|b| b.is_ascii_digit()) => Some(c.to_string()),
        Some(c) => {
            list.problems.push(format!("{source}:{line}: division_code {c:?} is not 6 digits, ignored"));
            None
        }
        None => None,
    };
    let url = parsed.to_string();
    if list.seeds.iter().any(|s| s.url == url) {
        list.problems.push(format!("{source}:{line}: {url} listed twice, first kept"));
        return;
    }
    list.seeds.push(Seed { url, agency: agency.map(str::to_string), division_code });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_with_optional_columns_and_bad_lines() {
        let mut list = SeedList::default();
        let text = "url,agency,division_code\nhttp://www.zt.gov.cn,昭通市人民政府,530600\n\
                    ftp://x.gov.cn,,\nhttp://www.sxgp.gov.cn/,,14058\n,无网址,\nhttp://www.zt.gov.cn/,dup,\n";
        parse(text, "t.csv", &mut list);
        assert_eq!(list.seeds.len(), 2);
        assert_eq!(list.seeds[0].division_code.as_deref(), Some("530600"));
        assert_eq!(list.seeds[1], Seed { url: "http://www.sxgp.gov.cn/".into(), agency: None, division_code: None });
        assert_eq!(list.problems.len(), 4, "{:?}", list.problems);
        assert!(list.problems[0].starts_with("t.csv:3: not an http(s) URL"));
    }

    #[test]
    fn a_csv_without_a_url_column_or_with_an_open_quote_is_said_not_guessed() {
        let mut list = SeedList::default();
        parse("网址,单位\nhttp://www.zt.gov.cn/,昭通市人民政府\n", "cn.csv", &mut list);
        assert!(list.seeds.is_empty());
        assert_eq!(list.problems, vec!["cn.csv: a CSV whose header names no url column (header: \"网址,单位\"): file skipped".to_string()]);

        let mut list = SeedList::default();
        parse("url,agency\nhttp://www.zt.gov.cn/,\"昭通市人民政府\nhttp://www.yn.gov.cn/,云南省人民政府\nhttp://www.kmgd.gov.cn/,官渡区\n", "q.csv", &mut list);
        assert_eq!(list.problems, vec!["q.csv:2: a quote opened on this line is not closed on it: 3 lines skipped".to_string()]);
    }

    #[test]
    fn plain_url_list_with_comments() {
        let mut list = SeedList::default();
        parse("# Yunnan\nhttp://www.yn.gov.cn\n\n  https://www.kmgd.gov.cn/  # 官渡区\na.gov.cn b.gov.cn\n", "t.txt", &mut list);
        assert_eq!(list.seeds.len(), 2);
        assert_eq!(list.seeds[1].url, "https://www.kmgd.gov.cn/");
        assert_eq!(list.problems, vec!["t.txt:5: more than one URL on a line".to_string()]);
    }
}
