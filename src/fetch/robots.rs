//! robots.txt, fetched once per host per run and cached; one an earlier run fetched
//! within the day (`[revisit] robots_hours`, RFC 9309 §2.4) is used again unasked.
//!
//! Most .gov.cn hosts have none (404 → everything allowed, with our own rate still
//! applying). Crawl-delay slows the host's gate, clamped to `max_crawl_delay_secs`.

use std::sync::Arc;
use std::time::Duration;

use texting_robots::Robot;
use url::Url;

use super::{Ask, BodyLimit, Failure, Fetch, Fetcher, Hop};

/// The rules of one host.
pub enum Rules {
    AllowAll,
    Parsed(Box<Robot>),
}

impl Rules {
    /// Parses a robots.txt body for our agent token.
    pub fn parse(agent_token: &str, body: &[u8]) -> Rules {
        match Robot::new(agent_token, body) {
            Ok(robot) => Rules::Parsed(Box::new(robot)),
            // An unparsable file forbids nothing (what Google does).
            Err(_) => Rules::AllowAll,
        }
    }

    pub fn allowed(&self, url: &str) -> bool {
        match self {
            Rules::AllowAll => true,
            Rules::Parsed(robot) => robot.allowed(url),
        }
    }

    /// Crawl-delay in seconds, if the file sets one for us.
    pub fn crawl_delay(&self) -> Option<f64> {
        match self {
            Rules::AllowAll => None,
            Rules::Parsed(robot) => robot.delay.map(f64::from),
        }
    }
}

/// The product token robots.txt groups are matched against, from the User-Agent.
pub fn agent_token(user_agent: &str) -> &str {
    user_agent.split(['/', ' ']).next().unwrap_or(user_agent)
}

impl Fetcher {
    /// Robots.txt files an earlier run fetched within the day, by host (None for a
    /// host that has none): this run uses them instead of asking again.
    pub fn keep_robots(&self, kept: Vec<(String, Option<Vec<u8>>)>) {
        self.robots_kept.lock().unwrap().extend(kept);
    }

    /// The robots.txt files this run fetched, to keep for the next runs.
    pub fn fetched_robots(&self) -> Vec<(String, Option<Vec<u8>>)> {
        std::mem::take(&mut *self.robots_fetched.lock().unwrap())
    }

    /// The host's robots.txt rules: kept from an earlier run within the day, or
    /// fetched on first use in this run.
    pub(super) async fn rules(&self, url: &Url, host: &str) -> Result<Arc<Rules>, Failure> {
        let cell = self.robots.lock().unwrap().entry(host.to_string()).or_default().clone();
        cell.get_or_init(|| async {
            let mut robots_url = url.clone();
            robots_url.set_path("/robots.txt");
            robots_url.set_query(None);
            robots_url.set_fragment(None);
            let token = agent_token(&self.config.crawl.user_agent);
            let kept = self.robots_kept.lock().unwrap().remove(host);
            if let Some(body) = kept {
                tracing::debug!(target: "nianbao::crawl_log", url = %robots_url, kind = "robots", outcome = "kept from an earlier run within the day");
                let rules = body.map_or(Rules::AllowAll, |b| Rules::parse(token, &b));
                self.apply_crawl_delay(host, &rules);
                return Ok(Arc::new(rules));
            }
            let fetched = self.with_fallback(&robots_url, host, Ask { limit: BodyLimit::Robots, ..Ask::default() }).await;
            let (status, bytes, ms, outcome) = match &fetched {
                Ok(Hop::Done(Fetch::Page(p))) => (Some(p.status), p.body.len(), p.took_ms, "rules".to_string()),
                Ok(_) => (None, 0, 0, "no robots.txt page: allow all".to_string()),
                Err(Failure::Http(code @ 400..=499)) => (Some(*code), 0, 0, format!("HTTP {code}: allow all")),
                Err(failure) => (None, 0, 0, failure.to_string()),
            };
            tracing::debug!(target: "nianbao::crawl_log", url = %robots_url, kind = "robots", method = "GET", status, bytes, ms, outcome = outcome.as_str());
            match fetched {
                Ok(Hop::Done(Fetch::Page(p))) if (200..300).contains(&p.status) => {
                    let rules = Rules::parse(token, &p.body);
                    self.apply_crawl_delay(host, &rules);
                    self.robots_fetched.lock().unwrap().push((host.to_string(), Some(p.body)));
                    Ok(Arc::new(rules))
                }
                Ok(_) | Err(Failure::Http(400..=499)) => {
                    self.robots_fetched.lock().unwrap().push((host.to_string(), None));
                    Ok(Arc::new(Rules::AllowAll))
                }
                Err(failure) => {
                    tracing::warn!(host, %failure, "robots.txt unavailable: host skipped for this run");
                    Err(match failure {
                        Failure::Blocked(why) => Failure::Blocked(format!("robots.txt: {why}")),
                        other => Failure::Unreachable(format!("robots.txt: {}", other.reason())),
                    })
                }
            }
        })
        .await
        .clone()
    }

    fn apply_crawl_delay(&self, host: &str, rules: &Rules) {
        let Some(delay) = rules.crawl_delay() else { return };
        let max = self.config.crawl.max_crawl_delay_secs;
        if delay > max {
            tracing::warn!(host, delay, max, "robots.txt Crawl-delay clamped to the configured maximum");
        }
        self.politeness.gate(host).slow_down_to(Duration::from_secs_f64(delay.clamp(0.0, max)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn our_group_and_star_group_are_honoured() {
        let txt = b"User-agent: *\nDisallow: /private/\n\nUser-agent: nianbao\nDisallow: /zwgk/secret/\nCrawl-delay: 3\n";
        let rules = Rules::parse("nianbao", txt);
        assert!(!rules.allowed("http://www.zt.gov.cn/zwgk/secret/a.html"));
        assert!(rules.allowed("http://www.zt.gov.cn/zwgk/xxgknb/"));
        assert_eq!(rules.crawl_delay(), Some(3.0));
        let other = Rules::parse("someone", txt);
        assert!(!other.allowed("http://www.zt.gov.cn/private/x"));
        assert_eq!(agent_token("nianbao/0.1.0 (research)"), "nianbao");
    }
}
