//! The templates' vocabulary: printed labels → canonical keys (docs/dataset.md lists
//! them, docs/keys.csv holds them as data).
//!
//! Labels are matched by meaning (a distinctive word that survives the typos real
//! reports print: 不分公开, 政务信息, 以获取, 其他法律行政止公开) and, where the word is
//! missing, by position in the template's numbering ((三) item 2 is always
//! `result.denied.law_prohibited`). Every function takes compact text (full-width
//! folded, whitespace removed, see `normalize::fold_compact`).

/// Which national template a section 二 follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub enum Format {
    F2021,
    F2019,
    Legacy,
}

impl Format {
    pub fn as_str(self) -> &'static str {
        match self {
            Format::F2021 => "2021",
            Format::F2019 => "2019",
            Format::Legacy => "legacy",
        }
    }
}

/// Section 二's header cells seen of the 2021 and of the 2019 template: the format
/// they name most (2021 on a tie), if any named one.
#[derive(Debug, Default, Clone, Copy)]
pub struct FormatVotes {
    f2021: u32,
    f2019: u32,
}

impl FormatVotes {
    pub fn add(&mut self, format: Option<Format>) {
        match format {
            Some(Format::F2021) => self.f2021 += 1,
            Some(Format::F2019) => self.f2019 += 1,
            _ => {}
        }
    }

    pub fn winner(self) -> Option<Format> {
        match (self.f2021, self.f2019) {
            (0, 0) => None,
            (a, b) if a >= b => Some(Format::F2021),
            _ => Some(Format::F2019),
        }
    }
}

// ---- section `active` (二、主动公开政府信息情况) ----

/// Row key of a section 二 row label.
pub fn active_row(label: &str) -> Option<&'static str> {
    const ROWS: &[(&str, &str)] = &[
        ("规范性文件", "normative_docs"),
        ("规章", "rules"),
        ("行政许可", "licensing"),
        ("其他对外管理服务", "other_services"),
        ("行政处罚", "penalty"),
        ("行政强制", "coercion"),
        ("行政事业性收费", "fees"),
        ("集中采购", "procurement"),
    ];
    ROWS.iter().find(|(word, _)| label.contains(word)).map(|&(_, key)| key)
}

/// Column key of a section 二 header label, with the format it belongs to (None for
/// labels both formats share).
pub fn active_column(label: &str) -> Option<(&'static str, Option<Format>)> {
    use Format::*;
    const COLUMNS: &[(&str, &str, Option<Format>)] = &[
        ("本年制发", "issued", Some(F2021)),
        ("本年废止", "repealed", Some(F2021)),
        ("现行有效", "in_force", Some(F2021)),
        ("收费金额", "amount_wan_yuan", Some(F2021)),
        ("本年新制作", "new_made", Some(F2019)),
        ("本年新公开", "new_published", Some(F2019)),
        ("对外公开总数", "total_published", Some(F2019)),
        ("上一年项目", "prev_year_items", Some(F2019)),
        ("增/减", "change", Some(F2019)),
        ("增减", "change", Some(F2019)),
        ("采购项目数", "items", Some(F2019)),
        ("采购总金额", "amount", Some(F2019)),
        ("采购金额", "amount", Some(F2019)),
        ("处理决定数", "decisions", None),
    ];
    COLUMNS.iter().find(|(word, ..)| label.contains(word)).map(|&(_, key, f)| (key, f))
}

/// The unit a section 二 column implies when the cell prints none.
pub fn active_unit(column: &str) -> Option<&'static str> {
    match column {
        "amount_wan_yuan" => Some("万元"),
        "amount" => None,
        _ => Some("件"),
    }
}

// ---- section `requests` (三、收到和处理政府信息公开申请情况) ----

/// Column key of a section 三 header label (the lowest header cell of a column).
pub fn requests_column(label: &str) -> Option<&'static str> {
    const COLUMNS: &[(&str, &str)] =
        &[("自然人", "natural_person"), ("商业", "commercial"), ("科研", "research"), ("公益", "nonprofit"), ("法律服务", "legal_service"), ("总计", "total")];
    if let Some(&(_, key)) = COLUMNS.iter().find(|(word, _)| label.contains(word)) {
        return Some(key);
    }
    // 其他 alone is the sixth applicant; 法人或其他组织 is only the group above it.
    (label.starts_with("其他") || label == "其它").then_some("other_org")
}

/// Row key of a section 三 row, from its label cells left to right (group labels such
/// as 三、本年度办理结果 and (三)不予公开 first, the leaf last).
pub fn requests_row(parts: &[&str]) -> Option<&'static str> {
    let leaf = *parts.last()?;
    by_meaning(leaf, parts).or_else(|| by_position(parts))
}

/// The key the template's numbering alone gives a row, for cross-checking.
pub fn requests_row_by_position(parts: &[&str]) -> Option<&'static str> {
    by_position(parts)
}

