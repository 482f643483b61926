//! What a report page says about itself: title, body, year, publication date.
//!
//! The report year is the year the statistics cover: the year in the title, else the
//! 统计期限 in the text, never the publication date (a 2023 report is published in
//! 2024); only as a last resort the publication year − 1, with a warning.

use chrono::NaiveDate;
use url::Url;

use super::classify::{self, Title, agency_in_title, body_is_report, classify_title, year_in};
use crate::decode::normalize::{fold, fold_compact};
use crate::html::{NodeId, Page, Select};

/// A report article's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct ArticleMeta {
    pub title: String,
    /// The body the title names.
    pub agency: Option<String>,
    /// The body the page's metadata names as its publisher (发布机构, 来源): on a
    /// 集约化 portal often the portal's office, so it stands in only where nothing
    /// better (the title, the department whose column lists it) names the body.
    pub publisher: Option<String>,
    pub year: Option<i32>,
    pub published: Option<NaiveDate>,
    pub warnings: Vec<String>,
}

/// Where portals print an article's title, most telling first.
const TITLE_SELECTORS: &[Select<'static>] = &[
    Select::MetaName("ArticleTitle"),
    Select::Tag("h1"),
    Select::Class("title"),
    Select::Class("article-title"),
    Select::Id("title"),
    Select::Class("bt"),
    Select::Tag("h2"),
    Select::Tag("title"),
];

/// Reads a page that discovery expected to be a report. None when it is not one.
/// Takes the parsed page: the crawl reads its metadata, its attachment links
/// ([`super::attachments`]) and its tables from one parse. `listed` is the date its
/// list printed beside the link, if any.
pub fn read_article(url: &Url, page: &Page, listed: Option<NaiveDate>) -> Option<ArticleMeta> {
    let candidates: Vec<(NodeId, String)> = page
        .select_each(TITLE_SELECTORS)
        .into_iter()
        .flatten()
        .map(|e| (e, fold(page.attr(e, "content").map(str::to_string).unwrap_or_else(|| page.text(e)).as_str())))
        .filter(|(_, t)| !t.is_empty())
        .collect();
    let text = page.text(Page::ROOT);
    let report_title = candidates.iter().find(|(_, t)| matches!(classify_title(t), Title::Report { .. }));
    // The printed heading, whose byline may carry the date (not `<title>` or a meta).
    let heading = candidates.iter().map(|&(e, _)| e).find(|&e| !matches!(page.name(e), Some("title" | "meta")));
    let title = match report_title {
        Some((_, t)) => t.clone(),
        // A title that says too little (年度报告) is rescued by a body with the sections.
        None => {
            let t = candidates.first()?.1.clone();
            let looks = !matches!(classify_title(&t), Title::NearMiss(_)) && (t.contains("年报") || t.contains("报告"));
            if !(looks && body_is_report(&text)) {
                return None;
            }
            t
        }
    };
    let mut warnings = Vec::new();
    let published = published_date(page, &text, heading).or(listed).or_else(|| date_in_url(url.path()));
    let year = year_in(&fold_compact(&title)).or_else(|| statistics_year(&text)).or_else(|| year_before(published, &mut warnings));
    Some(ArticleMeta { agency: agency_in_title(&title), publisher: publisher(&text), title, year, published, warnings })
}

/// The 发布机构 (or 发文机关 / 来源) field of the page's 索引号 metadata table or byline.
fn publisher(text: &str) -> Option<String> {
    const STOPS: [&str; 14] =
        ["生成日期", "发布日期", "成文日期", "发文日期", "公开方式", "主题分类", "索引号", "文号", "公开时限", "有效性", "发文字号", "时间", "作者", "浏览"];
    let t = fold_compact(text);
    ["发布机构", "发文机关", "信息来源", "来源"].iter().find_map(|label| {
        let at = t.find(label)? + label.len();
        let rest = t[at..].trim_start_matches([':', '：']);
        let end = STOPS.iter().filter_map(|s| rest.find(s)).min().unwrap_or(rest.len());
        let name: String = rest[..end].chars().take(30).collect();
        (classify::names_a_body(&name) || name.ends_with("人民政府")).then_some(name)
    })
}

/// A report published as a file (PDF, Word, Excel) linked straight from a list: its
/// metadata comes from the link text and the date beside it. None when the link text
/// is not a report title.
pub fn read_linked_file(url: &Url, link_text: &str, listed: Option<NaiveDate>) -> Option<ArticleMeta> {
    let title = fold(link_text);
    let Title::Report { year } = classify_title(&title) else { return None };
    let mut warnings = Vec::new();
    let published = listed.or_else(|| date_in_url(url.path()));
    let year = year.or_else(|| year_before(published, &mut warnings));
    Some(ArticleMeta { agency: agency_in_title(&title), publisher: None, title, year, published, warnings })
}

/// A report's year when it prints none: the year before its publication (a report on
/// 2023 is published early in 2024), with a warning that it is a guess.
fn year_before(published: Option<NaiveDate>, warnings: &mut Vec<String>) -> Option<i32> {
    let guess = published.map(|d| chrono::Datelike::year(&d) - 1)?;
    warnings.push(format!("report year not printed: guessed {guess} from the publication date"));
    Some(guess)
}

