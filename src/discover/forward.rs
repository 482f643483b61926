//! Pages that send the visitor on without an HTTP redirect, followed as a browser
//! follows them. JavaScript is not run, so the forms read are those in the markup:
//!
//! - `<meta http-equiv="refresh" content="N;url=…">`, with any delay, and any case,
//!   quoting and spacing of `url=` (Scrapy's `MetaRefreshMiddleware`, Heritrix's
//!   `ExtractorHTML`);
//! - an inline script that, as the page loads, assigns `location`, `location.href`,
//!   `window.location`, `top.location`, `self.location` or `document.location`, or
//!   calls `location.replace(…)` or `location.assign(…)`, with a plain string: not
//!   inside a function or a condition (a mobile-site switch), not a string built by
//!   concatenation;
//! - a `<frameset>`'s frames, and `<iframe>`s, which show another page inside this
//!   one (Heritrix reads both as embeds).
//!
//! A refresh, a script redirect or a frameset makes the page only a way elsewhere:
//! it is then neither a report nor a list of its own. An iframe shows a part.

use url::Url;

use super::raw_tags::{attr, end_tag_at, start_tags};

/// Where a page sends its visitor, or what it frames.
#[derive(Debug, Default, PartialEq)]
pub struct Forward {
    /// In document order, each once.
    pub to: Vec<Url>,
    /// Whether the page is only a way there (a refresh, a script redirect, a frameset).
    pub only: bool,
}

/// Forwards, at most: a page framing more is a portal's chrome, not a way to one page.
const MAX_FORWARDS: usize = 8;

/// The longest refresh a page is only a way elsewhere with, in seconds (Scrapy's
/// `METAREFRESH_MAXDELAY`).
const MAX_REFRESH_DELAY: f64 = 100.0;

/// Script read for redirects, at most, per script.
const MAX_SCRIPT: usize = 64 << 10;

/// Where the page at `base` sends its visitor.
pub fn forward(html: &str, base: &Url) -> Forward {
    let mut forward = Forward::default();
    let add = |target: &str, only: bool, forward: &mut Forward| {
        let target = target.trim();
        let Ok(url) = base.join(target) else { return };
        let usable = matches!(url.scheme(), "http" | "https") && !target.is_empty() && !target.starts_with('#') && url != *base;
        if usable && !forward.to.contains(&url) && forward.to.len() < MAX_FORWARDS {
            forward.to.push(url);
        }
        forward.only |= usable && only;
    };
    for (_, tag) in start_tags(html, "meta") {
        let refresh = attr(tag, "http-equiv").is_some_and(|v| v.eq_ignore_ascii_case("refresh"));
        if let Some((delay, target)) = refresh.then(|| attr(tag, "content")).flatten().as_deref().and_then(refresh_target) {
            // A long delay is a page read first (a notice, a session timeout): followed,
            // but the page is read too, as Scrapy reads past 100 s.
            add(&target, delay <= MAX_REFRESH_DELAY, &mut forward);
        }
    }
    for (at, tag) in start_tags(html, "script") {
        if attr(tag, "src").is_some() {
            continue;
        }
        let start = at + tag.len();
        let end = end_tag_at(html.as_bytes(), start, b"script");
        let mut cut = end.min(start + MAX_SCRIPT);
        while !html.is_char_boundary(cut) {
            cut -= 1;
        }
        let code = &html[start..cut];
        if let Some(target) = location_target(code) {
            add(target, true, &mut forward);
        }
    }
    let frameset = start_tags(html, "frameset").next().is_some();
    for (_, tag) in start_tags(html, "frame") {
        if let Some(src) = attr(tag, "src") {
            add(&src, frameset, &mut forward);
        }
    }
    for (_, tag) in start_tags(html, "iframe") {
        if let Some(src) = attr(tag, "src") {
            add(&src, false, &mut forward);
        }
    }
    forward
}

/// The URL of a refresh's `content`: `5; url=/a.html`, `0;URL='a.html'`, `0, url = "a"`,
/// or `0; /a.html`. A delay alone refreshes the page itself: None.
fn refresh_target(content: &str) -> Option<(f64, String)> {
    let content = content.trim_start();
    let rest = content.trim_start_matches(|c: char| c.is_ascii_digit() || c == '.');
    let delay: f64 = content[..content.len() - rest.len()].parse().unwrap_or(0.0);
    let rest = rest.trim_start().trim_start_matches([';', ',']).trim_start();
    let rest = match rest.get(..3) {
        Some(u) if u.eq_ignore_ascii_case("url") => rest[3..].trim_start().strip_prefix('=').map_or(rest, str::trim_start),
        _ => rest,
    };
    let target = match rest.chars().next() {
        Some(q @ ('"' | '\'')) => rest[1..].split(q).next().unwrap_or(""),
        _ => rest,
    };
    Some(target.trim()).filter(|t| !t.is_empty()).map(|t| (delay, t.to_string()))
}