fn by_meaning(leaf: &str, parts: &[&str]) -> Option<&'static str> {
    const WORDS: &[(&[&str], &str)] = &[
        (&["本年新收"], "new_received"),
        (&["上年结转"], "carried_over"),
        (&["结转下年"], "carried_forward"),
        (&["予以公开"], "result.disclosed"),
        (&["部分公开", "不分公开", "区分处理"], "result.partial"),
        (&["国家秘密"], "result.denied.state_secret"),
        (&["禁止公开", "行政止公开", "法规禁止"], "result.denied.law_prohibited"),
        (&["三安全一稳定", "危及"], "result.denied.security_stability"),
        (&["第三方"], "result.denied.third_party"),
        (&["内部事务"], "result.denied.internal_affairs"),
        (&["过程性"], "result.denied.process_info"),
        (&["执法案卷"], "result.denied.enforcement_files"),
        (&["行政查询"], "result.denied.query_matters"),
        (&["不掌握"], "result.unavailable.not_held"),
        (&["另行制作"], "result.unavailable.needs_creation"),
        (&["补正后"], "result.unavailable.unclear"),
        (&["信访", "举报投诉"], "result.not_processed.petition"),
        (&["重复申请"], "result.not_processed.duplicate"),
        (&["出版物"], "result.not_processed.publication"),
        (&["大量反复"], "result.not_processed.mass_repeated"),
        (&["重新出具", "确认或"], "result.not_processed.confirm_reissue"),
        (&["逾期不补正"], "result.other.no_correction"),
        (&["缴纳费用", "收费通知"], "result.other.unpaid_fee"),
        (&["总计"], "result.total"),
    ];
    if let Some(&(_, key)) = WORDS.iter().find(|(words, _)| words.iter().any(|w| leaf.contains(w))) {
        return Some(key);
    }
    let strip = strip_numbering(leaf);
    if strip.starts_with("其他处理") {
        return Some("result.other");
    }
    if strip == "其他" || strip == "其它" {
        let under_other = parts[..parts.len() - 1].iter().any(|p| p.contains("其他处理"));
        return under_other.then_some("result.other.other");
    }
    None
}

fn by_position(parts: &[&str]) -> Option<&'static str> {
    const DENIED: [&str; 8] = [
        "result.denied.state_secret",
        "result.denied.law_prohibited",
        "result.denied.security_stability",
        "result.denied.third_party",
        "result.denied.internal_affairs",
        "result.denied.process_info",
        "result.denied.enforcement_files",
        "result.denied.query_matters",
    ];
    const UNAVAILABLE: [&str; 3] = ["result.unavailable.not_held", "result.unavailable.needs_creation", "result.unavailable.unclear"];
    const NOT_PROCESSED: [&str; 5] = [
        "result.not_processed.petition",
        "result.not_processed.duplicate",
        "result.not_processed.publication",
        "result.not_processed.mass_repeated",
        "result.not_processed.confirm_reissue",
    ];
    const OTHER: [&str; 3] = ["result.other.no_correction", "result.other.unpaid_fee", "result.other.other"];

    let group = parts.iter().rev().find_map(|p| group_number(p));
    let item = parts.last().and_then(|p| item_number(p));
    let top = parts.first().and_then(|p| top_number(p));
    let pick = |list: &[&'static str], n: Option<usize>| n.and_then(|n| list.get(n - 1).copied());
    match (group, item) {
        (Some(1), _) => Some("result.disclosed"),
        (Some(2), _) => Some("result.partial"),
        (Some(3), n) => pick(&DENIED, n),
        (Some(4), n) => pick(&UNAVAILABLE, n),
        (Some(5), n) => pick(&NOT_PROCESSED, n),
        (Some(6), None) => Some("result.other"),
        (Some(6), n) => pick(&OTHER, n),
        (Some(7), _) => Some("result.total"),
        _ => match top {
            Some(1) => Some("new_received"),
            Some(2) => Some("carried_over"),
            Some(4) => Some("carried_forward"),
            _ => None,
        },
    }
}

const NUMERALS: [char; 8] = ['一', '二', '三', '四', '五', '六', '七', '八'];

/// `(三)` → 3.
fn group_number(label: &str) -> Option<usize> {
    let rest = label.strip_prefix('(')?;
    let n = NUMERALS.iter().position(|&c| rest.starts_with(c))?;
    rest[NUMERALS[n].len_utf8()..].starts_with(')').then_some(n + 1)
}

/// `2.` or `2、` → 2.
fn item_number(label: &str) -> Option<usize> {
    let digits: String = label.chars().take_while(char::is_ascii_digit).collect();
    let rest = &label[digits.len()..];
    (rest.starts_with('.') || rest.starts_with('、')).then(|| digits.parse().ok()).flatten()
}

