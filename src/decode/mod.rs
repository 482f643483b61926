//! Decode: page bytes to text, deciding the encoding the way a careful browser would.
//!
//! Chinese portals declare `gb2312` and send GBK-only characters, send `charset=utf-8`
//! headers over GBK bodies, hide the charset in a misspelled `<meta>`, or declare
//! nothing at all. [`decode`] follows the WHATWG order (BOM, header, `<meta>` prescan,
//! detection) but *validates* each declaration by decoding with it: a declaration that
//! yields malformed sequences, or a single-byte Western encoding on a page the detector
//! reads as Chinese, is overruled and the overruling is recorded in [`Decision`].
//!
//! Everything here is pure: bytes and headers in, text out.

mod meta;
pub mod normalize;

use encoding_rs::{Encoding, GBK, UTF_8};

pub use meta::prescan_meta_charset;

/// How the encoding of a page was decided, for the report's provenance and for logs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// A byte-order mark at the start of the body.
    Bom,
    /// The `charset` parameter of the Content-Type header, confirmed by a clean decode.
    Header,
    /// A `<meta>` declaration in the first bytes of the page, confirmed by a clean decode.
    Meta,
    /// No usable declaration: the detector chose.
    Detected,
    /// A declaration existed but did not fit the bytes; the detector chose instead.
    DeclarationWrong,
}

impl Decision {
    pub fn as_str(self) -> &'static str {
        match self {
            Decision::Bom => "bom",
            Decision::Header => "header",
            Decision::Meta => "meta",
            Decision::Detected => "detected",
            Decision::DeclarationWrong => "declaration-wrong",
        }
    }
}

/// A decoded page.
#[derive(Debug, Clone)]
pub struct Decoded {
    pub text: String,
    pub encoding: &'static Encoding,
    pub decision: Decision,
    /// Malformed sequences replaced with U+FFFD: a UTF-8 page with a stray byte or cut
    /// mid-character stays UTF-8, and says so.
    pub malformed: usize,
}

impl Decoded {
    /// The encoding's name as researchers expect to read it (`GBK`, `UTF-8`, `gb18030`).
    pub fn encoding_name(&self) -> &'static str {
        self.encoding.name()
    }
}

/// How many bytes the `<meta>` prescan reads: WHATWG says 1024, real portals put
/// their charset after kilobytes of inline script, so we read ten times that.
pub const META_PRESCAN_BYTES: usize = 10 * 1024;

/// Decodes `bytes`, served with the given Content-Type header, from a host named `host`
/// (its top-level domain hints the detector).
pub fn decode(bytes: &[u8], content_type: Option<&str>, host: Option<&str>) -> Decoded {
    if let Some((encoding, bom_len)) = Encoding::for_bom(bytes) {
        let (text, _) = encoding.decode_without_bom_handling(&bytes[bom_len..]);
        return Decoded { text: text.into_owned(), encoding, decision: Decision::Bom, malformed: 0 };
    }

    let declared =
        [(content_type.and_then(header_charset), Decision::Header), (prescan_meta_charset(&bytes[..bytes.len().min(META_PRESCAN_BYTES)]), Decision::Meta)];
    let mut any_declared = false;
    for (encoding, decision) in declared {
        let Some(encoding) = encoding else { continue };
        any_declared = true;
        if let Some(text) = clean_decode(encoding, bytes)
            && !contradicted(encoding, bytes, host)
        {
            return Decoded { text, encoding, decision, malformed: 0 };
        }
        // A declared UTF-8 that the bytes mostly confirm wins; the bytes that are not
        // UTF-8 (a footer in GBK) become replacement characters, as in a browser.
        if encoding == UTF_8
            && let Some(malformed) = mostly_utf8(bytes)
        {
            let text = UTF_8.decode_without_bom_handling(bytes).0.into_owned();
            return Decoded { text, encoding, decision, malformed };
        }
    }

    let encoding = detect(bytes, host);
    let decision = if any_declared { Decision::DeclarationWrong } else { Decision::Detected };
    let (text, malformed) = match clean_decode(encoding, bytes) {
        Some(text) => (text, 0),
        None => (encoding.decode_without_bom_handling(bytes).0.into_owned(), malformed_count(encoding, bytes)),
    };
    Decoded { text, encoding, decision, malformed }
}

