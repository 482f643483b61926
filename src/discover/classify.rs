//! Is this a report, a report column, a way towards one, or a near miss?
//!
//! Titles decide first: a report is titled `〈body〉YYYY年(度)政府信息公开(工作)年度报告`
//! (or 年报, with （图片版）/（超链版） suffixes; from 2008 to about 2013 usually
//! `〈body〉YYYY年度政府信息公开工作报告`). Near misses are rejected by what
//! they are: notices about compiling the reports, 政务公开工作要点, 政府网站工作年度
//! 报表, 政府工作报告, budgets and final accounts, company or 公积金 annual reports.

use crate::decode::normalize::fold_compact;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    /// An annual report, with the year in its title if it has one.
    Report {
        year: Option<i32>,
    },
    /// Looks related but is not a report: why.
    NearMiss(&'static str),
    Other,
}

const NEAR_MISSES: &[(&[&str], &str)] = &[
    (&["通知"], "notice"),
    (&["关于做好", "关于印发", "关于报送", "编制发布"], "notice"),
    (&["工作要点"], "work plan"),
    (&["网站工作年度报表", "网站年度报表", "政府网站年度工作报表", "工作年度报表"], "website annual form"),
    (&["政府工作报告"], "government work report"),
    (&["预算", "决算"], "budget or final accounts"),
    (&["公积金", "社会责任", "企业年度报告", "年度报告书", "信用报告"], "other annual report"),
    (&["解读", "图解"], "interpretation of a report"),
];

/// Classifies an article or anchor title.
pub fn classify_title(title: &str) -> Title {
    let t = fold_compact(title);
    let about_reports = t.contains("信息公开") && (t.contains("年度报告") || t.contains("年报") || t.contains("年度工作报告") || t.contains("公开工作报告"));
    if let Some(&(_, why)) = NEAR_MISSES.iter().find(|(words, _)| words.iter().any(|w| t.contains(w))) {
        return Title::NearMiss(why);
    }
    if about_reports {
        if let Some(why) = about_the_report(&t) {
            return Title::NearMiss(why);
        }
        return Title::Report { year: year_in(&t) };
    }
    Title::Other
}

/// Why a title about a report names another document, if it does: by its head, the
/// noun a Chinese title ends on once its notes are cut (（图片版）, 全文, `.pdf`), which
/// for the report itself is 报告 or 年报 (or a body's name after it); and by an opening
/// that makes the report the object of a graphic or a reading (一图读懂…, 图解：…).
fn about_the_report(t: &str) -> Option<&'static str> {
    const OPENINGS: [&str; 6] = ["一图读懂", "一图看懂", "图解", "图说", "解读", "读懂"];
    if OPENINGS.iter().any(|o| t.trim_start_matches(|c: char| !c.is_alphanumeric()).starts_with(o)) {
        return Some("interpretation of a report");
    }
    const HEADS: [(&str, &str); 11] = [
        ("解读", "interpretation of a report"),
        ("图解", "interpretation of a report"),
        ("答记者问", "interpretation of a report"),
        ("问答", "interpretation of a report"),
        ("通知", "notice"),
        ("通报", "notice"),
        ("函", "notice"),
        ("公告", "notice"),
        ("格式", "the report format"),
        ("模板", "the report format"),
        ("样本", "the report format"),
    ];
    let head = without_notes(t);
    let after = ["年度报告", "年报", "工作报告", "公开报告"].iter().filter_map(|w| head.rfind(w).map(|i| i + w.len())).max()?;
    HEADS.iter().find(|(noun, _)| head[after..].ends_with(noun)).map(|&(_, why)| why)
}

/// A title without the notes after it: bracketed (（图片版）, 【全文】), a file
/// extension, 全文 and the like, punctuation and digits (a date).
fn without_notes(t: &str) -> &str {
    let mut head = t;
    loop {
        let before = head.len();
        for (open, close) in [('(', ')'), ('（', '）'), ('【', '】'), ('[', ']')] {
            if head.ends_with(close) {
                head = head.rfind(open).map_or(head, |i| &head[..i]);
            }
        }
        head = head.trim_end_matches(|c: char| !c.is_alphanumeric() || c.is_ascii_digit());
        for note in ["全文", "正文", "图片版", "文字版", "超链版", ".pdf", ".doc", ".docx", ".wps", "pdf", "doc", "docx"] {
            head = head.strip_suffix(note).unwrap_or(head);
        }
        if head.len() == before {
            return head;
        }
    }
}

/// The first `YYYY年` with a plausible report year.
pub fn year_in(text: &str) -> Option<i32> {
    first_year(text).map(|(_, year, _)| year)
}