/// `四、` → 4.
fn top_number(label: &str) -> Option<usize> {
    let n = NUMERALS.iter().position(|&c| label.starts_with(c))?;
    label[NUMERALS[n].len_utf8()..].starts_with('、').then_some(n + 1)
}

/// Drops a leading `(六)`, `3.`, `四、` numbering.
fn strip_numbering(label: &str) -> &str {
    if group_number(label).is_some() {
        return &label[label.find(')').map_or(0, |i| i + 1)..];
    }
    if (item_number(label).is_some() || top_number(label).is_some())
        && let Some(i) = label.find(['.', '、'])
    {
        let mark = label[i..].chars().next().map_or(1, char::len_utf8);
        return &label[i + mark..];
    }
    label
}

// ---- section `review` (四、政府信息公开行政复议、行政诉讼情况) ----

/// Row key of a review column group, from the header cells above a column.
pub fn review_row(headers: &[&str]) -> Option<&'static str> {
    if headers.iter().any(|h| h.contains("未经复议") || h.contains("直接起诉")) {
        Some("litigation_direct")
    } else if headers.iter().any(|h| h.contains("复议后")) {
        Some("litigation_after_review")
    } else if headers.iter().any(|h| h.contains("复议")) {
        Some("review")
    } else {
        None
    }
}

/// The five review columns in template order: four outcomes, then their total.
pub const REVIEW_COLUMNS: [&str; 5] = ["upheld", "corrected", "other", "pending", "total"];

/// The three review rows in template order.
pub const REVIEW_ROWS: [&str; 3] = ["review", "litigation_direct", "litigation_after_review"];

/// Section 三's columns in template order: the six kinds of applicant, then `total`.
pub const REQUEST_COLUMNS: [&str; 7] = ["natural_person", "commercial", "research", "nonprofit", "legal_service", "other_org", "total"];

/// Column key of a review result label (结果维持 …); None for a truncated 结果.
pub fn review_column(label: &str) -> Option<&'static str> {
    const COLUMNS: &[(&str, &str)] =
        &[("维持", "upheld"), ("纠正", "corrected"), ("其他", "other"), ("尚未", "pending"), ("审结", "pending"), ("总计", "total")];
    COLUMNS.iter().find(|(word, _)| label.contains(word)).map(|&(_, key)| key)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_004_typos_match_by_meaning() {
        assert_eq!(requests_row(&["一、本年新收政务信息公开申请数量"]), Some("new_received"));
        assert_eq!(requests_row(&["三、本年度办理结果", "(二)不分公开(区分处理的,只计这一情形,不计其他情形)"]), Some("result.partial"));
        assert_eq!(
            requests_row(&["三、本年度办理结果", "(五)不予处理", "5.要求行政机关确认或重新出具以获取信息"]),
            Some("result.not_processed.confirm_reissue")
        );
        assert_eq!(requests_row(&["三、本年度办理结果", "(六)其他处理"]), Some("result.other"));
        assert_eq!(requests_column("商业机构"), Some("commercial"));
    }

    #[test]
    fn format_2021_other_rows_and_position_fallback() {
        let parts = ["三、本年度办理结果", "(六)其他处理", "3.其他"];
        assert_eq!(requests_row(&parts), Some("result.other.other"));
        let garbled = ["三、本年度办理结果", "(三)不予公开", "2.其他法律行政止公开"];
        assert_eq!(requests_row(&garbled), Some("result.denied.law_prohibited"));
        let unreadable = ["三、本年度办理结果", "(四)无法提供", "3.xxxx"];
        assert_eq!(requests_row(&unreadable), Some("result.unavailable.unclear"));
        assert_eq!(requests_row(&["四、结转下年继续办理"]), Some("carried_forward"));
        assert_eq!(requests_row(&["备注"]), None);
    }

    #[test]
    fn applicant_columns() {
        assert_eq!(requests_column("法人或其他组织"), None);
        assert_eq!(requests_column("其他"), Some("other_org"));
        assert_eq!(requests_column("科研机构"), Some("research"));
    }

    #[test]
    fn active_labels_and_formats() {
        assert_eq!(active_row("行政规范性文件"), Some("normative_docs"));
        assert_eq!(active_row("规章"), Some("rules"));
        assert_eq!(active_column("本年收费金额(单位:万元)"), Some(("amount_wan_yuan", Some(Format::F2021))));
        assert_eq!(active_column("本年新公开数量"), Some(("new_published", Some(Format::F2019))));
        assert_eq!(active_column("本年增/减"), Some(("change", Some(Format::F2019))));
    }

    #[test]
    fn review_headers() {
        assert_eq!(review_row(&["行政诉讼", "未经复议直接起诉", "结果"]), Some("litigation_direct"));
        assert_eq!(review_row(&["行政复议", "结果维持"]), Some("review"));
        assert_eq!(review_column("结果"), None);
        assert_eq!(review_column("尚未审结"), Some("pending"));
    }
}