/// For bytes that are mostly UTF-8 (a stray byte, a page cut mid-character, a footer
/// pasted in GBK): how many malformed sequences they hold. Mostly means that the bytes
/// of valid multi-byte characters outnumber the malformed bytes [`UTF8_MAJORITY`] to
/// one, however long the page: a GBK page read as UTF-8 is almost all malformed, and a
/// few valid sequences in it are chance.
fn mostly_utf8(bytes: &[u8]) -> Option<usize> {
    let (mut rest, mut errors, mut wide, mut malformed) = (bytes, 0usize, 0usize, 0usize);
    loop {
        let (valid, error) = match std::str::from_utf8(rest) {
            Ok(text) => (text, None),
            Err(e) => (std::str::from_utf8(&rest[..e.valid_up_to()]).expect("valid up to here"), Some(e)),
        };
        wide += valid.len() - valid.chars().filter(char::is_ascii).count();
        let Some(e) = error else { break };
        // A sequence cut by the end of the page is one error too.
        let bad = e.error_len().unwrap_or(rest.len() - e.valid_up_to());
        (errors, malformed) = (errors + 1, malformed + bad);
        rest = &rest[e.valid_up_to() + bad..];
    }
    (wide > 0 && wide >= UTF8_MAJORITY * malformed).then_some(errors)
}

/// How many bytes of valid multi-byte UTF-8 a page needs per malformed byte to be read
/// as UTF-8 with replacement characters, as a browser reads a page declared UTF-8.
const UTF8_MAJORITY: usize = 4;

/// Malformed sequences in `bytes` read as `encoding`.
fn malformed_count(encoding: &'static Encoding, bytes: &[u8]) -> usize {
    if encoding == UTF_8 {
        return mostly_utf8(bytes).unwrap_or(usize::MAX).min(bytes.len());
    }
    let mut decoder = encoding.new_decoder_without_bom_handling();
    let mut out = String::with_capacity(decoder.max_utf8_buffer_length_without_replacement(bytes.len()).unwrap_or(bytes.len() * 3));
    let (mut read, mut count) = (0, 0);
    loop {
        let (result, n) = decoder.decode_to_string_without_replacement(&bytes[read..], &mut out, true);
        read += n;
        match result {
            encoding_rs::DecoderResult::Malformed(..) => count += 1,
            encoding_rs::DecoderResult::InputEmpty => return count,
            encoding_rs::DecoderResult::OutputFull => out.reserve(bytes.len() - read + 16),
        }
    }
}

/// The `charset=` parameter of a Content-Type header, as an encoding.
pub fn header_charset(content_type: &str) -> Option<&'static Encoding> {
    content_type.split(';').skip(1).find_map(|param| {
        let (name, value) = param.split_once('=')?;
        if !name.trim().eq_ignore_ascii_case("charset") {
            return None;
        }
        label_to_encoding(value.trim().trim_matches(|c| c == '"' || c == '\''))
    })
}

/// Maps a charset label to an encoding. GB2312 and GBK labels give encoding_rs' GBK,
/// whose decoder is the GB18030 one, so GBK-only characters in "gb2312" pages survive.
pub fn label_to_encoding(label: &str) -> Option<&'static Encoding> {
    let encoding = Encoding::for_label_no_replacement(label.trim().as_bytes())?;
    // UTF-16 declared in an ASCII-compatible page is always a lie (WHATWG rule).
    if encoding == encoding_rs::UTF_16LE || encoding == encoding_rs::UTF_16BE {
        return Some(UTF_8);
    }
    Some(encoding)
}

/// Decodes with `encoding` and returns the text only if no byte was malformed.
fn clean_decode(encoding: &'static Encoding, bytes: &[u8]) -> Option<String> {
    encoding.decode_without_bom_handling_and_without_replacement(bytes).map(|text| text.into_owned())
}

/// Whether the bytes contradict a declaration that nonetheless decodes cleanly:
/// - non-ASCII bytes that are valid UTF-8 are UTF-8 (a GBK reading of them is chance);
/// - a single-byte Western encoding (windows-1252 and kin decode any byte) on a page the
///   detector reads as a CJK encoding is mojibake.
fn contradicted(declared: &'static Encoding, bytes: &[u8], host: Option<&str>) -> bool {
    if declared == UTF_8 || bytes.is_ascii() {
        return false;
    }
    if mostly_utf8(bytes).is_some() {
        return true;
    }
    // Only single-byte declarations need the detector: a clean multi-byte decode is right.
    declared.is_single_byte() && !detect(bytes, host).is_single_byte()
}

/// How much of a page chardetng reads: it runs at a few MB/s on CJK text, and a
/// page's first 16 kB decide as well as its whole.
const DETECTOR_BYTES: usize = 16 * 1024;

