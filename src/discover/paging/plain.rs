//! Plain pagers: anchors whose text says "next page" (下一页, 末页, 尾页, »), or is a
//! page number, on any CMS that links its pages.

use super::{ListPage, NextPage};
use crate::decode::normalize::fold;

/// The list's anchors that lead to its further pages.
pub fn next_pages(list: &ListPage<'_>) -> Vec<NextPage> {
    list.links.iter().filter(|link| is_pager_text(&link.text)).map(|link| NextPage { url: link.url.clone(), text: link.text.clone(), form: None }).collect()
}

fn is_pager_text(text: &str) -> bool {
    let t = fold(text);
    ["下一页", "下页", "尾页", "末页", ">", ">>", "»", "后页"].contains(&t.as_str()) || (!t.is_empty() && t.len() <= 3 && t.bytes().all(|b| b.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::super::test_support::{pages_of, urls};
    use super::*;

    #[test]
    fn next_page_words_and_page_numbers_lead_on_and_years_do_not() {
        let page = r#"<ul><li><a href="t1.html">2023年年报</a></li></ul>
<div class="page"><a href="index_1.html">下一页</a><a href="index_2.html">3</a><a href="index_9.html">尾页</a><a href="y.html">2023</a></div>"#;
        let pages = pages_of(next_pages, page, "http://www.zt.gov.cn/zwgk/xxgknb/index.html", None);
        assert_eq!(
            urls(&pages),
            ["http://www.zt.gov.cn/zwgk/xxgknb/index_1.html", "http://www.zt.gov.cn/zwgk/xxgknb/index_2.html", "http://www.zt.gov.cn/zwgk/xxgknb/index_9.html"]
        );
    }
}
