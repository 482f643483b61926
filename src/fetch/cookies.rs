//! Cookies, kept per host for one run, as Scrapy's `CookiesMiddleware` keeps them:
//! JSP and ASP.NET list pagers often hang on a session cookie, and download servers on
//! the cookie their article page set. A cookie goes back only to the host that set it,
//! whatever `Domain` it names (`.gov.cn` would reach every portal), and a `Secure` one
//! only over https. Cookies live in memory for the run: never written to the state,
//! the WARC metadata, the dataset or the logs, and gone when the run ends.

use std::collections::HashMap;
use std::sync::Mutex;

use reqwest::header::HeaderValue;
use url::Url;

/// Cookies one host may keep, and the size of one: a browser's limits, roughly.
const PER_HOST: usize = 50;
const MAX_COOKIE: usize = 4096;

/// A cookie: its value, and whether it goes only over https.
struct Cookie {
    name: String,
    value: String,
    secure: bool,
}

/// Every host's cookies for this run.
#[derive(Default)]
pub struct HostJar {
    hosts: Mutex<HashMap<String, Vec<Cookie>>>,
}

fn host_of(url: &Url) -> String {
    url.host_str().unwrap_or_default().to_ascii_lowercase()
}

impl reqwest::cookie::CookieStore for HostJar {
    fn set_cookies(&self, headers: &mut dyn Iterator<Item = &HeaderValue>, url: &Url) {
        let mut hosts = self.hosts.lock().unwrap();
        let jar = hosts.entry(host_of(url)).or_default();
        for header in headers.filter(|h| h.len() <= MAX_COOKIE) {
            let Some((name, value, attributes)) = parse(&String::from_utf8_lossy(header.as_bytes())) else { continue };
            jar.retain(|c| c.name != name);
            let gone = attributes.iter().any(|(k, v)| (k == "max-age" && v.parse::<i64>().is_ok_and(|s| s <= 0)) || (k == "expires" && expired(v)));
            if !gone && jar.len() < PER_HOST {
                jar.push(Cookie { name, value, secure: attributes.iter().any(|(k, _)| k == "secure") });
            }
        }
    }

    fn cookies(&self, url: &Url) -> Option<HeaderValue> {
        let hosts = self.hosts.lock().unwrap();
        let secure = url.scheme() == "https";
        let line: Vec<String> = hosts.get(&host_of(url))?.iter().filter(|c| secure || !c.secure).map(|c| format!("{}={}", c.name, c.value)).collect();
        if line.is_empty() {
            return None;
        }
        HeaderValue::from_str(&line.join("; ")).ok()
    }
}

/// A `Set-Cookie` header read: the name, the value, and the attributes.
type SetCookie = (String, String, Vec<(String, String)>);

/// `name=value; Attr=…; Flag` → the name, the value, and the attributes (lower-cased names).
fn parse(header: &str) -> Option<SetCookie> {
    let mut parts = header.split(';');
    let (name, value) = parts.next()?.split_once('=')?;
    let name = name.trim();
    if name.is_empty() {
        return None;
    }
    let attributes = parts
        .map(|p| match p.split_once('=') {
            Some((k, v)) => (k.trim().to_ascii_lowercase(), v.trim().to_string()),
            None => (p.trim().to_ascii_lowercase(), String::new()),
        })
        .collect();
    Some((name.to_string(), value.trim().to_string(), attributes))
}

/// Whether an `Expires` date (RFC 1123, as servers send it) has passed.
fn expired(date: &str) -> bool {
    chrono::DateTime::parse_from_rfc2822(&date.replace('-', " ")).is_ok_and(|d| d < chrono::Utc::now())
}

#[cfg(test)]
mod tests {
    use reqwest::cookie::CookieStore;

    use super::*;

    fn set(jar: &HostJar, url: &str, headers: &[&str]) {
        let values: Vec<HeaderValue> = headers.iter().map(|h| HeaderValue::from_str(h).unwrap()).collect();
        jar.set_cookies(&mut values.iter(), &Url::parse(url).unwrap());
    }

    fn sent(jar: &HostJar, url: &str) -> Option<String> {
        jar.cookies(&Url::parse(url).unwrap()).map(|v| v.to_str().unwrap().to_string())
    }

    #[test]
    fn a_session_cookie_goes_back_to_its_host_and_no_other() {
        let jar = HostJar::default();
        set(&jar, "http://www.zt.gov.cn/list.jsp", &["JSESSIONID=A1B2; Path=/; HttpOnly", "pager=3; Domain=.gov.cn"]);
        assert_eq!(sent(&jar, "http://www.zt.gov.cn/list.jsp?page=2").as_deref(), Some("JSESSIONID=A1B2; pager=3"));
        assert_eq!(sent(&jar, "http://WWW.ZT.GOV.CN/other/"), Some("JSESSIONID=A1B2; pager=3".to_string()));
        assert_eq!(sent(&jar, "http://www.yn.gov.cn/"), None, "never to another host, whatever its Domain says");
        set(&jar, "http://www.zt.gov.cn/", &["JSESSIONID=C3; Path=/"]);
        assert_eq!(sent(&jar, "http://www.zt.gov.cn/").as_deref(), Some("pager=3; JSESSIONID=C3"), "a new value replaces the old");
    }

    #[test]
    fn expired_and_secure_cookies_are_handled_as_a_browser_would() {
        let jar = HostJar::default();
        set(&jar, "https://www.zt.gov.cn/", &["a=1", "s=2; Secure"]);
        assert_eq!(sent(&jar, "https://www.zt.gov.cn/").as_deref(), Some("a=1; s=2"));
        assert_eq!(sent(&jar, "http://www.zt.gov.cn/").as_deref(), Some("a=1"), "a Secure cookie only over https");
        set(&jar, "https://www.zt.gov.cn/", &["a=; Max-Age=0", "s=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]);
        assert_eq!(sent(&jar, "https://www.zt.gov.cn/"), None);
    }
}