/// The page a script sends the visitor to as it loads: the first plain string given
/// to a `location` at the script's top level.
fn location_target(code: &str) -> Option<&str> {
    let bytes = code.as_bytes();
    for (at, _) in code.match_indices("location") {
        // Only where the script runs as the page loads: outside every block.
        let depth = bytes[..at].iter().fold(0i32, |d, b| d + i32::from(*b == b'{') - i32::from(*b == b'}'));
        let whole_word = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if depth > 0 || !whole_word {
            continue;
        }
        let after = code[at + "location".len()..].trim_start();
        let value = [".href", ""].iter().find_map(|member| {
            let rest = after.strip_prefix(member)?.trim_start();
            rest.strip_prefix('=').filter(|r| !r.starts_with('=')).map(str::trim_start)
        });
        let value =
            value.or_else(|| [".replace", ".assign"].iter().find_map(|call| Some(after.strip_prefix(call)?.trim_start().strip_prefix('(')?.trim_start())));
        if let Some(target) = value.and_then(plain_string) {
            return Some(target);
        }
    }
    None
}

/// A string literal that stands alone: followed by `;`, `)`, a line end or the end,
/// never by `+` (a URL built at run time).
fn plain_string(code: &str) -> Option<&str> {
    let quote = code.chars().next().filter(|c| matches!(c, '"' | '\''))?;
    let body = &code[1..];
    let close = body.find(quote)?;
    let next = body[close + 1..].trim_start_matches([' ', '\t']).chars().next();
    matches!(next, None | Some(';' | ')' | '\n' | '\r' | '}')).then(|| &body[..close])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn to(html: &str) -> (Vec<String>, bool) {
        let f = forward(html, &Url::parse("http://www.zt.gov.cn/zwgk/xxgknb/").unwrap());
        (f.to.iter().map(Url::to_string).collect(), f.only)
    }

    #[test]
    fn meta_refresh_in_every_spelling_is_a_forward() {
        for content in [
            "0;url=/nb/index.html",
            "0; URL=/nb/index.html",
            "5 ; url = '/nb/index.html'",
            "0,Url='/nb/index.html'",
            "0; /nb/index.html",
            "3.5;url=http://www.zt.gov.cn/nb/index.html",
        ] {
            let page = format!("<html><head><META HTTP-EQUIV=\"Refresh\" CONTENT=\"{content}\"></head><body>页面已迁移</body></html>");
            assert_eq!(to(&page), (vec!["http://www.zt.gov.cn/nb/index.html".to_string()], true), "{content}");
        }
        assert_eq!(to("<meta http-equiv='refresh' content='300'>"), (vec![], false), "a delay alone reloads the page");
        assert_eq!(to("<meta http-equiv='refresh' content='1800;url=/'>"), (vec!["http://www.zt.gov.cn/".to_string()], false), "a page read first");
        assert_eq!(to("<meta name='refresh' content='0;url=/x'>"), (vec![], false), "only http-equiv refreshes");
    }

    #[test]
    fn a_script_that_sends_the_visitor_on_as_the_page_loads_is_a_forward() {
        for script in [
            "location.href = \"/nb/\";",
            "window.location='/nb/'",
            "top.location.href='/nb/';",
            "self.location = \"../../nb/\";",
            "document.location.href=\"/nb/\"",
            "window.location.replace('/nb/');",
            "location.assign( \"/nb/\" )",
        ] {
            let page = format!("<body><script type=\"text/javascript\">\n  {script}\n</script></body>");
            assert_eq!(to(&page), (vec!["http://www.zt.gov.cn/nb/".to_string()], true), "{script}");
        }
        for not_now in [
            "function go(){ location.href='/nb/'; }",
            "if (/iPhone|Android/.test(navigator.userAgent)) { location.href = '/m/'; }",
            "location.href = '/search?q=' + encodeURIComponent(q);",
            "if (location.href == '/nb/') {}",
            "var mylocation = '/x/';",
        ] {
            assert_eq!(to(&format!("<script>{not_now}</script>")), (vec![], false), "{not_now}");
        }
    }

    #[test]
    fn frames_and_iframes_show_other_pages() {
        let frameset = "<frameset rows=\"80,*\"><frame src=\"top.html\"><frame src=\"/nb/list.html\" name=\"main\"></frameset>";
        assert_eq!(to(frameset), (vec!["http://www.zt.gov.cn/zwgk/xxgknb/top.html".to_string(), "http://www.zt.gov.cn/nb/list.html".to_string()], true));
        let iframe = "<div class=\"main\"><iframe src=\"/nb/list.html\" width=\"100%\"></iframe></div><p>页脚</p>";
        assert_eq!(to(iframe), (vec!["http://www.zt.gov.cn/nb/list.html".to_string()], false), "an iframe is a part of the page");
        assert_eq!(to("<iframe src=\"javascript:void(0)\"></iframe><iframe src=\"\"></iframe>"), (vec![], false));
    }
}