/// The first `YYYY年` with a plausible report year: where it stands (in bytes), the
/// year, and how many bytes its digits take. The digits may be written in Chinese
/// (`二〇二三年`, `二○二三年度`), as titles sometimes are. One pass, whatever the text's
/// length.
fn first_year(text: &str) -> Option<(usize, i32, usize)> {
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    chars.windows(5).find_map(|w| {
        if w[4].1 != '年' {
            return None;
        }
        let digits: Option<Vec<u32>> = w[..4].iter().map(|&(_, c)| digit(c)).collect();
        let year = digits?.iter().fold(0, |y, d| y * 10 + *d as i32);
        (2000..=2100).contains(&year).then_some((w[0].0, year, w[4].0 - w[0].0))
    })
}

/// A digit, in ASCII or as a Chinese numeral (〇, ○ and 零 for zero).
fn digit(c: char) -> Option<u32> {
    c.to_digit(10)
        .filter(|_| c.is_ascii())
        .or_else(|| "〇一二三四五六七八九".chars().position(|d| d == c).map(|d| d as u32))
        .or_else(|| matches!(c, '○' | '零' | 'O').then_some(0))
}

/// The body a report title names: 高平市人民政府办公室 in
/// 高平市人民政府办公室2023年政府信息公开工作年度报告, and as well in
/// `…关于2023年…`, `2024年昭通市财政局政府信息公开…`, `…政府信息公开工作2022年度报告`
/// and the yearless `官渡区教育体育局政府信息公开工作年度报告`. The name is what stands
/// before the report's subject (信息公开, 政务公开), less a year and the joining words
/// around it; a year printed first puts the name after it.
pub fn agency_in_title(title: &str) -> Option<String> {
    let t = fold_compact(title);
    let subject = ["信息公开", "政务公开"].iter().filter_map(|w| t.find(w)).min()?;
    let mut head = &t[..subject];
    // The 政府 of 政府信息公开, unless it ends the body's own name (…人民政府信息公开).
    if let Some(rest) = head.strip_suffix("政府")
        && !rest.ends_with("人民")
    {
        head = rest;
    }
    let name = match year_at(head) {
        Some((at, len)) => Some(bare_name(&head[..at])).filter(|n| n.chars().count() >= 2).unwrap_or_else(|| bare_name(&head[at + len..])),
        None => bare_name(head),
    };
    (name.chars().count() >= 2).then(|| name.to_string())
}

/// A name without the punctuation and joining words (关于 … 的) around it in a title.
fn bare_name(text: &str) -> &str {
    let not_name = |c: char| !c.is_alphanumeric();
    let text = text.trim_matches(not_name);
    let text = text.strip_prefix("关于").unwrap_or(text);
    let text = text.strip_suffix("关于").or_else(|| text.strip_suffix("的")).unwrap_or(text);
    text.trim_matches(not_name)
}

/// Where `YYYY年` (or `YYYY年度`) stands in `text`, and its length in bytes.
fn year_at(text: &str) -> Option<(usize, usize)> {
    let (at, _, digits) = first_year(text)?;
    let len = if text[at + digits..].starts_with("年度") { digits + "年度".len() } else { digits + "年".len() };
    Some((at, len))
}

/// Whether a URL names a listing (a column's index or a list page) rather than one
/// article: `…/xxgknb/`, `…/index.html`, `list_2.html`, Hanweb's `/col/col123/`.
pub fn looks_like_listing(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or("").to_ascii_lowercase();
    let file = path.rsplit('/').next().unwrap_or("");
    let stem = file.split('.').next().unwrap_or("");
    let stem = stem.split('_').next().unwrap_or(stem);
    file.is_empty() || path.contains("/col/col") || ["index", "list", "default", "more"].contains(&stem)
}

/// How strongly a link's text and URL say "the annual-report column".
pub fn is_report_column(text: &str, url: &str) -> bool {
    let t = fold_compact(text);
    let u = url.to_ascii_lowercase();
    // A short name ending in 年报 is a column of them (历史年报, 往年年报, 年报) unless it
    // names another kind of annual report (统计年报, 企业年报, 财务年报).
    let short_column = t.ends_with("年报") && t.chars().count() <= 6 && !["统计", "企业", "财务", "决算", "报表"].iter().any(|w| t.contains(w));
    let by_text = (["信息公开年报", "公开年报", "年度报告", "政府信息年度公开", "工作年报", "公开工作报告"].iter().any(|w| t.contains(w)) || short_column)
        && !matches!(classify_title(text), Title::NearMiss(_));
    let by_url = ["xxgknb", "zfxxgknb", "gknb", "/ndbg"].iter().any(|w| u.contains(w)) && !u.contains("wzndbb");
    (by_text || by_url) && year_in(&t).is_none_or(|_| t.chars().count() <= 8)
}