/// 统计期限为2024年1月1日至2024年12月31日 → 2024.
fn statistics_year(text: &str) -> Option<i32> {
    let t = fold_compact(text);
    let at = t.find("统计期限").or_else(|| t.find("统计时间"))?;
    let window: String = t[at..].chars().take(30).collect();
    year_in(&window)
}

/// The publication date the page prints: its PubDate meta, a 发布时间/发布日期 line,
/// else an unlabelled byline under the heading (`2023年02月02日 鄂尔多斯市人民政府`).
/// Without one, the list's date and then the date in a TRS (`t20240125_`) or Hanweb
/// (`/art/2025/1/20/`) article URL stand in.
fn published_date(page: &Page, text: &str, heading: Option<NodeId>) -> Option<NaiveDate> {
    let metas = page.select_each(&[Select::MetaName("PubDate"), Select::MetaName("publishdate")]);
    if let Some(d) = metas.into_iter().flatten().find_map(|m| page.attr(m, "content").and_then(date_in)) {
        return Some(d);
    }
    // The labels are CJK, which folding leaves as printed, so they are found in the
    // raw text and only what follows one is folded: folding the whole page was most
    // of the cost of reading a report's metadata.
    for label in ["发布时间", "发布日期", "发文日期", "时间:", "日期:"] {
        let found = match label.strip_suffix(':') {
            Some(word) => text.match_indices(word).map(|(at, _)| at).find(|&at| text[at + word.len()..].starts_with([':', '：'])),
            None => text.find(label),
        };
        if let Some(at) = found {
            // 80 characters as printed hold the 40 the date is looked for in once
            // runs of spaces are folded.
            let end = text[at..].char_indices().nth(80).map_or(text.len(), |(i, _)| at + i);
            let window: String = fold(&text[at..end]).chars().take(40).collect();
            if let Some(d) = date_in(&window) {
                return Some(d);
            }
        }
    }
    heading.and_then(|h| byline_date(page, h))
}

/// A date on a short line just under the heading: the byline. The search ends at the
/// first sentence of prose, whose dates (统计期限为2023年1月1日至…) are not the
/// publication's: a byline is a few fields side by side, never a clause.
fn byline_date(page: &Page, heading: NodeId) -> Option<NaiveDate> {
    const BYLINE_CHARS: usize = 60;
    let is_prose = |line: &str| line.chars().count() > BYLINE_CHARS || line.contains([',', '。', ';', '为', '自', '至']);
    page.text_after(heading).map(fold).filter(|line| !line.is_empty()).take(6).take_while(|line| !is_prose(line)).find_map(|line| date_in(&line))
}

/// The first date written `2024-01-25`, `2024/1/25`, `2024.01.25` or `2024年1月25日`.
pub fn date_in(text: &str) -> Option<NaiveDate> {
    let chars: Vec<char> = text.chars().collect();
    for start in 0..chars.len() {
        if let Some(d) = date_at(&chars[start..]) {
            return Some(d);
        }
    }
    None
}

fn date_at(chars: &[char]) -> Option<NaiveDate> {
    let mut nums = Vec::new();
    let mut i = 0;
    for (n, max_len) in [(0, 4), (1, 2), (2, 2)] {
        let start = i;
        while i < chars.len() && chars[i].is_ascii_digit() && i - start < max_len {
            i += 1;
        }
        if i == start || (n == 0 && i - start != 4) {
            return None;
        }
        nums.push(chars[start..i].iter().collect::<String>().parse::<u32>().ok()?);
        if n < 2 {
            if i < chars.len() && matches!(chars[i], '-' | '/' | '.' | '年' | '月') {
                i += 1;
            } else {
                return None;
            }
        }
    }
    NaiveDate::from_ymd_opt(nums[0] as i32, nums[1], nums[2]).filter(|d| chrono::Datelike::year(d) >= 2000)
}

