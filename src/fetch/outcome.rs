//! What became of a request, in the words the crawl summary uses.

use std::fmt;

/// A [`Failure`]'s kind: what the state records and the summaries count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    OutOfScope,
    RobotsDisallowed,
    Blocked,
    Unreachable,
    TooLarge,
    Http,
    HostPaused,
    Failed,
    Local,
}

impl FailureKind {
    pub const ALL: [FailureKind; 9] = [
        FailureKind::OutOfScope,
        FailureKind::RobotsDisallowed,
        FailureKind::Blocked,
        FailureKind::Unreachable,
        FailureKind::TooLarge,
        FailureKind::Http,
        FailureKind::HostPaused,
        FailureKind::Failed,
        FailureKind::Local,
    ];

    /// Its short name, as the state, the summaries and `nianbao stats` give it.
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::OutOfScope => "out-of-scope",
            FailureKind::RobotsDisallowed => "robots-disallowed",
            FailureKind::Blocked => "blocked",
            FailureKind::Unreachable => "unreachable",
            FailureKind::TooLarge => "too-large",
            FailureKind::Http => "http-error",
            FailureKind::HostPaused => "host-paused",
            FailureKind::Failed => "failed",
            FailureKind::Local => "local-error",
        }
    }
}

/// Why a URL yielded no usable page.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    /// Outside the crawl's scope (scheme, domain, IP literal, private address).
    OutOfScope(String),
    RobotsDisallowed,
    /// An anti-bot or challenge page (瑞数 412 with `$_ts`, 加速乐 `__jsluid`, 安全验证).
    Blocked(String),
    /// Timeouts, resets, DNS failures after all retries.
    Unreachable(String),
    TooLarge(u64),
    /// An HTTP error status that retrying did not cure.
    Http(u16),
    /// The host was paused for this run after repeated failures.
    HostPaused(String),
    /// A redirect loop, too many redirects, a redirect out of scope, a broken body.
    Failed(String),
    /// Our own side failed (the raw archive could not be written: a full disk). The
    /// crawl stops instead of losing every page that follows.
    Local(String),
}

impl Failure {
    /// What kind of failure it is, without its particulars.
    pub fn kind(&self) -> FailureKind {
        match self {
            Failure::OutOfScope(_) => FailureKind::OutOfScope,
            Failure::RobotsDisallowed => FailureKind::RobotsDisallowed,
            Failure::Blocked(_) => FailureKind::Blocked,
            Failure::Unreachable(_) => FailureKind::Unreachable,
            Failure::TooLarge(_) => FailureKind::TooLarge,
            Failure::Http(_) => FailureKind::Http,
            Failure::HostPaused(_) => FailureKind::HostPaused,
            Failure::Failed(_) => FailureKind::Failed,
            Failure::Local(_) => FailureKind::Local,
        }
    }

    /// Why, in words, without the kind's name: what a host's status is followed by.
    pub fn reason(&self) -> String {
        match self {
            Failure::OutOfScope(why)
            | Failure::Blocked(why)
            | Failure::Unreachable(why)
            | Failure::HostPaused(why)
            | Failure::Failed(why)
            | Failure::Local(why) => why.clone(),
            Failure::RobotsDisallowed => "disallowed by robots.txt".to_string(),
            Failure::TooLarge(limit) => format!("body larger than {limit} bytes"),
            Failure::Http(status) => format!("HTTP {status}"),
        }
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Failure::OutOfScope(why) => write!(f, "out of scope: {why}"),
            Failure::Blocked(why) => write!(f, "blocked: {why}"),
            Failure::Unreachable(why) => write!(f, "unreachable: {why}"),
            Failure::HostPaused(why) => write!(f, "host paused: {why}"),
            Failure::Failed(why) => write!(f, "failed: {why}"),
            Failure::RobotsDisallowed | Failure::TooLarge(_) | Failure::Http(_) | Failure::Local(_) => f.write_str(&self.reason()),
        }
    }
}

/// Recognises challenge and anti-bot pages, which are never counted as "no reports".
pub fn challenge(status: u16, headers: &[(String, String)], body: &[u8]) -> Option<String> {
    // Only these can be challenges: the body of every ordinary page need not be searched.
    if !(matches!(status, 403 | 412 | 521) || (status == 200 && body.len() < 4096)) {
        return None;
    }
    let text = String::from_utf8_lossy(&body[..body.len().min(64 * 1024)]);
    let cookie = headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case("set-cookie")).any(|(_, v)| v.contains("__jsluid") || v.contains("acw_tc"));
    let marker = ["$_ts", "安全验证", "访问异常", "__jsluid"].into_iter().find(|m| text.contains(m));
    match (status, marker) {
        (412, m) => Some(format!("HTTP 412 challenge{}", m.map(|m| format!(" ({m})")).unwrap_or_default())),
        (403 | 521, Some(m)) => Some(format!("HTTP {status} challenge ({m})")),
        (200, Some(m)) if body.len() < 4096 => Some(format!("challenge page ({m})")),
        (403 | 521, None) if cookie => Some(format!("HTTP {status} with WAF cookie")),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_pages_are_recognised_and_normal_pages_are_not() {
        assert!(challenge(412, &[], b"<script>$_ts=window['$_ts'];</script>").unwrap().contains("$_ts"));
        assert!(challenge(200, &[], "<title>安全验证</title>".as_bytes()).is_some());
        let waf = vec![("Set-Cookie".to_string(), "__jsluid_s=abc; path=/".to_string())];
        assert!(challenge(521, &waf, b"<script>document.cookie=...</script>").is_some());
        assert_eq!(challenge(200, &waf, "<p>政府信息公开年报</p>".as_bytes()), None);
        assert_eq!(challenge(403, &[], b"Forbidden"), None);
    }
}
