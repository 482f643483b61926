//! Discover: from a portal's home page to its report articles.
//!
//! Every fetched page has a [`PageKind`] that says what we expect of it. A portal
//! or hub page is searched for the annual-report column (by link text and URL slug),
//! for the way towards the 政府信息公开 area, and on 集约化 portals for the
//! departments' own disclosure pages; a list page for report articles and for its
//! further pages (`paging`, a file per CMS pager); an article is checked to be a
//! report and read for its metadata.
//!
//! Pure: page text in, targets out. The crawl decides what to fetch and when.

mod attachments;
pub mod canonical;
pub mod classify;
mod forward;
mod links;
mod metadata;
mod nesting;
mod paging;
mod raw_tags;

use chrono::NaiveDate;
use scraper::Html;
use serde::{Deserialize, Serialize};
use url::Url;

pub use attachments::{attachments, continues, disposition_filename, names_a_file};
pub use classify::Title;
pub use forward::{Forward, forward};
pub use links::Link;
pub use metadata::{ArticleMeta, read_article, read_linked_file};

/// What a page is expected to be, which decides how it is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
pub enum PageKind {
    #[default]
    Portal,
    Hub,
    List,
    Article,
    /// A file attached to a report article, read when the article has no tables.
    Attachment,
}

impl PageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            PageKind::Portal => "portal",
            PageKind::Hub => "hub",
            PageKind::List => "list",
            PageKind::Article => "article",
            PageKind::Attachment => "attachment",
        }
    }
}

/// A page to fetch next, with what discovery knows of it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Target {
    pub url: String,
    pub kind: PageKind,
    /// Hub links followed from the portal to get here.
    pub depth: u32,
    /// The department whose disclosure pages led here, on a 集约化 portal.
    pub department: Option<String>,
    /// The column (list) the article was found in.
    pub column: Option<String>,
    /// The link text that led here: a report's title when the link goes straight to
    /// a PDF or Word file, which has no HTML title to read.
    #[serde(default)]
    pub title: Option<String>,
    /// A form to POST instead of a GET (Hanweb's `dataproxy.jsp` list pages).
    #[serde(default)]
    pub form: Option<Vec<(String, String)>>,
    /// For an attachment: the report_id of the article it belongs to.
    #[serde(default)]
    pub report_id: Option<String>,
    /// The date the list printed beside the link: the publication date of an article
    /// whose page prints none.
    #[serde(default)]
    pub listed: Option<NaiveDate>,
    /// The page its link was found on: sent as `Referer`, as a browser does (download
    /// servers refuse files without one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub referrer: Option<String>,
    /// Pages that sent the visitor on without a redirect (`forward`) to get here.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub hops: u8,
    /// How far a list page lies from its column's entry page (the list a portal or
    /// hub links to, where new reports appear: 0), through later pages and the
    /// lists a list links to. The revisit schedule visits entry pages every run.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub page: u32,
}

fn is_zero<N: Default + PartialEq>(n: &N) -> bool {
    *n == N::default()
}

/// Pages that send the visitor on, followed one after another, at most: as redirects.
pub const MAX_HOPS: u8 = 5;

impl Target {
    /// The same page expected where `self` sends the visitor on to, `to`, from `from`.
    pub fn forwarded(&self, to: &Url, from: &Url) -> Option<Target> {
        (self.hops < MAX_HOPS).then(|| Target { url: to.to_string(), referrer: Some(from.to_string()), hops: self.hops + 1, form: None, ..self.clone() })
    }
}

/// Targets found on a page, and how many near-miss articles were passed over.
#[derive(Debug, Default)]
pub struct Found {
    pub targets: Vec<Target>,
    pub near_misses: Vec<String>,
    /// What about the page itself the crawl log should say (markup nested too deep).
    pub warnings: Vec<String>,
    /// Whether the page only sent the visitor on (a refresh, a script redirect, a
    /// frameset): where it leads is among the targets.
    pub forwarded: bool,
}

/// Links read from one page, at the most: a portal's home page has a few hundred, a
/// list page a few dozen; a page of a million is a trap, and its first ones are enough.
const MAX_LINKS: usize = 5000;

