//! Canonical URLs: one report reached by two URLs is one report.
//!
//! `/` and `/index.html` are the same page on TRS sites; fragments, tracking and
//! session parameters never change a page. The canonical form is an identity for
//! dedup and for `report_id`; the URL actually fetched is the one found.

use url::Url;

use crate::digest::sha256_hex;

const DROPPED_PARAMS: &[&str] = &["spm", "from", "jsessionid", "phpsessid", "aspsessionid", "_t", "timestamp", "sid"];

pub fn canonical(url: &Url) -> String {
    let mut u = url.clone();
    u.set_fragment(None);
    let _ = u.set_host(u.host_str().map(str::to_ascii_lowercase).as_deref());
    // `;jsessionid=…` path parameters (Java CMSs) identify a session, not a page.
    if let Some(i) = u.path().to_ascii_lowercase().find(";jsessionid=") {
        let path = u.path()[..i].to_string();
        u.set_path(&path);
    }
    if u.path().ends_with('/') {
        let path = format!("{}index.html", u.path());
        u.set_path(&path);
    }
    let kept: Vec<(String, String)> = u
        .query_pairs()
        .filter(|(k, _)| {
            let k = k.to_ascii_lowercase();
            !k.starts_with("utm_") && !DROPPED_PARAMS.contains(&k.as_str())
        })
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    if kept.is_empty() {
        u.set_query(None);
    } else {
        u.query_pairs_mut().clear().extend_pairs(kept);
    }
    u.to_string()
}

/// The stable id of a report: a hash of its canonical URL.
pub fn report_id(canonical_url: &str) -> String {
    sha256_hex(canonical_url.as_bytes())[..20].to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(s: &str) -> String {
        canonical(&Url::parse(s).unwrap())
    }

    #[test]
    fn same_page_same_canonical_url() {
        assert_eq!(c("http://WWW.ZT.gov.cn/zwgk/xxgknb/"), c("http://www.zt.gov.cn/zwgk/xxgknb/index.html"));
        assert_eq!(c("http://www.zt.gov.cn/"), "http://www.zt.gov.cn/index.html");
        assert_eq!(c("http://a.gov.cn/x.html?utm_source=wx&id=3#top"), "http://a.gov.cn/x.html?id=3");
        assert_eq!(c("http://a.gov.cn/art.jsp;jsessionid=ABC123?id=3"), "http://a.gov.cn/art.jsp?id=3");
        assert_ne!(c("http://a.gov.cn/col/col1/index.html?pageNum=2"), c("http://a.gov.cn/col/col1/index.html"));
    }
}
