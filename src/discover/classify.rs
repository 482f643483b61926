//! Is this a report, a report column, a way towards one, or a near miss?
//!
//! Titles decide first: a report is titled `〈body〉YYYY年(度)政府信息公开(工作)年度报告`
//! (or 年报, with （图片版）/（超链版） suffixes). Near misses are rejected by what
//! they are: notices about compiling the reports, 政务公开工作要点, 政府网站工作年度
//! 报表, 政府工作报告, budgets and final accounts, company or 公积金 annual reports.

use crate::decode::normalize::fold_compact;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Title {
    /// An annual report, with the year in its title if it has one.
    Report { year: Option<i32> },
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
    let about_reports = t.contains("信息公开") && (t.contains("年度报告") || t.contains("年报") || t.contains("年度工作报告"));
    if let Some(&(_, why)) = NEAR_MISSES.iter().find(|(words, _)| words.iter().any(|w| t.contains(w))) {
        return Title::NearMiss(why);
    }
    if about_reports {
        return Title::Report { year: year_in(&t) };
    }
    Title::Other
}

/// The first `YYYY年` with a plausible report year.
pub fn year_in(text: &str) -> Option<i32> {
    let chars: Vec<char> = text.chars().collect();
    chars.windows(5).find_map(|w| {
        if w[4] != '年' || !w[..4].iter().all(char::is_ascii_digit) {
            return None;
        }
        let year: i32 = w[..4].iter().collect::<String>().parse().ok()?;
        (2000..=2100).contains(&year).then_some(year)
    })
}

/// The body named before the year in a report title: 高平市人民政府办公室 in
/// 高平市人民政府办公室2023年政府信息公开工作年度报告.
pub fn agency_in_title(title: &str) -> Option<String> {
    let t = fold_compact(title);
    let year_at = t.char_indices().find(|&(i, _)| year_in(&t[i..]).is_some_and(|y| t[i..].starts_with(&y.to_string())))?.0;
    let agency = t[..year_at].trim_matches(|c: char| !c.is_alphanumeric());
    (agency.chars().count() >= 2).then(|| agency.to_string())
}

/// How strongly a link's text and URL say "the annual-report column".
pub fn is_report_column(text: &str, url: &str) -> bool {
    let t = fold_compact(text);
    let u = url.to_ascii_lowercase();
    let by_text = ["信息公开年报", "公开年报", "年度报告", "政府信息年度公开", "工作年报"].iter().any(|w| t.contains(w))
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
        && ["局", "委员会", "委", "办公室", "办", "中心", "人民政府", "乡", "镇", "街道办事处", "街道", "院", "馆", "厅"]
            .iter()
            .any(|s| t.ends_with(s))
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
        assert_eq!(classify_title("我市召开政务公开培训会"), Title::Other);
        assert_eq!(classify_title("高平市2023年国民经济和社会发展统计公报"), Title::Other);
    }

    #[test]
    fn agency_and_year_from_titles() {
        assert_eq!(agency_in_title("昆明市官渡区人民政府2024年政府信息公开工作年度报告").as_deref(), Some("昆明市官渡区人民政府"));
        assert_eq!(agency_in_title("2023年政府信息公开工作年度报告"), None);
        assert_eq!(year_in("统计期限自2023年1月1日起"), Some(2023));
    }

    #[test]
    fn columns_and_areas() {
        assert!(is_report_column("政府信息公开年报", "http://www.zt.gov.cn/zwgk/xxgknb/"));
        assert!(is_report_column("年报", "http://www.sxgp.gov.cn/zfxxgk/zfxxgknb/"));
        assert!(!is_report_column("政府网站工作年度报表", "http://www.zt.gov.cn/zwgk/wzndbb/"));
        assert!(is_disclosure_area("政府信息公开", "http://www.zt.gov.cn/zfxxgk/"));
        assert!(is_disclosure_area("法定主动公开内容", "http://www.kmxs.gov.cn/zwgk/xxgk/fdzdgk/"));
        assert!(names_a_body("昭通市政务服务管理局"));
        assert!(!names_a_body("首页"));
    }
}
