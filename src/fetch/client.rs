//! The HTTP side of one request: the clients, the request a page asks for, its body
//! read within its cap, and what a transport error means for the crawl.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::{Context, Result};
use chrono::{DateTime, Utc};
use reqwest::header::{CONTENT_TYPE, HeaderMap, HeaderValue, IF_MODIFIED_SINCE, IF_NONE_MATCH, REFERER};
use url::Url;

use super::cookies::HostJar;
use super::scope::Scope;
use super::{Ask, Attempt, BodyLimit, Failure, resolver};
use crate::config::Config;

/// The request a page asks for: GET, or POST with its form (Hanweb's list windows),
/// conditional when an earlier fetch left validators.
pub(super) fn request(client: &reqwest::Client, url: &Url, ask: Ask<'_>) -> reqwest::RequestBuilder {
    let mut headers = HeaderMap::new();
    if let Some(v) = ask.earlier.map(|e| &e.validators) {
        if let Some(etag) = v.etag.as_deref().and_then(|e| HeaderValue::from_str(e).ok()) {
            headers.insert(IF_NONE_MATCH, etag);
        }
        if let Some(lm) = v.last_modified.as_deref().and_then(|l| HeaderValue::from_str(l).ok()) {
            headers.insert(IF_MODIFIED_SINCE, lm);
        }
    }
    if let Some(referer) = ask.referrer.and_then(|from| referer(from, url)) {
        headers.insert(REFERER, referer);
    }
    let request = match ask.form {
        Some(form) => {
            let body = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
            headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/x-www-form-urlencoded"));
            client.post(url.clone()).body(body)
        }
        None => client.get(url.clone()),
    };
    request.headers(headers)
}

/// The `Referer` a browser sends from page `from` to `to`, under its default policy
/// (strict-origin-when-cross-origin): the whole URL within one origin, the origin
/// alone to another, nothing from https to http. Never a fragment or credentials.
fn referer(from: &Url, to: &Url) -> Option<HeaderValue> {
    if from.scheme() == "https" && to.scheme() != "https" {
        return None;
    }
    let value = if from.origin() == to.origin() {
        let mut whole = from.clone();
        whole.set_fragment(None);
        let _ = whole.set_username("");
        let _ = whole.set_password(None);
        whole.to_string()
    } else {
        format!("{}/", from.origin().ascii_serialization())
    };
    HeaderValue::from_str(&value).ok()
}

/// The response's body, at most `cap` bytes: past it the page is too large, except
/// robots.txt, which is read to its cap and the rest ignored. A declared length over
/// the cap is refused before a byte is read, so a known too-large file costs one
/// request's headers each night, not its cap.
pub(super) async fn read_body(response: &mut reqwest::Response, cap: u64, limit: BodyLimit) -> Result<Vec<u8>, Attempt> {
    if limit != BodyLimit::Robots && response.content_length().is_some_and(|n| n > cap) {
        return Err(Attempt::Done(Err(Failure::TooLarge(cap))));
    }
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > cap {
                    if limit != BodyLimit::Robots {
                        return Err(Attempt::Done(Err(Failure::TooLarge(cap))));
                    }
                    body.extend_from_slice(&chunk[..(cap as usize - body.len())]);
                    return Ok(body);
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) => {
                return Err(Attempt::Retry { failure: Failure::Failed(format!("body cut short: {}", error_chain(&e))), retry_after: None });
            }
        }
    }
}

pub(super) fn build_client(config: &Config, scope: &Scope, insecure_tls: bool, cookies: Arc<HostJar>) -> Result<reqwest::Client> {
    let crawl = &config.crawl;
    let allowed = scope.allowed();
    let pins: HashMap<String, SocketAddr> =
        config.resolve.iter().map(|(h, a)| Ok((h.clone(), a.parse().with_context(|| format!("resolve.{h}"))?))).collect::<Result<_>>()?;
    let builder = reqwest::Client::builder()
        .user_agent(&crawl.user_agent)
        .connect_timeout(Duration::from_secs(crawl.connect_timeout_secs))
        .timeout(Duration::from_secs(crawl.request_timeout_secs))
        .redirect(reqwest::redirect::Policy::none())
        .dns_resolver(Arc::new(resolver::GuardedResolver::new(pins, allowed)))
        // No idle connections: at 1 request/s a host's next request is a second away,
        // and a thousand idle connections hold ~70 MB of grown read buffers (measured
        // in the crawl benchmark); a fresh connection costs less than that.
        .pool_max_idle_per_host(0)
        .cookie_provider(cookies)
        .tls_danger_accept_invalid_certs(insecure_tls);
    let builder = match crawl.proxy.trim() {
        "" => builder,
        "none" => builder.no_proxy(),
        proxy => builder.proxy(reqwest::Proxy::all(proxy).with_context(|| format!("bad proxy URL {proxy:?}"))?),
    };
    builder.build().context("cannot build the HTTP client")
}

