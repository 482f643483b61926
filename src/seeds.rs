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
        let bytes = std::fs::read(path).with_context(|| format!("cannot read seed file {}", path.display())).context(Exit::NoInput)?;
        let source = path.display().to_string();
        let text = text_of(&bytes, &source, &mut list);
        parse(&text, &source, &mut list);
    }
    if list.seeds.is_empty() {
        return Err(anyhow::anyhow!("no usable seed URL in {} file(s): {}", paths.len(), list.problems.join("; ")).context(Exit::DataErr));
    }
    Ok(list)
}

/// A seed file's text: UTF-8, or whatever its byte-order mark says (Excel's "Unicode
/// text" is UTF-16), else GB18030, as Excel on Chinese Windows saves CSV files.
fn text_of(bytes: &[u8], source: &str, list: &mut SeedList) -> String {
    if let Some((encoding, bom)) = encoding_rs::Encoding::for_bom(bytes) {
        return encoding.decode_without_bom_handling(&bytes[bom..]).0.into_owned();
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_string(),
        Err(_) => {
            let (text, _, malformed) = encoding_rs::GB18030.decode(bytes);
            let why = if malformed {
                "neither UTF-8 nor GB18030: read as GB18030 with replacement characters"
            } else {
                "read as GB18030 (GBK), as Excel saves it on Chinese Windows"
            };
            list.problems.push(format!("{source}: not UTF-8: {why}; save it as \"CSV UTF-8\" to be sure"));
            text.into_owned()
        }
    }
}

/// Parses one seed file's text into `list`.
pub fn parse(text: &str, source: &str, list: &mut SeedList) {
    let text = text.trim_start_matches('\u{feff}');
    let first = text.lines().find(|l| !l.trim().is_empty() && !l.trim_start().starts_with('#')).unwrap_or("");
    if first.is_empty() {
        list.problems.push(format!("{source}: empty: no line but blanks and # comments"));
        return;
    }
    // A first line with commas (or tabs, as Excel's text export has) is a header; it
    // must name its url column.
    let delimiter = if first.contains(',') {
        Some(b',')
    } else if first.contains('\t') {
        Some(b'\t')
    } else {
        None
    };
    let names_url = |d: u8| first.split(d as char).any(|h| h.trim().trim_matches('"').eq_ignore_ascii_case("url"));
    if let Some(d) = delimiter.filter(|&d| !names_url(d)) {
        let kind = if d == b',' { "CSV" } else { "tab-separated file" };
        list.problems.push(format!("{source}: a {kind} whose header names no url column (header: {first:?}): file skipped"));
    } else if let Some(d) = delimiter {
        parse_csv(text, source, d, list);
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

fn parse_csv(text: &str, source: &str, delimiter: u8, list: &mut SeedList) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).delimiter(delimiter).comment(Some(b'#')).from_reader(text.as_bytes());
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
    // A bare host (www.zt.gov.cn, www.zt.gov.cn/zwgk/) is its http:// portal, as a browser's address bar takes it.
    let bare =
        !url.contains("://") && url.split('/').next().is_some_and(|h| h.contains('.') && h.chars().all(|c| c.is_ascii_alphanumeric() || ".-:".contains(c)));
    let url = &if bare { format!("http://{url}") } else { url.to_string() };
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
    fn a_seed_file_saved_by_excel_on_chinese_windows_or_as_unicode_text_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let gbk = encoding_rs::GBK.encode("url,agency\nwww.zt.gov.cn,昭通市人民政府\n").0.into_owned();
        std::fs::write(dir.path().join("gbk.csv"), gbk).unwrap();
        let utf16: Vec<u8> =
            [0xFF, 0xFE].into_iter().chain("url\tagency\r\nhttp://www.yn.gov.cn/\t云南省人民政府\r\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        std::fs::write(dir.path().join("unicode.txt"), utf16).unwrap();
        let list = load(&[dir.path().join("gbk.csv"), dir.path().join("unicode.txt")]).unwrap();
        let seeds: Vec<(&str, Option<&str>)> = list.seeds.iter().map(|s| (s.url.as_str(), s.agency.as_deref())).collect();
        assert_eq!(seeds, vec![("http://www.zt.gov.cn/", Some("昭通市人民政府")), ("http://www.yn.gov.cn/", Some("云南省人民政府"))]);
        assert!(list.problems[0].contains("gbk.csv: not UTF-8: read as GB18030"), "{:?}", list.problems);
        std::fs::write(dir.path().join("empty.csv"), "# nothing yet\n\n").unwrap();
        let empty = load(&[dir.path().join("empty.csv")]).unwrap_err();
        assert!(format!("{empty:#}").contains("empty.csv: empty"), "{empty:#}");
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
