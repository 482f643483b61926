//! Hanweb JCMS lists beyond their first page.
//!
//! A Hanweb column page embeds its first records in `<script type="text/xml">
//! <datastore>` and names, in `<nextgroup>`, the `dataproxy.jsp` that serves the rest:
//! a POST of the column's parameters (`col, appid, webid, path, columnid, unitid,
//! webname, permissiontype`) to `dataproxy.jsp?startrecord=S&endrecord=E&perpage=P`,
//! answered with an XML `<datastore>` of `<record>` CDATA. Each window asks for three
//! pages of records, as the site's own jpage.js does.

use url::Url;

use super::{ListPage, NextPage};

/// Whether a link is a Hanweb data proxy: only ever asked for by this pager, with a
/// POST of the column's form; a plain GET of it is an error page.
pub fn is_data_proxy(url: &Url) -> bool {
    url.path().ends_with("dataproxy.jsp")
}

/// The next `dataproxy.jsp` window after this page, if the list goes on.
pub fn next_pages(list: &ListPage<'_>) -> Vec<NextPage> {
    next_window(list.url, list.html, list.form).into_iter().collect()
}

/// The next window after this page: the column page itself (records embedded) or a
/// previous window's reply (POSTed with `form`). None when the list is exhausted.
fn next_window(page_url: &Url, text: &str, form: Option<&[(String, String)]>) -> Option<NextPage> {
    let records = text.matches("<record>").count() + text.matches("<record ").count();
    if !text.contains("<datastore") || records == 0 {
        return None;
    }
    let total: Option<usize> = between(text, "<totalrecord>", "</totalrecord>").and_then(|t| t.trim().parse().ok());
    let (base, form, start) = if is_data_proxy(page_url) {
        // A reply: the next window continues where this one's query ended.
        let end: usize = query(page_url, "endrecord")?.parse().ok()?;
        (page_url.clone(), form?.to_vec(), end + 1)
    } else {
        let href = between(text, "<nextgroup>", "</nextgroup>").and_then(|g| between(g, "href=\"", "\""))?;
        let proxy = page_url.join(&href.replace("&amp;", "&")).ok()?;
        let mut form: Vec<(String, String)> = vec![("col".into(), "1".into()), ("appid".into(), "1".into())];
        form.extend(proxy.query_pairs().filter(|(k, _)| k != "page").map(|(k, v)| (k.into_owned(), v.into_owned())));
        (proxy, form, records + 1)
    };
    if total.is_some_and(|t| start > t) {
        return None;
    }
    let per_page: usize = query(page_url, "perpage").and_then(|p| p.parse().ok()).unwrap_or(records.clamp(1, 100));
    let mut url = base;
    url.set_query(Some(&format!("startrecord={start}&endrecord={}&perpage={per_page}", start + per_page * 3 - 1)));
    Some(NextPage { url, text: String::new(), form: Some(form) })
}

fn query(url: &Url, name: &str) -> Option<String> {
    url.query_pairs().find(|(k, _)| k == name).map(|(_, v)| v.into_owned())
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> Option<&'a str> {
    let from = text.find(start)? + start.len();
    let to = text[from..].find(end)? + from;
    Some(&text[from..to])
}

#[cfg(test)]
mod tests {
    use super::*;

    const COLUMN: &str = r#"<script type="text/xml"><datastore><nextgroup><![CDATA[<a href="/module/web/jpage/dataproxy.jsp?page=1&webid=1&path=/&columnid=3260&unitid=7000&webname=%E5%AE%98&permissiontype=0"></a>]]></nextgroup><recordset><record><![CDATA[<li>a</li>]]></record><record><![CDATA[<li>b</li>]]></record></recordset></datastore></script>"#;

    #[test]
    fn the_column_page_names_the_first_window_and_its_form() {
        let page = Url::parse("http://www.kmgd.gov.cn/col/col3260/index.html").unwrap();
        let next = next_window(&page, COLUMN, None).unwrap();
        assert_eq!(next.url.as_str(), "http://www.kmgd.gov.cn/module/web/jpage/dataproxy.jsp?startrecord=3&endrecord=8&perpage=2");
        let form = next.form.clone().unwrap();
        assert!(form.contains(&("columnid".to_string(), "3260".to_string())));
        assert!(form.contains(&("unitid".to_string(), "7000".to_string())));
        assert!(!form.iter().any(|(k, _)| k == "page"));

        // The reply to that window leads to the next one, with the same form, until
        // the total is reached.
        let reply = "<?xml version=\"1.0\"?><datastore><totalrecord>10</totalrecord><recordset><record><![CDATA[<li>c</li>]]></record></recordset></datastore>";
        let after = next_window(&next.url, reply, Some(&form)).unwrap();
        assert!(after.url.as_str().ends_with("startrecord=9&endrecord=14&perpage=2"), "{}", after.url);
        assert_eq!(after.form.as_ref(), Some(&form));
        assert!(next_window(&after.url, reply, Some(&form)).is_none(), "past totalrecord");
        assert!(next_window(&after.url, "<datastore><recordset></recordset></datastore>", Some(&form)).is_none());
    }
}
