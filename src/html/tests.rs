use super::*;

/// The page as nested `name[text]` for compact assertions; whitespace-only text left out.
fn shape(page: &Page, id: NodeId) -> String {
    page.children(id)
        .filter_map(|c| match page.kind(c) {
            Kind::Element { name, .. } => Some(format!("{name}[{}]", shape(page, c))),
            Kind::Text(t) if !t.trim().is_empty() => Some(t.trim().to_string()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

fn parsed(html: &str) -> String {
    shape(&Page::parse(html), Page::ROOT)
}

#[test]
fn omitted_cell_and_row_end_tags_close_as_in_browsers() {
    assert_eq!(parsed("<table><tr><td>a<td>b<tr><td>c</table><p>after"), "table[tr[td[a] td[b]] tr[td[c]]] p[after]");
}

#[test]
fn a_cell_end_tag_closes_the_paragraphs_and_spans_left_open_in_it() {
    assert_eq!(parsed("<table><tr><td><p><span>1</td><td>2</td></tr></table>end"), "table[tr[td[p[span[1]]] td[2]]] end");
}

#[test]
fn a_stray_end_tag_does_not_close_the_cell_around_it() {
    assert_eq!(parsed("<div><table><tr><td>1</div></span>2</td></tr></table></div>"), "div[table[tr[td[12]]]]");
}

#[test]
fn cells_without_rows_get_their_row_implied() {
    assert_eq!(parsed("<table><tbody><td>1</td><td>2</td></tbody></table>"), "table[tbody[tr[td[1] td[2]]]]");
    assert_eq!(parsed("<td>outside</td>"), "outside");
}

#[test]
fn paragraphs_and_list_items_close_as_in_browsers() {
    assert_eq!(parsed("<p>one<p>two<div>three</div>"), "p[one] p[two] div[three]");
    assert_eq!(parsed("<ul><li>a<li>b<ul><li>c</ul></ul>"), "ul[li[a] li[b ul[li[c]]]]");
}

#[test]
fn script_bodies_are_text_and_entities_are_decoded() {
    let page = Page::parse("<script>var s='<td>x</td>';</script><p>&#20320;&nbsp;&amp;<o:p></o:p></p>");
    assert_eq!(shape(&page, Page::ROOT), "script[var s='<td>x</td>';] p[你\u{a0}& o:p[]]");
}

#[test]
fn upper_case_tags_and_unquoted_attributes_read_like_any_other() {
    let page = Page::parse("<TABLE><TR><TD ROWSPAN=2 colspan=\"3\" rowspan=9>x</TD></TR></TABLE>");
    let td = page.select(Select::Tag("td")).next().unwrap();
    assert_eq!((page.attr(td, "rowspan"), page.attr(td, "colspan")), (Some("2"), Some("3")));
}

#[test]
fn kept_attributes_come_whole_and_the_others_are_dropped() {
    let page = Page::parse(r#"<a style="mso-x:1" appendix href="/f?a=1&amp;b=&#50;">附件</a><title>a<b>&amp;</title>"#);
    let a = page.select(Select::Tag("a")).next().unwrap();
    assert_eq!((page.attr(a, "href"), page.attr(a, "appendix"), page.attr(a, "style")), (Some("/f?a=1&b=2"), Some(""), None));
    // RCDATA: a title's markup is its text.
    assert_eq!(page.text(page.select(Select::Tag("title")).next().unwrap()), "a<b>&");
}

#[test]
fn text_and_tags_cut_off_by_the_end_of_the_input_keep_what_came_before() {
    assert_eq!(parsed("<script>var s=\"你好\";</script><p>年报<td colspan=3 class"), "script[var s=\"你好\";] p[年报]");
    assert_eq!(parsed("<p>一<!-- x -->二</p><custom-tag>三</custom-tag>"), "p[一二] custom-tag[三]");
}

#[test]
fn descendants_end_where_their_element_was_closed() {
    let page = Page::parse("<div id=a><p>x<p>y</div><p>z");
    let div = page.select(Select::Id("a")).next().unwrap();
    assert_eq!(page.text(div), "xy");
    assert_eq!(page.text_len(div), 2);
    assert_eq!(page.text(Page::ROOT), "xyz");
}

#[test]
fn classes_and_meta_names_match_ignoring_ascii_case() {
    let page = Page::parse("<div class='x trs_editor'>a</div><meta NAME=pubdate content=2024-01-02>");
    assert_eq!(page.select(Select::Class("TRS_Editor")).count(), 1);
    let meta = page.select(Select::MetaName("PubDate")).next().unwrap();
    assert_eq!(page.attr(meta, "content"), Some("2024-01-02"));
}

#[test]
fn select_each_finds_what_each_selector_finds_alone() {
    let page = Page::parse("<h1 class=t>A</h1><div id=zoom><h1>B</h1><p class='T x'>C</p></div><meta name=ArticleTitle content=D>");
    let selects = [Select::Tag("h1"), Select::Class("t"), Select::Id("zoom"), Select::MetaName("articletitle"), Select::Tag("table")];
    let each = page.select_each(&selects);
    for (found, &select) in each.iter().zip(&selects) {
        assert_eq!(*found, page.select(select).collect::<Vec<_>>(), "{select:?}");
    }
    assert_eq!(each.iter().map(Vec::len).collect::<Vec<_>>(), vec![2, 2, 1, 1, 0]);
}

proptest::proptest! {
    /// Whatever tag soup comes in, the tree holds together: each node's children lie
    /// within its descendant range, in order, and ranges nest.
    #[test]
    fn any_tag_soup_builds_a_consistent_tree(
        html in r#"(<(/)?(table|tbody|tr|td|th|p|li|ul|div|span|br|script|o:p)( rowspan=[0-9]{1,2})?>|[a-z0-9 ]{0,4}|&nbsp;|<!--|-->){0,80}"#
    ) {
        let page = Page::parse(&html);
        for id in page.descendants(Page::ROOT).chain([Page::ROOT]) {
            let range = page.descendants(id);
            let mut last = id;
            for child in page.children(id) {
                proptest::prop_assert!(range.contains(&child) && child > last, "child {child} of {id} outside {range:?}");
                let inner = page.descendants(child);
                proptest::prop_assert!(inner.end <= range.end, "{inner:?} escapes {range:?}");
                last = child;
            }
        }
    }
}

#[test]
fn thousands_of_nested_elements_are_flattened_past_the_open_limit() {
    // A hostile page: 3,000 nested tables (about 100 kB), then 20,000 nested divs. Read
    // recursively at full depth, it overflowed a handler thread's stack.
    let tables = "<table><tr><td>".repeat(3000) + "1" + &"</td></tr></table>".repeat(3000);
    let divs = "<div><span>".repeat(10_000) + "2" + &"</span></div>".repeat(10_000);
    let page = Page::parse(&format!("<html><body>{tables}{divs}<p>after</p></body></html>"));
    let depth = |mut id: NodeId| {
        let mut n = 0;
        while let Some(child) = page.children(id).find(|&c| matches!(page.kind(c), Kind::Element { .. })) {
            id = child;
            n += 1;
        }
        n
    };
    assert!(depth(Page::ROOT) <= build::MAX_OPEN, "{}", depth(Page::ROOT));
    // Nothing printed is lost, and the readers of the tree finish.
    let text = page.text(Page::ROOT);
    assert!(text.contains('1') && text.contains('2') && text.contains("after"));
    let extraction = crate::extract::extract_page(&page, Some(2024));
    assert!(extraction.facts.is_empty());
}

#[test]
fn a_tag_with_thousands_of_attributes_keeps_its_first_ones() {
    // html5gum reads attributes by recursion: 20,000 of them overflowed the stack.
    let attrs = " target=\"_blank\" title=\"高平市\"".repeat(10_000);
    let page = Page::parse(&format!("<p><a href=\"a.html\"{attrs}>报告</a> after</p>"));
    let a = page.select(Select::Tag("a")).next().unwrap();
    assert_eq!(page.attr(a, "href"), Some("a.html"));
    assert_eq!(page.text(Page::ROOT), "报告 after");
}
