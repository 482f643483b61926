//! Paging: a list's further pages, which every CMS names its own way.
//!
//! A report column lists a few dozen articles a page, and older reports sit on its
//! later pages. Each pager family is one file here with one function of the same
//! shape, a [`Pager`]: a list page in, the further pages it names out. A new CMS's
//! pager is a new file, added to [`PAGERS`].
//!
//! - `plain`: anchors whose text says "next page" (下一页, 末页, page numbers).
//! - `script`: pagers written by script, whose variables (page count, name stem,
//!   extension) the list's script holds: TRS WCM's `createPageHTML(total, current,
//!   "index", "html")` and every other, whatever function or `document.write` uses
//!   them. They name pages no anchor links to.
//! - `hanweb`: Hanweb JCMS's `<datastore>`, whose further records come from POSTs
//!   to `dataproxy.jsp`.

mod hanweb;
mod plain;
mod script;

use scraper::Html;
use url::Url;

use super::Link;

/// A list page as its pagers read it.
pub struct ListPage<'a> {
    /// Where it was fetched from.
    pub url: &'a Url,
    /// What its relative links resolve against (its `<base href>`, else `url`).
    pub base: &'a Url,
    pub html: &'a str,
    pub doc: &'a Html,
    pub links: &'a [Link],
    /// The form it was POSTed with, if it was (a Hanweb window).
    pub form: Option<&'a [(String, String)]>,
}

/// A further page of the list: where, what its link says, and the form to POST there.
#[derive(Debug, PartialEq)]
pub struct NextPage {
    pub url: Url,
    pub text: String,
    pub form: Option<Vec<(String, String)>>,
}

/// One pager family: the further pages a list page names, by its CMS's convention.
pub type Pager = fn(&ListPage<'_>) -> Vec<NextPage>;

/// Every pager family; a page is read by all of them (a page uses one).
pub const PAGERS: [Pager; 3] = [plain::next_pages, script::next_pages, hanweb::next_pages];

pub(crate) use hanweb::is_data_proxy;
pub(crate) use script::pages_named_by_script;

/// The further pages a list page names, by any pager.
pub fn next_pages(list: &ListPage<'_>) -> Vec<NextPage> {
    PAGERS.iter().flat_map(|pager| pager(list)).collect()
}

#[cfg(test)]
pub(super) mod test_support {
    use super::*;
    use crate::discover::links::{base_href, links};

    /// Runs `pager` over `html` fetched from `url` (POSTed with `form`).
    pub fn pages_of(pager: Pager, html: &str, url: &str, form: Option<&[(String, String)]>) -> Vec<NextPage> {
        let url = Url::parse(url).unwrap();
        let doc = Html::parse_document(html);
        let base = base_href(&doc, &url);
        let links = links(&doc, html, &base);
        pager(&ListPage { url: &url, base: &base, html, doc: &doc, links: &links, form })
    }

    /// The URLs of the pages.
    pub fn urls(pages: &[NextPage]) -> Vec<String> {
        pages.iter().map(|p| p.url.to_string()).collect()
    }
}