/// Reads a navigation page (portal, hub or list) found as `from`.
pub fn follow(from: &Target, page_url: &Url, html: &str, max_depth: u32) -> Found {
    let mut found = Found::default();
    let (html, flattened) = nesting::flatten_deep(html);
    if flattened > 0 {
        found.warnings.push(format!("markup nested past {} elements: {flattened} tags beyond that depth ignored", nesting::MAX_NESTING));
    }
    let html = &*html;
    let doc = Html::parse_document(html);
    let base = links::base_href(&doc, page_url);
    let mut links = links::links(&doc, html, &base);
    links.truncate(MAX_LINKS);
    for link in &links {
        match read_link(from, page_url, link, max_depth) {
            Ok(Some(target)) => found.targets.push(target),
            Ok(None) => {}
            Err(near_miss) => found.near_misses.push(near_miss),
        }
    }
    // Where the page sends the visitor, or what it frames, is more of the same page.
    let forward = forward::forward(html, &base);
    found.forwarded = forward.only;
    found.targets.extend(forward.to.iter().filter_map(|to| from.forwarded(to, page_url)));
    if from.kind == PageKind::List {
        let list = paging::ListPage { url: page_url, base: &base, html, doc: &doc, links: &links, form: from.form.as_deref() };
        found.targets.extend(further_pages(from, &list));
    }
    found
}

/// Where one link of a page found as `from` leads: a report, a column, a way towards
/// one, nothing to follow, or a near miss (Err, with why).
fn read_link(from: &Target, page_url: &Url, link: &Link, max_depth: u32) -> Result<Option<Target>, String> {
    if paging::is_data_proxy(&link.url) {
        return Ok(None);
    }
    let url = link.url.to_string();
    let next = |kind, depth, department: Option<String>, column: Option<String>| Target {
        url: url.clone(),
        kind,
        depth,
        department,
        column,
        title: Some(link.text.clone()),
        form: None,
        report_id: None,
        listed: link.date,
        referrer: Some(page_url.to_string()),
        hops: 0,
        page: 0,
    };
    let is_column = classify::is_report_column(&link.text, &url);
    match classify::classify_title(&link.text) {
        // A yearless 政府信息公开年报 is a column name far more often than a report;
        // one that names its body, and links to no listing, is a report whose year
        // is printed only in its text.
        Title::Report { year } if year.is_some() || !is_column || (classify::agency_in_title(&link.text).is_some() && !classify::looks_like_listing(&url)) => {
            let column = from.column.clone().or_else(|| (from.kind == PageKind::List).then(|| link.text.clone()));
            return Ok(Some(next(PageKind::Article, from.depth, from.department.clone(), column)));
        }
        Title::NearMiss(why) => return Err(format!("{why}: {}", link.text)),
        Title::Report { .. } | Title::Other => {}
    }
    Ok(if is_column {
        // A column a portal or hub links to starts at its entry page; a list's links
        // to more lists (its later pages, its year folders) lie a page further in.
        let (column, page) = match from.kind {
            PageKind::List => (from.column.clone(), from.page + 1),
            _ => (Some(link.text.clone()), 0),
        };
        Some(Target { page, ..next(PageKind::List, from.depth, from.department.clone(), column) })
    } else if from.depth >= max_depth || from.kind == PageKind::List {
        None
    } else if classify::is_disclosure_area(&link.text, &url) {
        Some(next(PageKind::Hub, from.depth + 1, from.department.clone(), None))
    } else if from.kind == PageKind::Hub && classify::names_a_body(&link.text) {
        Some(next(PageKind::Hub, from.depth + 1, Some(link.text.clone()), None))
    } else {
        None
    })
}