pub(super) fn classify_error(e: &reqwest::Error, proxy: Option<&str>) -> Attempt {
    let chain = error_chain(e);
    if resolver::Refused::in_chain(e).is_some() {
        return Attempt::Done(Err(Failure::OutOfScope(chain)));
    }
    let why = match proxy {
        Some(proxy) if e.is_connect() => format!("no connection through the proxy {proxy}: {chain}"),
        _ => chain,
    };
    Attempt::Retry { failure: Failure::Unreachable(why), retry_after: None }
}

/// The proxy the client uses: the `crawl.proxy` setting, or with "" the standard
/// variables reqwest reads (their NO_PROXY exceptions aside).
pub fn proxy_in_use(setting: &str) -> Option<String> {
    match setting.trim() {
        "none" => None,
        "" => ["HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"]
            .iter()
            .find_map(|name| std::env::var(name).ok().filter(|v| !v.trim().is_empty()).map(|v| format!("{} (from {name})", without_credentials(&v)))),
        proxy => Some(without_credentials(proxy)),
    }
}

/// A proxy URL as it may be shown (in errors, logs and the run summary): a user name
/// and password in it become `***`.
pub fn without_credentials(proxy: &str) -> String {
    match url::Url::parse(proxy.trim()) {
        Ok(mut url) if !url.username().is_empty() || url.password().is_some() => {
            let _ = url.set_username("***");
            let _ = url.set_password(None);
            url.to_string()
        }
        _ => proxy.to_string(),
    }
}

/// An error with its causes, which is where reqwest keeps the useful part.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Retry-After as seconds or an HTTP date, capped at an hour.
pub(super) fn parse_retry_after(value: &str) -> Option<Duration> {
    let wait = match value.trim().parse::<u64>() {
        Ok(secs) => Duration::from_secs(secs),
        Err(_) => {
            let date = DateTime::parse_from_rfc2822(value.trim()).ok()?;
            (date.with_timezone(&Utc) - Utc::now()).to_std().unwrap_or_default()
        }
    };
    Some(wait.min(Duration::from_secs(3600)))
}

/// Up to `base_ms` of jitter, so retries from many workers do not line up.
pub(super) fn jitter(base_ms: u64) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    Duration::from_millis(u64::from(nanos) % base_ms.max(1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_referer_is_what_a_browser_sends() {
        let sent = |from: &str, to: &str| referer(&Url::parse(from).unwrap(), &Url::parse(to).unwrap()).map(|v| v.to_str().unwrap().to_string());
        let list = "http://www.zt.gov.cn/zwgk/nb/index.html?page=2#top";
        assert_eq!(sent(list, "http://www.zt.gov.cn/a/1.pdf").as_deref(), Some("http://www.zt.gov.cn/zwgk/nb/index.html?page=2"));
        assert_eq!(sent(list, "http://file.zt.gov.cn/a/1.pdf").as_deref(), Some("http://www.zt.gov.cn/"), "the origin alone to another host");
        assert_eq!(sent("https://www.zt.gov.cn/nb/", "http://www.zt.gov.cn/a.pdf"), None, "nothing from https to http");
        assert_eq!(sent("http://u:p@www.zt.gov.cn/nb/", "http://www.zt.gov.cn/a.pdf").as_deref(), Some("http://www.zt.gov.cn/nb/"));
    }

    #[test]
    fn a_proxys_credentials_are_never_shown() {
        assert_eq!(without_credentials("socks5://ops:s3cret@10.1.2.3:1080"), "socks5://***@10.1.2.3:1080");
        assert_eq!(without_credentials("http://127.0.0.1:9"), "http://127.0.0.1:9");
        assert_eq!(proxy_in_use("http://me:pw@proxy.example:3128").as_deref(), Some("http://***@proxy.example:3128/"));
    }

    #[tokio::test]
    async fn a_host_pinned_to_a_private_address_is_out_of_scope_and_not_retried() {
        let pins = HashMap::from([("intranet.zt.gov.cn".to_string(), "10.0.0.5:80".parse().unwrap())]);
        let resolver = resolver::GuardedResolver::new(pins, resolver::Allowed::default());
        let client = reqwest::Client::builder().no_proxy().dns_resolver(Arc::new(resolver)).build().unwrap();
        // Refused at resolution: no connection is tried.
        let error = client.get("http://intranet.zt.gov.cn/").send().await.unwrap_err();
        match classify_error(&error, None) {
            Attempt::Done(Err(Failure::OutOfScope(why))) => assert!(why.contains("private or reserved"), "{why}"),
            _ => panic!("not out of scope: {error:?}"),
        }
    }

    #[test]
    fn retry_after_in_seconds_and_dates() {
        assert_eq!(parse_retry_after("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"), Some(Duration::ZERO));
        assert_eq!(parse_retry_after("99999"), Some(Duration::from_secs(3600)));
        assert_eq!(parse_retry_after("soon"), None);
    }
}