fn date_in_url(path: &str) -> Option<NaiveDate> {
    if let Some(at) = path.find("/t2") {
        let digits: String = path[at + 2..].chars().take(8).collect();
        if digits.len() == 8 && digits.bytes().all(|b| b.is_ascii_digit()) {
            return NaiveDate::parse_from_str(&digits, "%Y%m%d").ok();
        }
    }
    let parts: Vec<&str> = path.split('/').collect();
    let at = parts.iter().position(|p| *p == "art")?;
    let n = |k: usize| parts.get(at + k).and_then(|p| p.parse::<u32>().ok());
    NaiveDate::from_ymd_opt(n(1)? as i32, n(2)?, n(3)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn year_comes_from_title_not_publication() {
        let html = "<html><head><title>首页</title><meta name=\"PubDate\" content=\"2024-01-25 10:00\"></head><body>\
                    <h1>高平市人民政府办公室2023年政府信息公开工作年度报告</h1></body></html>";
        let url = Url::parse("http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/202401/t20240125_1.html").unwrap();
        let m = read_article(&url, &Page::parse(html), None).unwrap();
        assert_eq!(m.year, Some(2023));
        assert_eq!(m.published, NaiveDate::from_ymd_opt(2024, 1, 25));
        assert_eq!(m.agency.as_deref(), Some("高平市人民政府办公室"));
    }

    #[test]
    fn year_from_statistics_period_then_publication_with_warning() {
        let url = Url::parse("http://www.kmgd.gov.cn/art/2025/1/20/art_1_2.html").unwrap();
        let html = "<h1>市财政局政府信息公开工作年度报告</h1><p>报告所列数据统计期限为2024年1月1日至2024年12月31日</p>";
        let read = |html: &str| read_article(&url, &Page::parse(html), None);
        let m = read(html).unwrap();
        assert_eq!((m.year, m.published), (Some(2024), NaiveDate::from_ymd_opt(2025, 1, 20)));
        let m = read("<h1>市财政局政府信息公开工作年度报告</h1>").unwrap();
        assert_eq!(m.year, Some(2024));
        assert!(m.warnings[0].contains("guessed 2024"));
    }

    #[test]
    fn agency_from_the_publisher_field_when_the_title_has_none() {
        let url = Url::parse("http://www.zt.gov.cn/zwgk/bmxxgk/zwfwglj/xxgknb/202101/t20210128_555.html").unwrap();
        let html = "<table><tr><td>索引号：</td><td>115306000155</td><td>发布机构：</td><td>昭通市政务服务管理局</td></tr>\
                    <tr><td>生成日期：</td><td>2021-01-28</td></tr></table><h1>2020年政府信息公开工作年度报告</h1>";
        let m = read_article(&url, &Page::parse(html), None).unwrap();
        assert_eq!((m.agency.as_deref(), m.publisher.as_deref(), m.year), (None, Some("昭通市政务服务管理局"), Some(2020)));
    }

    #[test]
    fn publication_date_from_a_labelled_line_in_full_width_forms() {
        let url = Url::parse("http://www.zt.gov.cn/a.html").unwrap();
        let read = |body: &str| read_article(&url, &Page::parse(&format!("<h1>2023年政府信息公开工作年度报告</h1>{body}")), None).unwrap().published;
        assert_eq!(read("<p>发布日期：\u{3000}２０２４年１月２５日</p>"), NaiveDate::from_ymd_opt(2024, 1, 25));
        // The first 时间 is not a label; the second, with a full-width colon, is.
        assert_eq!(read("<p>统计时间范围</p><p>时间： 2023-01-31 点击率</p>"), NaiveDate::from_ymd_opt(2023, 1, 31));
    }

    #[test]
    fn publication_date_from_an_unlabelled_byline_under_the_heading() {
        let url = Url::parse("http://www.ordos.gov.cn/xxgk/ndbg/202302/276133516be4b07ea9e2304e8159a6cc.shtml").unwrap();
        let read = |body: &str, listed| read_article(&url, &Page::parse(body), listed).unwrap().published;
        let byline = "<h1>鄂尔多斯市人民政府2022年度政府信息公开工作年度报告</h1><div class=\"article-meta\">2023年02月02日\u{3000}鄂尔多斯市人民政府</div>\
                      <p>本报告统计期限为2022年1月1日至12月31日，由鄂尔多斯市人民政府办公室负责编制。</p>";
        assert_eq!(read(byline, None), NaiveDate::from_ymd_opt(2023, 2, 2));
        // The byline wins over the list's date, which wins over nothing.
        assert_eq!(read(byline, NaiveDate::from_ymd_opt(2023, 2, 4)), NaiveDate::from_ymd_opt(2023, 2, 2));
        // A date in the first sentence of prose is the statistics period, not the publication.
        let prose = "<h1>鄂尔多斯市人民政府2022年度政府信息公开工作年度报告</h1>\
                     <p>本报告统计期限为2022年1月1日至12月31日，由鄂尔多斯市人民政府办公室负责编制，联系人：陈静。</p>";
        assert_eq!(read(prose, None), None);
        assert_eq!(read(prose, NaiveDate::from_ymd_opt(2023, 2, 4)), NaiveDate::from_ymd_opt(2023, 2, 4));
    }

    #[test]
    fn non_reports_are_none() {
        let url = Url::parse("http://www.zt.gov.cn/a.html").unwrap();
        let read = |html: &str| read_article(&url, &Page::parse(html), None);
        assert!(read("<h1>关于做好2023年政府信息公开工作年度报告编制发布工作的通知</h1>").is_none());
        assert!(read("<h1>我市召开会议</h1>").is_none());
    }

    #[test]
    fn dates_in_the_shapes_portals_print() {
        assert_eq!(date_in("发布时间：2024年1月25日"), NaiveDate::from_ymd_opt(2024, 1, 25));
        assert_eq!(date_in("时间:2023-01-31 点击率"), NaiveDate::from_ymd_opt(2023, 1, 31));
        assert_eq!(date_in("编号 12345"), None);
    }
}
