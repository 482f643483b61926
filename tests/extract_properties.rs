//! The extractor on hostile input: random tables (random spans, missing cells, huge
//! spans, deep nesting) and real reports mutated at random. It must never panic, and
//! every fact it returns must be a cell that is in the input: nothing invented.

use std::collections::HashSet;

use nianbao::decode::normalize::fold;
use nianbao::extract::extract_html;
use proptest::prelude::*;

/// Cell texts drawn from the templates' own words, numbers, marks and noise, so that
/// random tables look enough like reports to reach every mapper.
const WORDS: &[&str] = &[
    "信息内容",
    "本年制发件数",
    "本年新制作数量",
    "规章",
    "行政规范性文件",
    "行政许可",
    "行政处罚",
    "本年处理决定数量",
    "第二十条第(一)项",
    "申请人情况",
    "自然人",
    "法人或其他组织",
    "商业企业",
    "科研机构",
    "社会公益组织",
    "法律服务机构",
    "其他",
    "总计",
    "一、本年新收政府信息公开申请数量",
    "二、上年结转政府信息公开申请数量",
    "三、本年度办理结果",
    "(一)予以公开",
    "(三)不予公开",
    "1.属于国家秘密",
    "(六)其他处理",
    "3.其他",
    "(七)总计",
    "四、结转下年度继续办理",
    "行政复议",
    "行政诉讼",
    "未经复议直接起诉",
    "复议后起诉",
    "结果维持",
    "结果纠正",
    "尚未审结",
    "0",
    "7",
    "12",
    "345",
    "834.6435",
    "-18",
    "/",
    "—",
    "无",
    "",
    "&nbsp;",
    "备注",
];

#[derive(Debug, Clone)]
struct Cell {
    text: String,
    rowspan: u32,
    colspan: u32,
}

fn cell() -> impl Strategy<Value = Cell> {
    let span = prop_oneof![8 => 1u32..3, 2 => 0u32..8, 1 => Just(100_000u32)];
    (prop::sample::select(WORDS), span.clone(), span).prop_map(|(t, rowspan, colspan)| Cell { text: t.to_string(), rowspan, colspan })
}

fn table() -> impl Strategy<Value = Vec<Vec<Cell>>> {
    prop::collection::vec(prop::collection::vec(cell(), 0..12), 0..20)
}

fn render(rows: &[Vec<Cell>], depth: usize) -> String {
    let mut html = String::from("<table>");
    for row in rows {
        html.push_str("<tr>");
        for c in row {
            html.push_str(&format!("<td rowspan=\"{}\" colspan=\"{}\"><p><span>{}</span></p></td>", c.rowspan, c.colspan, c.text));
        }
        html.push_str("</tr>");
    }
    html.push_str("</table>");
    // Nest the table in layout tables.
    (0..depth).fold(html, |inner, _| format!("<table><tr><td>{inner}</td></tr></table>"))
}

fn assert_nothing_invented(html: &str, cells: &HashSet<String>) -> Result<(), TestCaseError> {
    let got = extract_html(html, None);
    for fact in &got.facts {
        prop_assert!(cells.contains(&fact.raw), "fact {} = {:?} is not a cell of the input", fact.key(), fact.raw);
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn random_tables_never_panic_or_invent(tables in prop::collection::vec(table(), 1..4), depth in 0usize..12, heading in 0usize..4) {
        let headings = ["", "<p>二、主动公开政府信息情况</p>", "<p>三、收到和处理政府信息公开申请情况</p>", "<p>四、政府信息公开行政复议、行政诉讼情况</p>"];
        let body: String = tables.iter().map(|t| format!("{}{}", headings[heading], render(t, depth))).collect();
        let html = format!("<html><body><div class=\"TRS_Editor\">{body}</div></body></html>");
        let cells: HashSet<String> = tables.iter().flatten().flatten().map(|c| fold(&c.text.replace("&nbsp;", " "))).collect();
        assert_nothing_invented(&html, &cells)?;
    }

    #[test]
    fn mutated_real_reports_never_panic_or_invent(cuts in prop::collection::vec((0usize..5000, 0usize..4), 1..12)) {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/extract/guandu_2024_hanweb_one_table.html");
        let mut html = std::fs::read_to_string(path).unwrap();
        for (at, how) in cuts {
            let tds: Vec<usize> = html.match_indices("<td").map(|(i, _)| i).collect();
            let i = tds[at % tds.len()];
            let end = html[i..].find("</td>").map_or(html.len(), |e| i + e + 5);
            let replacement = match how {
                0 => String::new(),                                    // a cell missing
                1 => html[i..end].to_string().repeat(2),                // a cell doubled
                2 => "<td rowspan=\"9\" colspan=\"7\">".to_string() + &html[i + 3..end], // spans changed
                _ => "<td>999999</td>".to_string(),                     // a cell rewritten
            };
            html.replace_range(i..end, &replacement);
        }
        // Every cell text of the mutated page, read the way the extractor reads cells.
        let doc = scraper::Html::parse_document(&html);
        let sel = scraper::Selector::parse("td").unwrap();
        let cells: HashSet<String> = doc.select(&sel).map(|td| {
            let mut t = String::new();
            for n in td.descendants() {
                match n.value() {
                    scraper::Node::Text(x) => t.push_str(x),
                    scraper::Node::Element(e) if matches!(e.name(), "br" | "p" | "div" | "li") => t.push('\n'),
                    _ => {}
                }
            }
            fold(&t)
        }).collect();
        assert_nothing_invented(&html, &cells)?;
    }
}