/// Detects an undeclared (or wrongly declared) page's encoding. Two exact tests come
/// first because they are decisive and a hundred times faster than statistics:
/// non-ASCII bytes that are mostly valid UTF-8 are UTF-8, and on a `.cn` host bytes that
/// decode cleanly as GBK are GBK (the portals' only legacy encoding). chardetng,
/// hinted with the top-level domain, decides the rest.
fn detect(bytes: &[u8], host: Option<&str>) -> &'static Encoding {
    if std::str::from_utf8(bytes).is_ok() || mostly_utf8(bytes).is_some() {
        return UTF_8;
    }
    let tld = host.and_then(|h| h.rsplit('.').next()).map(str::as_bytes);
    if tld == Some(b"cn".as_slice()) && GBK.decode_without_bom_handling_and_without_replacement(bytes).is_some() {
        return GBK;
    }
    let mut detector = chardetng::EncodingDetector::new(chardetng::Iso2022JpDetection::Deny);
    detector.feed(&bytes[..bytes.len().min(DETECTOR_BYTES)], bytes.len() <= DETECTOR_BYTES);
    let guess = detector.guess(tld, chardetng::Utf8Detection::Allow);
    // chardetng names GB18030-family pages "GBK"; that decoder already reads GB18030.
    if guess == encoding_rs::GB18030 { GBK } else { guess }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gbk(s: &str) -> Vec<u8> {
        GBK.encode(s).0.into_owned()
    }

    const REPORT: &str = "<p>高平市人民政府办公室2023年政府信息公开工作年度报告</p>";

    #[test]
    fn gbk_with_utf8_header_is_detected_and_flagged() {
        let d = decode(&gbk(REPORT), Some("text/html; charset=utf-8"), Some("www.sxgp.gov.cn"));
        assert_eq!(d.text, REPORT);
        assert_eq!(d.encoding, GBK);
        assert_eq!(d.decision, Decision::DeclarationWrong);
    }

    #[test]
    fn windows_1252_header_over_gbk_is_overruled() {
        let page = format!("<html><body>{REPORT}{REPORT}</body></html>");
        let d = decode(&gbk(&page), Some("text/html; charset=ISO-8859-1"), Some("www.zt.gov.cn"));
        assert_eq!(d.text, page);
        assert_eq!(d.decision, Decision::DeclarationWrong);
    }

    #[test]
    fn gb2312_label_decodes_gbk_only_characters() {
        // 镕 and 堃 are outside GB2312 but inside GBK.
        let page = "<meta charset=gb2312><p>朱镕基 王堃</p>";
        let d = decode(&gbk(page), None, Some("www.zt.gov.cn"));
        assert_eq!(d.text, page);
        assert_eq!(d.decision, Decision::Meta);
        assert_eq!(d.encoding_name(), "GBK");
    }

    #[test]
    fn utf8_bom_beats_meta_lie() {
        let mut bytes = vec![0xEF, 0xBB, 0xBF];
        bytes.extend_from_slice("<meta charset=gbk>年度报告".as_bytes());
        let d = decode(&bytes, None, None);
        assert_eq!(d.text, "<meta charset=gbk>年度报告");
        assert_eq!(d.decision, Decision::Bom);
    }

    #[test]
    fn utf8_body_under_gbk_meta_is_utf8() {
        let page = "<meta charset=gbk><p>昆明市官渡区人民政府2024年政府信息公开工作年度报告</p>";
        let d = decode(page.as_bytes(), None, Some("www.kmgd.gov.cn"));
        assert_eq!((d.text.as_str(), d.encoding, d.decision), (page, UTF_8, Decision::DeclarationWrong));
    }

    #[test]
    fn undeclared_utf8_and_gbk_are_detected() {
        let utf8 = decode(REPORT.as_bytes(), Some("text/html"), Some("www.kmgd.gov.cn"));
        assert_eq!((utf8.text.as_str(), utf8.encoding), (REPORT, UTF_8));
        let g = decode(&gbk(REPORT), None, Some("www.kmgd.gov.cn"));
        assert_eq!((g.text.as_str(), g.encoding, g.decision), (REPORT, GBK, Decision::Detected));
    }

    #[test]
    fn undeclared_big5_off_cn_goes_to_the_detector() {
        let text = "<p>臺北市政府資訊公開年度報告，本年度共受理申請案件。</p>".repeat(20);
        let big5 = encoding_rs::BIG5.encode(&text).0.into_owned();
        let d = decode(&big5, None, Some("www.gov.taipei"));
        assert_eq!((d.encoding, d.text), (encoding_rs::BIG5, text));
    }

    #[test]
    fn a_utf8_page_with_a_few_bad_bytes_stays_utf8_and_counts_them() {
        let page = format!("<meta charset=\"utf-8\"><title>昆明市官渡区人民政府2024年政府信息公开工作年度报告</title>{REPORT}");
        // A stray byte in the middle, and the page cut mid-character at the end.
        let mut bytes = page.as_bytes().to_vec();
        bytes.insert(page.find("</title>").unwrap(), 0xA0);
        bytes.extend_from_slice(&"报".as_bytes()[..2]);
        let d = decode(&bytes, Some("text/html"), Some("www.kmgd.gov.cn"));
        assert_eq!((d.encoding, d.decision, d.malformed), (UTF_8, Decision::Meta, 2));
        assert!(d.text.contains("昆明市官渡区人民政府2024年政府信息公开工作年度报告"), "{}", d.text);
        // Under a lone GBK declaration too, the bytes are UTF-8: GBK would read them as 鏄嗘槑.
        let undeclared = &bytes["<meta charset=\"utf-8\">".len()..];
        let d = decode(undeclared, Some("text/html; charset=gbk"), Some("www.kmgd.gov.cn"));
        assert_eq!((d.encoding, d.decision, d.malformed), (UTF_8, Decision::DeclarationWrong, 2));
        assert!(d.text.contains("昆明市官渡区人民政府"));
        // A GBK page is not "UTF-8 with errors".
        let d = decode(&gbk(&page.replace("utf-8", "gbk")), None, Some("www.kmgd.gov.cn"));
        assert_eq!((d.encoding, d.malformed), (GBK, 0));
    }

    /// A UTF-8 report page of about 15 kB, its footer pasted in GBK.
    fn report_with_gbk_footer(footer: &str) -> Vec<u8> {
        let body = "<tr><td>（一）予以公开</td><td>1234</td></tr>".repeat(250);
        let mut page =
            format!("<html><head><meta charset=\"utf-8\"><title>{REPORT}</title></head><body><table>{body}</table><div class=\"footer\">").into_bytes();
        page.extend_from_slice(&gbk(footer));
        page.extend_from_slice(b"</div></body></html>");
        page
    }

    #[test]
    fn a_utf8_report_with_a_footer_in_gbk_stays_utf8() {
        // 17 characters of GBK, in a 15 kB page: declared in the header, the meta, or not at all.
        let page = report_with_gbk_footer("版权所有：高平市人民政府办公室主办");
        assert!(page.len() > 10_000, "{}", page.len());
        for header in [Some("text/html; charset=utf-8"), Some("text/html"), None] {
            let d = decode(&page, header, Some("www.sxgp.gov.cn"));
            assert_eq!(d.encoding, UTF_8, "{header:?}");
            assert!(d.malformed > 8, "{}", d.malformed);
            assert!(d.text.contains(REPORT) && d.text.contains("（一）予以公开"), "the report's own text is whole");
        }
    }

    #[test]
    fn the_utf8_majority_is_a_ratio_of_bytes_not_a_count_of_errors() {
        // Four bytes of valid multi-byte UTF-8 per malformed byte: UTF-8. One fewer: not.
        let at = |wide_chars: usize, stray: usize| {
            let mut page = "年".repeat(wide_chars).into_bytes();
            page.extend(std::iter::repeat_n(0xFF, stray));
            mostly_utf8(&page)
        };
        assert_eq!(at(12, 9), Some(9), "36 bytes of UTF-8 against 9 stray bytes");
        assert_eq!(at(12, 10), None, "36 against 10");
        assert_eq!(at(4_000, 3_000), Some(3_000), "a long page keeps thousands of stray bytes as replacements");
        assert_eq!(at(0, 1), None, "no valid multi-byte character: nothing to tell");
        // GBK text is GBK, declared UTF-8 or not.
        let page = gbk(&REPORT.repeat(50));
        assert_eq!(mostly_utf8(&page), None);
        assert_eq!(decode(&page, Some("text/html; charset=utf-8"), Some("www.sxgp.gov.cn")).encoding, GBK);
    }

    proptest::proptest! {
        /// A UTF-8 report keeps its text, whatever short footer in GBK it carries and
        /// whatever it declares: the footer never costs the report.
        #[test]
        fn no_short_gbk_footer_costs_a_utf8_report_its_text(
            footer in proptest::collection::vec(proptest::sample::select("主办单位高平市人民政府办公室版权所有联系我们网站地图备案号晋ICP".chars().collect::<Vec<_>>()), 1..200),
            header in proptest::sample::select(vec![Some("text/html; charset=utf-8"), Some("text/html"), None]),
        ) {
            let page = report_with_gbk_footer(&footer.into_iter().collect::<String>());
            let d = decode(&page, header, Some("www.sxgp.gov.cn"));
            proptest::prop_assert_eq!(d.encoding, UTF_8);
            proptest::prop_assert!(d.text.contains(REPORT));
        }
    }

    #[test]
    fn header_charset_parses_quoted_and_spaced_values() {
        assert_eq!(header_charset("text/html;charset=\"GB2312\""), Some(GBK));
        assert_eq!(header_charset("text/html; Charset = utf-8"), Some(UTF_8));
        assert_eq!(header_charset("text/html"), None);
        assert_eq!(header_charset("text/html; charset=bogus"), None);
    }
}