/// Whether a link leads towards the body's 政府信息公开 area.
pub fn is_disclosure_area(text: &str, url: &str) -> bool {
    let t = fold_compact(text);
    let u = url.to_ascii_lowercase();
    const AREAS: [&str; 10] =
        ["政府信息公开", "信息公开", "政务公开", "部门信息公开", "单位信息公开", "部门公开", "乡镇信息公开", "法定主动公开", "主动公开目录", "公开目录"];
    AREAS.iter().any(|w| t.contains(w)) && t.chars().count() <= 12
        || ["/zfxxgk", "/xxgk/", "/zwgk/", "/fdzdgk"].iter().any(|w| u.ends_with(w) || u.ends_with(&format!("{w}index.html")))
}

/// Whether a link in a disclosure area names a body (a department's own 信息公开 page
/// on a 集约化 portal): 昭通市政务服务管理局, 市财政局, 凤凰街道办事处.
pub fn names_a_body(text: &str) -> bool {
    let t = fold_compact(text);
    let n = t.chars().count();
    (3..=24).contains(&n)
        && ["局", "委员会", "委", "办公室", "办", "中心", "人民政府", "乡", "镇", "街道办事处", "街道", "院", "馆", "厅"].iter().any(|s| t.ends_with(s))
}

/// Whether the body of a page has the report's numbered sections (for titles that
/// do not say enough).
pub fn body_is_report(text: &str) -> bool {
    let t = fold_compact(text);
    ["总体情况", "主动公开政府信息情况", "收到和处理政府信息公开申请情况", "存在的主要问题"].iter().filter(|w| t.contains(*w)).count() >= 3
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_titles_with_years_and_suffixes() {
        assert_eq!(classify_title("高平市人民政府办公室2023年政府信息公开工作年度报告"), Title::Report { year: Some(2023) });
        assert_eq!(classify_title("宿州市人民政府2019年政府信息公开工作年度报告（图片版）"), Title::Report { year: Some(2019) });
        assert_eq!(classify_title("淮安市2022年度政府信息公开工作年度报告(超链版)"), Title::Report { year: Some(2022) });
        assert_eq!(classify_title("上海市人民政府2008年政府信息公开工作年报"), Title::Report { year: Some(2008) });
        assert_eq!(classify_title("市财政局政府信息公开工作年度报告"), Title::Report { year: None });
        assert_eq!(classify_title("昭通市二〇二三年度政府信息公开工作年度报告"), Title::Report { year: Some(2023) });
        assert_eq!(classify_title("昭通市财政局二○二二年政府信息公开工作年度报告"), Title::Report { year: Some(2022) });
        assert_eq!(agency_in_title("昭通市财政局二○二二年政府信息公开工作年度报告").as_deref(), Some("昭通市财政局"));
    }

    #[test]
    fn near_misses_are_rejected_by_what_they_are() {
        let near = |t: &str| matches!(classify_title(t), Title::NearMiss(_));
        assert!(near("关于做好2023年政府信息公开工作年度报告编制发布工作的通知"));
        assert!(near("昭通市2024年政务公开工作要点"));
        assert!(near("昭通市人民政府门户网站2023年政府网站工作年度报表"));
        assert!(near("2024年昭通市政府工作报告"));
        assert!(near("昭通市政务服务管理局2024年部门预算"));
        assert!(near("昭通市住房公积金2023年年度报告"));
        assert!(near("图解：官渡区2024年政府信息公开工作年度报告"));
        // By the title's head: documents about the report.
        assert!(near("一图读懂｜昭通市2023年政府信息公开工作年度报告"));
        assert!(near("昭通市2023年政府信息公开工作年度报告答记者问"));
        assert!(near("昭通市2022年度政府信息公开工作年度报告检查情况的通报"));
        assert!(near("中华人民共和国政府信息公开工作年度报告格式"));
        assert!(near("《昭通市2023年政府信息公开工作年度报告》政策解读（图文）"));
        // Notes, dates and a body named after the report leave it a report.
        let report = |t: &str| matches!(classify_title(t), Title::Report { .. });
        assert!(report("昭通市2023年政府信息公开工作年度报告（全文）"));
        assert!(report("昭通市2023年政府信息公开工作年度报告.pdf"));
        assert!(report("2023年政府信息公开工作年度报告-昭通市财政局"));
        assert!(report("昭通市政府信息公开工作年度报告 2024-01-25"));
        assert_eq!(classify_title("我市召开政务公开培训会"), Title::Other);
        assert_eq!(classify_title("高平市2023年国民经济和社会发展统计公报"), Title::Other);
    }

    #[test]
    fn legacy_titles_say_work_report() {
        // 2008–2013: 工作报告, no 年度报告 or 年报.
        assert_eq!(classify_title("仁怀市人民政府2009年度政府信息公开工作报告"), Title::Report { year: Some(2009) });
        assert_eq!(classify_title("拉萨市人民政府2013年度政府信息公开工作报告"), Title::Report { year: Some(2013) });
        // The government's own work report is still not one.
        assert!(matches!(classify_title("2013年拉萨市政府工作报告"), Title::NearMiss(_)));
    }

    #[test]
    fn agency_and_year_from_titles() {
        assert_eq!(agency_in_title("昆明市官渡区人民政府2024年政府信息公开工作年度报告").as_deref(), Some("昆明市官渡区人民政府"));
        assert_eq!(agency_in_title("2023年政府信息公开工作年度报告"), None);
        assert_eq!(agency_in_title("政府信息公开工作年度报告"), None);
        let agency = |t: &str| agency_in_title(t).unwrap_or_default();
        // Joining words and the subject around the name are not part of it.
        assert_eq!(agency("寿光市人民政府关于2023年政府信息公开工作年度报告"), "寿光市人民政府");
        assert_eq!(agency("鄂尔多斯市人民政府政府信息公开工作2022年度报告"), "鄂尔多斯市人民政府");
        assert_eq!(agency("市财政局政府信息公开工作2022年度报告"), "市财政局");
        // A body whose own name ends in 政府 keeps it.
        assert_eq!(agency("XX县人民政府信息公开年报"), "XX县人民政府");
        // The year first, the name after it.
        assert_eq!(agency("2024年昭通市财政局政府信息公开工作年度报告"), "昭通市财政局");
        assert_eq!(agency("关于2023年高平市人民政府政府信息公开工作年度报告"), "高平市人民政府");
        // Legacy and yearless titles.
        assert_eq!(agency("仁怀市人民政府2009年度政府信息公开工作报告"), "仁怀市人民政府");
        assert_eq!(agency("官渡区教育体育局政府信息公开工作年度报告"), "官渡区教育体育局");
        assert_eq!(year_in("统计期限自2023年1月1日起"), Some(2023));
    }

    #[test]
    fn a_title_of_a_hundred_thousand_characters_is_read_in_one_pass() {
        // A link whose text runs on to the end of a hostile page: the year was looked
        // for from every character again, which took seconds on 140 kB.
        let text = format!("{}2023年政府信息公开工作年度报告", "政府信息公开".repeat(20_000));
        assert_eq!(year_in(&text), Some(2023));
        assert_eq!(agency_in_title(&text), None);
        assert!(matches!(classify_title(&text), Title::Report { year: Some(2023) }));
    }

    #[test]
    fn columns_and_areas() {
        assert!(is_report_column("政府信息公开年报", "http://www.zt.gov.cn/zwgk/xxgknb/"));
        assert!(is_report_column("年报", "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/"));
        assert!(!is_report_column("政府网站工作年度报表", "http://www.zt.gov.cn/zwgk/wzndbb/"));
        // A history column has no marker in a Hanweb URL: its name says it.
        assert!(is_report_column("历史年报", "http://www.dunhuang.gov.cn/col/col64078/index.html"));
        assert!(!is_report_column("统计年报", "http://www.dunhuang.gov.cn/col/col64090/index.html"));
        assert!(is_disclosure_area("政府信息公开", "http://www.zt.gov.cn/zfxxgk/"));
        assert!(is_disclosure_area("法定主动公开内容", "http://www.kmxs.gov.cn/zwgk/xxgk/fdzdgk/"));
        assert!(names_a_body("昭通市政务服务管理局"));
        assert!(!names_a_body("首页"));
        assert!(looks_like_listing("http://www.zt.gov.cn/zwgk/xxgknb/"));
        assert!(looks_like_listing("http://www.zt.gov.cn/zwgk/xxgknb/index_2.html"));
        assert!(looks_like_listing("http://www.kashi.gov.cn/col/col41792/index.html?number=1"));
        assert!(!looks_like_listing("http://www.kmgd.gov.cn/zwgk/bmxxgk/bm01/xxgknb/202303/t20230302_4898022.html"));
        assert!(!looks_like_listing("http://www.renhuai.gov.cn/xxgk/ndbg/202103/50d6a32f6b4eeb0e45bb1558a27acb91.shtml"));
    }
}
