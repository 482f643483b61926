//! Every page under tests/fixtures/encoding/ decodes to its UTF-8 original, with the
//! encoding and the reason cases.json expects; and any report text, encoded as GBK and
//! served with any kind of wrong or missing declaration, decodes back to itself.

use std::path::Path;

use nianbao::decode::decode;
use proptest::prelude::*;

#[test]
fn every_encoding_fixture_decodes_exactly() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/encoding");
    let cases: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(dir.join("cases.json")).unwrap()).unwrap();
    let cases = cases.as_array().unwrap();
    assert!(cases.len() >= 8);
    for case in cases {
        let name = case["name"].as_str().unwrap();
        let bytes = std::fs::read(dir.join(format!("{name}.bytes"))).unwrap();
        let expected = std::fs::read_to_string(dir.join(format!("{name}.expected.html"))).unwrap();
        let got = decode(&bytes, case["content_type"].as_str(), Some("www.zt.gov.cn"));
        assert!(got.text == expected, "{name}: text differs");
        assert_eq!(got.encoding_name(), case["encoding"].as_str().unwrap(), "{name}: encoding");
        assert_eq!(got.decision.as_str(), case["decision"].as_str().unwrap(), "{name}: decision");
    }
}

/// Characters report pages are made of: common Hanzi of the templates, full-width
/// and ASCII punctuation, digits.
const HANZI: &str = "政府信息公开工作年度报告本年新收申请数量上年结转办理结果予以部分不国家秘密法律行政法规禁止危及三安全一稳定保护第三方合法权益属于类内部事务过程性执法案卷查询无提供机关掌握相关没有现成需要另行制作补正后内容仍明确处理信访举报投诉重复要求出版物正当理由大量反复确认或重新出具已获取其他总计结下继续复议诉讼维持纠正尚未审昭通市高平官渡区云县人民办公室管理局镕堃";
const OTHER: &str = "（）、，。：；“”《》１２３0123456789 ,.:-/\n";

fn report_text() -> impl Strategy<Value = String> {
    let pool: Vec<char> = HANZI.chars().chain(OTHER.chars()).collect();
    let hanzi: Vec<char> = HANZI.chars().collect();
    (prop::collection::vec(prop::sample::select(hanzi), 24..60), prop::collection::vec(prop::sample::select(pool), 0..400))
        .prop_map(|(head, rest)| head.into_iter().chain(rest).collect())
}

/// The declarations a GBK page is served with in the wild: (Content-Type, <meta>).
const DECLARATIONS: [(Option<&str>, &str); 7] = [
    (None, ""),
    (Some("text/html"), ""),
    (Some("text/html; charset=utf-8"), ""),
    (Some("text/html; charset=ISO-8859-1"), ""),
    (Some("text/html; charset=utf-8"), r#"<meta charset="utf-8">"#),
    (Some("text/html"), r#"<meta http-equiv="Content-Type" content="text/html; charset=gb2312">"#),
    (None, r#"<meta httpequiv="ContentType" content="text/html;charset=windows-1252">"#),
];

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]
    #[test]
    fn gbk_report_text_survives_any_wrong_or_missing_declaration(text in report_text(), which in 0..DECLARATIONS.len()) {
        let (header, meta) = DECLARATIONS[which];
        let page = format!("<html><head>{meta}</head><body><p>{text}</p></body></html>");
        let bytes = encoding_rs::GBK.encode(&page).0.into_owned();
        let got = decode(&bytes, header, Some("www.zt.gov.cn"));
        prop_assert_eq!(got.encoding_name(), "GBK");
        prop_assert_eq!(got.text, page);
    }
}