/// A list's further pages, as its pagers name them: more of the same column.
fn further_pages(from: &Target, list: &paging::ListPage<'_>) -> impl Iterator<Item = Target> {
    paging::next_pages(list).into_iter().map(|page| Target {
        url: page.url.to_string(),
        kind: PageKind::List,
        title: Some(page.text),
        form: page.form,
        listed: None,
        report_id: None,
        referrer: Some(list.url.to_string()),
        hops: 0,
        page: from.page + 1,
        ..from.clone()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(kind: PageKind, depth: u32) -> Target {
        Target { kind, depth, ..Target::default() }
    }

    #[test]
    fn portal_links_to_area_and_column_and_skips_the_rest() {
        let home = r#"<a href="/zfxxgk/">政府信息公开</a><a href="/xwzx/">新闻中心</a>
                      <a href="/zfxxgk/zfxxgknb/">政府信息公开年报</a><a href="/zfxxgk/wzndbb/">政府网站工作年度报表</a>"#;
        let url = Url::parse("http://www.sxgp.gov.cn/").unwrap();
        let found = follow(&target(PageKind::Portal, 0), &url, home, 4);
        let kinds: Vec<(String, PageKind)> = found.targets.iter().map(|t| (t.url.clone(), t.kind)).collect();
        assert_eq!(
            kinds,
            vec![("http://www.sxgp.gov.cn/zfxxgk/".to_string(), PageKind::Hub), ("http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/".to_string(), PageKind::List)]
        );
        assert_eq!(found.near_misses.len(), 1);
    }

    #[test]
    fn a_portal_nesting_a_hundred_thousand_divs_is_read_in_linear_time_and_says_so() {
        let n = 100_000;
        let home = format!("{}<a href=\"/zfxxgk/zfxxgknb/\">政府信息公开年报</a>{}", "<div>".repeat(n), "</div>".repeat(n));
        let url = Url::parse("http://www.sxgp.gov.cn/").unwrap();
        let found = follow(&target(PageKind::Portal, 0), &url, &home, 4);
        assert_eq!(found.targets.len(), 1, "the link deep inside is still found");
        assert_eq!(found.warnings, vec![format!("markup nested past 512 elements: {} tags beyond that depth ignored", 2 * (n - 512))]);
    }

    #[test]
    fn department_pages_on_a_hub_carry_the_department_down() {
        let hub = r#"<a href="/zwgk/bm/zwfwj/">昭通市政务服务管理局</a><a href="/zwgk/bm/czj/">昭通市财政局</a>"#;
        let url = Url::parse("http://www.zt.gov.cn/zwgk/bmxxgk/").unwrap();
        let found = follow(&target(PageKind::Hub, 1), &url, hub, 4);
        assert_eq!(found.targets.len(), 2);
        assert_eq!(found.targets[0].department.as_deref(), Some("昭通市政务服务管理局"));
        assert!(follow(&target(PageKind::Hub, 4), &url, hub, 4).targets.is_empty(), "depth bound");
    }

    #[test]
    fn a_yearless_title_naming_its_body_is_a_report_and_a_bare_one_a_column() {
        let list = r#"<ul><li><a href="./202303/t20230302_4898022.html">官渡区教育体育局政府信息公开工作年度报告</a><span>2023-03-02</span></li>
            <li><a href="/zwgk/bmxxgk/bm02/xxgknb/">官渡区财政局政府信息公开工作年度报告</a></li>
            <li><a href="/zwgk/xxgknb/index.html">政府信息公开工作年度报告</a></li></ul>"#;
        let url = Url::parse("http://www.kmgd.gov.cn/zwgk/bmxxgk/bm01/xxgknb/index.html").unwrap();
        let found = follow(&target(PageKind::List, 2), &url, list, 4);
        let kinds: Vec<(PageKind, Option<NaiveDate>)> = found.targets.iter().map(|t| (t.kind, t.listed)).collect();
        assert_eq!(kinds, vec![(PageKind::Article, NaiveDate::from_ymd_opt(2023, 3, 2)), (PageKind::List, None), (PageKind::List, None)]);
    }

    #[test]
    fn a_column_starts_at_the_list_a_portal_links_to_and_its_pages_lie_further_in() {
        let portal = r#"<a href="/zwgk/xxgknb/">政府信息公开年报</a>"#;
        let url = Url::parse("http://www.zt.gov.cn/").unwrap();
        let entry = follow(&target(PageKind::Portal, 0), &url, portal, 4).targets.remove(0);
        assert_eq!((entry.kind, entry.page), (PageKind::List, 0));
        let list = r#"<a href="/zwgk/xxgknb/2023/">政府信息公开年报</a><a href="index_1.html">下一页</a>"#;
        let url = Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/").unwrap();
        // The next page is both a link and a pager's (the frontier keeps one).
        let further: std::collections::BTreeSet<(String, u32)> = follow(&entry, &url, list, 4).targets.into_iter().map(|t| (t.url, t.page)).collect();
        let want = [("http://www.zt.gov.cn/zwgk/xxgknb/2023/", 1), ("http://www.zt.gov.cn/zwgk/xxgknb/index_1.html", 1)];
        assert_eq!(further, want.into_iter().map(|(u, p)| (u.to_string(), p)).collect());
    }
}
